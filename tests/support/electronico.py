from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from clientes.custodio import ceremonia
from services.credenciales import models as ca
from services.credenciales.config import Settings as AjustesAutoridad
from services.credenciales.main import create_app as create_autoridad
from services.electronico import models as em
from services.electronico.config import Settings
from services.electronico.main import create_app
from services.electronico.models import Notificacion
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.cripto import boleta as bo
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.db import utcnow
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from shared.proceso import Proceso
from shared.reloj import RelojManual
from shared.settings import AjustesConsola, KafkaSettings
from tests.support.comun import Buzon, Databases, en_http, serve
from tests.support.cripto import belenios  # noqa: F401  (the reference tool, for these tests too)
from tests.support.registro import PEF2024, PEL2021, centro

# 2024 ballots (the process opens no election without approved candidacies): Presidencia and Senaduría of 01.
PRESIDENCIA = [
    {"nombre": "Claudia Sheinbaum Pardo", "partidos": ["PVEM", "PT", "MORENA"]},
    {"nombre": "Bertha Xóchitl Gálvez Ruiz", "partidos": ["PAN", "PRI", "PRD"]},
    {"nombre": "Jorge Álvarez Máynez", "partidos": ["MC"]},
]
SENADURIA = [  # entidad 01, illustrative names
    {"nombre": "Nombre de Prueba Senado", "partidos": ["PAN"]},
    {"nombre": "Otra Persona de Prueba", "partidos": ["PVEM", "PT", "MORENA"]},
]
PASSWORD = "una contraseña larga y propia"
FRASE = "la frase de paso de un custodio de prueba"  # seals each custodian's seed in its state file
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


def en_persona(n: int, entidad: str = "01", sede: str = "los-angeles") -> Envelope:
    """registro's event at the close for someone who votes in person at ``sede`` (2024)."""
    return Envelope.new(
        event_type=eventos_registro.LNERE_PRESENCIAL_INSCRITO,
        source="registro",
        aggregate_id=f"{entidad}-{n:07d}",
        data=eventos_registro.InscritoPresencial(entidad=entidad, numero=n, sede=sede),
    )


def voto_postal(n: int, entidad: str = "09") -> Envelope:
    return Envelope.new(
        event_type=eventos_postal.VOTO_REGISTRADO,
        source="postal",
        aggregate_id=f"{entidad}-{n:07d}",
        data=eventos_postal.VotoRegistrado(entidad=entidad, numero=n, recibido_at=EN_PERIODO),
    )


async def _aplicar(app: FastAPI, consumidor: str, envelopes: list[Envelope]) -> int:
    aplicados = 0
    processed = app.state.runtime.spec.processed
    async with app.state.runtime.maker() as session, session.begin():
        for env in envelopes:
            handler = app.state.handlers.get(env.event_type)
            if handler is not None:
                aplicados += await apply_once(session, processed, consumidor, env, handler)
    return aplicados


async def bombear(app: FastAPI, autoridad: FastAPI) -> None:
    """What the broker does between electronico and the credential authority: each one's unpublished
    events to the other, until neither has more."""
    while True:
        movidos = 0
        for origen, destino, consumidor in (
            (app, autoridad, "credenciales.credenciales"),
            (autoridad, app, "electronico.votantes"),
        ):
            outbox = origen.state.runtime.spec.outbox
            async with origen.state.runtime.maker() as session, session.begin():
                filas = (
                    (
                        await session.execute(
                            select(outbox).where(outbox.published_at.is_(None)).order_by(outbox.id)
                        )
                    )
                    .scalars()
                    .all()
                )
                for f in filas:
                    f.published_at = utcnow()
                envelopes = [Envelope.from_bytes(f.payload.encode()) for f in filas]
            movidos += len(envelopes)
            await _aplicar(destino, consumidor, envelopes)
        if not movidos:
            return


