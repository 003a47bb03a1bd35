"""credenciales: la autoridad de credenciales del voto por internet, separada del servidor de votación."""

from __future__ import annotations

from fastapi import FastAPI

from services.credenciales import handlers
from services.credenciales.api import router
from services.credenciales.config import SERVICIO, Settings, get_settings
from services.credenciales.models import Bitacora, Notificacion, Outbox, ProcessedEvent
from shared.bus.topics import ELECTRONICO_ELECCION, REGISTRO_LNERE, REGISTRO_LNERE_ELECTRONICA
from shared.proceso import Proceso
from shared.proceso import cargar as cargar_proceso
from shared.reloj import Reloj, reloj_para
from shared.web import ConsumerSpec, ServiceSpec, create_service_app


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    settings = settings or get_settings()
    reloj = reloj or reloj_para(settings.reloj, SERVICIO)
    proceso = proceso or cargar_proceso(settings.proceso)
    spec = ServiceSpec(
        name=SERVICIO,
        title="VMRE · autoridad de credenciales",
        description="La autoridad de credenciales del voto por internet, separada del servidor de votación: "
        "genera una credencial por votante y elección, envía la parte privada a cada votante por sus propios "
        "canales (correo y SMS) y entrega a electronico solo las partes públicas, con la lista firmada. "
        "Publica cuántas credenciales tiene cada elección para compararlas con la LNERE. Corre con una sola "
        "réplica.",
        outbox=Outbox,
        auditoria=Bitacora,
        processed=ProcessedEvent,
        routers=[router],
        consumers=[
            ConsumerSpec(
                purpose="credenciales",
                topics=[REGISTRO_LNERE_ELECTRONICA, REGISTRO_LNERE, ELECTRONICO_ELECCION],
                handlers=handlers.build(proceso, settings, reloj),
                lote=20,
            )
        ],
        avisos=(Notificacion, settings),
        openapi_tags=[
            {"name": "credenciales", "description": "Credenciales por elección y listas firmadas."}
        ],
    )
    app = create_service_app(spec, settings, reloj=reloj, proceso=proceso)
    faltan = sorted(set(app.state.proceso.sedes) - set(settings.claves_sedes))
    if settings.mode != "local" and faltan:
        raise ValueError(
            f"VMRE_MODE=production sin la clave pública de las sedes {', '.join(faltan)}: genere cada una "
            "con `vmre sede clave` y configure VMRE_CREDENCIALES_CLAVES_SEDES."
        )
    app.state.handlers = spec.consumers[0].handlers
    return app
