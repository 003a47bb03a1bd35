from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.electronico.config import Settings
from services.electronico.custodio import ceremonia
from services.electronico.main import create_app
from services.electronico.models import Notificacion, ProcessedEvent
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.cripto import boleta as bo
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from shared.proceso import Proceso
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.conftest import Buzon, Databases, serve
from tests.cripto.conftest import belenios  # noqa: F401  (the reference tool, for these tests too)
from tests.registro.conftest import PEL2021, centro

PASSWORD = "una contraseña larga y propia"
EN_PERIODO = centro(2021, 5, 25, 10, 0)


def inscrito(n: int, entidad: str = "09") -> Envelope:
    return Envelope.new(
        event_type=eventos_registro.LNERE_ELECTRONICA_INSCRITO,
        source="registro",
        aggregate_id=f"{entidad}-{n:07d}",
        data=eventos_registro.InscritoElectronica(
            entidad=entidad,
            numero=n,
            nombre="Ana",
            apellido_paterno="López",
            apellido_materno="Ruiz",
            email=f"v{entidad}{n}@example.com",
            telefono="+13105550101",
        ),
    )


def voto_postal(n: int, entidad: str = "09") -> Envelope:
    return Envelope.new(
        event_type=eventos_postal.VOTO_REGISTRADO,
        source="postal",
        aggregate_id=f"{entidad}-{n:07d}",
        data=eventos_postal.VotoRegistrado(entidad=entidad, numero=n, recibido_at=EN_PERIODO),
    )


@dataclass
class Cuenta:
    usuario: str
    clave_acceso: str
    credenciales: dict[str, str]  # election name -> private credential
    totp: pyotp.TOTP | None = None
    sesion: str | None = None
    ingresos: int = 0

    def codigo(self) -> str:
        """A code the server has not seen: an accepted code works once; the next step's code is accepted."""
        assert self.totp is not None and self.ingresos < 2, "más de dos ingresos en 30 s"
        return str(self.totp.at(time.time() + 30 * self.ingresos))

    @property
    def headers(self) -> dict[str, str]:
        assert self.sesion
        return {"Authorization": f"Bearer {self.sesion}"}


