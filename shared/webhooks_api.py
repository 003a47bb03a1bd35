"""The HTTP side of webhook subscriptions, the same for every service that pushes to OPL systems: register an
endpoint (``opl`` for its own entidad, ``ine-admin`` for any), list, deactivate, and the delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from shared import webhooks
from shared.auth import Principal, Rol, require
from shared.claves import ClaveEntidad
from shared.db import ENTERO_MAX
from shared.problems import PROBLEM, Problem
from shared.web import RelojDep, SessionDep

WebhookRol = Annotated[Principal, Depends(require(Rol.OPL, Rol.INE_ADMIN))]


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, description="https://… del sistema del OPL")
    entidad: ClaveEntidad | None = Field(
        None, description="Solo para ine-admin; un token opl usa su propia entidad"
    )


class WebhookOut(BaseModel):
    id: int
    entidad: str
    url: str
    activa: bool
    creada_at: dt.datetime
    secreto: str | None = Field(
        None, description="Solo al registrarla: con él se verifica la cabecera X-VMRE-Firma de cada entrega"
    )


class EntregaOut(BaseModel):
    id: int
    suscripcion_id: int
    evento: str
    estado: str
    intentos: int
    ultimo_codigo: int | None
    ultimo_error: str | None = Field(
        description="Clase del último error: " + ", ".join(sorted(webhooks.CLASES_DE_ERROR))
    )
    entregada_at: dt.datetime | None
    creada_at: dt.datetime


def resolver_de_webhooks() -> webhooks.Resolver:
    """How a registration resolves the URL's host (tests override it: they never touch the network)."""
    return webhooks.resolver_del_sistema


def _clase(error: str | None) -> str | None:
    """What the log may tell: a class of error; anything else stored (older rows) is ``otro``."""
    return error if error is None or error in webhooks.CLASES_DE_ERROR else "otro"


def router_de_webhooks(
    suscripcion: type[webhooks.SuscripcionMixin], entrega: type[webhooks.EntregaMixin], que_se_envia: str
) -> APIRouter:
    """``/v1/webhooks`` for a service whose subscription and delivery tables are these."""
    router = APIRouter(prefix="/v1", tags=["webhooks"])
    Suscripcion: Any = suscripcion  # mapped classes: their columns are known at run time
    Entrega: Any = entrega

    def _entidad_de(principal: Principal, pedida: str | None) -> str:
        if principal.rol == Rol.OPL:
            if pedida is not None and pedida != principal.entidad:
                raise Problem(
                    403, f"Este token solo puede registrar webhooks de la entidad {principal.entidad}."
                )
            return principal.entidad or ""
        if pedida is None:
            raise Problem(
                422, "Indique la entidad del webhook.", errors=[{"campo": "entidad", "mensaje": "Requerida."}]
            )
        return pedida

    def _out(w: webhooks.SuscripcionMixin, secreto: bool = False) -> WebhookOut:
        return WebhookOut(
            id=w.id,
            entidad=w.entidad,
            url=w.url,
            activa=w.activa,
            creada_at=w.creada_at,
            secreto=w.secreto if secreto else None,
        )

    @router.post(
        "/webhooks",
        summary="Registrar el endpoint del sistema del OPL (opl: su entidad; ine-admin: cualquiera)",
        description=f"Se envía: {que_se_envia} Cada entrega lleva `X-VMRE-Firma: t=<unix>,v1=<HMAC-SHA256("
        "secreto, t + '.' + cuerpo)>` (verifique con `shared.webhooks.verificar_firma`), `X-VMRE-Evento` y "
        "`X-VMRE-Entrega`. Sin respuesta 2xx se reintenta con espera exponencial. "
        "El secreto se muestra solo aquí. La URL debe ser https hacia un servidor que resuelva solo a "
        "direcciones públicas de internet (ni privadas, ni de enlace local, ni de loopback), lo que se "
        "revisa al registrarla y de nuevo en cada conexión; no se siguen redirecciones.",
        status_code=201,
        responses={403: PROBLEM, 422: PROBLEM},
    )
    async def registrar(
        datos: WebhookIn,
        session: SessionDep,
        reloj: RelojDep,
        request: Request,
        principal: WebhookRol,
        resolver: Annotated[webhooks.Resolver, Depends(resolver_de_webhooks)],
    ) -> WebhookOut:
        entidad = _entidad_de(principal, datos.entidad)
        try:
            w = await webhooks.suscribir(
                session,
                Suscripcion,
                entidad=entidad,
                url=datos.url,
                creada_por=principal.sub,
                ahora=reloj.ahora(),
                permitir_http_local=request.app.state.settings.mode == "local",
                resolver=resolver,
            )
        except ValueError as exc:
            raise Problem(422, str(exc), errors=[{"campo": "url", "mensaje": str(exc)}]) from None
        return _out(w, secreto=True)

    @router.get("/webhooks", summary="Webhooks registrados (opl: los de su entidad)")
    async def listar(session: SessionDep, principal: WebhookRol) -> list[WebhookOut]:
        q = select(Suscripcion).order_by(Suscripcion.id)
        if principal.rol == Rol.OPL:
            q = q.where(Suscripcion.entidad == principal.entidad)
        return [_out(w) for w in (await session.execute(q)).scalars()]

    @router.delete(
        "/webhooks/{id}",
        summary="Desactivar un webhook",
        status_code=204,
        responses={404: {"description": "No existe el webhook (o es de otra entidad)"}},
    )
    async def desactivar(
        id: Annotated[int, Path(ge=1, le=ENTERO_MAX)], session: SessionDep, principal: WebhookRol
    ) -> Response:
        w = await session.get(Suscripcion, id)
        if w is None or (principal.rol == Rol.OPL and w.entidad != principal.entidad):
            raise Problem(404, f"No existe el webhook {id}.")
        w.activa = False
        return Response(status_code=204)

    @router.get(
        "/webhooks/entregas",
        summary="Bitácora de entregas (opl: las de su entidad)",
        description="Por entrega: estado, intentos, último código HTTP y la clase del último error "
        "(`conexion`, `tls`, `tiempo`, `http_5xx`, …), nunca el mensaje de la conexión.",
    )
    async def bitacora(
        session: SessionDep, principal: WebhookRol, limite: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[EntregaOut]:
        q = (
            select(Entrega)
            .join(Suscripcion, Suscripcion.id == Entrega.suscripcion_id)
            .order_by(Entrega.id.desc())
        )
        if principal.rol == Rol.OPL:
            q = q.where(Suscripcion.entidad == principal.entidad)
        return [
            EntregaOut(
                id=e.id,
                suscripcion_id=e.suscripcion_id,
                evento=e.evento,
                estado=e.estado,
                intentos=e.intentos,
                ultimo_codigo=e.ultimo_codigo,
                ultimo_error=_clase(e.ultimo_error),
                entregada_at=e.entregada_at,
                creada_at=e.creada_at,
            )
            for e in (await session.execute(q.limit(limite))).scalars()
        ]

    return router
