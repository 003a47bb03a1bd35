from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.tablero import repository
from services.tablero.schemas import Resumen, ResumenEntidad, ResumenSolicitudes
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.web import SessionDep

router = APIRouter(prefix="/v1", tags=["resumen"])

EntidadPath = Annotated[
    str, Path(pattern=r"^(0[1-9]|[12][0-9]|3[0-2])$", description="Clave INEGI, p. ej. 09")
]


@router.get("/resumen", response_model=Resumen, summary="Cifras agregadas de toda la plataforma (público)")
async def resumen(session: SessionDep) -> Resumen:
    por_entidad: Counter[str] = Counter()
    por_modalidad: Counter[str] = Counter()
    for fila in await repository.conteo_solicitudes(session):
        por_entidad[fila.entidad] += fila.total
        por_modalidad[fila.modalidad] += fila.total
    return Resumen(
        solicitudes=ResumenSolicitudes(
            total=sum(por_entidad.values()),
            por_entidad=dict(sorted(por_entidad.items())),
            por_modalidad=dict(sorted(por_modalidad.items())),
        )
    )


@router.get(
    "/entidades/{entidad}/resumen",
    response_model=ResumenEntidad,
    tags=["entidades"],
    summary="Cifras de una entidad (opl de esa entidad o personal del INE)",
    responses={
        401: {"description": "Sin token o token inválido"},
        403: {"description": "El token es de otra entidad o de un rol sin acceso"},
    },
)
async def resumen_entidad(
    entidad: EntidadPath,
    session: SessionDep,
    principal: Principal = Depends(require(*INE_ROLES, Rol.OPL)),
) -> ResumenEntidad:
    check_entidad(principal, entidad)
    por_modalidad = {
        fila.modalidad: fila.total for fila in await repository.conteo_solicitudes(session, entidad)
    }
    return ResumenEntidad(
        entidad=entidad,
        solicitudes={
            "total": sum(por_modalidad.values()),
            "por_modalidad": dict(sorted(por_modalidad.items())),
        },
    )