@dataclass
class Electronico:
    app: FastAPI
    client: httpx.AsyncClient
    reloj: RelojManual
    proceso: Proceso
    token: Callable[..., dict[str, str]]
    estados: Path  # where the custodians keep their state files (each on their own machine)
    cuentas: dict[str, Cuenta] = field(default_factory=dict)

    async def entregar(self, *envelopes: Envelope) -> int:
        aplicados = 0
        async with self.app.state.runtime.maker() as session, session.begin():
            for env in envelopes:
                handler = self.app.state.handlers[env.event_type]
                aplicados += await apply_once(session, ProcessedEvent, "electronico.votantes", env, handler)
        return aplicados

    async def cuentas_del_buzon(self) -> dict[str, Cuenta]:
        """Read each voter's access key and credentials from the notification outbox (not yet sent: these
        apps run no sender, so the secret texts are still there)."""
        async with self.app.state.runtime.maker() as session:
            mensajes = (
                await session.execute(
                    select(Notificacion.mensaje).where(Notificacion.plantilla == "credenciales_voto")
                )
            ).scalars()
            for m in mensajes:
                assert m is not None, "credenciales ya entregadas y borradas: no hay de dónde leerlas"
                usuario = re.search(r"Usuario: (\S+)", m)
                if usuario is None:
                    continue
                clave = re.search(r"Clave de acceso: (\S+)", m)
                assert clave
                creds = dict(re.findall(r"^- (.+): (\S+)$", m, flags=re.M))
                self.cuentas.setdefault(usuario.group(1), Cuenta(usuario.group(1), clave.group(1), creds))
        return self.cuentas

    async def elecciones(self, entidad: str) -> list[dict[str, Any]]:
        r = await self.client.get("/v1/elecciones", params={"simulacro": False})
        return [e for e in r.json() if e["entidad"] == entidad]

    async def ceremonia(self, uuid: str, n: int = 5) -> str:
        """Five custodians, each with their own client and token, run the CLI's steps concurrently."""
        transport = httpx.ASGITransport(app=self.app)

        async def uno(i: int, tmp: Path) -> str:
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://test",
                headers=self.token("custodio", sub=f"custodio-{i}"),
            ) as c:
                return await ceremonia(
                    c, uuid, i, tmp / f"custodio-{uuid}-{i}.json", espera=0.05, avisar=lambda m: None
                )

        claves = await asyncio.gather(*(uno(i, self.estados) for i in range(1, n + 1)))
        assert len(set(claves)) == 1
        return claves[0]

    async def abrir(self, uuid: str) -> dict[str, Any]:
        await self.ceremonia(uuid)
        r = await self.client.post(f"/v1/elecciones/{uuid}/apertura", headers=self.token("ine-admin"))
        assert r.status_code == 200, r.text
        acta: dict[str, Any] = r.json()
        return acta

    async def primer_acceso_e_ingreso(self, cuenta: Cuenta) -> Cuenta:
        r = await self.client.post(
            "/v1/acceso/primer",
            json={
                "usuario": cuenta.usuario,
                "clave_acceso": cuenta.clave_acceso,
                "password": PASSWORD,
                "segundo_factor": "totp",
            },
        )
        assert r.status_code == 200, r.text
        cuenta.totp = pyotp.parse_uri(r.json()["totp_uri"])  # type: ignore[assignment]
        return await self.ingresar(cuenta)

    async def ingresar(self, cuenta: Cuenta) -> Cuenta:
        assert cuenta.totp is not None
        r = await self.client.post(
            "/v1/acceso", json={"usuario": cuenta.usuario, "password": PASSWORD, "codigo": cuenta.codigo()}
        )
        assert r.status_code == 200, r.text
        cuenta.ingresos += 1
        cuenta.sesion = r.json()["sesion"]
        return cuenta

    async def eleccion_belenios(self, uuid: str) -> EleccionBelenios:
        r = await self.client.get(f"/v1/elecciones/{uuid}")
        return EleccionBelenios.leer(r.json()["eleccion_json"].encode())

    async def boleta(self, uuid: str, cuenta: Cuenta, opcion: str) -> str:
        r = await self.client.get(f"/v1/elecciones/{uuid}")
        detalle = r.json()
        eleccion = EleccionBelenios.leer(detalle["eleccion_json"].encode())
        claves = [o["clave"] for o in detalle["opciones"]]
        return bo.cifrar(
            eleccion, cuenta.credenciales[detalle["nombre"]], [[int(c == opcion) for c in claves]]
        )

    async def votar(
        self, uuid: str, cuenta: Cuenta, texto: str, idempotency_key: str | None = None
    ) -> httpx.Response:
        headers = {**cuenta.headers, "content-type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return await self.client.post(
            f"/v1/elecciones/{uuid}/boletas", content=texto.encode(), headers=headers
        )

    async def count(self, model: Any, *where: Any) -> int:
        async with self.app.state.runtime.maker() as session:
            q = select(func.count()).select_from(model)
            if where:
                q = q.where(*where)
            return int((await session.execute(q)).scalar_one())


async def app_de_prueba(
    databases: Databases, kafka: KafkaSettings, buzon: Buzon
) -> tuple[FastAPI, RelojManual]:
    """electronico on a fresh database, pel2021, a manual clock inside the window; no relay (so no sender:
    a test delivers with ``Notificador`` when it means to), no consumers; its gateways are the test's
    local mailbox."""
    reloj = RelojManual(EN_PERIODO)
    settings = Settings(
        database_url=await databases.new("electronico"),
        kafka=kafka,
        relay_enabled=False,
        consumers_enabled=False,
        **buzon.ajustes(),
    )
    return create_app(settings, reloj=reloj, proceso=PEL2021), reloj


@pytest.fixture
async def electronico(
    databases: Databases,
    offline_kafka: KafkaSettings,
    tmp_path: Path,
    token: Callable[..., dict[str, str]],
    buzon: Buzon,
) -> AsyncIterator[Electronico]:
    app, reloj = await app_de_prueba(databases, offline_kafka, buzon)
    async with serve(app) as client:
        yield Electronico(app, client, reloj, PEL2021, token, tmp_path)


@pytest.fixture
async def abierta(electronico: Electronico) -> tuple[Electronico, str]:
    """Entidad 09 (Diputación Migrante) opened with four internet voters; entidad 16 with one."""
    await electronico.entregar(*(inscrito(n) for n in range(1, 5)), inscrito(1, "16"))
    uuid = (await electronico.elecciones("09"))[0]["uuid"]
    await electronico.abrir(uuid)
    await electronico.cuentas_del_buzon()
    return electronico, uuid
