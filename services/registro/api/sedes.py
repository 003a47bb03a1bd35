"""Election day at a consular site (#27): the extra ballots for citizens not on the LNERE."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.registro.api.common import errores
from services.registro.schemas import (
    BoletaAdicionalIn,
    BoletaAdicionalOut,
    BoletasSedeOut,
    ConsultaSedeIn,
    ConsultaSedeOut,
)
from services.registro.service import sedes
from shared.auth import Principal, Rol, require
from shared.claves import SedePath
from shared.sedes import personal_de, sede_o_404
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["sedes"])

Personal = Annotated[Principal, Depends(require(Rol.INE_OPERADOR))]
Lector = Annotated[Principal, Depends(require(Rol.INE_OPERADOR, Rol.INE_ADMIN, Rol.AUDITOR))]


@router.post(
    "/sedes/{sede}/boletas-adicionales",
    status_code=201,
    response_model=BoletaAdicionalOut,
    summary="Entregar una boleta adicional a quien no está en la LNERE (ine-operador de la sede)",
    description="El día de la jornada, en el horario de la sede, a una persona con credencial para votar "
    "vigente que no está en la LNERE: cuenta contra las boletas adicionales de la sede y queda registrada "
    "por su clave de elector (cifrada), así esa persona no recibe otra en ninguna sede. Quien está en la "
    "LNERE (409 `en-la-lnere`), una clave que ya recibió una (409 `ya-recibio`), la sede sin boletas "
    "(409 `sin-boletas-adicionales`) o fuera de su horario (409 `sede-cerrada`): no cambia nada. Solo el "
    "personal de la sede: el token de `ine-operador` trae el claim `sede` (`vmre token --sede`).",
    responses=errores(401, 403, 404, 409, 422),
)
async def entregar(
    sede: SedePath,
    datos: BoletaAdicionalIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    principal: Personal,
) -> BoletaAdicionalOut:
    r = await sedes.entregar(
        session, proceso, sede, datos.clave_elector, datos.entidad, principal, reloj.ahora()
    )
    return BoletaAdicionalOut(**r)


@router.get(
    "/sedes/{sede}/boletas-adicionales",
    response_model=BoletasSedeOut,
    summary="Las boletas adicionales de una sede: tope, entregadas y por entidad",
    description="ine-operador solo la de su sede; ine-admin y auditor, cualquiera. Sin nombres ni claves.",
    responses=errores(401, 403, 404, 422),
)
async def estado(
    sede: SedePath, session: SessionDep, proceso: ProcesoDep, principal: Lector
) -> BoletasSedeOut:
    sede_o_404(proceso, sede)
    personal_de(principal, sede)
    return BoletasSedeOut(**await sedes.estado(session, proceso, sede))


@router.post(
    "/sedes/{sede}/consultas",
    response_model=ConsultaSedeOut,
    response_model_exclude_none=True,
    summary="A la entrada: qué puede hacer aquí la persona de esta credencial (ine-operador de la sede)",
    description="Con la clave de elector de la credencial (en el cuerpo: nunca en la URL ni en un log). Solo "
    "nombra a quien está en la lista de esta sede, para cotejarlo con la credencial; de cualquier otra "
    "persona dice dónde vota, sin su nombre. No cambia nada. Solo el personal de la sede.",
    responses=errores(401, 403, 404, 422),
)
async def consultar(
    sede: SedePath, datos: ConsultaSedeIn, session: SessionDep, proceso: ProcesoDep, principal: Personal
) -> ConsultaSedeOut:
    return ConsultaSedeOut(**await sedes.consultar(session, proceso, sede, datos.clave_elector, principal))