async def entregar(app: FastAPI, autoridad: FastAPI, *envelopes: Envelope) -> int:
    """registro's (or postal's, computo's) events to electronico, and to the credential authority the ones
    it reads; then what they publish to each other. How many electronico applied."""
    aplicados = await _aplicar(app, "electronico.votantes", list(envelopes))
    await _aplicar(autoridad, "credenciales.credenciales", list(envelopes))
    await bombear(app, autoridad)
    return aplicados


async def cerrar_lnere(app: FastAPI, autoridad: FastAPI, entidad: str) -> None:
    """registro closes the entidad's list: the authority learns how many internet and in-person voters it
    has (those electronico has) and signs each election's list once they all have a credential."""
    async with app.state.runtime.maker() as session:
        q = select(em.Votante.sede.is_not(None), func.count()).where(em.Votante.entidad == entidad)
        cuantos = dict((await session.execute(q.group_by(em.Votante.sede.is_not(None)))).tuples().all())
    n, presencial = cuantos.get(False, 0), cuantos.get(True, 0)
    cierre = Envelope.new(
        event_type=eventos_registro.LNERE_CERRADA,
        source="registro",
        aggregate_id=f"lnere-{entidad}",
        data=eventos_registro.LnereCerrada(
            entidad=entidad,
            total=n + presencial,
            postal=0,
            electronica=n,
            presencial=presencial,
            por_pais={},
            cerrada_at=EN_PERIODO,
        ),
    )
    await _aplicar(autoridad, "credenciales.credenciales", [cierre])
    await bombear(app, autoridad)


