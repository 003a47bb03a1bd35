from __future__ import annotations

import datetime as dt

import jwt
import pytest
from pydantic import SecretStr, ValidationError

from shared.auth import Authenticator, Rol, mint_token
from shared.problems import Problem
from shared.settings import AuthSettings, ServiceSettings


async def test_token_local_ida_y_vuelta() -> None:
    settings = AuthSettings()
    principal = await Authenticator(settings).verify(mint_token(settings, Rol.OPL, entidad="09"))
    assert principal.rol == Rol.OPL
    assert principal.entidad == "09"
    assert principal.puede_ver_entidad("09")
    assert not principal.puede_ver_entidad("14")


async def test_el_personal_de_una_sede_lleva_su_sede_en_el_token() -> None:
    settings = AuthSettings()
    token = mint_token(settings, Rol.INE_OPERADOR, sede="los-angeles")
    principal = await Authenticator(settings).verify(token)
    assert (principal.rol, principal.sede) == (Rol.INE_OPERADOR, "los-angeles")
    assert (await Authenticator(settings).verify(mint_token(settings, Rol.INE_OPERADOR))).sede is None
    with pytest.raises(ValueError, match="sede"):
        mint_token(settings, Rol.INE_OPERADOR, sede="Los Ángeles")


def test_token_opl_exige_entidad() -> None:
    with pytest.raises(ValueError, match="entidad"):
        mint_token(AuthSettings(), Rol.OPL)
    with pytest.raises(ValueError, match="entidad"):
        mint_token(AuthSettings(), Rol.OPL, entidad="99")


@pytest.mark.parametrize(
    "forjar",
    [
        lambda _s: mint_token(
            AuthSettings(jwt_secret=SecretStr("otro-secreto-de-al-menos-32-bytes!!")), Rol.INE_ADMIN
        ),
        lambda s: mint_token(s, Rol.INE_ADMIN, ttl=dt.timedelta(seconds=-5)),
        lambda _s: jwt.encode({"sub": "x", "rol": "ine-admin", "exp": 9999999999}, "", algorithm="none"),
        lambda s: jwt.encode(
            {"sub": "x", "rol": "rey", "exp": 9999999999, "aud": s.audience, "iss": s.issuer},
            s.jwt_secret.get_secret_value(),
            algorithm="HS256",
        ),
        lambda s: jwt.encode(
            {"sub": "x", "rol": "opl", "exp": 9999999999, "aud": s.audience, "iss": s.issuer},
            s.jwt_secret.get_secret_value(),
            algorithm="HS256",
        ),
        lambda s: jwt.encode(
            {"sub": "x", "rol": "ine-admin", "exp": 9999999999, "aud": "otra", "iss": s.issuer},
            s.jwt_secret.get_secret_value(),
            algorithm="HS256",
        ),
    ],
    ids=["otro-secreto", "expirado", "alg-none", "rol-desconocido", "opl-sin-entidad", "otra-audiencia"],
)
async def test_tokens_invalidos_401(forjar) -> None:  # type: ignore[no-untyped-def]
    settings = AuthSettings()
    with pytest.raises(Problem) as exc:
        await Authenticator(settings).verify(forjar(settings))
    assert exc.value.status == 401


def test_produccion_rechaza_el_secreto_de_desarrollo_y_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMRE_MODE", "production")
    with pytest.raises(ValidationError, match="secreto de desarrollo"):
        ServiceSettings(service="registro", database_url="postgresql+asyncpg://db/registro")
    monkeypatch.setenv("VMRE_AUTH_JWKS_URL", "https://idp.example/jwks.json")
    with pytest.raises(ValidationError, match="requiere PostgreSQL"):
        ServiceSettings(service="registro")
    with pytest.raises(ValidationError, match="VMRE_METRICAS_PUERTO"):
        ServiceSettings(service="registro", database_url="postgresql+asyncpg://db/registro")
    monkeypatch.setenv("VMRE_METRICAS_PUERTO", "9090")
    ok = ServiceSettings(service="registro", database_url="postgresql+asyncpg://db/registro")
    assert ok.mode == "production"


async def test_produccion_verifica_con_el_jwks_del_proveedor() -> None:
    """The production path: RS256 tokens from an identity provider, keys fetched from its JWKS URL."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = AuthSettings(
            jwks_url=f"http://127.0.0.1:{server.server_port}/jwks.json", issuer="https://idp", audience="vmre"
        )
        claims = {
            "sub": "opl-cdmx",
            "rol": "opl",
            "entidad": "09",
            "iss": "https://idp",
            "aud": "vmre",
            "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
        }
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        principal = await Authenticator(settings).verify(good)
        assert (principal.sub, principal.rol, principal.entidad) == ("opl-cdmx", Rol.OPL, "09")

        # The development secret is worthless once a JWKS is configured.
        with pytest.raises(Problem):
            await Authenticator(settings).verify(mint_token(settings, Rol.INE_ADMIN))
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with pytest.raises(Problem):
            await Authenticator(settings).verify(
                jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
            )
    finally:
        server.shutdown()
