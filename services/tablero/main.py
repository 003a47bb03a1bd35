"""tablero: el modelo de lectura — tablero en vivo, API de integración para los OPL, datos abiertos."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.tablero import consola, handlers, repository
from services.tablero.api import ESTATICOS, paginas, router
from services.tablero.config import SERVICIO, Settings, get_settings
from services.tablero.models import Bitacora, Entrega, Outbox, ProcessedEvent, Suscripcion
from services.tablero.schemas import AvisoCifras
from shared.bus.topics import (
    COMPUTO_ACTA,
    ELECTRONICO_ELECCION,
    ELECTRONICO_VOTO,
    POSTAL_PAQUETE,
    POSTAL_SOBRE,
    POSTAL_VOTO,
    REGISTRO_LNERE,
    REGISTRO_SOLICITUD,
)
from shared.consola import Consola, montar_consola
from shared.paginas import montar_comun
from shared.proceso import Proceso
from shared.proceso import cargar as cargar_proceso
from shared.reloj import Reloj, reloj_para
from shared.rondas import repetir
from shared.web import ConsumerSpec, Runtime, ServiceSpec, create_service_app
from shared.webhooks import Despachador
from shared.webhooks_api import router_de_webhooks

log = logging.getLogger(__name__)

TOPICOS = [
    REGISTRO_SOLICITUD,
    REGISTRO_LNERE,
    POSTAL_PAQUETE,
    POSTAL_SOBRE,
    POSTAL_VOTO,
    ELECTRONICO_ELECCION,
    ELECTRONICO_VOTO,
    COMPUTO_ACTA,
]


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    settings = settings or get_settings()
    proceso = proceso or cargar_proceso(settings.proceso)
    reloj = reloj or reloj_para(settings.reloj, SERVICIO)

    async def avisador(runtime: Runtime) -> None:
        """Every few seconds: one push of each changed entidad's figures to its OPL's webhooks."""

        ajustes = runtime.settings
        assert isinstance(ajustes, Settings)

        async def ronda() -> None:
            async with runtime.maker() as session, session.begin():
                await repository.avisar_cambios(session, proceso, reloj.ahora())

        await repetir(
            ronda, ajustes.aviso_intervalo, log=log, aviso="webhooks: no se pudieron preparar los avisos"
        )

    async def despachador(runtime: Runtime) -> None:
        await Despachador(runtime.maker, Entrega, Suscripcion, reloj=reloj).run()

    spec = ServiceSpec(
        name=SERVICIO,
        title="VMRE · tablero",
        description="Modelo de lectura construido solo con eventos: cifras en vivo por entidad, país y "
        "modalidad; embudo de paquetes; participación por internet por hora; resultados publicados; API de "
        "integración de los OPL. El tablero en vivo está en `/`.",
        outbox=Outbox,
        auditoria=Bitacora,
        processed=ProcessedEvent,
        routers=[
            router,
            paginas,
            consola.router,
            router_de_webhooks(
                Suscripcion,
                Entrega,
                "las cifras de su entidad (`tablero.cifras.actualizadas`, el mismo JSON de "
                "`/v1/entidades/{entidad}/cifras`) cada vez que cambian, a lo más una vez por intervalo.",
            ),
        ],
        background=[avisador, despachador],
        consumers=[
            ConsumerSpec(purpose="proyecciones", topics=TOPICOS, handlers=handlers.build(proceso), lote=100)
        ],
        openapi_tags=[
            {"name": "resumen", "description": "Cifras agregadas, públicas."},
            {"name": "tablero", "description": "Lo que muestra el tablero en vivo, y su flujo SSE."},
            {
                "name": "entidades",
                "description": "Cifras por entidad para los OPL: cada token `opl` ve solo la suya.",
            },
        ],
    )
    app = create_service_app(spec, settings, reloj=reloj, proceso=proceso)
    app.state.handlers = spec.consumers[0].handlers
    app.state.cache = {}  # responses by read-model version (api._respuesta)
    app.state.candados = {}
    app.state.version = (0, float("-inf"))
    if ESTATICOS.is_dir():
        app.mount("/static", StaticFiles(directory=ESTATICOS), name="static")
    montar_comun(app)  # the style sheet and script of the console's page
    # The staff console's process overview, behind the OpenID Connect sign-in (shared/consola.py).
    montar_consola(
        app, Consola(SERVICIO, consola.PROCESO, settings.consola, settings.mode, settings.url_publica)
    )

    @app.webhooks.post("tablero.cifras.actualizadas", tags=["entidades"])
    def cifras_actualizadas(aviso: AvisoCifras) -> None:
        """Lo que recibe la URL de un OPL suscrita con `POST /v1/webhooks` cuando cambian las cifras de su
        entidad (una entrega por ronda, no por evento): `datos` es lo mismo que `GET
        /v1/entidades/{entidad}/cifras`. Firmado con `X-VMRE-Firma: t=<unix>,v1=<hex>` (HMAC-SHA256 de
        `<t>.<cuerpo>` con el secreto de la suscripción); responda 2xx, si no se reintenta con espera
        creciente. Descarte un `evento_id` ya recibido."""

    return app
