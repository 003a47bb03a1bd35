"""registro closes a list → the real broker → postal integrates every PEP once, across a consumer restart;
postal's figures then agree with registro's close."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from services.postal.config import Settings as PostalSettings
from services.postal.main import create_app as create_postal
from services.postal.models import Paquete
from services.registro.config import Settings as RegistroSettings
from services.registro.main import create_app as create_registro
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Buzon, Databases, serve
from tests.support.registro import PEL2021, centro

pytestmark = pytest.mark.kafka
Token = Callable[..., dict[str, str]]


async def test_cierre_llega_a_postal_una_vez_aunque_el_consumidor_reinicie(
    databases: Databases, kafka_settings: KafkaSettings, token: Token, buzon: Buzon
) -> None:
    reloj = RelojManual(centro(2021, 1, 10, 10, 0))
    registro_url, postal_url = await databases.new("registro"), await databases.new("postal")
    # Where their relays run, their senders deliver: to this test's mailbox, never to a developer's.
    registro = create_registro(
        RegistroSettings(database_url=registro_url, kafka=kafka_settings, **buzon.ajustes()),
        reloj=reloj,
        proceso=PEL2021,
    )

    def postal_app():  # type: ignore[no-untyped-def]
        return create_postal(
            PostalSettings(database_url=postal_url, kafka=kafka_settings, **buzon.ajustes()),
            reloj=reloj,
            proceso=PEL2021,
        )

    async def paquetes(app) -> int:  # type: ignore[no-untyped-def]
        from sqlalchemy import func, select

        async with app.state.runtime.maker() as session:
            return int((await session.execute(select(func.count()).select_from(Paquete))).scalar_one())

    async with serve(registro) as r:
        op = token("ine-operador")
        for n in range(300):
            folio = (
                await r.post(
                    "/v1/solicitudes",
                    json=solicitud(n, entidad="16", modalidad=("postal" if n % 3 else "electronica")),
                )
            ).json()["folio"]
            await r.post(
                f"/v1/solicitudes/{folio}/dictamen",
                json={"resultado": "procedente", "motivos": []},
                headers=op,
            )
        reloj.ajustar(PEL2021.calendario.cierre_lnere)

        postal = postal_app()
        async with serve(postal):
            cierre = (await r.post("/v1/lnere/16/cierre", headers=token("ine-admin"))).json()
            assert cierre["postal"] == 200
            for _ in range(600):  # stop the consumer part-way
                if await paquetes(postal) >= 20:
                    break
                await asyncio.sleep(0.05)
            parcial = await paquetes(postal)
        assert 0 < parcial <= 200

        postal = postal_app()  # a new process on the same database: it resumes, and dedupes what repeats
        async with serve(postal) as p:
            for _ in range(1200):
                if await paquetes(postal) == 200:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1)
            assert await paquetes(postal) == 200
            stats = (await p.get("/v1/estadisticas")).json()
    assert stats["paquetes"] == cierre["postal"]
    assert stats["por_entidad"]["16"]["integrado"] == 200
