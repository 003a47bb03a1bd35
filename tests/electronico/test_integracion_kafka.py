"""registro closes a list → the real broker → electronico opens one account per internet voter, once, and the
credential authority (its own service and database) draws one credential each: its sender e-mails each voter
the private credential, electronico's sender the access key — over SMTP to the local mailbox, each stored copy
erased once sent — and electronico receives only the public halves and the list the authority signed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from services.credenciales.config import Settings as AutoridadSettings
from services.credenciales.main import create_app as create_autoridad
from services.electronico.config import Settings as ElectronicoSettings
from services.electronico.main import create_app as create_electronico
from services.electronico.models import Credencial, Eleccion, Notificacion, Votante
from services.registro.config import Settings as RegistroSettings
from services.registro.main import create_app as create_registro
from shared import firma
from shared.notificaciones import ASUNTOS
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Buzon, Databases, serve
from tests.support.registro import PEL2021, centro

pytestmark = pytest.mark.kafka


async def test_cierre_de_la_lnere_abre_cuentas_y_la_autoridad_envia_credenciales(
    databases: Databases, kafka_settings: KafkaSettings, token: Callable[..., dict[str, str]], buzon: Buzon
) -> None:
    reloj = RelojManual(centro(2021, 1, 10, 10, 0))
    urls = {s: await databases.new(s) for s in ("registro", "electronico", "credenciales")}
    # Where their relays run, their senders deliver: to this test's mailbox, never to a developer's.
    registro = create_registro(
        RegistroSettings(database_url=urls["registro"], kafka=kafka_settings, **buzon.ajustes()),
        reloj=reloj,
        proceso=PEL2021,
    )
    electronico = create_electronico(
        ElectronicoSettings(database_url=urls["electronico"], kafka=kafka_settings, **buzon.ajustes()),
        reloj=reloj,
        proceso=PEL2021,
    )
    autoridad = create_autoridad(
        AutoridadSettings(database_url=urls["credenciales"], kafka=kafka_settings, **buzon.ajustes()),
        reloj=reloj,
        proceso=PEL2021,
    )

    async def cuenta(modelo: object, *where: object) -> int:
        async with electronico.state.runtime.maker() as s:
            q = select(func.count()).select_from(modelo)  # type: ignore[arg-type]
            return int((await s.execute(q.where(*where) if where else q)).scalar_one())  # type: ignore[arg-type]

    async with serve(registro) as r, serve(electronico), serve(autoridad) as ca:
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
        personas = sorted([f"persona{n}@example.com"] for n in range(20))

        def mensajes(plantilla: str) -> list[dict[str, Any]]:
            """This test's voters' mails of one kind (registro may write to the same people)."""
            return [
                m for m in buzon.mensajes() if m["asunto"] == ASUNTOS[plantilla] and m["para"] in personas
            ]

        for _ in range(1200):
            if len(mensajes("acceso_voto")) >= 20 and len(mensajes("credenciales_voto")) >= 20:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert await cuenta(Votante, Votante.entidad == "24") == 20
        elecciones = (await ca.get("/v1/elecciones")).json()
        (e24,) = [e for e in elecciones if e["entidad"] == "24"]  # one office in San Luis Potosí
        assert (e24["credenciales"], e24["lnere_electronica"]) == (20, 20)
        assert e24["firmada_at"]
        assert await cuenta(Credencial, Credencial.eleccion == e24["eleccion"]) == 20
        # The list electronico keeps is the one the authority signed, with the authority's key.
        lista = (await ca.get(f"/v1/elecciones/{e24['eleccion']}/lista")).json()
        clave = (await ca.get("/v1/clave-firma")).json()["clave_verificacion"]
        assert firma.verificar(lista, clave)
        assert lista["acta"]["credenciales"] == 20
        async with electronico.state.runtime.maker() as s:
            guardada = (await s.get(Eleccion, e24["eleccion"])).lista_credenciales
        assert guardada == lista

        accesos, credenciales = mensajes("acceso_voto"), mensajes("credenciales_voto")
        assert len(accesos) == 20
        assert all("Clave de acceso: " in m["texto"] for m in accesos)
        assert len(credenciales) == 20
        assert all("Credencial de votación" in m["texto"] for m in credenciales)
        assert not any("Credencial de votación" in m["texto"] for m in accesos)
        # One e-mail of each per voter, to the address the voter gave registro.
        assert sorted(m["para"] for m in accesos) == sorted(m["para"] for m in credenciales) == personas

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
        assert {i for _, _, i in filas} == {m["message_id"] for m in accesos}
