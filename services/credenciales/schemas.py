"""The credential authority's public answers (pydantic), with examples. Nothing here says who has which
credential: counts, the signed list and the verification key."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class EleccionCredenciales(BaseModel):
    """How many credentials an election has, to compare with the internet voters of the closed LNERE."""

    model_config = ConfigDict(
        extra="forbid",  # a key service.resumen adds must be documented here
        json_schema_extra={
            "examples": [
                {
                    "eleccion": "rske84javb6rqk",
                    "entidad": "09",
                    "cargo": "diputacion_migrante",
                    "nombre": "Diputación Migrante · Ciudad de México",
                    "simulacro": False,
                    "credenciales": 104,
                    "lnere_electronica": 104,
                    "firmada_at": "2021-05-20T12:00:00Z",
                }
            ]
        },
    )

    eleccion: str = Field(description="La elección de Belenios (uuid)")
    entidad: str = Field(description="Clave INEGI")
    cargo: str
    nombre: str
    simulacro: bool
    credenciales: int = Field(description="Credenciales emitidas (una por votante por internet)")
    lnere_electronica: int | None = Field(
        description="Votantes por internet de la LNERE cerrada; null si aún no se cierra"
    )
    firmada_at: dt.datetime | None = Field(description="Cuándo se firmó la lista; null si aún no")


class ListaCredenciales(BaseModel):
    """What the authority signs: the election, its number of credentials and the SHA-256 of the sorted
    list as it goes in the public record."""

    model_config = ConfigDict(extra="forbid")

    documento: str = Field(examples=["Lista de credenciales públicas de la elección"])
    eleccion: str = Field(description="La elección de Belenios (uuid)", examples=["rske84javb6rqk"])
    entidad: str = Field(examples=["09"])
    cargo: str = Field(examples=["diputacion_migrante"])
    simulacro: bool = Field(examples=[False])
    credenciales: int = Field(description="Credenciales en la lista", examples=[104])
    lnere_electronica: int = Field(description="Votantes por internet de la LNERE cerrada", examples=[104])
    lnere_presencial: int | None = Field(
        None, description="Votantes en persona de la LNERE cerrada (sus credenciales, selladas a su sede)"
    )
    reserva_sedes: int | None = Field(
        None,
        description="Cargos nacionales: credenciales de reserva de las sedes para las boletas adicionales, "
        "selladas a la clave de cada sede (solo vota la de una boleta que la sede entregó)",
    )
    probadores: int | None = Field(
        None, description="Simulacros: probadores de la entidad, fuera de la LNERE (POST /v1/probadores)"
    )
    huella_lista: str = Field(
        description="SHA-256 (hex) de la lista ordenada tal como va en el archivo público"
    )
    firmada_at: str = Field(description="Instante ISO 8601", examples=["2021-05-20T12:00:00+00:00"])


class ListaFirmada(BaseModel):
    """The signed document as stored (shared/firma.py): `acta` and, beside it, its Ed25519 signature. To
    verify: the compact JSON of `acta` (keys in the order received, UTF-8) against the key of
    `GET /v1/clave-firma`; `vmre verificar --lista-credenciales` does it."""

    model_config = ConfigDict(extra="forbid")

    acta: ListaCredenciales
    firma: str = Field(description="Ed25519 sobre el JSON canónico de `acta`, en hex")
    clave_verificacion: str = Field(
        description="La clave con que se firmó; compárela con GET /v1/clave-firma"
    )
    algoritmo: str = Field(description="Qué se firma y cómo")


class ClaveFirma(BaseModel):
    """The public key that signs the lists (verify with any Ed25519 library or shared/firma.py)."""

    clave_verificacion: str = Field(
        description="Clave pública Ed25519 (32 bytes, en hex)",
        examples=["4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"],
    )
    algoritmo: str = Field(
        examples=["Ed25519 sobre el JSON canónico (compacto, claves en el orden dado, UTF-8) de «acta»"]
    )
