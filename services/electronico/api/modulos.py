"""Voting in person at a consular site: the site's staff open a turn for a voter, the site's kiosk redeems
it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field, model_validator

from services.electronico.api.comun import ComoVotante, Limitado
from services.electronico.service import modulos
from shared.auth import Principal, Rol, require
from shared.claves import ClaveEntidad, SedePath
from shared.problems import PROBLEM
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["voto en persona"])
Personal = Annotated[Principal, Depends(require(Rol.INE_OPERADOR))]
SIN_CACHE = {"Cache-Control": "no-store"}


class TurnoIn(BaseModel):
    entidad: ClaveEntidad = Field(description="Entidad de la credencial", examples=["09"])
    numero: int | None = Field(
        None,
        ge=1,
        le=9_999_999,
        description="Número de la persona en la LNERE de su entidad (de la consulta)",
    )
    adicional: int | None = Field(
        None,
        ge=1,
        le=99_999,
        description="Quien no está en la LNERE: el folio de su boleta adicional (de la entrega en registro, "
        "`folio`); vota en el módulo los cargos nacionales",
    )

    @model_validator(mode="after")
    def _uno(self) -> TurnoIn:
        if (self.numero is None) == (self.adicional is None):
            raise ValueError(
                "dé el número en la LNERE (numero) o el folio de la boleta adicional (adicional)"
            )
        return self


class TurnoOut(BaseModel):
    codigo: str = Field(
        description="Código de un solo uso que se escribe en el módulo", examples=["K7Q2M-4XPAB"]
    )
    expira_at: dt.datetime
    elecciones: list[str] = Field(description="Las elecciones en las que votará en el módulo")


class CanjeIn(BaseModel):
    codigo: str = Field(min_length=10, max_length=20, description="El código del turno")


class CanjeOut(BaseModel):
    sesion: str = Field(description="Sesión de votante para la cabina del módulo (Bearer)")
    expira_at: dt.datetime
    sede: str
    entidad: str
    numero: int
    credenciales: dict[str, str] = Field(
        description="Por uuid de elección, la credencial privada sellada a la clave de la sede: el módulo la "
        "abre en su navegador (shared/cripto/sede.py); el servidor no puede abrirla"
    )


@router.post(
    "/modulo/{sede}/turnos",
    status_code=201,
    summary="Abrir un turno en un módulo de la sede para una persona de su lista o con boleta adicional "
    "(ine-operador de la sede)",
    description="Tras cotejar la credencial de la persona con la lista de la sede (`POST /v1/sedes/{sede}/"
    "consultas` de registro da su número), o tras entregarle una boleta adicional (`POST /v1/sedes/{sede}/"
    "boletas-adicionales` da su `folio`: vota los cargos nacionales). Devuelve un código de un solo uso, "
    "vigente 10 minutos, que se escribe en el módulo; un turno nuevo para la misma persona anula el "
    "anterior. Personal de otra sede: 403; quien no está en la lista de esta sede (o una boleta adicional "
    "que la sede no entregó): 404; quien ya votó en todas sus elecciones: 409 `ya-voto`; fuera del horario "
    "de la sede: 409 `sede-cerrada`. Ninguno cambia nada.",
    responses={401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def abrir_turno(
    sede: SedePath,
    datos: TurnoIn,
    response: Response,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    principal: Personal,
) -> TurnoOut:
    turno = await modulos.abrir_turno(
        session, proceso, sede, datos.entidad, principal, reloj.ahora(), datos.numero, datos.adicional
    )
    response.headers.update(SIN_CACHE)
    return TurnoOut(codigo=turno.codigo, expira_at=turno.expira_at, elecciones=turno.elecciones)


@router.post(
    "/modulo/turno",
    summary="El módulo canjea el código del turno: sesión de votante y credenciales selladas a la sede",
    description="Una vez y antes de que venza; si no, 401 `turno-invalido`. Las credenciales vienen selladas "
    "a la clave de la sede: solo un módulo de la sede, que tiene la clave privada, las abre. Con la sesión, "
    "la cabina del módulo vota como la de internet y al terminar la cierra (`DELETE /v1/acceso`).",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 422: PROBLEM, 429: PROBLEM},
)
async def canjear(datos: CanjeIn, response: Response, session: SessionDep, reloj: RelojDep) -> CanjeOut:
    canje = await modulos.canjear(session, datos.codigo, reloj.ahora())
    response.headers.update(SIN_CACHE)
    return CanjeOut(**canje.__dict__)
