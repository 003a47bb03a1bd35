"""The drills' outside testers (#27): the list ``ine-admin`` uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.registro.api.common import errores
from services.registro.schemas import ProbadoresIn, ProbadoresOut
from services.registro.service import probadores
from shared.auth import Principal, Rol, require
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["simulacros"])

Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]
Lector = Annotated[Principal, Depends(require(Rol.INE_ADMIN, Rol.AUDITOR))]


@router.post(
    "/probadores",
    response_model=ProbadoresOut,
    summary="Cargar la lista de probadores de los simulacros (ine-admin)",
    description="Personal de los OPL, observadores: quien prueba el voto por internet en los simulacros sin "
    "estar en la LNERE. Cada persona nueva recibe por correo su cuenta de prueba (de electronico) y, para "
    "cada simulacro de su entidad creado después, su credencial (de la autoridad de credenciales); nunca una "
    "de la elección real, y no cuenta en la LNERE. Un correo que ya tiene cuenta de prueba no cambia nada "
    "(`ya_estaban`): cargar la misma lista dos veces es seguro. Hasta 10,000 por carga; un error en una fila "
    "(422, con el índice y el campo) no carga ninguna.",
    responses=errores(401, 403, 409, 422),
)
async def cargar(
    datos: ProbadoresIn, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, principal: Admin
) -> ProbadoresOut:
    r = await probadores.cargar(session, proceso, datos.probadores, principal, reloj.ahora())
    return ProbadoresOut.model_validate(r)


@router.get(
    "/probadores",
    summary="Cuántos probadores de los simulacros hay, por entidad (ine-admin, auditor)",
    description="Solo cuentas: ni nombres ni correos.",
    responses=errores(401, 403),
)
async def cuenta(session: SessionDep, proceso: ProcesoDep, _: Lector) -> dict[str, int]:
    return await probadores.conteo(session, proceso)
