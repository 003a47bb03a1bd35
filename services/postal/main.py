"""postal: Paquetes Electorales Postales (PEP) hacia fuera, Sobres-Postal-Voto (SPV) de regreso."""

from fastapi import FastAPI

from services.postal.config import Settings, get_settings
from services.postal.models import Outbox, ProcessedEvent
from shared.web import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="postal",
    title="VMRE · postal",
    description="Paquetes Electorales Postales (PEP): integración, envío por mensajería, rastreo; "
    "recepción de Sobres-Postal-Voto (SPV) en tiempo o extemporáneos.",
    outbox=Outbox,
    processed=ProcessedEvent,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or get_settings())
