"""Abuse limits (shared/limites.py): per-client budget on public routes (429 + Retry-After), who the client
is behind a proxy, request body size (413), and uploads judged by their bytes."""

from __future__ import annotations

import importlib
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.registro.config import Settings as RegistroSettings
from services.registro.main import create_app as registro_app
from services.registro.models import Documento, Solicitud
from shared.limites import LimitePorCliente, cliente
from shared.problems import Problem
from shared.reloj import RelojManual
from shared.settings import SERVICES, KafkaSettings, redes
from tests.factories import solicitud
from tests.support.comun import Databases
from tests.support.registro import PEL2021, Registro, centro

Token = Callable[..., dict[str, str]]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 20 + b"%%EOF\n"


class Reloj:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# --- the window ------------------------------------------------------------------------------------------


def test_ventana_deslizante_cuenta_por_cliente_y_dice_cuanto_esperar() -> None:
    reloj = Reloj()
    limite = LimitePorCliente(3, reloj)
    assert limite.tomar("203.0.113.7") is None
    reloj.t += 5
    assert [limite.tomar("203.0.113.7") for _ in range(2)] == [None, None]
    reloj.t += 10
    espera = limite.tomar("203.0.113.7")
    assert espera == 60 - 15  # when the first one leaves the window
    assert limite.tomar("198.51.100.1") is None  # another client has its own budget
    assert espera is not None
    reloj.t += espera - 0.5
    assert limite.tomar("203.0.113.7") is not None  # not yet: Retry-After was not too generous
    reloj.t += 0.5
    assert limite.tomar("203.0.113.7") is None  # and not too strict: one left, one fits
    assert limite.tomar("203.0.113.7") == 5  # the next two were 5 s later
    reloj.t += 300  # idle for long: the whole budget again
    assert [limite.tomar("203.0.113.7") for _ in range(3)] == [None, None, None]


def test_un_rechazo_no_cuenta_y_revisar_responde_429() -> None:
    reloj = Reloj()
    limite = LimitePorCliente(2, reloj)
    limite.tomar("c")
    limite.tomar("c")
    for _ in range(50):  # hammering while refused does not push the wait further
        reloj.t += 0.1
        assert limite.tomar("c") == math.ceil(60 - (reloj.t - 1000.0))
    reloj.t = 1060.0  # both left the window together; the 50 refusals left nothing behind
    assert [limite.tomar("c"), limite.tomar("c")] == [None, None]
    with pytest.raises(Problem) as exc:
        limite.revisar("c", "Espere.")
    assert exc.value.status == 429
    assert exc.value.headers == {"Retry-After": "60"}


# --- who is the client -----------------------------------------------------------------------------------


def _scope(peer: str, *xff: str) -> dict[str, object]:
    return {
        "type": "http",
        "client": (peer, 50000),
        "headers": [(b"x-forwarded-for", v.encode()) for v in xff],
    }


def test_cliente_solo_cree_a_los_proxies_configurados() -> None:
    ingress = redes("10.0.0.0/8, 192.168.7.1")
    # Nobody else picks their bucket with the header.
    assert cliente(_scope("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert cliente(_scope("203.0.113.7", "198.51.100.1"), ingress) == "203.0.113.7"
    # Behind the ingress: the first address from the right that is not a trusted proxy.
    assert cliente(_scope("10.1.2.3", "198.51.100.1"), ingress) == "198.51.100.1"
    assert cliente(_scope("10.1.2.3", "1.2.3.4, 198.51.100.1, 192.168.7.1"), ingress) == "198.51.100.1"
    assert cliente(_scope("10.1.2.3", "1.2.3.4", "198.51.100.1"), ingress) == "198.51.100.1"
    # What the client wrote itself (left of what the ingress appended) is not believed.
    assert cliente(_scope("10.1.2.3", "6.6.6.6, 198.51.100.1"), ingress) == "198.51.100.1"
    assert cliente(_scope("10.1.2.3", "basura, 198.51.100.1"), ingress) == "198.51.100.1"
    assert cliente(_scope("10.1.2.3", "198.51.100.1, basura"), ingress) == "10.1.2.3"
    assert cliente(_scope("10.1.2.3"), ingress) == "10.1.2.3"
    # IPv6: one /64 is one client; IPv4-mapped addresses are IPv4.
    assert (
        cliente(_scope("2001:db8:1:2::10")) == cliente(_scope("2001:db8:1:2:ffff::1")) == "2001:db8:1:2::/64"
    )
    assert cliente(_scope("::ffff:203.0.113.7")) == "203.0.113.7"
    with pytest.raises(ValueError, match="no es una dirección"):
        redes("10.0.0.0/8, ingress")
    with pytest.raises(ValueError, match="VMRE_PROXIES_CONFIABLES"):
        RegistroSettings(proxies_confiables="ingress")


# --- every service --------------------------------------------------------------------------------------


@pytest.mark.parametrize("servicio", list(SERVICES))
async def test_cada_servicio_limita_sus_rutas_publicas_y_no_la_operacion(servicio: str) -> None:
    config = importlib.import_module(f"services.{servicio}.config")
    main = importlib.import_module(f"services.{servicio}.main")
    app = main.create_app(config.Settings(limite_publico_por_minuto=2, relay_enabled=False))
    transporte = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transporte, base_url="http://test") as c:
        assert [(await c.get("/openapi.json")).status_code for _ in range(2)] == [200, 200]
        r = await c.get("/openapi.json")
        assert r.status_code == 429, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problemas/demasiadas-peticiones"
        assert "Retry-After" in r.json()["detail"]
        assert 1 <= int(r.headers["Retry-After"]) <= 120
        assert (await c.get("/healthz")).status_code == 200  # probes are never limited
        assert (await c.get("/healthz")).status_code == 200


# --- registro, end to end ---------------------------------------------------------------------------------


@asynccontextmanager
async def _registro(
    databases: Databases, kafka: KafkaSettings, **ajustes: Any
) -> AsyncIterator[tuple[Registro, Callable[[str], httpx.AsyncClient]]]:
    url = await databases.new("registro")
    reloj = RelojManual(centro(2021, 1, 15, 10, 0))
    app: FastAPI = registro_app(
        RegistroSettings(database_url=url, kafka=kafka, relay_enabled=False, **ajustes),
        reloj=reloj,
        proceso=PEL2021,
    )
    clientes: list[httpx.AsyncClient] = []

    def desde(ip: str) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 4000)), base_url="http://t")
        clientes.append(c)
        return c

    async with app.router.lifespan_context(app):
        try:
            yield Registro(app, desde("127.0.0.1"), reloj, PEL2021), desde
        finally:
            for c in clientes:
                await c.aclose()


