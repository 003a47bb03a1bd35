from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path as Ruta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from services.tablero import repository
from services.tablero.schemas import Resumen, ResumenEntidad, ResumenSolicitudes
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.problems import Problem
from shared.web import ProcesoDep, SessionDep

router = APIRouter(prefix="/v1", tags=["resumen"])
paginas = APIRouter()
ESTATICOS = Ruta(__file__).resolve().parent / "static"

EntidadPath = Annotated[
    str, Path(pattern=r"^(0[1-9]|[12][0-9]|3[0-2])$", description="Clave INEGI, p. ej. 09")
]
EntidadQuery = Annotated[str | None, Query(pattern=r"^(0[1-9]|[12][0-9]|3[0-2])$", description="p. ej. 09")]


@router.get("/resumen", response_model=Resumen, summary="Cifras agregadas de toda la plataforma (público)")
async def resumen(session: SessionDep) -> Resumen:
    return Resumen(solicitudes=ResumenSolicitudes(**await repository.resumen_solicitudes(session)))


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
    r = await repository.resumen_solicitudes(session, entidad)
    return ResumenEntidad(
        entidad=entidad, solicitudes={"total": r["total"], "por_modalidad": r["por_modalidad"]}
    )


def _entidad_valida(proceso: Any, entidad: str | None) -> None:
    if entidad is not None and entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")


@router.get(
    "/tablero",
    tags=["tablero"],
    summary="Lo que muestra el tablero en vivo, de todas las entidades o de una (público; solo conteos)",
    description="`ETag` cambia con cada evento aplicado: envíe `If-None-Match` para recibir 304 si nada "
    "cambió. Para recibir cada cambio sin preguntar, use `/v1/tablero/stream` (Server-Sent Events).",
    responses={304: {"description": "Sin cambios"}, 404: {"content": {"application/problem+json": {}}}},
)
async def tablero(
    request: Request, session: SessionDep, proceso: ProcesoDep, entidad: EntidadQuery = None
) -> Response:
    _entidad_valida(proceso, entidad)
    etag = f'W/"{await repository.version(session)}-{entidad or "todas"}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    cuerpo = await repository.cifras(session, proceso, entidad)
    return JSONResponse(cuerpo, headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.get(
    "/tablero/stream",
    tags=["tablero"],
    summary="Las mismas cifras, empujadas en vivo (Server-Sent Events, evento `cifras`)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def tablero_stream(
    request: Request, proceso: ProcesoDep, entidad: EntidadQuery = None
) -> StreamingResponse:
    _entidad_valida(proceso, entidad)
    maker = request.app.state.runtime.maker

    async def eventos() -> AsyncIterator[str]:
        vista = -1
        silencio = 0.0
        while not await request.is_disconnected():
            async with maker() as session:
                actual = await repository.version(session)
                if actual != vista:
                    datos = await repository.cifras(session, proceso, entidad)
                    vista, silencio = actual, 0.0
                    yield f"event: cifras\nid: {actual}\ndata: {json.dumps(datos, ensure_ascii=False)}\n\n"
            if silencio >= 15:
                yield ": sigue viva\n\n"  # keep proxies from closing an idle stream
                silencio = 0.0
            await asyncio.sleep(1.0)
            silencio += 1.0

    return StreamingResponse(
        eventos(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@paginas.get("/", include_in_schema=False)
async def inicio() -> FileResponse:
    return FileResponse(ESTATICOS / "index.html", media_type="text/html; charset=utf-8")
