"""The group and its encodings, against the values Belenios 3.0 writes."""

from __future__ import annotations

import pytest
from nacl import bindings

from shared.cripto import grupo as gr

IDENTIDAD_HEX = "0000000000000000000000000000000000000000000000000000000000000001"


def test_codificaciones_de_belenios() -> None:
    assert gr.s(gr.G) == "6666666666666666666666666666666666666666666666666666666666666658"
    assert gr.s(gr.IDENTIDAD) == IDENTIDAD_HEX
    assert gr.s(gr.gpot(gr.L - 1)) == "e666666666666666666666666666666666666666666666666666666666666658"
    assert gr.elemento(IDENTIDAD_HEX) == gr.IDENTIDAD
    x = gr.aleatorio()
    assert gr.elemento(gr.s(gr.gpot(x))) == gr.gpot(x)


def test_identidad_y_cero_sin_errores_de_libsodium() -> None:
    assert gr.gpot(0) == gr.IDENTIDAD
    assert gr.gpot(gr.L) == gr.IDENTIDAD
    assert gr.pot(gr.G, 0) == gr.IDENTIDAD
    assert gr.pot(gr.IDENTIDAD, 12345) == gr.IDENTIDAD
    assert gr.mul(gr.G, gr.IDENTIDAD) == gr.G
    assert gr.div(gr.G, gr.G) == gr.IDENTIDAD
    assert gr.pot(gr.gpot(7), gr.L - 1) == gr.gpot(-7)


def _orden_2() -> bytes:
    return (gr.P - 1).to_bytes(32, "little")  # (0, −1): a point of order 2


@pytest.mark.parametrize(
    "texto",
    [
        pytest.param(
            "e666666666666666666666666666666666666666666666666666666666666658".upper(), id="mayúsculas"
        ),
        pytest.param("666666666666666666666666666666666666666666666666666666666666658", id="63 dígitos"),
        pytest.param(gr.s((gr.P + 1).to_bytes(32, "little")), id="y ≥ p (libsodium la sumaría sin quejarse)"),
        pytest.param(gr.s(_orden_2()), id="punto de orden pequeño"),
        pytest.param(
            gr.s(bindings.crypto_core_ed25519_add(gr.G, _orden_2())), id="fuera del subgrupo de orden primo"
        ),
        pytest.param("02" + "00" * 31, id="no está en la curva"),
        pytest.param(42, id="no es texto"),
    ],
)
def test_rechaza_elementos_invalidos(texto: object) -> None:
    with pytest.raises(gr.ErrorDeCodificacion):
        gr.elemento(texto)


@pytest.mark.parametrize("texto", ["0123", "-1", str(gr.L), "1e3", " 1", "", "١٢"])
def test_rechaza_escalares_invalidos(texto: str) -> None:
    with pytest.raises(gr.ErrorDeCodificacion):
        gr.escalar(texto)


def test_escalares_validos() -> None:
    assert gr.escalar("0") == 0
    assert gr.escalar(str(gr.L - 1)) == gr.L - 1


def test_logaritmos_hasta_millones() -> None:
    valores = [0, 1, 999, 1_000_000, 4_567_890]
    assert gr.logaritmos([gr.gpot(v) for v in valores], 5_000_000) == valores
    with pytest.raises(ValueError, match="fuera"):
        gr.logaritmos([gr.gpot(11)], 10)
