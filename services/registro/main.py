"""registro: solicitudes a la LNERE, revisión, observaciones de partidos y cierre de la lista."""

from fastapi import FastAPI

from services.registro.api import router
from services.registro.config import Settings, get_settings
from services.registro.models import Outbox, ProcessedEvent
from shared.web import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="registro",
    title="VMRE · registro",
    description="Solicitudes de inscripción a la Lista Nominal de Electores Residentes en el Extranjero "
    "(LNERE): recepción, revisión, observaciones de partidos y cierre de la lista por entidad.",
    outbox=Outbox,
    processed=ProcessedEvent,
    routers=[router],
    openapi_tags=[{"name": "solicitudes", "description": "Solicitudes de inscripción a la LNERE."}],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or get_settings())
