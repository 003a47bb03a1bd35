"""registro closes a list → the real broker → electronico opens one account per internet voter, once, and
its sender (running with its relay) e-mails each voter their access key and credential over SMTP to the local
mailbox — then erases the stored copy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from services.electronico.config import Settings as ElectronicoSettings
from services.electronico.main import create_app as create_electronico
from services.electronico.models import Credencial, Notificacion, Votante
from services.registro.config import Settings as RegistroSettings
from services.registro.main import create_app as create_registro
from shared.notificaciones import ASUNTOS
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.conftest import Buzon, Databases, serve
from tests.factories import solicitud
from tests.registro.conftest import PEL2021, centro

pytestmark = pytest.mark.kafka


async def test_cierre_de_la_lnere_abre_cuentas_y_envia_credenciales(
    databases: Databases, kafka_settings: KafkaSettings, token: Callable[..., dict[str, str]], buzon: Buzon
) -> None:
    reloj = RelojManual(centro(2021, 1, 10, 10, 0))
    registro_url, electronico_url = await databases.new("registro"), await databases.new("electronico")
    # Where their relays run, their senders deliver: to this test's mailbox, never to a developer's.
    registro = create_registro(
        RegistroSettings(database_url=registro_url, kafka=kafka_settings, **buzon.ajustes()),
        reloj=reloj,
        proceso=PEL2021,
    )
    electronico = create_electronico(
        ElectronicoSettings(database_url=electronico_url, kafka=kafka_settings, **buzon.ajustes()),
        reloj=reloj,
        proceso=PEL2021,
    )

    async def cuenta(modelo: object, *where: object) -> int:
        async with electronico.state.runtime.maker() as s:
            q = select(func.count()).select_from(modelo)  # type: ignore[arg-type]
            return int((await s.execute(q.where(*where) if where else q)).scalar_one())  # type: ignore[arg-type]

    async with serve(registro) as r, serve(electronico):
        op = token("ine-operador")
        # Entidad 24, internet only: the session's broker is shared with other tests (postal closes 16).
        for n in range(20):
            folio = (
                await r.post("/v1/solicitudes", json=solicitud(n, entidad="24", modalidad="electronica"))
            ).json()["folio"]
            await r.post(
                f"/v1/solicitudes/{folio}/dictamen",
                json={"resultado": "procedente", "motivos": []},
                headers=op,
            )
        reloj.ajustar(PEL2021.calendario.cierre_lnere)
        cierre = (await r.post("/v1/lnere/24/cierre", headers=token("ine-admin"))).json()
        assert (cierre["electronica"], cierre["postal"]) == (20, 0)

        def mensajes() -> list[dict[str, Any]]:
            """The credentials e-mails to this test's voters (registro may write to the same people)."""
            return [
                m
                for m in buzon.mensajes()
                if m["asunto"] == ASUNTOS["credenciales_voto"] and "Usuario: V24" in m["texto"]
            ]

        for _ in range(1200):
            if len(mensajes()) >= 20:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert await cuenta(Votante, Votante.entidad == "24") == 20
        assert (
            await cuenta(
                Credencial,
                Credencial.publica.is_not(None),
                Votante.id == Credencial.votante_id,
                Votante.entidad == "24",
            )
            == 20
        )  # one office in San Luis Potosí: one credential each
        recibidos = mensajes()
        assert len(recibidos) == 20 and all(
            "Clave de acceso: " in m["texto"] and "Credencial de votación" in m["texto"] for m in recibidos
        )
        # One e-mail per voter, to the address the voter gave registro.
        assert sorted(m["para"] for m in recibidos) == sorted([f"persona{n}@example.com"] for n in range(20))

        async def guardados() -> list[Any]:
            async with electronico.state.runtime.maker() as s:
                consulta = select(Notificacion.estado, Notificacion.mensaje, Notificacion.id_externo)
                return list((await s.execute(consulta.where(Notificacion.referencia.like("V24%")))).all())

        for _ in range(200):  # the sender records the server's answer right after it
            if all(estado == "enviada" for estado, _, _ in await guardados()):
                break
            await asyncio.sleep(0.05)
        filas = await guardados()
        assert sorted((estado, mensaje) for estado, mensaje, _ in filas) == [("enviada", None)] * 20
        # The Message-ID the mail server parsed is the one the outbox recorded.
        assert {i for _, _, i in filas} == {m["message_id"] for m in recibidos}
