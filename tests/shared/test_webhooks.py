"""Webhooks: signed deliveries to a real local HTTP receiver, retries with backoff on a manual clock,
idempotent staging, and the delivery log; on SQLite and (with VMRE_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.db import make_engine, make_sessionmaker, new_metadata
from shared.hijos import free_port
from shared.reloj import RelojManual
from shared.webhooks import (
    Despachador,
    EntregaMixin,
    SuscripcionMixin,
    encolar,
    firmar,
    retraso_s,
    suscribir,
    validar_url,
    verificar_firma,
)
from tests.support.comun import Databases, en_http


class Base(DeclarativeBase):
    metadata = new_metadata()


class Suscripcion(SuscripcionMixin, Base):
    pass


class Entrega(EntregaMixin, Base):
    pass


INICIO = dt.datetime(2030, 6, 2, 20, 0, tzinfo=dt.UTC)


async def resolver_publico(_host: str, _puerto: int) -> list[str]:
    """Every name is a public address, without asking any DNS server (tests stay off the network)."""
    return ["93.184.215.14"]


@dataclass
class Receptor:
    """An OPL's endpoint: 500 on the first request, 200 afterwards; checks each signature."""

    url: str
    secreto: str = ""
    recibidas: list[tuple[dict[str, str], bytes, bool]] = field(default_factory=list)


