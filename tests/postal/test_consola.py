"""postal's console: the reception desk of return envelopes behind the real OpenID Connect sign-in (the local
identity provider as a process; authorization code with PKCE, state and nonce), over HTTP. Each class of
envelope answers in large type with the desk's counts; and an attacker's view: no session, another role, a
forged or missing CSRF token, a replayed or crossed callback, a forged session cookie, an open redirect — each
changes nothing. The same desk in Chromium: tests/postal/test_consola_navegador.py."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.postal.config import Settings
from services.postal.models import Bitacora, Sobre
from tests.factories import clave
from tests.support.consola import Identidad, cabecera, csrf, galletas, ingresar
from tests.support.postal import Postal, inscrito
from tests.support.registro import PEL2021

SOBRES = "/consola/postal/sobres"
MESAS = "/consola/postal/mesas"


def conteos(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="n_([a-z_]+)" value="(\d+)"', html))


async def escanear(postal: Postal, sesion: dict[str, str], html: str, clave_sobre: str) -> httpx.Response:
    datos = {
        "csrf": csrf(html),
        "clave_elector": clave_sobre,
        **{f"n_{k}": v for k, v in conteos(html).items()},
    }
    return await postal.client.post(SOBRES, data=datos, headers=cabecera(sesion))


async def test_ingreso_oidc_y_cada_clase_de_sobre(postal_con_consola: Postal) -> None:
    postal = postal_con_consola
    await postal.entregar(inscrito(1), inscrito(2))
    # Without a session: to the sign-in, remembering where it was going.
    r = await postal.client.get(SOBRES)
    assert r.status_code == 303
    assert r.headers["location"] == "/consola/postal/entrar?siguiente=%2Fconsola%2Fpostal%2Fsobres"
    sesion, vuelta = await ingresar(postal.client, "postal", "operadora", SOBRES)
    assert vuelta.status_code == 200, vuelta.text
    assert f'content="0;url={SOBRES}"' in vuelta.text
    assert "vmre_consola" in sesion
    cookie = next(c for c in vuelta.headers.get_list("set-cookie") if c.startswith("vmre_consola="))
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=strict" in cookie
    assert galletas(vuelta).get("vmre_consola_ingreso", "") == ""  # the sign-in's own cookie is gone

    r = await postal.client.get(SOBRES, headers=cabecera(sesion))
    assert r.status_code == 200, r.text
    assert "Operadora del INE (local) · ine-operador" in r.text
    assert 'autofocus="autofocus"' in r.text
    r = await escanear(postal, sesion, r.text, clave(1))
    assert 'class="resultado en_tiempo"' in r.text
    assert "EN TIEMPO" in r.text
    r = await escanear(postal, sesion, r.text, clave(1))
    assert "DUPLICADO" in r.text
    r = await escanear(postal, sesion, r.text, clave(777))
    assert "DESCONOCIDO" in r.text
    # A code that is no envelope's: the error next to the field, nothing recorded, the counts unchanged.
    antes = await postal.count(Sobre)
    r = await escanear(postal, sesion, r.text, "no-es-una-clave")
    assert r.status_code == 422
    assert 'id="clave_elector-error"' in r.text
    assert await postal.count(Sobre) == antes
    postal.reloj.ajustar(PEL2021.calendario.recepcion_spv_limite + dt.timedelta(minutes=1))
    r = await escanear(postal, sesion, r.text, clave(2))
    assert "EXTEMPORÁNEO" in r.text
    assert conteos(r.text) == {"en_tiempo": "1", "extemporaneo": "1", "desconocido": "1", "duplicado": "1"}
    # The same use case as POST /v1/sobres: the records, with who scanned them (the token's sub).
    async with postal.app.state.runtime.maker() as s:
        filas = (await s.execute(Sobre.__table__.select().order_by(Sobre.id))).all()
    assert [(f.clasificacion, f.operador) for f in filas] == [
        ("en_tiempo", "operadora"),
        ("duplicado", "operadora"),
        ("desconocido", "operadora"),
        ("extemporaneo", "operadora"),
    ]
    # The audit log names who scanned, from the console's session (not an anonymous caller).
    async with postal.app.state.runtime.maker() as s:
        bitacora = (
            await s.execute(
                Bitacora.__table__.select().where(Bitacora.accion == "POST /consola/postal/sobres")
            )
        ).all()
    assert bitacora, "la bitácora no registró los escaneos de la consola"
    assert {(b.actor, b.rol) for b in bitacora} == {("operadora", "ine-operador")}


async def test_otro_rol_csrf_y_sesion_falsa_no_cambian_nada(postal_con_consola: Postal) -> None:
    postal = postal_con_consola
    await postal.entregar(inscrito(1))
    # An auditor signs in, but this desk is not theirs: 403 to see it and to post to it.
    auditora, _ = await ingresar(postal.client, "postal", "auditora")
    r = await postal.client.get(SOBRES, headers=cabecera(auditora))
    assert r.status_code == 403
    assert "auditor" in r.text
    r = await postal.client.post(SOBRES, data={"clave_elector": clave(1)}, headers=cabecera(auditora))
    assert r.status_code == 403
    # The operator, with a forged CSRF token and without one: 403, nothing recorded.
    sesion, _ = await ingresar(postal.client, "postal", "operadora")
    for datos in ({"csrf": "falso", "clave_elector": clave(1)}, {"clave_elector": clave(1)}):
        r = await postal.client.post(SOBRES, data=datos, headers=cabecera(sesion))
        assert r.status_code == 403, r.text
        assert "no se hizo nada" in r.text
    assert await postal.count(Sobre) == 0
    # A session cookie signed with another key (or edited to another role): no session, to the sign-in.
    datos = jwt.decode(sesion["vmre_consola"], options={"verify_signature": False})
    for clave_firma in ("otra-clave-cualquiera-de-32-bytes!!", None):
        falsa = {**datos, "rol": "ine-admin"}
        token = jwt.encode(falsa, clave_firma or "x" * 32, "HS256")
        r = await postal.client.get(SOBRES, headers=cabecera({"vmre_consola": token}))
        assert r.status_code == 303
    assert await postal.count(Sobre) == 0


async def test_la_vuelta_del_proveedor_no_se_repite_ni_se_cruza(postal_con_consola: Postal) -> None:
    postal = postal_con_consola
    inicio = await postal.client.get("/consola/postal/entrar", params={"siguiente": "https://evil.example/x"})
    ingreso = galletas(inicio)
    assert "code_challenge_method=S256" in inicio.headers["location"]
    assert "nonce=" in inicio.headers["location"]
    async with httpx.AsyncClient(timeout=10) as proveedor:
        autorizado = await proveedor.post(inicio.headers["location"], data={"sub": "operadora"})
    vuelta = autorizado.headers["location"]
    # Another browser (without this start's cookie) cannot use the code.
    r = await postal.client.get(vuelta)
    assert r.status_code == 400
    assert "vmre_consola" not in galletas(r)
    # A state that is not this start's.
    otra = re.sub(r"state=[^&]+", "state=otro", vuelta)
    assert (await postal.client.get(otra, headers=cabecera(ingreso))).status_code == 400
    # The right one: signed in, and sent to the console's own screen, never to the other host.
    r = await postal.client.get(vuelta, headers=cabecera(ingreso))
    assert r.status_code == 200
    assert "evil.example" not in r.text
    assert f'content="0;url={SOBRES}"' in r.text
    # Replayed (the cookie kept by an attacker): the code was used once; nobody signs in.
    r = await postal.client.get(vuelta, headers=cabecera(ingreso))
    assert r.status_code == 403
    assert "vmre_consola" not in {k for k, v in galletas(r).items() if v}


def test_produccion_rechaza_el_proveedor_local(identidad: Identidad) -> None:
    with pytest.raises(ValueError, match="VMRE_CONSOLA_PROVEEDOR_LOCAL"):
        Settings(
            mode="production",
            database_url="postgresql+asyncpg://vmre@db/postal",
            metricas_puerto=9090,
            consola=identidad.ajustes(),
            auth={"jwks_url": "https://identidad.example/jwks"},
        )


async def test_asignacion_a_mesas_solo_para_ine_admin(postal_con_consola: Postal) -> None:
    postal = postal_con_consola
    await postal.entregar(inscrito(1), inscrito(2))
    operadora, _ = await ingresar(postal.client, "postal", "operadora")
    r = await postal.client.get(SOBRES, headers=cabecera(operadora))
    for n in (1, 2):
        r = await escanear(postal, operadora, r.text, clave(n))
        assert "EN TIEMPO" in r.text
    # The operator scans; assigning to mesas is ine-admin's (as the API): 403 to see or post it.
    assert (await postal.client.get(MESAS, headers=cabecera(operadora))).status_code == 403
    r = await postal.client.post(MESAS, data={"entidad": "09"}, headers=cabecera(operadora))
    assert r.status_code == 403
    admin, _ = await ingresar(postal.client, "postal", "administradora")
    r = await postal.client.get(MESAS, headers=cabecera(admin))
    assert r.status_code == 200
    # Before the reception closes: the service's refusal next to the field, nothing assigned.
    r = await postal.client.post(MESAS, data={"entidad": "09", "csrf": csrf(r.text)}, headers=cabecera(admin))
    assert r.status_code == 409
    assert "Las mesas se integran al cerrar la recepción de sobres." in r.text
    assert 'id="entidad-error"' in r.text
    postal.reloj.ajustar(PEL2021.calendario.recepcion_spv_limite + dt.timedelta(hours=1))
    # Without the CSRF token: nothing.
    r = await postal.client.post(MESAS, data={"entidad": "09"}, headers=cabecera(admin))
    assert r.status_code == 403
    async with postal.app.state.runtime.maker() as s:
        assert [
            m for (m,) in (await s.execute(Sobre.__table__.select().with_only_columns(Sobre.mesa))).all()
        ] == [
            None,
            None,
        ]
    r = await postal.client.get(MESAS, headers=cabecera(admin))
    r = await postal.client.post(MESAS, data={"entidad": "09", "csrf": csrf(r.text)}, headers=cabecera(admin))
    assert r.status_code == 200, r.text
    assert "<td>1</td><td>2</td>" in r.text
    async with postal.app.state.runtime.maker() as s:
        assert [
            m for (m,) in (await s.execute(Sobre.__table__.select().with_only_columns(Sobre.mesa))).all()
        ] == [
            1,
            1,
        ]


async def test_el_proveedor_cambia_sus_llaves_y_se_sigue_entrando(postal_con_consola: Postal) -> None:
    """The identity provider rotated its signing keys after the service read them: the ID token names a key
    the cached set lacks; the service reads the set again (once) instead of refusing all until a restart."""
    postal = postal_con_consola
    _, vuelta = await ingresar(postal.client, "postal", "operadora")
    assert vuelta.status_code == 200
    otra = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    vieja = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(otra))
    consola = postal.app.state.consola
    consola._jwks = jwt.PyJWKSet.from_dict({"keys": [{**vieja, "kid": "llave-retirada", "use": "sig"}]})
    sesion, vuelta = await ingresar(postal.client, "postal", "operadora")
    assert vuelta.status_code == 200, vuelta.text
    assert "vmre_consola" in sesion
    assert [k.key_id for k in consola._jwks.keys] != ["llave-retirada"]
