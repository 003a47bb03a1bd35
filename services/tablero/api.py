from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path as Ruta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.tablero import informe as informe_final
from services.tablero import repository
from services.tablero.difusion import Difusor, FlujoSSE
from services.tablero.schemas import (
    Cifras,
    DatoAbierto,
    ElementoSerie,
    InformeFinal,
    Resumen,
    ResumenEntidad,
    ResumenSolicitudes,
    Serie,
)
from shared import limites
from shared.actas import ActaFirmada
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.claves import EntidadPath, EntidadQuery
from shared.db import ENTERO_MAX
from shared.paginas import CABECERAS, PAGINAS, enlaces
from shared.problems import PROBLEM, Problem
from shared.settings import redes
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["resumen"])
paginas = APIRouter()
ESTATICOS = Ruta(__file__).resolve().parent / "static"


@router.get("/resumen", response_model=Resumen, summary="Cifras agregadas de toda la plataforma (público)")
async def resumen(request: Request) -> Response:
    async def construir(session: AsyncSession) -> tuple[bytes, str]:
        r = await repository.resumen_solicitudes(session)
        return Resumen(solicitudes=ResumenSolicitudes(**r)).model_dump_json().encode(), JSON

    return await _respuesta(request, "resumen", construir)


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
    request: Request,
    principal: Principal = Depends(require(*INE_ROLES, Rol.OPL)),
) -> Response:
    check_entidad(principal, entidad)

    async def construir(session: AsyncSession) -> tuple[bytes, str]:
        r = await repository.resumen_solicitudes(session, entidad)
        cuerpo = ResumenEntidad(
            entidad=entidad, solicitudes={"total": r["total"], "por_modalidad": r["por_modalidad"]}
        )
        return cuerpo.model_dump_json().encode(), JSON

    return await _respuesta(request, f"resumen-{entidad}", construir)


JSON = "application/json"
CSV = "text/csv; charset=utf-8"
CACHE_MAXIMO = 2000


async def _version(request: Request) -> int:
    """The read model's version, read at most every ``cache_segundos`` (0 in tests: always read). A cached
    answer then needs no database at all — not even a session: the figures are at most that much older."""
    ttl: float = request.app.state.settings.cache_segundos
    valor, leida = request.app.state.version
    if ttl <= 0 or time.monotonic() - leida >= ttl:
        async with request.app.state.runtime.maker() as session:
            valor = await repository.version(session)
        request.app.state.version = (valor, time.monotonic())
    return int(valor)


Construir = Callable[[AsyncSession], Awaitable[tuple[bytes, str]]]


async def _respuesta(request: Request, clave: str, construir: Construir) -> Response:
    """Answer from the read model's version: 304 if the client has it (ETag), else the body built once per
    version (in a read transaction of its own) and kept in this process — under load a request costs the
    lookup of the version, at most every ``cache_segundos``, and no database session otherwise."""
    version = await _version(request)
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
                async with request.app.state.runtime.maker() as session:
                    cuerpo, tipo = await construir(session)
                if len(cache) >= CACHE_MAXIMO:
                    cache.clear()
                    request.app.state.candados.clear()
                cache[clave] = guardado = (version, cuerpo, tipo)
    return Response(guardado[1], media_type=guardado[2], headers={"ETag": etag, "Cache-Control": "no-cache"})


async def _cifras(session: Any, proceso: Any, entidad: str | None) -> bytes:
    """The figures through their model (schemas.Cifras): what OpenAPI documents is what is sent."""
    datos = await repository.cifras(session, proceso, entidad)
    return Cifras.model_validate(datos).model_dump_json().encode()


def _entidad_valida(proceso: Any, entidad: str | None) -> None:
    if entidad is not None and entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")


@router.get(
    "/tablero",
    tags=["tablero"],
    summary="Lo que muestra el tablero en vivo, de todas las entidades o de una (público; solo conteos)",
    description="`ETag` cambia con cada evento aplicado: envíe `If-None-Match` para recibir 304 si nada "
    "cambió. Para recibir cada cambio sin preguntar, use `/v1/tablero/stream` (Server-Sent Events).",
    responses={
        200: {"model": Cifras, "description": "Las cifras (solo conteos)"},
        304: {"description": "Sin cambios"},
        404: PROBLEM,
    },
)
async def tablero(request: Request, proceso: ProcesoDep, entidad: EntidadQuery = None) -> Response:
    _entidad_valida(proceso, entidad)

    async def construir(session: AsyncSession) -> tuple[bytes, str]:
        return await _cifras(session, proceso, entidad), JSON

    return await _respuesta(request, f"tablero-{entidad or 'todas'}", construir)