async def cuentas_de(app: FastAPI, autoridad: FastAPI) -> dict[str, tuple[str, dict[str, str]]]:
    """Each voter's access key (electronico's message) and credentials (the authority's message, to the same
    address), read from the notification outboxes: usuario → (clave de acceso, {elección: credencial}).
    Not yet sent (these apps run no sender), so the secret texts are still there."""
    credenciales: dict[str, dict[str, str]] = {}
    async with autoridad.state.runtime.maker() as session:
        filas = await session.execute(
            select(ca.Notificacion.destino, ca.Notificacion.mensaje).where(
                ca.Notificacion.plantilla == "credenciales_voto", ca.Notificacion.canal == "email"
            )
        )
        for destino, m in filas:
            assert m is not None, "credenciales ya entregadas y borradas: no hay de dónde leerlas"
            credenciales.setdefault(destino, {}).update(re.findall(r"^- (.+): (\S+)$", m, flags=re.M))
    cuentas = {}
    async with app.state.runtime.maker() as session:
        filas = await session.execute(
            select(Notificacion.destino, Notificacion.mensaje).where(
                Notificacion.plantilla == "acceso_voto", Notificacion.canal == "email"
            )
        )
        for destino, m in filas:
            assert m is not None, "clave de acceso ya entregada y borrada: no hay de dónde leerla"
            usuario = re.search(r"Usuario: (\S+)", m)
            clave = re.search(r"Clave de acceso: (\S+)", m)
            assert usuario
            assert clave
            cuentas[usuario.group(1)] = (clave.group(1), credenciales.get(destino, {}))
    return cuentas


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
        assert self.totp is not None
        assert self.ingresos < 2, "más de dos ingresos en 30 s"
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
    autoridad: FastAPI  # the credential authority (its own app and database), events pumped in process
    cuentas: dict[str, Cuenta] = field(default_factory=dict)

    async def bombear(self) -> None:
        await bombear(self.app, self.autoridad)

    async def entregar(self, *envelopes: Envelope) -> int:
        return await entregar(self.app, self.autoridad, *envelopes)

    async def cerrar_lnere(self, entidad: str) -> None:
        await cerrar_lnere(self.app, self.autoridad, entidad)

    async def cuentas_del_buzon(self) -> dict[str, Cuenta]:
        for usuario, (clave, credenciales) in (await cuentas_de(self.app, self.autoridad)).items():
            self.cuentas.setdefault(usuario, Cuenta(usuario, clave, {})).credenciales.update(credenciales)
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
                    c,
                    uuid,
                    i,
                    tmp / f"custodio-{uuid}-{i}.json",
                    frase=FRASE,
                    espera=0.05,
                    avisar=lambda _m: None,
                )

        claves = await asyncio.gather(*(uno(i, self.estados) for i in range(1, n + 1)))
        assert len(set(claves)) == 1
        return claves[0]

    async def simulacro_abierto(self, entidad: str = "09") -> dict[str, Any]:
        """A drill of ``entidad`` created, opened (key ceremony) and its accounts read from the mailbox, as
        the only ones in ``cuentas``: the drill election as the API created it."""
        r = await self.client.post(
            "/v1/simulacros",
            json={"entidad": entidad, "inicio": "2021-05-01T00:00:00Z", "fin": "2021-05-30T00:00:00Z"},
            headers=self.token("ine-admin"),
        )
        assert r.status_code == 201, r.text
        sim: dict[str, Any] = r.json()[0]
        await self.abrir(sim["uuid"])
        self.cuentas.clear()
        await self.cuentas_del_buzon()
        return sim

    async def aprobar_candidaturas_01(
        self, presidencia: list[dict[str, Any]] = PRESIDENCIA, senaduria: list[dict[str, Any]] = SENADURIA
    ) -> None:
        """2024 opens no election without approved candidacies: those of entidad 01 (Presidencia, loaded by
        ine-admin; Senaduría, by the OPL), before the deadline, each approved by ine-admin."""
        antes = self.reloj.ahora()
        self.reloj.ajustar(centro(2024, 4, 1, 10, 0))  # candidaturas_limite: 20 Apr 2024 23:59 Centro
        for ruta, lista, quien in (
            ("nacional/presidencia", presidencia, self.token("ine-admin")),
            ("01/senaduria", senaduria, self.token("opl", entidad="01")),
        ):
            r = await self.client.put(f"/v1/candidaturas/{ruta}", json={"candidaturas": lista}, headers=quien)
            assert r.status_code == 200, r.text
            r = await self.client.post(
                f"/v1/candidaturas/{ruta}/aprobacion",
                json={"huella": r.json()["huella"]},
                headers=self.token("ine-admin"),
            )
            assert r.status_code == 200, r.text
        self.reloj.ajustar(antes)

    async def abrir(self, uuid: str) -> dict[str, Any]:
        async with self.app.state.runtime.maker() as session:
            e = await session.get(em.Eleccion, uuid)
            assert e is not None
            firmada, entidad = e.lista_credenciales is not None, e.entidad
        if not firmada:
            await self.cerrar_lnere(entidad)
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

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.app.state.runtime.maker() as session:
            return list((await session.execute(select(model).where(*where))).scalars())


async def sede_2024(e: Electronico) -> None:
    """2024, entidad 01 open (Presidencia and Senaduría): numbers 1 and 2 vote in person in Los Ángeles, 3 in
    Chicago, 4 by internet. ``e`` runs the 2024 process on election day."""
    await e.entregar(en_persona(1), en_persona(2), en_persona(3, sede="chicago"), inscrito(4, "01"))
    await e.aprobar_candidaturas_01()
    for eleccion in await e.elecciones("01"):
        await e.abrir(eleccion["uuid"])


async def autoridad_de_prueba(
    databases: Databases, kafka: KafkaSettings, buzon: Buzon, reloj: RelojManual, proceso: Proceso = PEL2021
) -> FastAPI:
    """The credential authority on a fresh database of its own, like electronico: no relay, no consumers."""
    settings = AjustesAutoridad(
        database_url=await databases.new("credenciales"),
        kafka=kafka,
        relay_enabled=False,
        consumers_enabled=False,
        **buzon.ajustes(),
    )
    return create_autoridad(settings, reloj=reloj, proceso=proceso)


