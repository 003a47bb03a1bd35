"""Issue 23, items 1 and 2, replayed over HTTP against the service: a second-factor code replayed after a
newer one, an older SMS code after a newer one, and parallel attempts racing the lockout, the single use
of a code and the first access. Each attack fails on SQLite and on PostgreSQL (where the parallel requests
are concurrent transactions under READ COMMITTED)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from services.electronico.models import Notificacion, Sesion, Votante
from tests.support.electronico import PASSWORD, Cuenta, Electronico, inscrito

OTRA = "otra contraseña, equivocada"


@pytest.fixture(autouse=True)
def _argon2_barato_y_sin_limite_por_conexion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty logins at once from one address: argon2id at its lowest cost (hashes keep their parameters,
    so this only speeds the test) and no per-client limit (the attacks here are against one account)."""
    for variable, valor in {
        "ARGON2_TIEMPO": "1",
        "ARGON2_MEMORIA_KIB": "8",
        "ARGON2_PARALELISMO": "1",
        "LIMITE_POR_MINUTO": "100000",
    }.items():
        monkeypatch.setenv(f"VMRE_ELECTRONICO_{variable}", valor)


async def _cuenta(e: Electronico, n: int) -> Cuenta:
    if not e.cuentas:
        await e.entregar(*(inscrito(i) for i in range(1, 5)))
        await e.cuentas_del_buzon()
    return sorted(e.cuentas.values(), key=lambda c: c.usuario)[n - 1]


async def _primer_acceso(e: Electronico, c: Cuenta, segundo_factor: str = "totp") -> httpx.Response:
    return await e.client.post(
        "/v1/acceso/primer",
        json={
            "usuario": c.usuario,
            "clave_acceso": c.clave_acceso,
            "password": PASSWORD,
            "segundo_factor": segundo_factor,
            "qr": False,
        },
    )


async def _con_totp(e: Electronico, n: int) -> Cuenta:
    c = await _cuenta(e, n)
    r = await _primer_acceso(e, c)
    assert r.status_code == 200, r.text
    c.totp = pyotp.parse_uri(r.json()["totp_uri"])  # type: ignore[assignment]
    return c


async def _login(e: Electronico, c: Cuenta, codigo: str, password: str = PASSWORD) -> httpx.Response:
    return await e.client.post(
        "/v1/acceso", json={"usuario": c.usuario, "password": password, "codigo": codigo}
    )


async def _pedir_sms(e: Electronico, c: Cuenta) -> str:
    """Ask for an SMS code; the code, read from the newest message in the outbox."""
    r = await e.client.post("/v1/acceso/codigo", json={"usuario": c.usuario, "password": PASSWORD})
    assert r.status_code == 200, r.text
    async with e.app.state.runtime.maker() as s:
        mensaje = (
            await s.execute(
                select(Notificacion.mensaje)
                .where(Notificacion.plantilla == "codigo_acceso")
                .order_by(Notificacion.id.desc())
                .limit(1)
            )
        ).scalar_one()
    return str(mensaje).split("es ")[1][:6]


async def _sesiones(e: Electronico, c: Cuenta) -> int:
    return await e.count(
        Sesion, Sesion.votante_id == select(Votante.id).where(Votante.usuario == c.usuario).scalar_subquery()
    )


async def _votante(e: Electronico, c: Cuenta) -> Votante:
    async with e.app.state.runtime.maker() as s:
        return (await s.execute(select(Votante).where(Votante.usuario == c.usuario))).scalar_one()


def _estados(respuestas: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in respuestas)


# --- (1) a code works once, and never after a newer one ---------------------------------------------------


async def test_un_codigo_totp_no_vuelve_a_servir_despues_de_uno_mas_nuevo(electronico: Electronico) -> None:
    e = electronico
    c = await _con_totp(e, 1)
    assert c.totp is not None
    ahora = time.time()
    anterior, a, b = (c.totp.at(ahora + 30 * k) for k in (-1, 0, 1))  # three steps the window accepts
    assert (await _login(e, c, a)).status_code == 200
    assert (await _login(e, c, a)).status_code == 401  # replayed
    assert (await _login(e, c, anterior)).status_code == 401  # never used, but older than one that was
    assert (await _login(e, c, b)).status_code == 200
    # The report: after B, A worked again.
    r = await _login(e, c, a)
    assert r.status_code == 401, r.text
    assert r.json()["type"].endswith("acceso-denegado"), r.text
    assert (await _login(e, c, b)).status_code == 401
    assert await _sesiones(e, c) == 2


