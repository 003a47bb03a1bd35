"""electronico: voto por internet — credenciales, ceremonia de llaves, boletas cifradas, acuses."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.electronico import handlers, service
from services.electronico.acceso import LimiteDeSolicitudes
from services.electronico.api import ESTATICOS, paginas, router
from services.electronico.config import Settings, get_settings
from services.electronico.models import Bitacora, Eleccion, Notificacion, Outbox, ProcessedEvent
from shared.bus.topics import COMPUTO_ESCRUTINIO, POSTAL_VOTO, REGISTRO_LNERE_ELECTRONICA
from shared.proceso import Proceso
from shared.proceso import cargar as cargar_proceso
from shared.reloj import Reloj, reloj_para
from shared.web import ConsumerSpec, Runtime, ServiceSpec, create_service_app

log = logging.getLogger(__name__)


async def preparar_y_sellar(
    runtime: Runtime, proceso: Proceso, settings: Settings, reloj: Reloj, verificadores: Executor | None
) -> None:
    """Create each entidad's elections (so the key ceremony can start before the list closes), then seal every
    open ballot box whose window has ended — at 18:00 Centro on election day for pel2021."""
    for entidad in proceso.entidades:
        async with runtime.maker() as session, session.begin():
            await service.asegurar_elecciones(session, proceso, settings, entidad)
    while True:
        try:
            async with runtime.maker() as session:
                pendientes = await service.por_sellar(session, reloj.ahora())
            for uuid in pendientes:
                async with runtime.maker() as session, session.begin():
                    e = await session.get(Eleccion, uuid, with_for_update=True)
                    if e is not None and e.estado == "abierta":
                        sello = await service.sellar(session, e, reloj.ahora(), proceso, verificadores)
                        log.info("urna sellada", extra={"eleccion": uuid, "sello": sello})
                if runtime.relay is not None:
                    runtime.relay.wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("sellado: error, se reintenta", extra={"error": type(exc).__name__})
        await asyncio.sleep(settings.sello_intervalo)


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    settings = settings or get_settings()
    reloj = reloj or reloj_para(settings.reloj, "electronico")
    proceso = proceso or cargar_proceso(settings.proceso)
    # Ballot proofs and the tally's product in their own processes (started on first use; stopped at exit).
    verificadores = (
        ProcessPoolExecutor(settings.verificadores, mp_context=multiprocessing.get_context("forkserver"))
        if settings.verificadores
        else None
    )

    async def sellador(runtime: Runtime) -> None:
        await preparar_y_sellar(runtime, proceso, settings, reloj, verificadores)

    spec = ServiceSpec(
        name="electronico",
        title="VMRE · electrónico",
        description="Voto electrónico por internet: cuentas y credenciales al cerrarse la LNERE, acceso con "
        "segundo factor, ceremonia de llaves de los custodios, boletas cifradas en el dispositivo "
        "con pruebas (Belenios 3.0), un voto por ciudadano, acuses y tablón público, sellado de la urna "
        "y simulacros. "
        "La cabina de votación está en /cabina.",
        outbox=Outbox,
        auditoria=Bitacora,
        processed=ProcessedEvent,
        routers=[router, paginas],
        consumers=[
            ConsumerSpec(
                purpose="votantes",
                topics=[REGISTRO_LNERE_ELECTRONICA, POSTAL_VOTO, COMPUTO_ESCRUTINIO],
                handlers=handlers.build(proceso, settings, reloj),
                # The LNERE close brings every internet voter at once (21,585 in 2021), weeks before the vote:
                # 20 accounts per transaction (~0.2 s of the write lock) instead of one (measured in process:
                # 12.8 → 8.5 ms per account). During the vote only postal votes arrive, each a one-row insert.
                lote=20,
            )
        ],
        background=[sellador],
        avisos=(Notificacion, settings),
        # Its workers would outlive the service otherwise (they hold each other's end of the pool's pipes).
        al_detener=[lambda: verificadores.shutdown(wait=False, cancel_futures=True)] if verificadores else [],
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
    app.mount("/static", StaticFiles(directory=ESTATICOS), name="static")
    return app