def _difusor(request: Request) -> Difusor:
    """The process's one broadcaster of the live stream, made at its first listener."""
    difusor: Difusor | None = getattr(request.app.state, "difusor", None)
    if difusor is None:
        s = request.app.state.settings
        difusor = request.app.state.difusor = Difusor(
            request.app.state.runtime.maker,
            request.app.state.proceso,
            sondeo=s.flujo_sondeo,
            latido=s.flujo_latido,
            por_cliente=s.flujo_por_cliente,
            maximo=s.flujo_maximo,
            registro=request.app.state.metrics.registry,
        )
    return difusor


@router.get(
    "/tablero/stream",
    tags=["tablero"],
    summary="Las mismas cifras, empujadas en vivo (Server-Sent Events, evento `cifras`)",
    description="Un evento `cifras` al conectar y otro cada vez que cambian (`id`: la versión del modelo de "
    "lectura; al reconectar con `Last-Event-ID` de la vista actual no se repite); un comentario de latido "
    "tras `VMRE_TABLERO_FLUJO_LATIDO` segundos (15) sin enviar nada. A lo más "
    "`VMRE_TABLERO_FLUJO_POR_CLIENTE` conexiones (10) por cliente: la siguiente recibe 429; y "
    "`VMRE_TABLERO_FLUJO_MAXIMO` (1000) en el proceso: 503 con Retry-After.",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Eventos `cifras`: en `data`, las cifras de `/v1/tablero` (esquema `Cifras`)",
        },
        404: {"description": "La entidad no participa en el proceso"},
        429: {"description": "Demasiadas conexiones al flujo desde su dirección", **PROBLEM},
        503: {"description": "El flujo atiende ya su máximo de conexiones", **PROBLEM},
    },
)
async def tablero_stream(request: Request, proceso: ProcesoDep, entidad: EntidadQuery = None) -> Response:
    _entidad_valida(proceso, entidad)
    difusor = _difusor(request)
    cliente = limites.cliente(request.scope, redes(request.app.state.settings.proxies_confiables))
    oyente = difusor.admitir(cliente, entidad)
    try:
        primera = await difusor.primera(entidad)
    except BaseException:
        difusor.soltar(oyente)
        raise
    return FlujoSSE(difusor, oyente, primera, request.headers.get("last-event-id"))


@paginas.get("/", include_in_schema=False)
async def inicio(request: Request) -> HTMLResponse:
    """The live dashboard, which is also the entry page: it links to each citizen's page by its path (one
    host in Kubernetes) or, in local mode, to the port of the service that serves it (shared/paginas)."""
    settings = request.app.state.settings
    html = _inicio(tuple(enlaces(settings.mode, settings.url_publica).items()))
    return HTMLResponse(html, headers=CABECERAS)


@functools.cache
def _inicio(destinos: tuple[tuple[str, str], ...]) -> str:
    html = (ESTATICOS / "index.html").read_text(encoding="utf-8")
    for nombre, destino in destinos:
        if nombre != "inicio":
            html = html.replace(f'href="{PAGINAS[nombre]["ruta"]}"', f'href="{destino}"')
    return html


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
    description="Lo mismo que recibe el webhook `tablero.cifras.actualizadas` en `datos` (ver `webhooks`).",
    responses={
        200: {"model": Cifras, "description": "Las cifras de la entidad (solo conteos)"},
        304: {"description": "Sin cambios"},
        403: PROBLEM,
        404: {"description": "La entidad no participa en el proceso"},
    },
)
async def cifras_entidad(
    entidad: EntidadPath, request: Request, proceso: ProcesoDep, principal: Lector
) -> Response:
    check_entidad(principal, entidad)
    _entidad_valida(proceso, entidad)

    async def construir(session: AsyncSession) -> tuple[bytes, str]:
        return await _cifras(session, proceso, entidad), JSON

    return await _respuesta(request, f"tablero-{entidad}", construir)


