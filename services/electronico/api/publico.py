"""Public routes: elections, their acts and signing key, the bulletin board, the .bel archive with its strong
proofs, and turnout. No session needed."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.electronico import repository, service
from services.electronico.api.comun import SettingsDep, eleccion_detalle, salida
from services.electronico.api.rangos import coincide, intervalo_pedido
from services.electronico.schemas import (
    ActaAperturaFirmada,
    ClaveFirmaOut,
    DescifradoFuerte,
    EleccionDetalle,
    EleccionOut,
    EntradaTablon,
    ParticipacionHora,
    PruebasFuertesOut,
    TablonOut,
)
from shared.claves import EleccionPath
from shared.db import ENTERO_MAX
from shared.problems import PROBLEM, Problem
from shared.web import ProcesoDep, SessionDep

router = APIRouter(prefix="/v1")
BEL = "application/octet-stream"


@router.get("/elecciones", tags=["elecciones"], summary="Elecciones por internet (público)")
async def elecciones(session: SessionDep, simulacro: bool | None = None) -> list[EleccionOut]:
    conteos = await repository.conteos_de_boletas(session)
    return [salida(e, conteos.get(e.uuid, 0)) for e in await repository.elecciones(session, simulacro)]


@router.get(
    "/elecciones/{uuid}",
    tags=["elecciones"],
    summary="Una elección: opciones, election.json y acta de apertura (público)",
    responses={404: PROBLEM},
)
async def eleccion(uuid: EleccionPath, session: SessionDep, proceso: ProcesoDep) -> EleccionDetalle:
    e = await service.eleccion_o_404(session, uuid)
    return eleccion_detalle(e, await service.boletas_contadas(session, uuid), proceso)


@router.get(
    "/elecciones/{uuid}/tablon",
    tags=["tablón"],
    summary="Tablón público: los rastreadores de las boletas aceptadas (público)",
    description="Cada votante busca aquí su acuse (`?rastreador=`). Nunca muestra una elección de voto.",
    responses={404: PROBLEM},
)
async def tablon(
    uuid: EleccionPath,
    session: SessionDep,
    rastreador: Annotated[str | None, Query(max_length=64)] = None,
    despues: Annotated[int, Query(ge=0, le=ENTERO_MAX)] = 0,
    limite: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TablonOut:
    e = await service.eleccion_o_404(session, uuid)
    if rastreador is not None:
        fila = await repository.entrada_del_tablon(session, uuid, rastreador)
        if fila is None:
            raise Problem(404, f"El rastreador {rastreador} no está en la urna de esta elección.")
        filas = [fila]
    else:
        filas = await repository.pagina_del_tablon(session, uuid, despues, limite)
    return TablonOut(
        eleccion=uuid,
        estado=e.estado,
        sello=e.sello,
        boletas=[EntradaTablon(posicion=i, rastreador=r, emitida_at=t) for i, r, t in filas],
        siguiente=filas[-1][0] if len(filas) == limite and rastreador is None else None,
    )


@router.get(
    "/elecciones/{uuid}/archivo.bel",
    tags=["tablón"],
    summary="Archivo Belenios 3.0 de la elección (público)",
    description="Verificable con `vmre verificar ARCHIVO.bel` y con `belenios-tool election verify`. "
    "Mientras la urna está abierta se escribe desde la base de datos a medida que se descarga (sin "
    "`Content-Length` ni `ETag`: cambia con cada boleta). Desde el sello se sirve el archivo guardado una "
    "vez al sellar (y completado con el resultado): `ETag` (el hash del último evento), `If-None-Match` → "
    "304, y `Range` de un solo intervalo de bytes → 206 (con `If-Range`), para reanudar una descarga.",
    response_class=Response,
    responses={
        200: {"description": "El archivo Belenios 3.0 (.bel) completo", "content": {BEL: {}}},
        206: {"description": "El intervalo de bytes pedido", "content": {BEL: {}}},
        304: {"description": "Sin cambios (If-None-Match)"},
        404: PROBLEM,
        409: PROBLEM,
        416: {"description": "El intervalo empieza después del final del archivo", **PROBLEM},
    },
)
async def archivo(uuid: EleccionPath, request: Request, session: SessionDep) -> Response:
    e = await service.eleccion_o_404(session, uuid)
    datos = service.DatosArchivo.de(e)
    maker = request.app.state.runtime.maker
    cabeceras = {"Content-Disposition": f'attachment; filename="{uuid}.bel"', "Cache-Control": "no-cache"}
    if e.archivo_tamano is None or e.archivo_etag is None:  # open box (or sealed before records were stored)
        return StreamingResponse(
            service.archivo_desde_la_base(maker, datos),
            media_type=BEL,
            headers=cabeceras | {"Accept-Ranges": "none"},
        )
    etag, tamano = f'"{e.archivo_etag}"', e.archivo_tamano
    cabeceras |= {"ETag": etag, "Accept-Ranges": "bytes"}
    if coincide(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    rango = intervalo_pedido(request.headers.get("range"), request.headers.get("if-range"), etag, tamano)
    inicio, fin = rango or (0, tamano)
    if rango is not None:
        cabeceras["Content-Range"] = f"bytes {inicio}-{fin - 1}/{tamano}"
    cabeceras["Content-Length"] = str(fin - inicio)
    return StreamingResponse(
        service.archivo_guardado(maker, uuid, inicio, fin),
        status_code=200 if rango is None else 206,
        media_type=BEL,
        headers=cabeceras,
    )


@router.get(
    "/elecciones/{uuid}/pruebas-fuertes.json",
    tags=["tablón"],
    summary="Pruebas fuertes de los descifrados parciales del archivo (público)",
    description="Extensión de VMRE al archivo Belenios: por cada descifrado parcial del archivo, las pruebas "
    "cuyo reto también liga el cifrado y el factor (la de Belenios 3.0 no liga el factor). Verificable con "
    "`vmre verificar ARCHIVO.bel --pruebas-fuertes ESTE.json`. 404 antes de que exista el resultado; "
    "`strong_proofs` es null para un descifrado entregado antes de la extensión.",
    responses={404: PROBLEM},
)
async def pruebas_fuertes(uuid: EleccionPath, session: SessionDep) -> PruebasFuertesOut:
    e = await service.eleccion_o_404(session, uuid)
    if e.resultado is None or e.eleccion_json is None:
        raise Problem(
            404,
            "La elección aún no tiene resultado: las pruebas fuertes de sus descifrados se publican con él.",
        )
    descifrados = await repository.pruebas_fuertes(session, e.uuid)
    return PruebasFuertesOut(
        eleccion=e.uuid,
        huella=service.eleccion_belenios(e.eleccion_json).huella,
        descifrados=[
            DescifradoFuerte(owner=owner, strong_proofs=None if texto is None else json.loads(texto))
            for owner, texto in descifrados
        ],
    )


@router.get(
    "/elecciones/{uuid}/acta-apertura",
    tags=["elecciones"],
    summary="Acta de apertura firmada (público)",
    responses={404: PROBLEM},
)
async def acta_apertura(uuid: EleccionPath, session: SessionDep) -> ActaAperturaFirmada:
    e = await service.eleccion_o_404(session, uuid)
    if e.acta_apertura is None:
        raise Problem(404, "La elección aún no ha sido abierta.")
    return ActaAperturaFirmada.model_validate(e.acta_apertura)


@router.get(
    "/clave-firma", tags=["elecciones"], summary="Clave pública Ed25519 que firma las actas (público)"
)
async def clave_firma(settings: SettingsDep) -> ClaveFirmaOut:
    return ClaveFirmaOut(algoritmo="Ed25519", clave_verificacion=service.clave_verificacion(settings))


@router.get(
    "/participacion",
    tags=["tablón"],
    summary="Votos recibidos por elección y hora del Centro (público; nunca una elección de voto)",
)
async def participacion(session: SessionDep, proceso: ProcesoDep) -> list[ParticipacionHora]:
    return [ParticipacionHora.model_validate(f) for f in await service.participacion(session, proceso)]
