"""electronico: voto por internet — credenciales, ceremonia de llaves, boletas cifradas, acuses."""

from fastapi import FastAPI

from services.electronico.config import Settings, get_settings
from services.electronico.models import Outbox, ProcessedEvent
from shared.web import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="electronico",
    title="VMRE · electrónico",
    description="Voto electrónico por internet: credenciales, acceso con segundo factor, boletas cifradas "
    "con pruebas, un voto por ciudadano, acuses, ceremonia de llaves y simulacros.",
    outbox=Outbox,
    processed=ProcessedEvent,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or get_settings())
