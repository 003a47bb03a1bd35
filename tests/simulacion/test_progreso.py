"""The drill's progress lines (what a CI log shows): a phase cut short never reads as finished."""

from __future__ import annotations

import pytest

from simulacion.progreso import Barra


def test_fase_interrumpida_no_se_reporta_completa(capsys: pytest.CaptureFixture[str]) -> None:
    completa = Barra("sobres", 3, "sobres")
    completa.avanzar(3)
    completa.cerrar()
    cortada = Barra("votos por internet", 12_456, "votos")
    cortada.avanzar(920)
    cortada.cerrar()
    completa_linea, cortada_linea = capsys.readouterr().err.splitlines()
    assert completa_linea.split()[-4:-2] == ["3", "en"]
    assert "920 de 12,456: interrumpida" in cortada_linea
    assert "12,456 en" not in cortada_linea
