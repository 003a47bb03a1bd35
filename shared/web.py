"""What every service has in common: lifespan (engine, relay, consumers), health, metrics, errors, auth."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from wsgiref.simple_server import WSGIServer

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import auditoria, datos_personales, problems
from shared.auth import Authenticator, Principal, Rol, require
from shared.bus import kafka
from shared.bus.consumer import Handler, IdempotentConsumer, ProcessedEventMixin, describe
from shared.bus.outbox import STAGED_FLAG, OutboxMixin, Relay, backlog
from shared.bus.topics import TOPICS, dlq
from shared.db import ENTERO_GRANDE_MAX, make_engine, make_sessionmaker, ping
from shared.limites import LimitesMiddleware, documentar_429
from shared.notificaciones import AjustesAvisos, NotificacionMixin, Notificador
from shared.observability import Metrics, RequestContextMiddleware, configure_logging, instalar_tracemalloc
from shared.problems import PROBLEM
from shared.proceso import Proceso
from shared.proceso import cargar as cargar_proceso
from shared.reloj import Reloj, RelojManual, reloj_para
from shared.settings import ServiceSettings, redes

log = logging.getLogger(__name__)

LECTURAS = frozenset({"GET", "HEAD", "OPTIONS"})

# A service's stop is bounded whatever the broker's state (issue #23): with the broker gone, aiokafka waits
# for metadata that never comes. Each step has its limit; together they stay under PARADA_MAXIMA, after which
# a watchdog thread ends the process even if its event loop is stuck. uvicorn drains requests before this.
PARADA_PUBLICAR = 2.0  # last flush of the outbox (best effort: the outbox keeps the rest)
PARADA_TAREAS = 2.0  # the background loops (relay, consumers, senders) after their cancellation
PARADA_CLIENTES = 2.0  # the relay's producer and the consumers' dead-letter producers
PARADA_BASE = 1.0  # the database's connection pool
PARADA_MAXIMA = 10.0


@dataclass
class ConsumerSpec:
    purpose: str
    topics: list[str]
    handlers: dict[str, Handler]
    # Events applied per transaction. A read model fed by every service wants batches; a service whose
    # handlers are heavy keeps 1, so its HTTP writers never wait behind a long transaction (SQLite has one
    # writer at a time, and its busy handler is not fair).
    lote: int = 1


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    outbox: type[OutboxMixin]
    processed: type[ProcessedEventMixin]
    routers: Sequence[APIRouter] = ()
    consumers: Sequence[ConsumerSpec] = ()
    # Other background loops of the service (e.g. the notification sender), started with the app.
    background: Sequence[Callable[[Runtime], Coroutine[Any, Any, None]]] = ()
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)
    # The hash-chained audit log (shared/auditoria.py): written by get_session, sealed in background.
    auditoria: type[auditoria.AuditoriaMixin] | None = None
    # Called when the service stops, after its loops (e.g. shutting down a process pool it owns).
    al_detener: Sequence[Callable[[], object]] = ()
    # The notification outbox and its gateways: its sender runs where the outbox relay runs (one per service).
    avisos: tuple[type[NotificacionMixin], AjustesAvisos] | None = None


@dataclass
class Runtime:
    settings: ServiceSettings
    spec: ServiceSpec
    engine: AsyncEngine
    maker: async_sessionmaker[AsyncSession]
    metrics: Metrics
    relay: Relay | None = None
    consumers: list[IdempotentConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def produced_topics(service: str) -> list[str]:
    return [t for t, producer in TOPICS.items() if producer == service]


def build_runtime(spec: ServiceSpec, settings: ServiceSettings, metrics: Metrics) -> Runtime:
    engine = make_engine(settings.database_url)
    datos_personales.instalar(engine, datos_personales.cifrador_de(settings))
    maker = make_sessionmaker(engine)
    runtime = Runtime(settings=settings, spec=spec, engine=engine, maker=maker, metrics=metrics)
    k = settings.kafka

    def producer_factory() -> Any:
        return kafka.make_producer(k, client_id=f"{spec.name}-relay")

    consumed = [t for c in spec.consumers for t in c.topics]
    needed = produced_topics(spec.name) + consumed + [dlq(t) for t in consumed]

    async def ensure() -> None:
        if k.create_topics and needed:
            await kafka.ensure_topics(k, needed)

    if settings.relay_enabled:
        runtime.relay = Relay(
            maker,
            spec.outbox,
            k,
            producer_factory,
            metrics,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval,
            ensure_topics=ensure,
        )
    if settings.consumers_enabled:
        for c in spec.consumers:
            runtime.consumers.append(
                IdempotentConsumer(
                    name=f"{spec.name}.{c.purpose}",
                    topics=c.topics,
                    handlers=c.handlers,
                    maker=maker,
                    processed=spec.processed,
                    consumer_factory=lambda group, topics: kafka.make_consumer(k, group, topics),
                    producer_factory=producer_factory,
                    metrics=metrics,
                    max_retries=k.max_retries,
                    ensure_topics=ensure,
                    batch_size=c.lote,
                )
            )
    return runtime


@contextlib.asynccontextmanager
async def transaccion(request: Request, *, lectura: bool = False) -> AsyncIterator[AsyncSession]:
    """A transaction of this request: commit on success, roll back on error; then wake the relay.

    A state change (any non-GET request) leaves its audit record in the transaction that commits. A page that
    answers a refusal with a page (not an error) runs its attempt in one of these and catches the error
    outside it: nothing the attempt staged is kept. ``lectura``: it only reads (no audit record, even when
    a page reads on a POST)."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.maker() as session:
        async with session.begin():
            yield session
            if not lectura and request.method not in LECTURAS and runtime.spec.auditoria is not None:
                await auditoria.registrar(session, runtime.spec.auditoria, request)
        if session.info.pop(STAGED_FLAG, False) and runtime.relay is not None:
            runtime.relay.wake()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction (``transaccion``): a route that raises changes nothing."""
    async with transaccion(request) as session:
        yield session


# scope="function": commit before the response is sent. With the default ("request") a client could get a
# 201 for a transaction that a crash then lost; the end-to-end SIGKILL test caught exactly that.
async def get_reloj(request: Request) -> Reloj:
    reloj: Reloj = request.app.state.reloj
    return reloj


async def get_proceso(request: Request) -> Proceso:
    proceso: Proceso = request.app.state.proceso
    return proceso


RelojDep = Annotated[Reloj, Depends(get_reloj)]
ProcesoDep = Annotated[Proceso, Depends(get_proceso)]

SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def supervisada(nombre: str, tarea: Callable[[Runtime], Awaitable[None]], runtime: Runtime) -> None:
    """A background task that fails (the database restarting under it, say) is logged and started again,
    never left dead in silence while the service still answers /healthz."""
    while True:
        try:
            await tarea(runtime)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "tarea de fondo falló; se reinicia en 1 s",
                extra={"tarea": nombre, "error": type(exc).__name__},
                exc_info=True,
            )
            await asyncio.sleep(1)


def _vigia_de_parada(servicio: str, limite: float) -> threading.Timer:
    """A thread that ends the process if its stop lasts more than ``limite`` seconds: the last bound, for a
    step that ignores its timeout or an event loop that no longer turns. Cancelled once the stop is done."""

    def forzar() -> None:
        log.error(
            "la parada excedió su límite; salida forzada", extra={"servicio": servicio, "limite": limite}
        )
        os._exit(1)

    vigia = threading.Timer(limite, forzar)
    vigia.daemon = True
    vigia.start()
    return vigia


async def _paso(nombre: str, limite: float, paso: Awaitable[object]) -> None:
    """One step of the stop, within ``limite`` seconds; a failure or a timeout is logged, never raised."""
    try:
        async with asyncio.timeout(limite):
            await paso
    except TimeoutError:
        log.warning("parada: un paso no terminó a tiempo", extra={"paso": nombre, "limite": limite})
    except Exception as exc:
        log.warning("parada: un paso falló", extra={"paso": nombre, "error": type(exc).__name__})


async def _detener(runtime: Runtime) -> None:
    """Stop the loops, then the Kafka clients, then the database: every step bounded."""
    if runtime.relay is not None:
        await _paso("publicar", PARADA_PUBLICAR, runtime.relay.publish_batch())
    for task in runtime.tasks:
        task.cancel()
    if runtime.tasks:
        _, pendientes = await asyncio.wait(runtime.tasks, timeout=PARADA_TAREAS)
        if pendientes:
            # Stuck in their own cleanup (a Kafka client leaving its group without a broker): a second
            # cancellation interrupts it; what they leave behind ends with the process.
            log.warning(
                "parada: tareas sin terminar; se cancelan de nuevo",
                extra={"tareas": sorted(t.get_name() for t in pendientes)},
            )
            for task in pendientes:
                task.cancel()
            await asyncio.wait(pendientes, timeout=0.5)
        for task in runtime.tasks:
            if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                log.warning(
                    "parada: una tarea terminó con error",
                    extra={"tarea": task.get_name(), "error": repr(error)},
                )
    clientes: list[Awaitable[object]] = [c.stop() for c in runtime.consumers]
    if runtime.relay is not None:
        clientes.append(runtime.relay.stop())
    if clientes:
        await _paso("clientes de kafka", PARADA_CLIENTES, asyncio.gather(*clientes))
    await _paso("base de datos", PARADA_BASE, runtime.engine.dispose())


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    reloj: Reloj | None = None,
    proceso: Proceso | None = None,
) -> FastAPI:
    configure_logging(spec.name, settings.log_level, settings.log_format)
    instalar_tracemalloc()
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(spec, settings, metrics)
        app.state.runtime = runtime
        if runtime.relay is not None:
            runtime.tasks.append(asyncio.create_task(runtime.relay.run(), name=f"{spec.name}-relay"))
        for consumer in runtime.consumers:
            runtime.tasks.append(asyncio.create_task(consumer.run(), name=consumer.name))
        if spec.avisos is not None and settings.relay_enabled:
            notificador = Notificador(runtime.maker, *spec.avisos, metrics=metrics)
            runtime.tasks.append(
                asyncio.create_task(
                    supervisada(f"{spec.name}-avisos", lambda _: notificador.run(), runtime),
                    name=f"{spec.name}-avisos",
                )
            )
        if settings.consumers_enabled:
            for tarea in spec.background:
                nombre = f"{spec.name}-{getattr(tarea, '__name__', 'tarea')}"
                runtime.tasks.append(asyncio.create_task(supervisada(nombre, tarea, runtime), name=nombre))
            if spec.auditoria is not None:
                runtime.tasks.append(
                    asyncio.create_task(
                        auditoria.sellador(runtime.maker, spec.auditoria), name=f"{spec.name}-sellador"
                    )
                )
        metricas = _servir_metricas(runtime) if settings.metricas_puerto else None
        log.info(
            "servicio iniciado",
            extra={
                "port": settings.port,
                "metricas_puerto": settings.metricas_puerto or settings.port,
                "relay": runtime.relay is not None,
                "consumers": [c.name for c in runtime.consumers],
            },
        )
        try:
            yield
        finally:
            vigia = _vigia_de_parada(spec.name, PARADA_MAXIMA)
            try:
                if metricas is not None:
                    await _paso("métricas", PARADA_BASE, asyncio.to_thread(metricas.shutdown))
                    metricas.server_close()
                await _detener(runtime)
            finally:
                for detener in spec.al_detener:
                    try:
                        detener()
                    except Exception:
                        log.warning("al detener: falló un paso", exc_info=True)
                vigia.cancel()
            log.info("servicio detenido")

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=[
            *spec.openapi_tags,
            {"name": "operación", "description": "Salud, preparación y métricas."},
        ],
        # Before anything else of the route: text with U+0000 (PostgreSQL cannot store it) is a 422.
        dependencies=[Depends(problems.sin_caracter_nulo)],
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.authenticator = Authenticator(settings.auth)
    app.state.proxies_confiables = redes(settings.proxies_confiables)
    app.state.reloj = reloj or reloj_para(settings.reloj, spec.name)
    app.state.proceso = proceso or cargar_proceso(settings.proceso)
    problems.install(app, documentar=lambda schema: documentar_429(schema, spec.name))
    app.add_middleware(
        LimitesMiddleware,
        router=app.router,
        servicio=spec.name,
        por_minuto=settings.limite_publico_por_minuto,
        max_cuerpo=settings.max_cuerpo_bytes,
        confiables=app.state.proxies_confiables,
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)  # outermost: limit refusals are logged
    app.include_router(_operations_router(spec, metricas=not settings.metricas_puerto))
    if spec.auditoria is not None:
        app.include_router(_auditoria_router(spec.auditoria))
    if settings.reloj == "simulado" and isinstance(app.state.reloj, RelojManual):
        app.include_router(_reloj_router())
    for router in spec.routers:
        app.include_router(router)
    return app


class RelojOut(BaseModel):
    ahora: dt.datetime = Field(description="Instante del reloj simulado (UTC)")


def _reloj_router() -> APIRouter:
    """Only with ``VMRE_RELOJ=simulado`` (local mode): the drill's clock, moved by an ``ine-admin``."""
    router = APIRouter(tags=["operación"])

    @router.get("/v1/reloj", summary="Reloj simulado (público; solo en simulacros)")
    async def leer(request: Request) -> RelojOut:
        return RelojOut(ahora=request.app.state.reloj.ahora())

    @router.put(
        "/v1/reloj",
        summary="Mueve el reloj simulado (ine-admin; solo en simulacros)",
        description="Todos los plazos del servicio se revisan contra este instante. Dé un instante con zona.",
        responses={401: PROBLEM, 403: PROBLEM, 422: PROBLEM},
    )
    async def ajustar(
        request: Request,
        _: Annotated[Principal, Depends(require(Rol.INE_ADMIN))],
        datos: Annotated[RelojOut, Body()],
        _sesion: SessionDep,  # only so that get_session writes the audit record of this change
    ) -> RelojOut:
        if datos.ahora.tzinfo is None:
            raise problems.Problem(
                422,
                "El instante necesita zona horaria.",
                errors=[{"campo": "ahora", "mensaje": "Use p. ej. 2021-05-25T10:00:00-05:00 o …Z."}],
            )
        reloj: RelojManual = request.app.state.reloj
        reloj.ajustar(datos.ahora.astimezone(dt.UTC))
        log.info("reloj simulado ajustado", extra={"ahora": reloj.ahora().isoformat()})
        return RelojOut(ahora=reloj.ahora())

    return router


