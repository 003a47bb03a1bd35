"""electronico: voto por internet — credenciales, ceremonia de llaves, boletas cifradas, acuses."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import cast

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.electronico import consola, handlers, repository, service
from services.electronico.acceso import LimiteDeSolicitudes
from services.electronico.api import ESTATICOS, routers
from services.electronico.config import SERVICIO, Settings, get_settings
from services.electronico.models import Bitacora, Notificacion, Outbox, ProcessedEvent
from shared.bus.topics import COMPUTO_ESCRUTINIO, CREDENCIALES_LISTA, POSTAL_VOTO, REGISTRO_LNERE_ELECTRONICA
from shared.consola import Consola, montar_consola
from shared.hijos import muere_con
from shared.paginas import montar_comun
from shared.proceso import Proceso
from shared.proceso import cargar as cargar_proceso
from shared.reloj import Reloj, reloj_para
from shared.rondas import repetir
from shared.web import ConsumerSpec, Runtime, ServiceSpec, create_service_app

log = logging.getLogger(__name__)


async def preparar_y_sellar(
    runtime: Runtime, proceso: Proceso, reloj: Reloj, verificadores: Executor | None
) -> None:
    """Create each entidad's elections (so the key ceremony can start before the list closes), then seal every
    open ballot box whose window has ended — at 18:00 Centro on election day for pel2021."""
    settings = cast(Settings, runtime.settings)
    for entidad in proceso.entidades:
        async with runtime.maker() as session, session.begin():
            await service.asegurar_elecciones(session, proceso, settings, entidad)

    async def ronda() -> None:
        async with runtime.maker() as session:
            pendientes = await service.por_sellar(session, reloj.ahora())
        for uuid in pendientes:
            async with runtime.maker() as session, session.begin():
                e = await repository.eleccion(session, uuid, bloqueo="exclusivo")
                if e is not None and e.estado == "abierta":
                    sello = await service.sellar(session, e, reloj.ahora(), proceso, verificadores)
                    log.info("urna sellada", extra={"eleccion": uuid, "sello": sello})
            if runtime.relay is not None:
                runtime.relay.wake()

    await repetir(ronda, settings.sello_intervalo, log=log, aviso="sellado: error, se reintenta")


def pool_de_verificadores(procesos: int) -> ProcessPoolExecutor:
    """Ballot proofs and the tally's product in their own processes (started on first use). Each worker dies
    with this process, even killed (then the forkserver follows its workers): none outlives the service."""
    return ProcessPoolExecutor(
        procesos,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=muere_con,
        initargs=(os.getpid(),),
    )


def detener_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the pool without waiting: what is queued is cancelled and the workers end now, busy or not (a
    proof for a service that is stopping has nobody to answer, and the exit would otherwise wait for it).
    Left alone, idle workers would never notice: they hold each other's end of the pool's pipes."""
    trabajadores = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for trabajador in trabajadores:
        with contextlib.suppress(Exception):
            trabajador.kill()


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    settings = settings or get_settings()
    reloj = reloj or reloj_para(settings.reloj, SERVICIO)
    proceso = proceso or cargar_proceso(settings.proceso)
    verificadores = pool_de_verificadores(settings.verificadores) if settings.verificadores else None

    async def sellador(runtime: Runtime) -> None:
        await preparar_y_sellar(runtime, proceso, reloj, verificadores)

    spec = ServiceSpec(
        name=SERVICIO,
        title="VMRE · electrónico",
        description="Voto electrónico por internet: cuentas al cerrarse la LNERE (las credenciales las "
        "emite la autoridad de credenciales, servicio aparte), acceso con segundo factor, ceremonia de "
        "llaves de los custodios, boletas cifradas en el dispositivo con pruebas (Belenios 3.0), un voto "
        "por ciudadano, acuses y tablón público, sellado de la urna y simulacros. "
        "La cabina de votación está en /cabina.",
        outbox=Outbox,
        auditoria=Bitacora,
        processed=ProcessedEvent,
        routers=[*routers, consola.router],
        consumers=[
            ConsumerSpec(
                purpose="votantes",
                topics=[REGISTRO_LNERE_ELECTRONICA, CREDENCIALES_LISTA, POSTAL_VOTO, COMPUTO_ESCRUTINIO],
                handlers=handlers.build(proceso, settings, reloj),
                # The LNERE close brings every internet voter at once (21,585 in 2021), weeks before the vote:
                # 20 accounts per transaction (~0.2 s of the write lock) instead of one (measured in process:
                # 12.8 → 8.5 ms per account). During the vote only postal votes arrive, each a one-row insert.
                lote=20,
            )
        ],
        background=[sellador],
        avisos=(Notificacion, settings),
        al_detener=[lambda: detener_pool(verificadores)] if verificadores else [],
        openapi_tags=[
            {"name": "acceso", "description": "Primer acceso, segundo factor e ingreso de votantes."},
            {"name": "votación", "description": "La boleta cifrada en el dispositivo; el acuse."},
            {
                "name": "tablón",
                "description": "Lo público: rastreadores, participación por hora, archivo .bel.",
            },
            {"name": "elecciones", "description": "Elecciones, opciones y actas firmadas."},
            {"name": "ceremonia", "description": "Custodios, apertura, cierre y simulacros."},
        ],
    )
    app = create_service_app(spec, settings, reloj=reloj, proceso=proceso)
    app.state.handlers = spec.consumers[0].handlers
    app.state.limite_acceso = LimiteDeSolicitudes(settings.limite_por_minuto)
    app.state.verificadores = verificadores
    app.mount("/cabina/static", StaticFiles(directory=ESTATICOS), name="static")
    montar_comun(app)  # the style sheet and script of its pages («verificar mi voto», the console)
    # The staff console's kiosk turns at a consular site, behind the OIDC sign-in (shared/consola.py).
    montar_consola(
        app, Consola(SERVICIO, consola.TURNOS, settings.consola, settings.mode, settings.url_publica)
    )
    return app
