from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from services.registro import repository
from services.registro import service as registro_service
from services.registro.schemas import SolicitudCreada, SolicitudEstado, SolicitudIn
from shared.problems import Problem
from shared.web import SessionDep

router = APIRouter(prefix="/v1", tags=["solicitudes"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/solicitudes",
    status_code=status.HTTP_201_CREATED,
    response_model=SolicitudCreada,
    summary="Solicitar la inscripción en la LNERE (público)",
    responses={
        409: {"description": "Ya existe una solicitud con esa clave de elector", **PROBLEM},
        422: {"description": "Datos inválidos: `errors` nombra cada campo", **PROBLEM},
    },
)
async def crear_solicitud(datos: SolicitudIn, session: SessionDep) -> SolicitudCreada:
    solicitud = await registro_service.solicitar(session, datos)
    return SolicitudCreada(folio=solicitud.folio, estado=solicitud.estado)


@router.get(
    "/solicitudes/{folio}",
    response_model=SolicitudEstado,
    summary="Consultar el estado de una solicitud por folio (público)",
    responses={404: {"description": "Folio inexistente", **PROBLEM}},
)
async def consultar_solicitud(folio: str, session: SessionDep) -> SolicitudEstado:
    solicitud = await repository.by_folio(session, folio)
    if solicitud is None:
        raise Problem(404, "No hay ninguna solicitud con ese folio; revise que esté completo.")
    return SolicitudEstado(folio=solicitud.folio, estado=solicitud.estado, motivos=[])