def _auditoria_router(modelo: type[auditoria.AuditoriaMixin]) -> APIRouter:
    router = APIRouter(tags=["operación"])

    @router.get(
        "/v1/auditoria",
        summary="Exporta la bitácora de auditoría encadenada (auditor, ine-admin)",
        description="JSON Lines (`application/x-ndjson`), un registro sellado por línea en orden de `seq`. "
        "Para la página siguiente pida `desde_seq` = último `seq` + 1. Verifique el archivo completo con "
        "`vmre audit verify --archivo bitacora.jsonl`.",
        response_class=Response,
        responses={200: {"content": {"application/x-ndjson": {}}}, 401: PROBLEM, 403: PROBLEM},
    )
    async def exportar(
        session: SessionDep,
        _: Annotated[Principal, Depends(require(Rol.AUDITOR, Rol.INE_ADMIN))],
        desde_seq: int = Query(1, ge=1, le=ENTERO_GRANDE_MAX),
        limite: int = Query(1000, ge=1, le=10000),
    ) -> Response:
        registros = await auditoria.exportar(session, modelo, desde_seq, limite)
        cuerpo = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in registros)
        return Response(cuerpo, media_type="application/x-ndjson", headers={"Cache-Control": "no-store"})

    return router


def _servir_metricas(runtime: Runtime) -> WSGIServer:
    """/metrics on its own port (``VMRE_METRICAS_PUERTO``), served by prometheus_client in a thread; the
    outbox backlog, which a scrape on the API's port reads from the database, is measured every 5 s here."""

    async def pendientes(rt: Runtime) -> None:
        while True:
            async with rt.maker() as session:
                rt.metrics.outbox_backlog.set(await backlog(session, rt.spec.outbox))
            await asyncio.sleep(5)

    nombre = f"{runtime.spec.name}-metricas"
    runtime.tasks.append(asyncio.create_task(supervisada(nombre, pendientes, runtime), name=nombre))
    # Every interface of the pod: the NetworkPolicy, not the bind address, decides who reaches it.
    servidor, _ = start_http_server(
        runtime.settings.metricas_puerto,
        addr="0.0.0.0",
        registry=runtime.metrics.registry,
    )
    return servidor