@router.get(
    "/entidades/{entidad}/series/{serie}",
    tags=["entidades"],
    summary="Una serie por dimensión, paginada (JSON o CSV con `formato=csv`)",
    description="Series: `solicitudes` (modalidad, estado, pais, dia), `paquetes` (estado), `sobres` "
    "(clasificacion), `votos` (modalidad), `votos_electronica` (hora). `pagina` empieza en 1.",
    responses={
        200: {
            "model": Serie,
            "description": "Una página de la serie (`formato=csv`: `<dimension>,total` por renglón)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        304: {"description": "Sin cambios"},
        403: PROBLEM,
        404: {"description": "No existe la serie"},
    },
)
async def serie_entidad(
    entidad: EntidadPath,
    serie: str,
    request: Request,
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

    async def construir(session: AsyncSession) -> tuple[bytes, str]:
        filas = sorted(
            (f.valor, f.total)
            for f in await repository.conteos(session, serie, entidad)
            if f.dimension == dimension and f.total
        )
        trozo = filas[(pagina - 1) * por_pagina : pagina * por_pagina]
        if formato == "csv":
            return ("\n".join([f"{dimension},total", *(f"{v},{n}" for v, n in trozo)]) + "\n").encode(), CSV
        return Serie(
            entidad=entidad,
            serie=serie,
            dimension=dimension,
            pagina=pagina,
            por_pagina=por_pagina,
            total_elementos=len(filas),
            elementos=[ElementoSerie(valor=v, total=n) for v, n in trozo],
            siguiente=pagina + 1 if pagina * por_pagina < len(filas) else None,
        ).model_dump_json().encode(), JSON

    consulta = f"serie-{entidad}-{serie}-{dimension}-{pagina}-{por_pagina}-{formato}"
    return await _respuesta(request, consulta, construir)


@router.get(
    "/entidades/{entidad}/actas",
    tags=["entidades"],
    summary="Las actas de cómputo publicadas de la entidad, firmadas tal cual las emitió computo",
    description="Verifique cada `firma` sobre su `acta` con la clave de computo (su `GET /v1/clave-firma`).",
    response_model=None,
    responses={200: {"model": list[ActaFirmada], "description": "Una por cargo"}, 403: PROBLEM},
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
    "/datos-abiertos/esquema.json",
    tags=["datos abiertos"],
    summary="Esquema publicado (JSON Schema)",
    response_model=None,
    responses={
        200: {
            "description": "El JSON Schema (draft 2020-12) de `/v1/datos-abiertos/agregados.json`",
            "content": {
                "application/json": {
                    "schema": {"type": "object", "additionalProperties": True},
                    "example": ESQUEMA_DATOS_ABIERTOS,
                }
            },
        }
    },
)
async def datos_abiertos_esquema() -> dict[str, Any]:
    return ESQUEMA_DATOS_ABIERTOS


@router.get(
    "/datos-abiertos/agregados.{formato}",
    tags=["datos abiertos"],
    summary="Los agregados públicos en JSON o CSV (celdas pequeñas suprimidas)",
    responses={
        200: {
            "model": list[DatoAbierto],
            "description": "Una fila por entidad, serie, dimensión y valor (`csv`: las mismas columnas)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
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


# --- the closing report: INE's admin and the auditor for the whole process, each OPL for its entidad ------

FormatoInforme = Annotated[str, Path(pattern="^(json|pdf)$", description="json o pdf")]
RESPUESTAS_INFORME: dict[int | str, dict[str, Any]] = {
    200: {
        "model": InformeFinal,
        "description": "El informe (`json`) o el mismo informe imprimible (`pdf`)",
        "content": {"application/pdf": {}},
    },
    401: PROBLEM,
    403: PROBLEM,
}


async def _informe(
    session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, entidad: str | None, formato: str
) -> Response:
    datos = InformeFinal.model_validate(
        await informe_final.construir(session, proceso, entidad, reloj.ahora())
    )
    alcance = entidad or "nacional"
    if formato == "json":
        return JSONResponse(datos.model_dump(mode="json"))
    return Response(
        informe_final.pdf(datos.model_dump(mode="json")),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="informe-final-{proceso.clave}-{alcance}.pdf"'},
    )


DESCRIPCION_INFORME = (
    "Desde el modelo de lectura: LNERE por entidad, modalidad y país; paquetes; sobres (y los extemporáneos "
    "destruidos); votos, participación y resultados copiados de cada acta de cómputo; simulacros y su "
    "participación; la cronología prevista y observada; incidentes y recuentos. `completo` dice si ya están "
    "todas las actas."
)
LectorNacional = Annotated[Principal, Depends(require(Rol.INE_ADMIN, Rol.AUDITOR))]


# Two literal paths (not `.{formato}`): the public gateway publishes each one exactly. One handler.
@router.get(
    "/informe-final.json",
    tags=["informe final"],
    summary="El informe final del proceso, todas las entidades (ine-admin, auditor)",
    description=DESCRIPCION_INFORME,
    response_model=None,
    responses=RESPUESTAS_INFORME,
)
@router.get(
    "/informe-final.pdf",
    tags=["informe final"],
    summary="El informe final del proceso, imprimible (ine-admin, auditor)",
    response_model=None,
    responses=RESPUESTAS_INFORME,
)
async def informe_nacional(
    request: Request, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, _: LectorNacional
) -> Response:
    formato = "pdf" if request.url.path.endswith(".pdf") else "json"
    return await _informe(session, proceso, reloj, None, formato)


@router.get(
    "/entidades/{entidad}/informe-final.{formato}",
    tags=["informe final"],
    summary="El informe final de una entidad, el que firma su OPL (ine-admin, auditor, opl de la entidad)",
    response_model=None,
    responses={**RESPUESTAS_INFORME, 404: PROBLEM},
)
async def informe_entidad(
    entidad: EntidadPath,
    formato: FormatoInforme,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    principal: Principal = Depends(require(Rol.INE_ADMIN, Rol.AUDITOR, Rol.OPL)),
) -> Response:
    check_entidad(principal, entidad)
    if entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")
    return await _informe(session, proceso, reloj, entidad, formato)
