from __future__ import annotations

import pytest

from shared.auth import Authenticator, Rol
from shared.cli import main
from shared.settings import AuthSettings


async def test_vmre_token_imprime_solo_el_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--rol", "opl", "--entidad", "09"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.count(".") == 2  # one line: header.payload.signature
    principal = await Authenticator(AuthSettings()).verify(out.strip())
    assert principal.rol == Rol.OPL and principal.entidad == "09"


def test_vmre_token_opl_sin_entidad_falla_con_mensaje(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--rol", "opl"]) == 2
    assert "--entidad" in capsys.readouterr().err


def test_vmre_token_se_niega_fuera_de_modo_local(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VMRE_MODE", "production")
    assert main(["token", "--rol", "ine-admin"]) == 2
    assert "proveedor de identidad" in capsys.readouterr().err
