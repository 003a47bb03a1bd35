"""computo: actas de las Mesas de Escrutinio y Cómputo, cómputo cifrado, acta de cómputo por entidad."""

from fastapi import FastAPI

from services.computo.config import Settings, get_settings
from services.computo.models import Outbox, ProcessedEvent
from shared.web import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="computo",
    title="VMRE · cómputo",
    description="Actas de las Mesas de Escrutinio y Cómputo (MEC), descifrado del cómputo electrónico, "
    "reglas de coalición y el acta de cómputo que recibe cada OPL.",
    outbox=Outbox,
    processed=ProcessedEvent,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or get_settings())
