"""computo: actas de las Mesas de Escrutinio y Cómputo, cómputo cifrado, acta de cómputo por entidad."""

from __future__ import annotations

from fastapi import FastAPI

from services.computo import consola, handlers
from services.computo.api import router
from services.computo.config import SERVICIO, Settings, get_settings
from services.computo.models import Bitacora, Entrega, Outbox, ProcessedEvent, Suscripcion
from services.computo.schemas import AvisoActa
from shared.bus.topics import ELECTRONICO_ELECCION, POSTAL_MESA, REGISTRO_LNERE
from shared.consola import Consola, montar_consola
from shared.paginas import montar_comun
from shared.proceso import Proceso
from shared.reloj import Reloj
from shared.web import ConsumerSpec, Runtime, ServiceSpec, create_service_app
from shared.webhooks import Despachador
from shared.webhooks_api import router_de_webhooks


def create_app(
    settings: Settings | None = None, *, reloj: Reloj | None = None, proceso: Proceso | None = None
) -> FastAPI:
    async def despachador(runtime: Runtime) -> None:
        await Despachador(runtime.maker, Entrega, Suscripcion, reloj=reloj).run()

    spec = ServiceSpec(
        name=SERVICIO,
        title="VMRE · cómputo",
        description="Mesas de Escrutinio y Cómputo (MEC): instalación, actas de escrutinio con doble "
        "captura, revisión y correcciones con historial; descifrado del cómputo electrónico, reglas de "
        "coalición y el acta de cómputo que recibe cada OPL.",
        outbox=Outbox,
        auditoria=Bitacora,
        processed=ProcessedEvent,
        routers=[
            router,
            router_de_webhooks(
                Suscripcion,
                Entrega,
                "cada acta de cómputo de su entidad (`computo.acta.publicada`), firmada.",
            ),
            consola.router,
        ],
        consumers=[
            ConsumerSpec(
                purpose="mesas",
                topics=[REGISTRO_LNERE, POSTAL_MESA, ELECTRONICO_ELECCION],
                handlers=handlers.build(),
            )
        ],
        background=[despachador],
        openapi_tags=[
            {"name": "mesas", "description": "Mesas postales (de la asignación de postal) y la electrónica."},
            {"name": "actas", "description": "Actas de escrutinio: captura doble, revisión, correcciones."},
            {"name": "cómputo", "description": "El acta de cómputo de entidad firmada que recibe cada OPL."},
            {
                "name": "webhooks",
                "description": "Entregas firmadas a los sistemas de los OPL, con reintentos.",
            },
            {
                "name": "escrutinio electrónico",
                "description": "La mesa electrónica: los custodios descifran el recuento cifrado (k de n).",
            },
        ],
    )
    settings = settings or get_settings()
    app = create_service_app(spec, settings, reloj=reloj, proceso=proceso)
    app.state.handlers = spec.consumers[0].handlers
    montar_comun(app)  # the style sheet and script of the console's screens
    # The staff console's MEC actas, behind the OpenID Connect sign-in (shared/consola.py).
    montar_consola(
        app, Consola(SERVICIO, consola.MESAS, settings.consola, settings.mode, settings.url_publica)
    )

    @app.webhooks.post("computo.acta.publicada", tags=["webhooks"])
    def acta_publicada(aviso: AvisoActa) -> None:
        """Lo que recibe la URL de un OPL suscrita con `POST /v1/webhooks` cuando se publica el acta de
        cómputo de su entidad: `datos` es lo mismo que `GET /v1/computos/{entidad}`. Firmado con
        `X-VMRE-Firma: t=<unix>,v1=<hex>` (HMAC-SHA256 de `<t>.<cuerpo>` con el secreto de la suscripción);
        responda 2xx, si no se reintenta con espera creciente. Descarte un `evento_id` ya recibido."""

    return app
