"""Voting, with a voter's session: the voter's elections and casting the encrypted ballot."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.electronico import repository, service
from services.electronico.api.comun import VotanteDep, eleccion_detalle
from services.electronico.schemas import AcuseOut, EleccionVotante
from services.electronico.service import simulacros
from shared.claves import EleccionPath
from shared.problems import PROBLEM, Problem
from shared.web import ProcesoDep, RelojDep, SessionDep, transaccion

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1")
VERIFICAR = "/verificar"  # the page «verificar mi voto» (services/electronico/paginas), same service


class EleccionConAcuse(EleccionVotante):
    """``EleccionVotante`` and, once the person voted, when the ballot was recorded and where to check the
    receipt. Only adds fields: the JSON of ``GET /v1/votante`` stays what it was."""

    emitida_at: dt.datetime | None = Field(
        None,
        description="Cuándo quedó su boleta en la urna (la hora del tablón público); null si no ha votado",
        examples=["2021-05-25T15:00:00Z"],
    )
    verificar: str | None = Field(
        None,
        description="La página donde comprueba su acuse en el tablón público (se pega el rastreador en "
        "el formulario; nunca va en la URL); null si no ha votado",
        examples=[VERIFICAR],
    )


class VotanteConAcusesOut(BaseModel):
    """The voter's view: the same fields as before (usuario, entidad, elecciones), each election with its
    receipt's time and the page to check it."""

    usuario: str = Field(examples=["V09K7Q2M4XP"])
    entidad: str = Field(examples=["09"])
    elecciones: list[EleccionConAcuse]


@router.get(
    "/votante", tags=["votación"], summary="Mis elecciones (sesión de votante)", responses={401: PROBLEM}
)
async def votante(v: VotanteDep, session: SessionDep, proceso: ProcesoDep) -> VotanteConAcusesOut:
    filas = await repository.elecciones_del_votante(session, v)
    conteos = await repository.conteos_de_boletas(session)
    emitidas = await repository.emitidas_del_votante(session, v.id)
    return VotanteConAcusesOut(
        usuario=v.usuario,
        entidad=v.entidad,
        elecciones=[
            EleccionConAcuse(
                **dict(eleccion_detalle(e, conteos.get(e.uuid, 0), proceso)),
                rastreador=r,
                emitida_at=emitidas.get(e.uuid) if r else None,
                verificar=VERIFICAR if r else None,
            )
            for e, r in filas
        ],
    )


@router.post(
    "/elecciones/{uuid}/boletas",
    tags=["votación"],
    summary="Emitir el voto: la boleta cifrada y firmada en su dispositivo",
    description="El cuerpo es el JSON canónico de la boleta Belenios, tal cual lo produjo la cabina. "
    "`Idempotency-Key`: un reintento con la misma clave devuelve el acuse original (200).",
    status_code=201,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    },
    responses={
        200: {"description": "Reintento: el acuse original"},
        401: PROBLEM,
        403: PROBLEM,
        404: {"description": "No existe la elección", **PROBLEM},
        409: PROBLEM,
        413: {"description": "La boleta excede 1 MB", **PROBLEM},
        422: PROBLEM,
    },
)
async def emitir(
    uuid: EleccionPath,
    request: Request,
    v: VotanteDep,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Any:
    cuerpo = await request.body()
    if len(cuerpo) > 1_000_000:
        raise Problem(413, "La boleta excede 1 MB.")
    try:
        texto = cuerpo.decode("utf-8")
        json.loads(texto)
    except ValueError:
        raise Problem(422, "El cuerpo debe ser la boleta en JSON (UTF-8).", slug="boleta-invalida") from None
    e = await service.eleccion_o_404(session, uuid, bloqueo="compartido")
    try:
        acuse = await service.emitir(
            session,
            e,
            v,
            texto,
            idempotency_key,
            proceso,
            reloj.ahora(),
            request.app.state.verificadores,
            sesion_at=request.state.sesion_creada_at,
        )
    except Problem as p:
        # A drill's report counts what its voters met, in a transaction of its own (no audit record: nothing
        # of the voter's changed). This one is rolled back first: it keeps nothing anyway, and it must let go
        # of its locks (SQLite's single writer, after a lost race to store the ballot). Never at the cost of
        # the answer: if the count fails, the voter still gets the refusal.
        if e.simulacro:
            await session.rollback()  # (it expires `e`: only `uuid` below)
            try:
                async with transaccion(request, lectura=True) as aparte:
                    await simulacros.error_de_simulacro(aparte, uuid, p.slug, reloj.ahora())
            except Exception:
                log.warning("error de simulacro sin contar", extra={"eleccion": uuid}, exc_info=True)
        raise
    salida = AcuseOut(
        rastreador=acuse.rastreador,
        eleccion=acuse.eleccion,
        emitida_at=acuse.emitida_at,
        tablon=f"/v1/elecciones/{uuid}/tablon",
    )
    if acuse.nuevo:
        return salida
    return Response(salida.model_dump_json(), status_code=200, media_type="application/json")
