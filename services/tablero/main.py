"""tablero: el modelo de lectura — tablero en vivo, API de integración para los OPL, datos abiertos."""

from fastapi import FastAPI

from services.tablero.api import router
from services.tablero.config import Settings, get_settings
from services.tablero.handlers import HANDLERS
from services.tablero.models import Outbox, ProcessedEvent
from shared.bus.topics import REGISTRO_SOLICITUD
from shared.web import ConsumerSpec, ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="tablero",
    title="VMRE · tablero",
    description="Modelo de lectura construido solo con eventos: cifras en vivo por entidad, país y "
    "modalidad; API de integración de los OPL; datos abiertos.",
    outbox=Outbox,
    processed=ProcessedEvent,
    routers=[router],
    consumers=[ConsumerSpec(purpose="proyecciones", topics=[REGISTRO_SOLICITUD], handlers=HANDLERS)],
    openapi_tags=[
        {"name": "resumen", "description": "Cifras agregadas, públicas."},
        {
            "name": "entidades",
            "description": "Cifras por entidad para los OPL: cada token `opl` ve solo la suya.",
        },
    ],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or get_settings())
