"""Issue 23, item 3, replayed over HTTP against postal: floods and forgeries at the carriers' webhook
(``POST /v1/transportistas/{t}/eventos``). Each attack fails, the package it aims at stays as it was, and the
body of a request that is refused by its path or headers is never read: not over a real socket (uvicorn on
loopback, the body never sent), not through ASGI (a body that records whether anybody pulled it)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.postal.config import MAX_EVENTOS, Settings
from services.postal.main import create_app
from services.postal.models import EventoTransportista, Paquete
from shared import webhooks
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.postal.test_postal import enviar
from tests.support.comun import Buzon, Databases, en_http, serve
from tests.support.postal import SECRETO, Postal, firmar, inscrito
from tests.support.registro import PEL2021, centro

Token = Callable[..., dict[str, str]]

RUTA = "/v1/transportistas/mensajeria/eventos"
TOPE = 64 * 1024  # this test's cap for mensajeria
FALLOS = 8  # refusals a minute per client before 429
EVENTO = {
    "evento_id": "e-entregado",
    "guia": "G090000001",
    "estado": "entregado",
    "ocurrido_at": "2021-04-28T10:00:00-05:00",
}


def _app(url: str, kafka: KafkaSettings, buzon: Buzon) -> tuple[FastAPI, Settings, RelojManual]:
    settings = Settings(
        database_url=url,
        kafka=kafka,
        relay_enabled=False,
        consumers_enabled=False,
        transportistas_max_cuerpo={"mensajeria": TOPE},
        transportistas_fallos_por_minuto=FALLOS,
        **buzon.ajustes(),
    )
    reloj = RelojManual(centro(2021, 4, 20, 10, 0))
    return create_app(settings, reloj=reloj, proceso=PEL2021), settings, reloj


@pytest.fixture
async def postal(databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon) -> AsyncIterator[Postal]:
    """postal with a 64 KB cap for its carrier and 8 refusals a minute per client."""
    app, settings, reloj = _app(await databases.new("postal"), offline_kafka, buzon)
    async with serve(app) as client:
        yield Postal(app, client, reloj, PEL2021, buzon, settings)


async def _enviado(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(1))
    await enviar(postal, token, [1])
    assert await _estado(postal) == "enviado"


async def _estado(postal: Postal) -> str:
    async with postal.app.state.runtime.maker() as session:
        return str((await session.execute(select(Paquete.estado).where(Paquete.numero == 1))).scalar_one())


async def _reportes(postal: Postal) -> int:
    async with postal.app.state.runtime.maker() as session:
        return int(
            (await session.execute(select(func.count()).select_from(EventoTransportista))).scalar_one()
        )


class Cuerpo:
    """A request body sent in pieces that counts how many the server pulled."""

    def __init__(self, datos: bytes, trozo: int = 8192) -> None:
        self.datos, self.trozo, self.leidos = datos, trozo, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.datos), self.trozo):
            self.leidos += 1
            yield self.datos[i : i + self.trozo]


def _problema(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    cuerpo: dict[str, Any] = r.json()
    return cuerpo


# --- flood: nothing is read before the carrier, the size and the signature are checked -------------------


@asynccontextmanager
async def en_puerto(app: FastAPI) -> AsyncIterator[int]:
    """The app (with its lifespan) on a real loopback port: its number, for raw connections."""
    async with en_http(app) as base:
        yield int(base.rsplit(":", 1)[1])


async def _solo_cabeceras(puerto: int, ruta: str, cabeceras: dict[str, str]) -> int:
    """Send a request's line and headers, never its body, and return the status of the answer: only a server
    that answers without waiting for the body answers at all."""
    lector, escritor = await asyncio.open_connection("127.0.0.1", puerto)
    try:
        lineas = [f"POST {ruta} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in cabeceras.items())]
        escritor.write(("\r\n".join(lineas) + "\r\n\r\n").encode("latin-1"))
        await escritor.drain()
        async with asyncio.timeout(10):
            inicio = await lector.readuntil(b"\r\n\r\n")
        return int(inicio.split(b" ", 2)[1])
    finally:
        escritor.close()


async def test_una_inundacion_se_rechaza_sin_leer_el_cuerpo(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon
) -> None:
    app, _, _ = _app(await databases.new("postal"), offline_kafka, buzon)
    json_ = {"Content-Type": "application/json"}
    firma_al_dia = webhooks.firmar(SECRETO, b"lo que sea", int(time.time()))
    async with en_puerto(app) as puerto:
        # 15 MB announced (under the route's 16 MB) for a carrier that does not exist: 404 at once.
        grande = {**json_, "Content-Length": str(15 * 1024 * 1024)}
        assert await _solo_cabeceras(puerto, "/v1/transportistas/fantasma/eventos", grande) == 404
        # Within mensajeria's cap, but unsigned, or signed 10 minutes ago (a replay): 401 at once.
        chico = {**json_, "Content-Length": str(TOPE - 1)}
        assert await _solo_cabeceras(puerto, RUTA, chico) == 401
        assert await _solo_cabeceras(puerto, RUTA, {**chico, "X-Firma": "sha256=" + "0" * 64}) == 401
        vieja = webhooks.firmar(SECRETO, b"lo que sea", int(time.time()) - 600)
        assert await _solo_cabeceras(puerto, RUTA, {**chico, webhooks.CABECERA_FIRMA: vieja}) == 401
        # A fresh-looking signature does not buy reading more than the carrier's cap: 413 at once.
        sobre_tope = {**json_, "Content-Length": str(TOPE + 1), webhooks.CABECERA_FIRMA: firma_al_dia}
        assert await _solo_cabeceras(puerto, RUTA, sobre_tope) == 413
        # The carrier itself, over the same socket kind: served.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{puerto}") as cliente:
            raw = json.dumps(EVENTO).encode()
            r = await cliente.post(RUTA, content=raw, headers=firmar(raw))
            assert r.status_code == 200, r.text
            assert r.json()["sin_paquete"] == 1, r.text


async def test_sin_firma_el_cuerpo_ni_se_lee_ni_se_interpreta(postal: Postal, token: Token) -> None:
    await _enviado(postal, token)
    raw = json.dumps(EVENTO).encode()
    casos: list[tuple[str, dict[str, Any], int]] = [
        ("/v1/transportistas/fantasma/eventos", firmar(raw), 404),
        (RUTA, {"content-type": "application/json"}, 401),
        (RUTA, {**firmar(raw), webhooks.CABECERA_FIRMA: "t=1,v1=" + "0" * 64}, 401),
        (RUTA, {**firmar(raw), webhooks.CABECERA_FIRMA: "t=ayer,v1=é".encode("latin-1")}, 401),
    ]
    for ruta, cabeceras, status in casos:
        cuerpo = Cuerpo(raw)
        _problema(await postal.client.post(ruta, content=cuerpo, headers=cabeceras), status)
        assert cuerpo.leidos == 0, (ruta, cabeceras)
    # JSON with U+0000 is a 422 only for who may send: unsigned, it is not even parsed.
    nulo = json.dumps({**EVENTO, "guia": "G\x00"}).encode()
    _problema(await postal.client.post(RUTA, content=nulo, headers={"content-type": "application/json"}), 401)
    assert await _estado(postal) == "enviado"
    assert await _reportes(postal) == 0


async def test_el_tope_de_cada_transportista_corta_el_cuerpo(postal: Postal, token: Token) -> None:
    await _enviado(postal, token)
    eventos = [{**EVENTO, "evento_id": f"e-{i}", "detalle": "x" * 200} for i in range(400)]
    raw = json.dumps({"eventos": eventos}).encode()
    assert TOPE < len(raw) < MAX_EVENTOS
    # Declared: refused before reading.
    cuerpo = Cuerpo(raw)
    r = await postal.client.post(
        RUTA, content=cuerpo, headers={**firmar(raw), "Content-Length": str(len(raw))}
    )
    assert "64 KB" in _problema(r, 413)["detail"]
    assert cuerpo.leidos == 0
    # Not declared (chunked): cut as soon as it passes the cap, not read to the end.
    cuerpo = Cuerpo(raw)
    _problema(await postal.client.post(RUTA, content=cuerpo, headers=firmar(raw)), 413)
    assert cuerpo.leidos <= TOPE // cuerpo.trozo + 1 < len(raw) // cuerpo.trozo
    assert await _estado(postal) == "enviado"
    assert await _reportes(postal) == 0


async def test_una_firma_repetida_alterada_o_del_esquema_viejo_no_aplica_nada(
    postal: Postal, token: Token
) -> None:
    await _enviado(postal, token)
    raw = json.dumps(EVENTO).encode()
    # Captured on the wire six minutes ago and sent again now.
    capturada = firmar(raw, t=int(time.time()) - 360)
    assert (
        "5 minutos"
        in _problema(await postal.client.post(RUTA, content=raw, headers=capturada), 401)["detail"]
    )
    # One from the future is no better (a clock far ahead, or a signature made to be replayed later).
    _problema(await postal.client.post(RUTA, content=raw, headers=firmar(raw, t=int(time.time()) + 360)), 401)
    # A fresh signature moved onto another body, or with the timestamp changed after signing.
    otro = json.dumps({**EVENTO, "estado": "devuelto"}).encode()
    _problema(await postal.client.post(RUTA, content=otro, headers=firmar(raw)), 401)
    ahora = int(time.time())
    cambiada = firmar(raw, t=ahora - 100)[webhooks.CABECERA_FIRMA].replace(f"t={ahora - 100}", f"t={ahora}")
    _problema(
        await postal.client.post(RUTA, content=raw, headers={**firmar(raw), "X-VMRE-Firma": cambiada}), 401
    )
    # The old scheme (no timestamp: replayable for ever), even with the right HMAC.
    vieja = {"X-Firma": "sha256=" + hmac.new(SECRETO.encode(), raw, hashlib.sha256).hexdigest()}
    r = await postal.client.post(RUTA, content=raw, headers={"content-type": "application/json", **vieja})
    assert "X-VMRE-Firma" in _problema(r, 401)["detail"]
    assert r.headers["www-authenticate"] == "HMAC-SHA256"
    assert await _estado(postal) == "enviado"
    assert await _reportes(postal) == 0

    # The carrier's own request, signed as it is sent: applied once; a replay within the minutes is a no-op.
    firmada = firmar(raw)
    r = await postal.client.post(RUTA, content=raw, headers=firmada)
    assert r.status_code == 200, r.text
    assert r.json()["aplicados"] == 1, r.text
    r = await postal.client.post(RUTA, content=raw, headers=firmada)
    assert r.status_code == 200
    assert r.json() == {
        "aplicados": 0,
        "ignorados": 0,
        "duplicados": 1,
        "sin_paquete": 0,
    }
    assert await _estado(postal) == "entregado"
    assert await _reportes(postal) == 1


async def test_demasiados_rechazos_de_una_conexion_reciben_429_sin_leer(postal: Postal, token: Token) -> None:
    await _enviado(postal, token)
    raw = json.dumps(EVENTO).encode()
    sin_firma = {"content-type": "application/json"}
    for _ in range(FALLOS - 1):
        _problema(await postal.client.post(RUTA, content=raw, headers=sin_firma), 401)
    _problema(await postal.client.post(RUTA, content=raw, headers=firmar(raw, "otro-secreto")), 401)
    # Over the budget: 429 before anything else, the body unread, even for a good signature (whoever shares
    # the address waits out the minute: Retry-After).
    for cabeceras in (sin_firma, firmar(raw)):
        cuerpo = Cuerpo(raw)
        r = await postal.client.post(RUTA, content=cuerpo, headers=cabeceras)
        _problema(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert cuerpo.leidos == 0
    assert await _estado(postal) == "enviado"
    # Another client (its own address) is not affected; nor is anybody once the minute is over.
    transporte = httpx.ASGITransport(app=postal.app, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transporte, base_url="http://test") as otro:
        r = await otro.post(RUTA, content=raw, headers=firmar(raw))
        assert r.status_code == 200, r.text
        assert r.json()["aplicados"] == 1, r.text
    assert await _estado(postal) == "entregado"


def test_tope_por_transportista_en_la_configuracion() -> None:
    assert Settings(transportistas_max_cuerpo={"mensajeria": 1024}).max_cuerpo_de("mensajeria") == 1024
    assert Settings().max_cuerpo_de("mensajeria") == MAX_EVENTOS
    for malo in ({"dhl": 1024}, {"mensajeria": 0}, {"mensajeria": MAX_EVENTOS + 1}):
        with pytest.raises(ValueError, match="TRANSPORTISTAS_MAX_CUERPO"):
            Settings(transportistas_max_cuerpo=malo)
