"""Messages that really leave (issue #21): the notification outbox delivered over real SMTP and the SMS
provider's HTTP contract to the local mailbox (``vmre/buzon.py``, a process), on SQLite and PostgreSQL.

A gateway that is down: retried later, nothing lost, nothing sent twice. A gateway that refuses: recorded, not
retried. A sender that died mid-send: ``incierta``, never re-sent by itself. A secret's text is erased once
the gateway has it. Production refuses to start with the local mailbox."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError
from sqlalchemy import select, update

from services.postal.config import Settings
from services.postal.main import create_app
from services.postal.models import Notificacion
from shared.auth import AuthSettings
from shared.hijos import free_port
from shared.notificaciones import Aviso, Notificador, encolar, enmascarar, reenviar_inciertas
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases, serve

PASARELAS_PRODUCCION: dict[str, Any] = {
    "smtp_host": "smtp.ine.example",
    "smtp_tls": "starttls",
    "smtp_usuario": "avisos",
    "smtp_password": SecretStr("secreto-smtp"),
    "sms_url": "https://api.twilio.com",
    "sms_cuenta": "AC0123456789abcdef0123456789abcdef",
    "sms_token": SecretStr("token-del-proveedor"),
}


class Bandeja:
    def __init__(self, app: Any, settings: Settings, client: httpx.AsyncClient) -> None:
        self.app, self.settings, self.client = app, settings, client

    def notificador(self, **ajustes: Any) -> Notificador:
        return Notificador(
            self.app.state.runtime.maker,
            Notificacion,
            self.settings.model_copy(update=ajustes),
            metrics=self.app.state.metrics,
        )

    async def encolar(self, *avisos: Aviso) -> None:
        async with self.app.state.runtime.maker() as session, session.begin():
            await encolar(session, Notificacion, list(avisos), dt.datetime.now(dt.UTC))

    async def filas(self) -> list[Notificacion]:
        async with self.app.state.runtime.maker() as session:
            return list((await session.execute(select(Notificacion).order_by(Notificacion.id))).scalars())

    async def vencer_esperas(self) -> None:
        async with self.app.state.runtime.maker() as session, session.begin():
            await session.execute(update(Notificacion).values(siguiente_at=None))

    def metrica(self, canal: str, resultado: str) -> float:
        valor = self.app.state.metrics.registry.get_sample_value(
            "vmre_avisos_total", {"canal": canal, "resultado": resultado}
        )
        return float(valor or 0)


@pytest.fixture
async def bandeja(databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon) -> AsyncIterator[Bandeja]:
    settings = Settings(
        database_url=await databases.new("postal"),
        kafka=offline_kafka,
        relay_enabled=False,  # this test runs the sender itself
        consumers_enabled=False,
        **buzon.ajustes(),
    )
    app = create_app(settings)
    async with serve(app) as client:
        yield Bandeja(app, settings, client)


async def test_correo_por_smtp_y_sms_llegan_y_el_secreto_se_borra(bandeja: Bandeja, buzon: Buzon) -> None:
    await bandeja.encolar(
        Aviso("ana@example.com", "+13105550101", "paquete_enviado", "Su paquete va en camino.", "F1"),
        Aviso("ana@example.com", "+13105550101", "codigo_acceso", "Su código es 123456.", "F1", secreto=True,
              canales="preferido"),
    )  # fmt: skip
    assert await bandeja.notificador().enviar_pendientes() == 3

    correos = buzon.mensajes("ana@example.com")
    assert [c["asunto"] for c in correos] == [
        "Su Paquete Electoral Postal va en camino",
        "Su código de acceso",
    ]
    assert "Su paquete va en camino." in correos[0]["texto"]
    assert "<p>Su paquete va en camino.</p>" in (correos[0]["html"] or "")
    filas = await bandeja.filas()
    por_canal = {(f.canal, f.plantilla): f for f in filas}
    # The Message-ID the server parsed is the one the outbox recorded.
    assert correos[0]["message_id"] == por_canal[("email", "paquete_enviado")].id_externo
    sms = buzon.mensajes("+13105550101")
    assert [s["texto"] for s in sms] == ["Su paquete va en camino."]  # "preferido": the code went by e-mail
    assert por_canal[("sms", "paquete_enviado")].id_externo == sms[0]["message_id"]
    assert all(f.estado == "enviada" and f.intentos == 1 for f in filas)
    # The code lived only until the gateway had it; the plain notice stays on the record.
    assert por_canal[("email", "codigo_acceso")].mensaje is None
    assert por_canal[("email", "paquete_enviado")].mensaje == "Su paquete va en camino."
    # A second round sends nothing again.
    assert await bandeja.notificador().enviar_pendientes() == 0
    assert len(buzon.mensajes("ana@example.com")) == 2
    assert bandeja.metrica("email", "enviada") == 2
    assert bandeja.metrica("sms", "enviada") == 1


async def test_pasarela_caida_se_reintenta_sin_perder_ni_duplicar(bandeja: Bandeja, buzon: Buzon) -> None:
    await bandeja.encolar(
        *(
            Aviso(f"p{i}@example.com", "+13105550102", "paquete_enviado", f"Aviso {i}", f"F{i}")
            for i in range(3)
        )
    )
    # Nothing listens there: SMTP and the SMS provider are down.
    caida = bandeja.notificador(smtp_port=free_port(), sms_url=f"http://127.0.0.1:{free_port()}")
    assert await caida.enviar_pendientes() == 0
    filas = await bandeja.filas()
    assert {f.estado for f in filas} == {"pendiente"}
    assert {f.intentos for f in filas} == {0, 1}  # the first of each channel was tried; the rest wait too
    assert all(f.siguiente_at is not None and f.siguiente_at > dt.datetime.now(dt.UTC) for f in filas)
    assert "sin conexión" in (filas[0].error or "")
    assert bandeja.metrica("email", "reintento") == 1
    # Not before its time.
    assert await bandeja.notificador().enviar_pendientes() == 0
    assert buzon.mensajes() == []

    await bandeja.vencer_esperas()
    assert await bandeja.notificador().enviar_pendientes() == 6
    assert await bandeja.notificador().enviar_pendientes() == 0
    recibidos = buzon.mensajes()
    assert sorted(m["texto"].splitlines()[0] for m in recibidos if m["canal"] == "email") == [
        "Aviso 0",
        "Aviso 1",
        "Aviso 2",
    ]
    assert sorted(m["texto"] for m in recibidos if m["canal"] == "sms") == ["Aviso 0", "Aviso 1", "Aviso 2"]
    assert {f.estado for f in await bandeja.filas()} == {"enviada"}


async def test_pasarela_que_rechaza_queda_registrado_y_no_se_reintenta(
    bandeja: Bandeja, buzon: Buzon
) -> None:
    # .invalid domains get 550 from the SMTP server; +15005550001 is the provider's "not a valid number".
    await bandeja.encolar(
        Aviso("nadie@dominio.invalid", "+15005550001", "codigo_acceso", "Código 654321", "F9", secreto=True),
        Aviso("bien@example.com", None, "paquete_enviado", "Llega", "F8"),
    )
    assert await bandeja.notificador().enviar_pendientes() == 1
    filas = {f.destino: f for f in await bandeja.filas()}
    correo, sms = filas["nadie@dominio.invalid"], filas["+15005550001"]
    assert correo.estado == "fallida"
    assert "550" in (correo.error or "")
    assert sms.estado == "fallida"
    assert "21211" in (sms.error or "")
    assert correo.mensaje is None
    assert sms.mensaje is None
    assert filas["bien@example.com"].estado == "enviada"
    await bandeja.vencer_esperas()
    assert await bandeja.notificador().enviar_pendientes() == 0
    assert {f.intentos for f in await bandeja.filas()} == {1}
    assert bandeja.metrica("email", "fallida") == 1
    assert bandeja.metrica("sms", "fallida") == 1
    assert [m["para"] for m in buzon.mensajes()] == [["bien@example.com"]]
    metricas = (await bandeja.client.get("/metrics")).text
    assert 'vmre_avisos_total{canal="email",resultado="fallida"} 1.0' in metricas


async def test_envio_interrumpido_queda_incierto_y_solo_una_persona_lo_reenvia(
    bandeja: Bandeja, buzon: Buzon
) -> None:
    await bandeja.encolar(Aviso("eva@example.com", None, "paquete_enviado", "Aviso", "F3"))
    # A sender claimed it and died before the gateway's answer (its claim is older than any send takes).
    async with bandeja.app.state.runtime.maker() as session, session.begin():
        await session.execute(
            update(Notificacion).values(
                estado="enviando", intentos=1, enviando_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
            )
        )
    assert await bandeja.notificador().enviar_pendientes() == 0
    (fila,) = await bandeja.filas()
    assert fila.estado == "incierta"
    assert fila.mensaje == "Aviso"
    assert await bandeja.notificador().enviar_pendientes() == 0
    assert buzon.mensajes() == []
    async with bandeja.app.state.runtime.maker() as session, session.begin():
        assert await reenviar_inciertas(session, Notificacion) == 1
    assert await bandeja.notificador().enviar_pendientes() == 1
    assert len(buzon.mensajes("eva@example.com")) == 1


async def test_dos_remitentes_a_la_vez_entregan_cada_mensaje_una_vez(bandeja: Bandeja, buzon: Buzon) -> None:
    await bandeja.encolar(
        *(Aviso(f"q{i}@example.com", None, "paquete_enviado", f"N{i}", "F") for i in range(40))
    )
    a, b = bandeja.notificador(), bandeja.notificador()
    entregados = await asyncio.gather(a.enviar_pendientes(), b.enviar_pendientes())
    assert sum(entregados) == 40
    recibidos = [m["para"][0] for m in buzon.mensajes()]
    assert len(recibidos) == 40
    assert len(set(recibidos)) == 40


def test_produccion_se_niega_a_usar_el_buzon_local_y_dice_que_configurar() -> None:
    base: dict[str, Any] = {
        "mode": "production",
        "database_url": "postgresql+asyncpg://vmre@db/postal",
        "auth": AuthSettings(jwks_url="https://idp.example/jwks.json"),
        "transportistas": {"dhl": SecretStr("secreto-propio")},
        "metricas_puerto": 9090,
        "claves_datos": SecretStr(Fernet.generate_key().decode()),
        "clave_indice": SecretStr("indice-propio-0123456789abcdef0123"),
    }
    with pytest.raises(ValidationError, match="VMRE_POSTAL_SMTP_HOST") as exc:
        Settings(**base)
    assert "VMRE_POSTAL_SMS_URL" in str(exc.value)
    assert "buzón local" in str(exc.value)
    for cambio, variable in (
        ({"smtp_host": "127.0.0.1"}, "VMRE_POSTAL_SMTP_HOST"),
        ({"smtp_tls": "ninguno"}, "VMRE_POSTAL_SMTP_TLS"),
        ({"sms_url": "http://127.0.0.1:8025"}, "VMRE_POSTAL_SMS_URL"),
        ({"sms_token": None}, "VMRE_POSTAL_SMS_TOKEN"),
    ):
        with pytest.raises(ValidationError, match=variable):
            Settings(**base, **{**PASARELAS_PRODUCCION, **cambio})


def test_enmascarar() -> None:
    assert enmascarar("maria.gomez@example.com") == "m***@example.com"
    assert enmascarar("+13105551234") == "+1******1234"


async def test_una_caida_larga_no_pierde_un_secreto(bandeja: Bandeja, buzon: Buzon) -> None:
    await bandeja.encolar(
        Aviso("luz@example.com", None, "credenciales_voto", "Credencial: X", "F", secreto=True)
    )
    caida = bandeja.notificador(smtp_port=free_port())
    for _ in range(30):  # hours of outage: the wait grows, the message stays
        await bandeja.vencer_esperas()
        assert await caida.enviar_pendientes() == 0
    (fila,) = await bandeja.filas()
    assert (fila.estado, fila.intentos, fila.mensaje) == ("pendiente", 30, "Credencial: X")
    assert fila.siguiente_at is not None
    assert fila.siguiente_at - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=29)  # capped at 30 minutes
    await bandeja.vencer_esperas()
    assert await bandeja.notificador().enviar_pendientes() == 1
    assert "Credencial: X" in buzon.mensajes("luz@example.com")[0]["texto"]
    assert (await bandeja.filas())[0].mensaje is None