async def app_de_prueba(
    databases: Databases,
    kafka: KafkaSettings,
    buzon: Buzon,
    proceso: Proceso = PEL2021,
    ahora: dt.datetime = EN_PERIODO,
    consola: AjustesConsola | None = None,
) -> tuple[FastAPI, RelojManual]:
    """electronico on a fresh database, pel2021 unless told, a manual clock inside the window; no relay (so
    no sender: a test delivers with ``Notificador`` when it means to), no consumers; its gateways are the
    test's local mailbox; its console signs in with ``consola`` (the test's identity provider) if given."""
    reloj = RelojManual(ahora)
    settings = Settings(
        database_url=await databases.new("electronico"),
        kafka=kafka,
        relay_enabled=False,
        consumers_enabled=False,
        **buzon.ajustes(),
    )
    if consola is not None:
        settings.consola = consola
    return create_app(settings, reloj=reloj, proceso=proceso), reloj


@asynccontextmanager
async def electronico_2024(
    databases: Databases,
    kafka: KafkaSettings,
    buzon: Buzon,
    token: Callable[..., dict[str, str]],
    estados: Path,
    ahora: dt.datetime,
    http: bool = False,
    consola: AjustesConsola | None = None,
) -> AsyncIterator[tuple[str, Electronico]]:
    """electronico and its credential authority running the 2024 process at ``ahora``, the prepared elections
    pumped to the authority; with ``http``, on a real port (for a browser): (its base URL, the harness)."""
    app, reloj = await app_de_prueba(databases, kafka, buzon, proceso=PEF2024, ahora=ahora, consola=consola)
    autoridad = await autoridad_de_prueba(databases, kafka, buzon, reloj, proceso=PEF2024)
    async with AsyncExitStack() as pila:
        if http:
            base = await pila.enter_async_context(en_http(app))
            client = await pila.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
        else:
            base, client = "http://test", await pila.enter_async_context(serve(app))
        await pila.enter_async_context(serve(autoridad))
        e = Electronico(app, client, reloj, PEF2024, token, estados, autoridad)
        await e.bombear()
        yield base, e


def ajustes_de_produccion() -> dict[str, Any]:
    """What electronico and the credential authority need to start in production (real gateways included),
    so that a test changes one thing and sees that refused."""
    from cryptography.fernet import Fernet

    from tests.shared.test_avisos import PASARELAS_PRODUCCION

    return {
        "mode": "production",
        "database_url": "postgresql+asyncpg://x/y",
        "auth": {"jwt_secret": "otro" * 10},
        "metricas_puerto": 9090,
        "claves_datos": Fernet.generate_key().decode(),
        "clave_indice": "indice-propio-" * 3,
        "clave_firma": "ab" * 32,
        **PASARELAS_PRODUCCION,
    }


@pytest.fixture
async def electronico(
    databases: Databases,
    offline_kafka: KafkaSettings,
    tmp_path: Path,
    token: Callable[..., dict[str, str]],
    buzon: Buzon,
) -> AsyncIterator[Electronico]:
    app, reloj = await app_de_prueba(databases, offline_kafka, buzon)
    autoridad = await autoridad_de_prueba(databases, offline_kafka, buzon, reloj)
    async with serve(app) as client, serve(autoridad):
        e = Electronico(app, client, reloj, PEL2021, token, tmp_path, autoridad)
        await e.bombear()  # the elections electronico prepared at start, to the authority
        yield e


@pytest.fixture
async def abierta(electronico: Electronico) -> tuple[Electronico, str]:
    """Entidad 09 (Diputación Migrante) opened with four internet voters; entidad 16 with one."""
    await electronico.entregar(*(inscrito(n) for n in range(1, 5)), inscrito(1, "16"))
    uuid = (await electronico.elecciones("09"))[0]["uuid"]
    await electronico.abrir(uuid)
    await electronico.cuentas_del_buzon()
    return electronico, uuid