def _operations_router(spec: ServiceSpec, *, metricas: bool = True) -> APIRouter:
    router = APIRouter(tags=["operación"])

    @router.get("/healthz", summary="Vida del proceso (público)", description="No consulta dependencias.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    @router.get(
        "/readyz",
        summary="Preparación (público)",
        description="200 si la base de datos responde; 503 si no. Informa el broker y el atraso del outbox: "
        "las escrituras siguen funcionando con el broker caído, así que el broker solo no vuelve al servicio "
        "no-preparado.",
        responses={503: {"description": "La base de datos no responde"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        checks: dict[str, Any] = {}
        ready = True
        try:
            await asyncio.wait_for(ping(runtime.engine), timeout=3)
            checks["database"] = {"ok": True}
            async with runtime.maker() as session:
                pending = await backlog(session, spec.outbox)
            runtime.metrics.outbox_backlog.set(pending)
            checks["outbox"] = {"backlog": pending}
        except Exception as exc:
            ready = False
            checks["database"] = {"ok": False, "error": type(exc).__name__}
        if runtime.relay is not None:
            checks["broker"] = {"ok": runtime.relay.broker_ok, "error": runtime.relay.last_error}
        if runtime.consumers:
            checks["consumers"] = [describe(c) for c in runtime.consumers]
        body = {"status": "ready" if ready else "unready", "service": spec.name, "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    if not metricas:
        return router  # /metrics is on its own port (_servir_metricas)

    @router.get(
        "/metrics",
        summary="Métricas Prometheus (red interna)",
        description="En producción no está aquí: se sirve en VMRE_METRICAS_PUERTO, que solo Prometheus "
        "alcanza.",
        response_class=Response,
    )
    async def metrics(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        with contextlib.suppress(Exception):
            async with runtime.maker() as session:
                runtime.metrics.outbox_backlog.set(await backlog(session, spec.outbox))
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
