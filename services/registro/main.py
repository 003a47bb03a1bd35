"""registro: solicitudes a la LNERE, revisión, observaciones de partidos y cierre de la lista."""

import dataclasses

from fastapi import FastAPI

from services.registro import consola, consola_sede
from services.registro.api import routers
from services.registro.config import SERVICIO, Settings, get_settings
from services.registro.models import Bitacora, Notificacion, Outbox, ProcessedEvent
from shared.consola import Consola, montar_consola
from shared.paginas import montar_comun
from shared.proceso import Proceso
from shared.reloj import Reloj
from shared.web import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name=SERVICIO,
    title="VMRE · registro",
    description="Solicitudes de inscripción a la Lista Nominal de Electores Residentes en el Extranjero "
    "(LNERE): recepción, revisión, observaciones de partidos y cierre de la lista por entidad.",
    outbox=Outbox,
    auditoria=Bitacora,
    processed=ProcessedEvent,
    routers=[*routers, consola.router, consola_sede.router],
    openapi_tags=[
        {
            "name": "solicitudes",
            "description": "Solicitar, dar seguimiento, corregir, cambiar de modalidad, "
            "subir documentos. Público: el folio es la llave de la persona.",
        },
        {
            "name": "revisión",
            "description": "Trabajo del INE: cola en orden de llegada, expediente, dictamen, "
            "aclaración, baja y carga masiva.",
        },
        {"name": "lnere", "description": "La lista por entidad: revisión de partidos y cierre."},
        {"name": "estadísticas", "description": "Cifras públicas con celdas pequeñas suprimidas."},
    ],
)


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    settings = settings or get_settings()
    # Its messages to applicants (receipt, dictamen, aclaración, codes) leave from where its relay runs.
    spec = dataclasses.replace(SPEC, avisos=(Notificacion, settings))
    app = create_service_app(spec, settings, reloj=reloj, proceso=proceso)
    montar_comun(app)  # the style sheet and script of its pages
    # The staff console's review desk, behind the OpenID Connect sign-in (shared/consola.py).
    montar_consola(
        app, Consola(SERVICIO, consola.COLA, settings.consola, settings.mode, settings.url_publica)
    )
    return app
