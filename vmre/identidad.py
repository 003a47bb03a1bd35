"""The local identity provider (local mode only): an OpenID Connect provider on ``VMRE_IDENTIDAD``
(127.0.0.1:8090) with one user per role, so that the staff console's real sign-in (authorization code with
PKCE, shared/consola.py) runs on a bare machine. It is the ``oidc-provider-mock`` package: its sign-in page
lists these users; pick one and «Authorize». ``vmre run`` starts it in local mode and points the services at
it (``VMRE_CONSOLA_OIDC_URL``, ``VMRE_CONSOLA_PROVEEDOR_LOCAL=true``); ``VMRE_MODE=production`` refuses to
start with it."""

from __future__ import annotations

import json
import os

# sub → claims: the name the console shows and the role (same matrix as the API; an OPL with its entidad).
USUARIOS: dict[str, dict[str, str]] = {
    "operadora": {"name": "Operadora del INE (local)", "rol": "ine-operador"},
    "administradora": {"name": "Administradora del INE (local)", "rol": "ine-admin"},
    "auditora": {"name": "Auditora (local)", "rol": "auditor"},
    "opl-09": {"name": "IECM, Ciudad de México (local)", "rol": "opl", "entidad": "09"},
    "sede-los-angeles": {
        "name": "Personal de la sede Los Ángeles (local)",
        "rol": "ine-operador",
        "sede": "los-angeles",
    },
    "custodio-1": {"name": "Custodio 1 (local)", "rol": "custodio"},
}
IDENTIDAD = ("127.0.0.1", 8090)


def direccion() -> tuple[str, int]:
    """``VMRE_IDENTIDAD`` (``host:port``), by default 127.0.0.1:8090."""
    valor = os.environ.get("VMRE_IDENTIDAD")
    if not valor:
        return IDENTIDAD
    host, _, puerto = valor.rpartition(":")
    return host or IDENTIDAD[0], int(puerto)


def argumentos() -> list[str]:
    host, puerto = direccion()
    args = ["--host", host, "--port", str(puerto), "--require-nonce"]
    for sub, claims in USUARIOS.items():
        args += ["--user-claims", json.dumps({"sub": sub, **claims}, ensure_ascii=False)]
    return args


def main() -> None:
    from oidc_provider_mock.__main__ import run

    run.main(args=argumentos(), prog_name="vmre.identidad")


if __name__ == "__main__":
    main()
