"""postal: Paquetes Electorales Postales (PEP) hacia fuera, Sobres-Postal-Voto (SPV) de regreso."""

from fastapi import FastAPI

from services.postal import consola, handlers, paginas
from services.postal.api import router
from services.postal.config import SERVICIO, Settings, get_settings
from services.postal.models import Bitacora, Notificacion, Outbox, ProcessedEvent
from shared.bus.topics import ELECTRONICO_ELECCION, REGISTRO_LNERE_POSTAL
from shared.consola import Consola, montar_consola
from shared.paginas import montar_comun
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
        title="VMRE · postal",
        description="Paquetes Electorales Postales (PEP): integración al cerrarse la LNERE, envío por "
        "mensajería, "
        "rastreo por webhook de los transportistas; recepción de Sobres-Postal-Voto (SPV) en tiempo o "
        "extemporáneos; resguardo y asignación a mesas; avisos a la ciudadanía.",
        outbox=Outbox,
        auditoria=Bitacora,
        processed=ProcessedEvent,
        routers=[router, paginas.router, consola.router],
        consumers=[
            ConsumerSpec(
                purpose="integracion",
                topics=[REGISTRO_LNERE_POSTAL, ELECTRONICO_ELECCION],
                handlers=handlers.build(proceso, reloj),
            )
        ],
        avisos=(Notificacion, settings),
    )
    app = create_service_app(spec, settings, reloj=reloj, proceso=proceso)
    app.state.handlers = spec.consumers[0].handlers
    montar_comun(app)  # the style sheet and script of its page
    # The staff console's reception desk, behind the OpenID Connect sign-in (shared/consola.py).
    montar_consola(
        app, Consola(SERVICIO, consola.SOBRES, settings.consola, settings.mode, settings.url_publica)
    )
    return app
