from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path as Ruta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from services.tablero import repository
from services.tablero.schemas import Resumen, ResumenEntidad, ResumenSolicitudes
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.db import ENTERO_MAX
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


JSON = "application/json"
CSV = "text/csv; charset=utf-8"
CACHE_MAXIMO = 2000


def _json(datos: Any) -> bytes:
    return json.dumps(datos, ensure_ascii=False, separators=(",", ":")).encode()


async def _version(request: Request, session: Any) -> int:
    """The read model's version, read at most every ``cache_segundos`` (0 in tests: always read). A cached
    answer then needs no database at all; the figures are at most that much older."""
    ttl: float = request.app.state.settings.cache_segundos
    valor, leida = request.app.state.version
    if ttl <= 0 or time.monotonic() - leida >= ttl:
        valor = await repository.version(session)
        request.app.state.version = (valor, time.monotonic())
    return int(valor)


async def _respuesta(
    request: Request, session: Any, clave: str, construir: Callable[[], Awaitable[tuple[bytes, str]]]
) -> Response:
    """Answer from the read model's version: 304 if the client has it (ETag), else the body built once per
    version and kept in this process — under load every request costs one lookup of the version."""
    version = await _version(request, session)
    etag = f'W/"{version}-{clave}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    cache: dict[str, tuple[int, bytes, str]] = request.app.state.cache
    guardado = cache.get(clave)
    if guardado is None or guardado[0] != version:
        # One computation per key and version, however many requests arrive meanwhile (no stampede).
        candado = request.app.state.candados.setdefault(clave, asyncio.Lock())
        async with candado:
            guardado = cache.get(clave)
            if guardado is None or guardado[0] != version:
                cuerpo, tipo = await construir()
                if len(cache) >= CACHE_MAXIMO:
                    cache.clear()
                    request.app.state.candados.clear()
                cache[clave] = guardado = (version, cuerpo, tipo)
    return Response(guardado[1], media_type=guardado[2], headers={"ETag": etag, "Cache-Control": "no-cache"})


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

    async def construir() -> tuple[bytes, str]:
        return _json(await repository.cifras(session, proceso, entidad)), JSON

    return await _respuesta(request, session, f"tablero-{entidad or 'todas'}", construir)


@router.get(
    "/tablero/stream",
    tags=["tablero"],
    summary="Las mismas cifras, empujadas en vivo (Server-Sent Events, evento `cifras`)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        404: {"description": "La entidad no participa en el proceso"},
    },
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


# --- OPL integration: per-entidad resources ------------------------------------------------------------

Lector = Annotated[Principal, Depends(require(*INE_ROLES, Rol.OPL))]
SERIES = {
    "solicitudes": ("modalidad", "estado", "pais", "dia"),
    "paquetes": ("estado",),
    "sobres": ("clasificacion",),
    "votos": ("modalidad",),
    "votos_electronica": ("hora",),
}


@router.get(
    "/entidades/{entidad}/cifras",
    tags=["entidades"],
    summary="Todas las cifras de la entidad (INE; opl solo la suya), con ETag",
    responses={
        304: {"description": "Sin cambios"},
        403: {"content": {"application/problem+json": {}}},
        404: {"description": "La entidad no participa en el proceso"},
    },
)
async def cifras_entidad(
    entidad: EntidadPath, request: Request, session: SessionDep, proceso: ProcesoDep, principal: Lector
) -> Response:
    check_entidad(principal, entidad)
    _entidad_valida(proceso, entidad)

    async def construir() -> tuple[bytes, str]:
        return _json(await repository.cifras(session, proceso, entidad)), JSON

    return await _respuesta(request, session, f"tablero-{entidad}", construir)


