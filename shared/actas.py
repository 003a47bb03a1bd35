"""The acta de cómputo as OPL systems read it: computo serves it (GET /v1/computos/{e}, its webhook) and
tablero republishes it (GET /v1/entidades/{e}/actas). Documentation and the tests' check only: the body is
always the signed document as stored, never re-serialized (the signature covers its exact content).
extra="forbid": a field added to the acta without its schema fails tests/computo/test_computo_entidad.py."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Estricto(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PorModalidad(_Estricto):
    postal: int = Field(examples=[4466])
    electronica: int = Field(examples=[4440])
    presencial: int | None = Field(
        default=None,
        description="LNERE: quienes votan en persona en una sede; solo si los hay (2024 en adelante)",
    )
    total: int = Field(examples=[8906])


class ResultadosActa(_Estricto):
    partidos: dict[str, int] = Field(description="Votos de cada partido solo, en el orden de la boleta")
    combinaciones: dict[str, int] = Field(
        description="Votos por cada combinación de una coalición", examples=[{"PAN+PRI": 120}]
    )
    no_registrados: int
    nulos: int


class VotosPorOpcion(_Estricto):
    postal: dict[str, int] = Field(description="Opción de la boleta → votos postales")
    electronica: dict[str, int] = Field(
        description="Opción de la boleta → votos de la urna electrónica (por internet y, desde 2024, en los "
        "módulos de las sedes: una urna, un cómputo)"
    )


class ActaDeMesa(_Estricto):
    mesa: int = Field(description="Número de la MEC; 0 es el escrutinio del voto por internet")
    tipo: Literal["postal", "electronica"]
    votos: int
    estado: str | None = Field(default=None, description="Postal: estado del acta de la mesa")
    version: int | None = None
    incidentes: list[str] | None = None
    eleccion: str | None = Field(default=None, description="Por internet: la elección (uuid)")
    sello: str | None = Field(default=None, description="Por internet: huella de la urna sellada")
    boletas: int | None = None


class Firma(_Estricto):
    firma: str = Field(description="Ed25519 sobre el JSON canónico del acta (sin `firma`), en hex")
    clave_verificacion: str = Field(
        description="La clave con que se firmó; compárela con GET /v1/clave-firma"
    )
    algoritmo: str = Field(description="Qué se firma y cómo")


class ActaDeComputo(_Estricto):
    """The figures of the acta de cómputo of an entidad and office, as computo signs them."""

    documento: str
    proceso: str = Field(examples=["pel2021"])
    entidad: str = Field(examples=["09"])
    entidad_nombre: str = Field(examples=["Ciudad de México"])
    cargo: str = Field(examples=["diputacion_migrante"])
    lnere: PorModalidad
    votos: PorModalidad
    participacion: str = Field(description="Votos entre LNERE en %, dos decimales", examples=["55.96"])
    resultados: ResultadosActa
    por_modalidad: VotosPorOpcion
    distribucion: dict[str, int] = Field(description="Votos por partido tras la regla de coaliciones")
    candidaturas: dict[str, int] = Field(description="Votos por candidatura (coalición o partido)")
    personas_candidatas: dict[str, str] = Field(
        default_factory=dict,
        description="El nombre de la persona de cada candidatura, de las candidaturas aprobadas de la boleta "
        "(vacío si el proceso no las tiene)",
    )
    actas: list[ActaDeMesa]
    recuento: list[str] = Field(description="Motivos para contar de nuevo; vacío si no aplica ninguno")
    reglas: str
    publicada_at: str = Field(description="Instante ISO 8601")


class ActaComputoVista(ActaDeComputo):
    """The figures of the acta at the top level, plus `firma`. To verify: remove `firma`, serialize the rest
    as compact JSON (keys in the order received, UTF-8) and check the Ed25519 signature with computo's key
    (GET /v1/clave-firma); `vmre verificar` and shared/firma.py do it."""

    firma: Firma


class ActaFirmada(_Estricto):
    """The signed document as computo emitted it: `acta` (the figures) and its signature beside it."""

    cargo: str = Field(examples=["diputacion_migrante"])
    acta: ActaDeComputo
    firma: str
    clave_verificacion: str
    algoritmo: str
