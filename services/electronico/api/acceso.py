"""Voters' access: first access with the second factor, an SMS code, logging in and out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from services.electronico import acceso
from services.electronico.api.comun import ComoVotante, Limitado, SettingsDep, sesion_bearer
from services.electronico.schemas import (
    CodigoEnviadoOut,
    CodigoSmsIn,
    IngresoIn,
    PrimerAccesoIn,
    PrimerAccesoOut,
    SesionOut,
)
from shared import auditoria
from shared.problems import PROBLEM, Problem
from shared.web import RelojDep, SessionDep

router = APIRouter(prefix="/v1")


@router.post(
    "/acceso/primer",
    tags=["acceso"],
    summary="Primer acceso: contraseña y segundo factor",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 429: PROBLEM},
)
async def primer_acceso(datos: PrimerAccesoIn, session: SessionDep, settings: SettingsDep) -> PrimerAccesoOut:
    alta = await acceso.primer_acceso(
        session, datos.usuario, datos.clave_acceso, datos.password, datos.segundo_factor, settings, datos.qr
    )
    return PrimerAccesoOut(**alta.__dict__)


async def _con_registro_de_fallos(request: Request, accion: Any) -> Any:
    """Run a login step in its own transaction and commit even when it fails (attempts must count).
    The audit record goes in that transaction too, failed or not."""
    maker = request.app.state.runtime.maker
    async with maker() as session, session.begin():
        resultado = await accion(session)
        estado = "rechazado" if isinstance(resultado, Problem) else "ok"
        await auditoria.registrar_peticion(session, request, estado=estado)
    if isinstance(resultado, Problem):
        raise resultado
    return resultado


@router.post(
    "/acceso/codigo",
    tags=["acceso"],
    summary="Pedir un código por SMS (si eligió SMS como segundo factor)",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 429: PROBLEM},
)
async def codigo_sms(
    datos: CodigoSmsIn, request: Request, reloj: RelojDep, settings: SettingsDep
) -> CodigoEnviadoOut:
    telefono = await _con_registro_de_fallos(
        request,
        lambda s: acceso.enviar_codigo_sms(s, datos.usuario, datos.password, reloj.ahora(), settings),
    )
    return CodigoEnviadoOut(enviado_a=telefono)


@router.post(
    "/acceso",
    tags=["acceso"],
    summary="Ingresar: usuario, contraseña y código de 6 dígitos",
    description="Tras varios fallos seguidos (`VMRE_ELECTRONICO_INTENTOS_MAXIMOS`, 5 por omisión) la "
    "cuenta se bloquea unos minutos: 429 con Retry-After.",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 409: PROBLEM, 429: PROBLEM},
)
async def ingresar(datos: IngresoIn, request: Request, reloj: RelojDep, settings: SettingsDep) -> SesionOut:
    token, expira = await _con_registro_de_fallos(
        request,
        lambda s: acceso.ingresar(s, datos.usuario, datos.password, datos.codigo, reloj.ahora(), settings),
    )
    return SesionOut(sesion=token, expira_at=expira)


@router.delete(
    "/acceso",
    tags=["acceso"],
    summary="Salir (cierra la sesión)",
    status_code=204,
    dependencies=[ComoVotante],
)
async def salir(
    session: SessionDep, credenciales: HTTPAuthorizationCredentials | None = Depends(sesion_bearer)
) -> Response:
    if credenciales is not None:
        await acceso.salir(session, credenciales.credentials)
    return Response(status_code=204)