@router.get(
    "/entidades/{entidad}/series/{serie}",
    tags=["entidades"],
    summary="Una serie por dimensión, paginada (JSON o CSV con `formato=csv`)",
    description="Series: `solicitudes` (modalidad, estado, pais, dia), `paquetes` (estado), `sobres` "
    "(clasificacion), `votos` (modalidad), `votos_electronica` (hora). `pagina` empieza en 1.",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        304: {"description": "Sin cambios"},
        403: {"content": {"application/problem+json": {}}},
        404: {"description": "No existe la serie"},
    },
)
async def serie_entidad(
    entidad: EntidadPath,
    serie: str,
    request: Request,
    session: SessionDep,
    principal: Lector,
    dimension: Annotated[str | None, Query(max_length=16)] = None,
    pagina: Annotated[int, Query(ge=1, le=ENTERO_MAX)] = 1,
    por_pagina: Annotated[int, Query(ge=1, le=1000)] = 100,
    formato: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    check_entidad(principal, entidad)
    if serie not in SERIES:
        raise Problem(404, f"No existe la serie {serie!r} (disponibles: {', '.join(SERIES)}).")
    dimension = dimension or SERIES[serie][0]
    if dimension not in SERIES[serie]:
        raise Problem(422, f"La serie {serie} se desglosa por: {', '.join(SERIES[serie])}.")

    async def construir() -> tuple[bytes, str]:
        filas = sorted(
            (f.valor, f.total)
            for f in await repository.conteos(session, serie, entidad)
            if f.dimension == dimension and f.total
        )
        trozo = filas[(pagina - 1) * por_pagina : pagina * por_pagina]
        if formato == "csv":
            return ("\n".join([f"{dimension},total", *(f"{v},{n}" for v, n in trozo)]) + "\n").encode(), CSV
        return _json(
            {
                "entidad": entidad,
                "serie": serie,
                "dimension": dimension,
                "pagina": pagina,
                "por_pagina": por_pagina,
                "total_elementos": len(filas),
                "elementos": [{"valor": v, "total": n} for v, n in trozo],
                "siguiente": pagina + 1 if pagina * por_pagina < len(filas) else None,
            }
        ), JSON

    consulta = f"serie-{entidad}-{serie}-{dimension}-{pagina}-{por_pagina}-{formato}"
    return await _respuesta(request, session, consulta, construir)


@router.get(
    "/entidades/{entidad}/actas",
    tags=["entidades"],
    summary="Las actas de cómputo publicadas de la entidad, firmadas tal cual las emitió computo",
    responses={403: {"content": {"application/problem+json": {}}}},
)
async def actas_entidad(entidad: EntidadPath, session: SessionDep, principal: Lector) -> list[dict[str, Any]]:
    check_entidad(principal, entidad)
    return [{"cargo": r.cargo, **r.documento} for r in await repository.resultados_de(session, entidad)]


# --- Open data ---------------------------------------------------------------------------------------

SUPRESION = 5
ESQUEMA_DATOS_ABIERTOS: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "VMRE · datos abiertos (agregados)",
    "description": f"Conteos agregados por entidad, serie y dimensión. Celdas con menos de {SUPRESION} "
    "personas se suprimen (total null) para no identificar a nadie.",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["entidad", "serie", "dimension", "valor", "total"],
        "properties": {
            "entidad": {"type": "string", "pattern": "^[0-9]{2}$", "description": "Clave INEGI"},
            "serie": {"enum": list(SERIES)},
            "dimension": {"type": "string"},
            "valor": {"type": "string", "description": "p. ej. US, postal, 2021-01-10"},
            "total": {"type": ["integer", "null"], "minimum": SUPRESION},
        },
    },
}


async def _datos_abiertos(session: Any) -> list[dict[str, Any]]:
    filas = []
    for serie in SERIES:
        for f in sorted(
            await repository.conteos(session, serie), key=lambda f: (f.entidad, f.dimension, f.valor)
        ):
            if f.dimension == "total" or not f.total:
                continue
            total = f.total if f.total >= SUPRESION else None
            filas.append(
                {
                    "entidad": f.entidad,
                    "serie": serie,
                    "dimension": f.dimension,
                    "valor": f.valor,
                    "total": total,
                }
            )
    return filas


@router.get(
    "/datos-abiertos/esquema.json", tags=["datos abiertos"], summary="Esquema publicado (JSON Schema)"
)
async def datos_abiertos_esquema() -> dict[str, Any]:
    return ESQUEMA_DATOS_ABIERTOS


@router.get(
    "/datos-abiertos/agregados.{formato}",
    tags=["datos abiertos"],
    summary="Los agregados públicos en JSON o CSV (celdas pequeñas suprimidas)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def datos_abiertos(
    formato: Annotated[str, Path(pattern="^(json|csv)$")], session: SessionDep
) -> Response:
    filas = await _datos_abiertos(session)
    if formato == "json":
        return JSONResponse(filas)
    lineas = ["entidad,serie,dimension,valor,total"] + [
        ",".join(
            [
                f["entidad"],
                f["serie"],
                f["dimension"],
                f["valor"],
                "" if f["total"] is None else str(f["total"]),
            ]
        )
        for f in filas
    ]
    return Response("\n".join(lineas) + "\n", media_type="text/csv; charset=utf-8")
