from __future__ import annotations

from pathlib import Path

import pytest

from shared.auth import Authenticator, Rol
from shared.settings import AuthSettings
from vmre.cli import main


async def test_vmre_token_imprime_solo_el_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--rol", "opl", "--entidad", "09"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.count(".") == 2
    principal = await Authenticator(AuthSettings()).verify(out.strip())
    assert principal.rol == Rol.OPL
    assert principal.entidad == "09"


def test_vmre_token_opl_sin_entidad_falla_con_mensaje(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--rol", "opl"]) == 2
    assert "--entidad" in capsys.readouterr().err


def test_vmre_token_se_niega_fuera_de_modo_local(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VMRE_MODE", "production")
    assert main(["token", "--rol", "ine-admin"]) == 2
    assert "proveedor de identidad" in capsys.readouterr().err


def test_verificar_dice_que_archivo_no_pudo_leer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    falta = tmp_path / "no-existe.bel"
    assert main(["verificar", str(falta)]) == 2
    assert f"no se pudo leer {falta}" in capsys.readouterr().err
    # The record can be read, the strong proofs cannot: named too, nothing is verified.
    archivo = tmp_path / "eleccion.bel"
    archivo.write_text("{}\n")
    assert main(["verificar", str(archivo), "--pruebas-fuertes", str(falta)]) == 2
    assert f"no se pudo leer {falta}" in capsys.readouterr().err
