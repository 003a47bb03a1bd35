"""tablero: el modelo de lectura — tablero en vivo, API de integración para los OPL, datos abiertos."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.tablero import handlers
from services.tablero.api import ESTATICOS, paginas, router
from services.tablero.config import Settings, get_settings
from services.tablero.models import Outbox, ProcessedEvent
from shared.bus.topics import (
    COMPUTO_ACTA,
    ELECTRONICO_VOTO,
    POSTAL_PAQUETE,
    POSTAL_SOBRE,
    POSTAL_VOTO,
    REGISTRO_LNERE,
    REGISTRO_SOLICITUD,
)
from shared.proceso import Proceso
from shared.proceso import cargar as cargar_proceso
from shared.reloj import Reloj
from shared.web import ConsumerSpec, ServiceSpec, create_service_app

TOPICOS = [
    REGISTRO_SOLICITUD,
    REGISTRO_LNERE,
    POSTAL_PAQUETE,
    POSTAL_SOBRE,
    POSTAL_VOTO,
    ELECTRONICO_VOTO,
    COMPUTO_ACTA,
]


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    settings = settings or get_settings()
    proceso = proceso or cargar_proceso(settings.proceso)
    spec = ServiceSpec(
        name="tablero",
        title="VMRE · tablero",
        description="Modelo de lectura construido solo con eventos: cifras en vivo por entidad, país y "
        "modalidad; embudo de paquetes; participación por internet por hora; resultados publicados; API de "
        "integración de los OPL. El tablero en vivo está en `/`.",
        outbox=Outbox,
        processed=ProcessedEvent,
        routers=[router, paginas],
        consumers=[ConsumerSpec(purpose="proyecciones", topics=TOPICOS, handlers=handlers.build(proceso))],
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
    if ESTATICOS.is_dir():
        app.mount("/static", StaticFiles(directory=ESTATICOS), name="static")
    return app