@pytest.fixture
async def maker(databases: Databases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(await databases.new("webhooks", migrate=False))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def receptor() -> AsyncIterator[Receptor]:
    port = free_port()
    r = Receptor(url=f"http://127.0.0.1:{port}/vmre")

    async def recibir(request: Request) -> Response:
        cuerpo = await request.body()
        firma_ok = verificar_firma(r.secreto, cuerpo, request.headers.get("x-vmre-firma", ""), time.time())
        r.recibidas.append((dict(request.headers), cuerpo, firma_ok))
        return Response(status_code=500 if len(r.recibidas) == 1 else 200)

    app = Starlette(routes=[Route("/vmre", recibir, methods=["POST"])])
    async with en_http(app, puerto=port, lifespan="off"):
        yield r


async def _entregas(maker: async_sessionmaker[AsyncSession]) -> list[Entrega]:
    async with maker() as session:
        return list((await session.execute(select(Entrega).order_by(Entrega.id))).scalars().all())


async def _suscribir(
    maker: async_sessionmaker[AsyncSession], entidad: str, url: str, activa: bool = True
) -> Suscripcion:
    async with maker() as session, session.begin():
        sus = await suscribir(
            session, Suscripcion, entidad=entidad, url=url, creada_por="admin", ahora=INICIO,
            permitir_http_local=True, resolver=resolver_publico,
        )  # fmt: skip
        sus.activa = activa
    return sus


async def _encolar(
    maker: async_sessionmaker[AsyncSession], entidad: str, evento_id: str, datos: dict[str, Any]
) -> int:
    async with maker() as session, session.begin():
        return await encolar(
            session, Entrega, Suscripcion, entidad=entidad, evento="computo.acta.publicada",
            evento_id=evento_id, datos=datos, ahora=INICIO,
        )  # fmt: skip


async def test_entrega_firmada_con_reintento_e_idempotencia(
    maker: async_sessionmaker[AsyncSession], receptor: Receptor
) -> None:
    reloj = RelojManual(INICIO)
    sus = await _suscribir(maker, "09", receptor.url)
    otra = await _suscribir(maker, "14", receptor.url)
    receptor.secreto = sus.secreto
    assert len(sus.secreto) >= 43
    assert sus.secreto != otra.secreto

    datos = {"acta": "09-001", "votos": {"PAN": 10, "MORENA": 12}, "nota": "cómputo"}
    assert await _encolar(maker, "09", "acta-09-001", datos) == 1
    assert await _encolar(maker, "09", "acta-09-001", datos) == 0  # a replayed event: nothing new
    [entrega] = await _entregas(maker)
    assert (entrega.suscripcion_id, entrega.estado, entrega.intentos) == (sus.id, "pendiente", 0)

    despachador = Despachador(maker, Entrega, Suscripcion, reloj=reloj, base_s=0.01, tope_s=1.0)
    try:
        assert await despachador.entregar_pendientes() == 1  # the receiver answers 500
        [entrega] = await _entregas(maker)
        assert (entrega.estado, entrega.intentos, entrega.ultimo_codigo) == ("pendiente", 1, 500)
        assert entrega.ultimo_error == "http_5xx"  # a class, never the receiver's text
        assert INICIO <= entrega.proximo_intento_at <= INICIO + dt.timedelta(seconds=0.01)

        reloj.avanzar(dt.timedelta(seconds=1))
        assert await despachador.entregar_pendientes() == 1  # 200 now
        assert await despachador.entregar_pendientes() == 0  # nothing left
    finally:
        await despachador.aclose()

    [entrega] = await _entregas(maker)
    assert (entrega.estado, entrega.intentos, entrega.ultimo_codigo) == ("entregada", 2, 200)
    assert entrega.ultimo_error is None
    assert entrega.entregada_at == INICIO + dt.timedelta(seconds=1)

    # Two requests, both signed, same delivery and body; the other entidad's subscription got nothing.
    assert len(receptor.recibidas) == 2
    for cabeceras, cuerpo, firma_ok in receptor.recibidas:
        assert firma_ok
        assert cabeceras["x-vmre-evento"] == "computo.acta.publicada"
        assert cabeceras["x-vmre-entrega"] == str(entrega.id)
        assert cabeceras["content-type"] == "application/json"
        assert cuerpo == entrega.cuerpo.encode("utf-8")
        assert not verificar_firma(otra.secreto, cuerpo, cabeceras["x-vmre-firma"], time.time())
    enviado = json.loads(receptor.recibidas[0][1])
    assert enviado["datos"] == datos
    assert enviado["evento_id"] == "acta-09-001"
    assert enviado["entidad"] == "09"


async def test_url_inalcanzable_termina_fallida(maker: async_sessionmaker[AsyncSession]) -> None:
    reloj = RelojManual(INICIO)
    await _suscribir(maker, "09", f"http://127.0.0.1:{free_port()}/nadie")
    await _suscribir(maker, "09", "https://opl.example/inactiva", activa=False)
    assert await _encolar(maker, "09", "e-1", {}) == 1  # only the active subscription
    despachador = Despachador(
        maker, Entrega, Suscripcion, reloj=reloj, max_intentos=3, base_s=0.01, tope_s=1.0, timeout_s=5.0
    )
    try:
        for intento in range(1, 4):
            assert await despachador.entregar_pendientes() == 1
            [entrega] = await _entregas(maker)
            assert entrega.intentos == intento
            assert entrega.estado == ("fallida" if intento == 3 else "pendiente")
            reloj.avanzar(dt.timedelta(seconds=1))
        assert await despachador.entregar_pendientes() == 0
    finally:
        await despachador.aclose()
    [entrega] = await _entregas(maker)
    assert entrega.ultimo_codigo is None
    assert entrega.ultimo_error == "conexion"
    assert entrega.entregada_at is None


def test_validar_url() -> None:
    assert validar_url("https://opl.example/vmre", False) == "https://opl.example/vmre"
    assert validar_url("http://localhost:8000/x", True) == "http://localhost:8000/x"
    assert validar_url("http://127.0.0.1:8000/x", True) == "http://127.0.0.1:8000/x"
    for mala, local, motivo in [
        ("http://example.com/x", True, "debe usar https"),
        ("http://127.0.0.1:8000/x", False, "debe usar https"),
        ("ftp://opl.example/x", True, "Esquema no admitido"),
        ("https://", False, "debe indicar un servidor"),
        ("https://usuario:clave@opl.example/x", False, "no debe llevar usuario ni contraseña"),
        ("no es una url", False, "debe indicar un servidor"),
    ]:
        with pytest.raises(ValueError, match=motivo):
            validar_url(mala, local)


def test_firma() -> None:
    cuerpo = b'{"evento":"computo.acta.publicada","datos":{"votos":10}}'
    t = 1_900_000_000
    cabecera = firmar("secreto", cuerpo, t)
    assert cabecera.startswith(f"t={t},v1=")
    assert verificar_firma("secreto", cuerpo, cabecera, t + 10)
    assert not verificar_firma("secreto", cuerpo.replace(b"10", b"99"), cabecera, t)  # tampered body
    assert not verificar_firma("otro", cuerpo, cabecera, t)  # wrong secret
    assert not verificar_firma("secreto", cuerpo, cabecera, t + 301)  # replayed later
    assert not verificar_firma("secreto", cuerpo, cabecera.replace(f"t={t}", f"t={t + 100}"), t + 100)
    assert not verificar_firma("secreto", cuerpo, "basura", t)
    assert not verificar_firma("secreto", cuerpo, f"t={t}", t)
    # Malformed entries are a plain False, never an exception (a header is Latin-1 text from anybody).
    v1 = cabecera.split("v1=")[1]
    for mala in (f"t={t},v1=é{v1[1:]}", f"t=٣,v1={v1}", f"t={'9' * 5000},v1={v1}", f"t=+{t},v1={v1}"):
        assert not verificar_firma("secreto", cuerpo, mala, t), mala
    assert verificar_firma("secreto", cuerpo, f"t={t},v1={'0' * 64},v1={v1.upper()},v2=x", t)


def test_retraso_acotado() -> None:
    for intentos in range(1, 20):
        assert 0.0 <= retraso_s(intentos, 2.0, 3600.0) <= min(3600.0, 2.0 * 2 ** (intentos - 1))
