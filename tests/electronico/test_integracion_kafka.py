"""registro closes a list → the real broker → electronico opens one account per internet voter, once, and
sends each voter their access key and credential through the local sink — then erases the stored copy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.electronico.config import Settings as ElectronicoSettings
from services.electronico.main import create_app as create_electronico
from services.electronico.models import Credencial, Notificacion, Votante
from services.registro.config import Settings as RegistroSettings
from services.registro.main import create_app as create_registro
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.conftest import Databases, serve
from tests.factories import solicitud
from tests.registro.conftest import PEL2021, centro

pytestmark = pytest.mark.kafka


async def test_cierre_de_la_lnere_abre_cuentas_y_envia_credenciales(
    databases: Databases, kafka_settings: KafkaSettings, token: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    reloj = RelojManual(centro(2021, 1, 10, 10, 0))
    registro_url, electronico_url = await databases.new("registro"), await databases.new("electronico")
    registro = create_registro(
        RegistroSettings(database_url=registro_url, kafka=kafka_settings), reloj=reloj, proceso=PEL2021
    )
    buzon = tmp_path / "buzon.jsonl"
    electronico = create_electronico(
        ElectronicoSettings(database_url=electronico_url, kafka=kafka_settings, buzon=buzon),
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

        def mensajes() -> list[dict[str, str]]:
            lineas = buzon.read_text().splitlines() if buzon.exists() else []
            return [m for m in map(json.loads, lineas) if m["referencia"].startswith("V24")]

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
        assert len(mensajes()) == 20 and all("Clave de acceso: " in m["mensaje"] for m in mensajes())
        async with electronico.state.runtime.maker() as s:
            guardados = (
                (await s.execute(select(Notificacion.mensaje).where(Notificacion.referencia.like("V24%"))))
                .scalars()
                .all()
            )
        assert guardados == ["(contenido secreto borrado tras la entrega)"] * 20
