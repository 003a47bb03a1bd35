"""The candidacies of each ballot: loaded by the OPL (national offices: ine-admin), approved by ine-admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from services.electronico.service import candidaturas
from shared.auth import Principal, Rol, require
from shared.problems import PROBLEM
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1")

AmbitoPath = Annotated[
    str,
    Path(
        pattern=r"^(nacional|0[1-9]|[12][0-9]|3[0-2])$",
        description="La entidad (clave INEGI, p. ej. 09) o «nacional» para un cargo nacional",
    ),
]
CargoPath = Annotated[str, Path(max_length=64, description="Clave del cargo, p. ej. gubernatura")]
Carga = Annotated[Principal, Depends(require(Rol.OPL, Rol.INE_ADMIN))]
Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]


class CandidaturaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nombre: str = Field(min_length=3, max_length=200, description="Nombre como aparece en la boleta")
    partidos: list[str] = Field(
        min_length=1, max_length=20, description="El partido que la postula, o todos los de su coalición"
    )


class CandidaturasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidaturas: list[CandidaturaIn] = Field(max_length=50)


class AprobacionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    huella: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="La huella de la versión revisada (la de GET o del PUT)"
    )


class CandidaturasOut(BaseModel):
    ambito: str
    cargo: str
    candidaturas: list[dict[str, Any]] = Field(description="En el orden de la boleta: nombre y partidos")
    huella: str = Field(description="SHA-256 de las candidaturas: lo que se aprueba y entra en cada elección")
    estado: str = Field(description="capturada | aprobada (la boleta queda fija)")
    capturada_at: Any
    aprobada_at: Any


@router.get(
    "/candidaturas",
    tags=["candidaturas"],
    summary="Las candidaturas de cada boleta, cargadas y aprobadas (público)",
)
async def lista(session: SessionDep) -> list[CandidaturasOut]:
    return [CandidaturasOut.model_validate(candidaturas.vista(c)) for c in await candidaturas.todas(session)]


@router.put(
    "/candidaturas/{ambito}/{cargo}",
    tags=["candidaturas"],
    summary="Cargar las candidaturas de una boleta (opl de la entidad; un cargo nacional: ine-admin)",
    description="Reemplaza la versión anterior mientras no esté aprobada y antes del plazo del proceso "
    "(`candidaturas_limite`). Cada candidatura la postula un partido de la entidad o todos los de una de "
    "sus coaliciones; un partido postula una sola. 422 con cada campo que falle; nada cambia.",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def cargar(
    ambito: AmbitoPath,
    cargo: CargoPath,
    datos: CandidaturasIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    principal: Carga,
) -> CandidaturasOut:
    c = await candidaturas.capturar(
        session,
        proceso,
        ambito,
        cargo,
        [x.model_dump() for x in datos.candidaturas],
        principal,
        reloj.ahora(),
    )
    return CandidaturasOut.model_validate(candidaturas.vista(c))


@router.post(
    "/candidaturas/{ambito}/{cargo}/aprobacion",
    tags=["candidaturas"],
    summary="Aprobar las candidaturas revisadas, por su huella: la boleta queda fija (ine-admin)",
    description="Repetirla con la misma huella responde lo mismo; otra huella (alguien cargó otra versión "
    "después de su revisión): 409.",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def aprobar(
    ambito: AmbitoPath,
    cargo: CargoPath,
    datos: AprobacionIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    principal: Admin,
) -> CandidaturasOut:
    c = await candidaturas.aprobar(session, proceso, ambito, cargo, datos.huella, principal, reloj.ahora())
    return CandidaturasOut.model_validate(candidaturas.vista(c))
