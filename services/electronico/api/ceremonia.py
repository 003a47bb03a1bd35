"""The key ceremony (custodians), opening, sealing and drills (ine-admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from services.electronico import ceremonia, service
from services.electronico.api.comun import Admin, Custodio, SettingsDep, salida
from services.electronico.schemas import (
    ActaAperturaFirmada,
    CeremoniaOut,
    EleccionOut,
    InformeSimulacro,
    SelloOut,
    SimulacroIn,
)
from services.electronico.service import simulacros
from shared.auth import Principal, Rol, require
from shared.claves import EleccionPath, EntidadQuery
from shared.problems import PROBLEM, Problem
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1")


@router.get(
    "/elecciones/{uuid}/ceremonia",
    tags=["ceremonia"],
    summary="Estado de la ceremonia de llaves y sus mensajes públicos (público)",
    responses={404: PROBLEM},
)
async def ceremonia_estado(uuid: EleccionPath, session: SessionDep) -> CeremoniaOut:
    return CeremoniaOut.model_validate(
        await ceremonia.estado(session, await service.eleccion_o_404(session, uuid))
    )


@router.put(
    "/elecciones/{uuid}/ceremonia/{indice}/{paso}",
    tags=["ceremonia"],
    summary="Entregar el mensaje público de un paso de la ceremonia (custodio)",
    description="Paso 1 certificado, 2 polinomio, 3 clave de verificación. "
    "Lo envía `vmre custodio ceremonia`.",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def ceremonia_paso(
    uuid: EleccionPath,
    indice: Annotated[int, Path(ge=1, le=99)],
    paso: Annotated[int, Path(ge=1, le=3)],
    contenido: dict[str, Any],
    session: SessionDep,
    custodio: Custodio,
) -> CeremoniaOut:
    e = await service.eleccion_o_404(session, uuid)
    return CeremoniaOut.model_validate(
        await ceremonia.recibir(session, e, indice, paso, custodio.sub, contenido)
    )


@router.post(
    "/elecciones/{uuid}/apertura",
    tags=["ceremonia"],
    summary="Abrir la elección: acta de apertura firmada con la urna vacía (ine-admin)",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def apertura(
    uuid: EleccionPath,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    settings: SettingsDep,
    _: Admin,
) -> ActaAperturaFirmada:
    e = await service.eleccion_o_404(session, uuid)
    return ActaAperturaFirmada.model_validate(
        await service.abrir(session, e, proceso, settings, reloj.ahora())
    )


@router.post(
    "/elecciones/{uuid}/cierre",
    tags=["ceremonia"],
    summary="Sellar la urna al terminar el periodo (ine-admin; también ocurre solo a la hora del cierre)",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def cierre(
    uuid: EleccionPath, request: Request, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, _: Admin
) -> SelloOut:
    e = await service.eleccion_o_404(session, uuid, bloqueo="exclusivo")
    sello = await service.sellar(session, e, reloj.ahora(), proceso, request.app.state.verificadores)
    return SelloOut(eleccion=uuid, sello=sello)


@router.post(
    "/simulacros",
    tags=["ceremonia"],
    summary="Crear un simulacro: elecciones aparte, marcadas, con llaves propias (ine-admin)",
    status_code=201,
    responses={404: PROBLEM, 422: PROBLEM},
)
async def simulacro(
    datos: SimulacroIn,
    session: SessionDep,
    proceso: ProcesoDep,
    settings: SettingsDep,
    _: Admin,
) -> list[EleccionOut]:
    creadas = await service.crear_simulacro(
        session, proceso, settings, datos.entidad, datos.inicio, datos.fin
    )
    return [salida(e, 0) for e in creadas]


Lector = Annotated[Principal, Depends(require(Rol.INE_ADMIN, Rol.AUDITOR, Rol.OPL))]


@router.get(
    "/simulacros/informe",
    tags=["ceremonia"],
    summary="Informe de los simulacros: participación por hora, tiempo para votar, errores (ine-admin, "
    "auditor, opl de su entidad)",
    description="Por cada elección de simulacro: credenciales (de la LNERE y de probadores), votos, "
    "participación, votos por hora (del Centro), el tiempo del ingreso a la boleta (mediana, percentil 90, "
    "máximo) y las boletas rechazadas por motivo. Solo cuentas y duraciones: nunca una elección ni quién. Un "
    "OPL ve solo los de su entidad.",
    responses={401: PROBLEM, 403: PROBLEM, 422: PROBLEM},
)
async def informe_simulacros(
    session: SessionDep, proceso: ProcesoDep, principal: Lector, entidad: EntidadQuery = None
) -> list[InformeSimulacro]:
    if principal.rol == Rol.OPL:
        if entidad not in (None, principal.entidad):
            raise Problem(
                403, f"Este token es del OPL de la entidad {principal.entidad}: no ve la {entidad}."
            )
        entidad = principal.entidad
    return [InformeSimulacro.model_validate(x) for x in await simulacros.informe(session, proceso, entidad)]