async def test_un_codigo_sms_nuevo_anula_el_anterior_y_sirve_una_vez(electronico: Electronico) -> None:
    e = electronico
    c = await _cuenta(e, 2)
    assert (await _primer_acceso(e, c, "sms")).status_code == 200
    viejo = await _pedir_sms(e, c)
    nuevo = await _pedir_sms(e, c)
    if nuevo == viejo:  # one chance in a million: the newer code happens to be the same six digits
        nuevo = await _pedir_sms(e, c)
    assert (await _login(e, c, viejo)).status_code == 401
    assert (await _login(e, c, nuevo)).status_code == 200
    assert (await _login(e, c, nuevo)).status_code == 401
    assert (await _login(e, c, viejo)).status_code == 401
    assert await _sesiones(e, c) == 1


# --- (2) parallel attempts ------------------------------------------------------------------------------


async def test_cincuenta_contrasenas_equivocadas_a_la_vez_bloquean_tras_cinco(
    electronico: Electronico,
) -> None:
    e = electronico
    c = await _con_totp(e, 1)
    assert c.totp is not None
    respuestas = await asyncio.gather(*(_login(e, c, c.totp.now(), OTRA) for _ in range(50)))
    # Exactly five counted: four 401, the fifth locks (429); every other one finds the account locked.
    assert _estados(respuestas) == [401] * 4 + [429] * 46, _estados(respuestas)
    v = await _votante(e, c)
    assert v.bloqueado_hasta is not None
    assert v.fallos == 0
    # Locked: the right password and code do not open it either.
    assert (await _login(e, c, c.totp.now())).status_code == 429
    assert await _sesiones(e, c) == 0


async def test_cincuenta_pedidos_de_sms_con_contrasena_equivocada_bloquean_tras_cinco(
    electronico: Electronico,
) -> None:
    e = electronico
    c = await _cuenta(e, 2)
    assert (await _primer_acceso(e, c, "sms")).status_code == 200
    respuestas = await asyncio.gather(
        *(
            e.client.post("/v1/acceso/codigo", json={"usuario": c.usuario, "password": OTRA})
            for _ in range(50)
        )
    )
    assert _estados(respuestas) == [401] * 4 + [429] * 46, _estados(respuestas)
    r = await e.client.post("/v1/acceso/codigo", json={"usuario": c.usuario, "password": PASSWORD})
    assert r.status_code == 429
    assert await e.count(Notificacion, Notificacion.plantilla == "codigo_acceso") == 0


async def test_un_codigo_totp_diez_ingresos_a_la_vez_una_sesion(electronico: Electronico) -> None:
    e = electronico
    c = await _con_totp(e, 1)
    assert c.totp is not None
    codigo = c.totp.now()
    respuestas = await asyncio.gather(*(_login(e, c, codigo) for _ in range(10)))
    assert [r.status_code for r in respuestas].count(200) == 1, _estados(respuestas)
    assert set(_estados(respuestas)) <= {200, 401, 429}
    assert await _sesiones(e, c) == 1


async def test_un_codigo_sms_diez_ingresos_a_la_vez_una_sesion(electronico: Electronico) -> None:
    e = electronico
    c = await _cuenta(e, 2)
    assert (await _primer_acceso(e, c, "sms")).status_code == 200
    codigo = await _pedir_sms(e, c)
    respuestas = await asyncio.gather(*(_login(e, c, codigo) for _ in range(10)))
    assert [r.status_code for r in respuestas].count(200) == 1, _estados(respuestas)
    assert set(_estados(respuestas)) <= {200, 401, 429}
    assert await _sesiones(e, c) == 1


async def test_primer_acceso_a_la_vez_una_sola_contrasena_y_un_solo_secreto(electronico: Electronico) -> None:
    e = electronico
    c = await _cuenta(e, 3)

    async def primer(password: str) -> httpx.Response:
        return await e.client.post(
            "/v1/acceso/primer",
            json={
                "usuario": c.usuario,
                "clave_acceso": c.clave_acceso,
                "password": password,
                "segundo_factor": "totp",
                "qr": False,
            },
        )

    # Ten different passwords at once with the same access key: one sets it, the rest are refused.
    respuestas = await asyncio.gather(*(primer(f"{PASSWORD} {i}") for i in range(10)))
    assert _estados(respuestas) == [200] + [401] * 9, _estados(respuestas)
    [(i, ganador)] = [(i, r.json()) for i, r in enumerate(respuestas) if r.status_code == 200]
    # The secret it answered is the one stored: its code and its password open a session.
    totp: Any = pyotp.parse_uri(ganador["totp_uri"])
    assert (await _login(e, c, totp.now(), f"{PASSWORD} {i}")).status_code == 200

    # The same request sent ten times at once (retries of a lost answer): the same answer to all.
    d = await _cuenta(e, 4)
    respuestas = await asyncio.gather(*(_primer_acceso(e, d) for _ in range(10)))
    assert _estados(respuestas) == [200] * 10, [r.text for r in respuestas]
    assert len({r.json()["totp_uri"] for r in respuestas}) == 1
