from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.db import ENTERO_MAX

ENTIDAD = r"^(0[1-9]|[12][0-9]|3[0-2])$"


class Funcionarios(BaseModel):
    presidente: str = Field(min_length=3, max_length=200)
    secretario: str = Field(min_length=3, max_length=200)
    escrutadores: list[str] = Field(min_length=2, max_length=2)
    suplentes: list[str] = Field(default_factory=list, max_length=2)


class InstalacionIn(BaseModel):
    funcionarios: Funcionarios
    representantes: dict[str, list[str]] = Field(
        default_factory=dict, description="Partido → hasta dos representantes"
    )


class MesaOut(BaseModel):
    entidad: str
    numero: int
    tipo: str
    sobres: int
    instalada_at: dt.datetime | None
    funcionarios: dict[str, Any] | None = None
    representantes: dict[str, Any] | None = None


class ActaIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cargo": "diputacion_migrante",
                    "votos": {"PAN": 120, "MORENA": 80, "PAN+PRI": 3, "no_registrados": 1, "nulos": 6},
                    "total": 210,
                    "sobres_recibidos": 210,
                    "sobres_vacios": 2,
                    "sobres_con_varias_boletas": 1,
                    "incidentes": [],
                }
            ]
        }
    )

    cargo: str = Field(min_length=1, max_length=64)
    votos: dict[str, Annotated[int, Field(le=ENTERO_MAX)]] = Field(
        description="Votos por opción: partidos, combinaciones, no_registrados, nulos"
    )
    total: int = Field(ge=0, le=ENTERO_MAX, description="Total de votos asentado en el acta")
    sobres_recibidos: int = Field(ge=0, le=ENTERO_MAX, description="Sobres-voto abiertos en la mesa")
    sobres_vacios: int = Field(
        0, ge=0, le=ENTERO_MAX, description="Sobres sin boleta (se cuentan como nulos)"
    )
    sobres_con_varias_boletas: int = Field(
        0, ge=0, le=ENTERO_MAX, description="Sobres con más de una boleta del cargo (nulos)"
    )
    incidentes: list[str] = Field(default_factory=list, max_length=50)


class CorreccionIn(ActaIn):
    motivo: str = Field(
        min_length=10, max_length=2000, description="Por qué se corrige (queda en el historial)"
    )


class ActaOut(BaseModel):
    entidad: str
    mesa: int
    cargo: str
    estado: str = Field(description="capturada (falta la segunda captura), validada, revision, corregida")
    datos: dict[str, Any] | None
    diferencias: list[str] | None
    advertencias: list[str] = Field(default_factory=list)
    version: int
    capturas: int
    historial: list[dict[str, Any]] = Field(default_factory=list)


class AnulacionIn(BaseModel):
    motivo: str = Field(
        min_length=10, max_length=2000, description="Por qué se anula el descifrado (queda en la bitácora)"
    )