async def test_solicitudes_429_por_ip_sin_cambiar_nada(
    databases: Databases, offline_kafka: KafkaSettings, token: Token
) -> None:
    async with _registro(databases, offline_kafka, limite_publico_por_minuto=3) as (registro, desde):
        a = desde("203.0.113.7")
        for n in range(3):
            assert (await a.post("/v1/solicitudes", json=solicitud(n))).status_code == 201
        r = await a.post("/v1/solicitudes", json=solicitud(3))
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        assert r.headers["content-type"] == "application/problem+json"
        assert await registro.count(Solicitud) == 3  # refused: nothing stored
        # The folio lookups share the budget of the address...
        assert (await a.get("/v1/solicitudes/FOLIOINEXISTENTE")).status_code == 429
        # ...but another address has its own,
        assert (await desde("198.51.100.1").post("/v1/solicitudes", json=solicitud(3))).status_code == 201
        assert await registro.count(Solicitud) == 4
        # and authenticated routes and the probes are not limited by address.
        assert (await a.get("/v1/revision/cola", headers=token("ine-operador"))).status_code == 200
        assert (await a.get("/healthz")).status_code == 200


async def test_detras_del_ingress_cada_ciudadano_tiene_su_limite(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    async with _registro(
        databases, offline_kafka, limite_publico_por_minuto=2, proxies_confiables="10.0.0.0/8"
    ) as (_, desde):
        ingress = desde("10.0.3.4")
        uno = {"X-Forwarded-For": "198.51.100.1"}
        assert [(await ingress.get("/v1/catalogos/motivos", headers=uno)).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        otro = {"X-Forwarded-For": "198.51.100.2"}
        assert (await ingress.get("/v1/catalogos/motivos", headers=otro)).status_code == 200
        # Outside the ingress the header is the client's own word: ignored.
        directo = desde("203.0.113.9")
        codigos = [
            (
                await directo.get("/v1/catalogos/motivos", headers={"X-Forwarded-For": f"192.0.2.{i}"})
            ).status_code
            for i in range(3)
        ]
        assert codigos == [200, 200, 429]


async def test_cuerpo_demasiado_grande_413_sin_guardar_nada(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    async with _registro(databases, offline_kafka, max_cuerpo_bytes=16 * 1024) as (registro, _):
        grande = solicitud(1, nombre="A" * (20 * 1024))
        r = await registro.client.post("/v1/solicitudes", json=grande)
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "16 KB" in r.json()["detail"]

        async def trozos() -> AsyncIterator[bytes]:  # no Content-Length: counted while read, then cut
            for _ in range(64):
                yield b"x" * 1024

        r = await registro.client.post(
            "/v1/solicitudes", content=trozos(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert await registro.count(Solicitud) == 0
        # The document upload declares its own limit (5 MB): larger than the service's, still bounded.
        folio = (await registro.client.post("/v1/solicitudes", json=solicitud(2))).json()["folio"]
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/documentos",
            data={"tipo": "comprobante_domicilio"},
            files={"archivo": ("recibo.pdf", PDF + b"\x00" * (1024 * 1024), "application/pdf")},
        )
        assert r.status_code == 201, r.text
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/documentos",
            data={"tipo": "credencial_frente"},
            files={"archivo": ("frente.png", PNG + b"\x00" * (6 * 1024 * 1024), "image/png")},
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert await registro.count(Documento) == 1


@pytest.mark.parametrize(
    ("nombre", "declarado", "contenido"),
    [
        ("frente.png", "image/png", b"<html><script>alert(1)</script></html>"),
        ("frente.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"no hay IHDR" * 10),  # only the signature
        ("recibo.pdf", "application/pdf", b"%PDF-javascript:alert(1)"),
        ("frente.jpg", "image/jpeg", b"\xff\xd8\xff"),
    ],
    ids=["html-como-png", "firma-png-sin-ihdr", "pdf-sin-version", "jpeg-truncado"],
)
async def test_documento_que_miente_se_rechaza_sin_guardar(
    databases: Databases, offline_kafka: KafkaSettings, nombre: str, declarado: str, contenido: bytes
) -> None:
    async with _registro(databases, offline_kafka) as (registro, _):
        folio = (await registro.client.post("/v1/solicitudes", json=solicitud(1))).json()["folio"]
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/documentos",
            data={"tipo": "credencial_frente"},
            files={"archivo": (nombre, contenido, declarado)},
        )
        assert r.status_code == 415, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert await registro.count(Documento) == 0
        # The bytes decide, not the name: a real PNG named .pdf and declared PDF is stored as a PNG.
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/documentos",
            data={"tipo": "credencial_frente"},
            files={"archivo": ("frente.pdf", PNG, "application/pdf")},
        )
        assert r.status_code == 201
        assert r.json()["content_type"] == "image/png"
