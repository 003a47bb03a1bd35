from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.actas import ActaComputoVista
from shared.db import ENTERO_MAX


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


# --- The acta de cómputo as OPL systems read it: models in shared/actas.py (tablero serves it too) ---------


class AvisoActa(BaseModel):
    """What an OPL's webhook receives when the acta de cómputo of its entidad is published."""

    model_config = ConfigDict(extra="forbid")

    evento: str = Field(examples=["computo.acta.publicada"])
    evento_id: str = Field(examples=["acta-09-diputacion_migrante"])
    entidad: str = Field(examples=["09"])
    ocurrido_at: str
    datos: ActaComputoVista


# --- The electronic MEC: what `GET /v1/escrutinio-electronico/{eleccion}` (and the deliveries) return -------

EJEMPLO_ESCRUTINIO: dict[str, Any] = {
    "eleccion": "rske84javb6rqk",
    "entidad": "09",
    "cargo": "diputacion_migrante",
    "simulacro": False,
    "boletas": 64,
    "sello": "3f2a9c0e7b5d41a8c6e2f9b0d3a7c5e18b4f6a2d9c0e7b3a5f1d8c6e4b2a9f07",
    "eleccion_json": '{"version":1,"description":"…","name":"…","questions":[…],"uuid":"…"}',
    "recuento": '[[{"alpha":"…","beta":"…"}, …]]',
    "custodios": 3,
    "necesarios": 2,
    "recibidos": [1, 3],
    "cuarentena": [],
    "anulados": [
        {
            "indice": 2,
            "motivo": "Entregado con la clave equivocada",
            "at": "2021-06-07T02:10:00Z",
        }
    ],
    "votos": {"PAN": 20, "PRI": 10, "MORENA": 30, "PAN+PRI": 1, "no_registrados": 1, "nulos": 2},
    "publicado_at": "2021-06-07T02:15:00Z",
}


class DescifradoApartado(BaseModel):
    """A partial decryption left out of the result: in quarantine (its factor is false) or voided."""

    model_config = ConfigDict(extra="forbid")

    indice: int = Field(description="Índice del custodio", examples=[2])
    motivo: str | None = Field(
        description="Por qué se apartó", examples=["Entregado con la clave equivocada"]
    )
    at: dt.datetime | None = Field(description="Cuándo se apartó")


class EstadoEscrutinio(BaseModel):
    """The electronic MEC of an election: its sealed box, the decryptions received and, with k of them, the
    result. `mensaje` appears only while there is no result (the response omits it otherwise)."""

    # extra="forbid": a key escrutinio.estado adds must be documented here (never silently dropped).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EJEMPLO_ESCRUTINIO]})

    eleccion: str = Field(description="La elección de Belenios (uuid)")
    entidad: str = Field(description="Clave INEGI")
    cargo: str
    simulacro: bool
    boletas: int = Field(description="Boletas en la urna sellada")
    sello: str = Field(description="Huella de la urna sellada")
    eleccion_json: str = Field(description="La elección de Belenios (JSON)")
    recuento: str = Field(description="El recuento cifrado (encrypted_tally de Belenios, JSON)")
    custodios: int = Field(description="Custodios de la elección")
    necesarios: int = Field(description="Descifrados parciales necesarios para el resultado")
    recibidos: list[int] = Field(description="Índices de los custodios con un descifrado válido")
    cuarentena: list[DescifradoApartado] = Field(
        description="Descifrados cuya prueba verifica pero cuyo factor es falso: no se usan"
    )
    anulados: list[DescifradoApartado] = Field(description="Descifrados anulados por ine-admin")
    votos: dict[str, int] | None = Field(description="Opción de la boleta → votos; null sin resultado")
    publicado_at: dt.datetime | None = Field(description="Cuándo se publicó el resultado")
    mensaje: str | None = Field(
        default=None,
        description="Solo sin resultado: qué falta para tenerlo",
        examples=["Sin resultado: faltan 1 descifrados parciales de custodios (1 de 2 necesarios)."],
    )


class ClaveFirma(BaseModel):
    """The public key that signs the actas de cómputo (verify with any Ed25519 library or shared/firma.py)."""

    algoritmo: str = Field(examples=["Ed25519"])
    clave_verificacion: str = Field(
        description="Clave pública Ed25519 (32 bytes, en hex)",
        examples=["4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"],
    )
