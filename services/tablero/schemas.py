from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ResumenSolicitudes(BaseModel):
    total: int
    por_entidad: dict[str, int] = Field(description="Clave INEGI de la entidad → solicitudes recibidas")
    por_modalidad: dict[str, int]


class Resumen(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "solicitudes": {
                        "total": 3,
                        "por_entidad": {"09": 2, "14": 1},
                        "por_modalidad": {"electronica": 2, "postal": 1},
                    }
                }
            ]
        }
    )

    solicitudes: ResumenSolicitudes


class ResumenEntidad(BaseModel):
    entidad: str
    solicitudes: dict[str, int | dict[str, int]] = Field(
        description="`total` y `por_modalidad` de las solicitudes de la entidad"
    )


# --- The OPL API and the dashboard: what `/v1/tablero` and `/v1/entidades/{e}/cifras` return ------------
# The bodies are built once per read-model version and cached as bytes (api._respuesta); they are built
# through these models, so the schema OpenAPI shows is the one the bytes follow.


class PorDia(BaseModel):
    dia: str = Field(description="Día (AAAA-MM-DD) en la zona horaria del proceso", examples=["2021-02-10"])
    total: int


class CifrasSolicitudes(BaseModel):
    total: int = Field(description="Solicitudes recibidas", examples=[208])
    por_modalidad: dict[str, int] = Field(examples=[{"electronica": 104, "postal": 104}])
    por_estado: dict[str, int] = Field(examples=[{"procedente": 200, "improcedente": 8}])
    por_dia: list[PorDia]
    por_entidad: dict[str, int] = Field(description="Clave INEGI → solicitudes", examples=[{"09": 208}])


class CifrasLnere(BaseModel):
    total: int = Field(description="Personas en la LNERE (lista cerrada)", examples=[176])
    postal: int
    electronica: int
    presencial: int = Field(0, description="Votan en persona en una sede consular")
    por_sede: dict[str, int] = Field(
        default_factory=dict, description="Sede consular → personas inscritas para votar ahí"
    )
    por_entidad: dict[str, int] = Field(description="Clave INEGI → personas en la LNERE")


class CifrasBoletasAdicionales(BaseModel):
    total: int = Field(0, description="Boletas adicionales entregadas en las sedes (no en la LNERE)")
    por_sede: dict[str, int] = Field(default_factory=dict, description="Sede consular → boletas adicionales")


class CifrasVotosSede(BaseModel):
    total: int = Field(
        0, description="Personas de la LNERE que ya votaron en persona en un módulo de una sede"
    )
    por_sede: dict[str, int] = Field(default_factory=dict, description="Sede consular → personas que votaron")


class CifrasPais(BaseModel):
    pais: str = Field(description="Código ISO 3166-1 alfa-2", examples=["US"])
    nombre: str = Field(examples=["Estados Unidos"])
    solicitudes: int


class CifrasSobres(BaseModel):
    por_clasificacion: dict[str, int] = Field(examples=[{"en_tiempo": 64, "extemporaneo": 2}])
    por_dia: list[PorDia]


class VotosPorHora(BaseModel):
    hora: str = Field(
        description="Inicio de la hora, en la zona horaria del proceso (ISO 8601)",
        examples=["2021-05-22T08:00:00-05:00"],
    )
    votos: int


class CifrasVotos(BaseModel):
    postal: int
    electronica: int
    total: int
    participacion: str | None = Field(
        description="Votos entre LNERE en %, dos decimales (null sin LNERE)", examples=["59.46"]
    )
    electronica_por_hora: list[VotosPorHora]


class ResultadoPublicado(BaseModel):
    entidad: str = Field(examples=["09"])
    cargo: str = Field(examples=["diputacion_migrante"])
    participacion: str | None = Field(examples=["59.46"])
    votos: dict[str, int] | None = Field(examples=[{"postal": 64, "electronica": 64, "total": 128}])
    distribucion: dict[str, int] | None = Field(description="Votos por partido tras la regla de coaliciones")


class Cifras(BaseModel):
    """Counts only: never the content of a vote nor anything about a person."""

    entidad: str | None = Field(description="Clave INEGI; null en el tablero de todas", examples=["09"])
    nombre: str = Field(examples=["Ciudad de México"])
    version: int = Field(description="Versión del modelo de lectura (cambia con cada evento aplicado)")
    entidades: dict[str, str] = Field(description="Clave INEGI → nombre, del proceso")
    sedes: dict[str, str] = Field(
        default_factory=dict, description="Clave de la sede consular → ciudad (país), del proceso"
    )
    solicitudes: CifrasSolicitudes
    lnere: CifrasLnere
    boletas_adicionales: CifrasBoletasAdicionales = Field(
        default_factory=CifrasBoletasAdicionales, description="Voto en persona de quien no está en la LNERE"
    )
    votos_sede: CifrasVotosSede = Field(
        default_factory=CifrasVotosSede,
        description="Participación en vivo de cada sede (personas de la LNERE)",
    )
    paises: list[CifrasPais] = Field(description="Solicitudes por país de residencia, de más a menos")
    paquetes: dict[str, int] = Field(description="Paquetes electorales postales por estado")
    sobres: CifrasSobres
    votos: CifrasVotos
    resultados: list[ResultadoPublicado] = Field(description="Actas de cómputo publicadas")


class ElementoSerie(BaseModel):
    valor: str = Field(examples=["postal"])
    total: int = Field(examples=[104])


class Serie(BaseModel):
    entidad: str = Field(examples=["09"])
    serie: str = Field(examples=["solicitudes"])
    dimension: str = Field(examples=["modalidad"])
    pagina: int = Field(ge=1, examples=[1])
    por_pagina: int = Field(ge=1, le=1000, examples=[100])
    total_elementos: int
    elementos: list[ElementoSerie]
    siguiente: int | None = Field(description="La página siguiente; null en la última")


class AvisoCifras(BaseModel):
    """What an OPL's webhook receives (POST, signed with `X-VMRE-Firma: t=…,v1=…`, see shared/webhooks.py)."""

    evento: str = Field(examples=["tablero.cifras.actualizadas"])
    evento_id: str = Field(
        description="Único por entrega lógica: descarte los repetidos", examples=["cifras-09-42"]
    )
    entidad: str = Field(examples=["09"])
    ocurrido_at: str = Field(description="Instante ISO 8601 (UTC)", examples=["2021-05-22T14:00:05+00:00"])
    datos: Cifras


# --- Open data: `/v1/datos-abiertos/agregados.json` (the same rows as the CSV) ----------------------------


class DatoAbierto(BaseModel):
    """One aggregate cell of the open data (its JSON Schema: `/v1/datos-abiertos/esquema.json`)."""

    entidad: str = Field(description="Clave INEGI", examples=["09"])
    serie: str = Field(examples=["solicitudes"])
    dimension: str = Field(examples=["pais"])
    valor: str = Field(description="p. ej. US, postal, 2021-01-10", examples=["US"])
    total: int | None = Field(
        description="null si la celda tiene menos de 5 personas (suprimida)", examples=[37]
    )


# --- the closing report (services/tablero/informe.py) -----------------------------------------------------


class LnereInforme(BaseModel):
    total: int
    postal: int
    electronica: int
    presencial: int = 0
    cerrada_at: str | None = Field(description="Cuándo se cerró la lista (hora del Centro)")


class VotosInforme(BaseModel):
    fuente: Literal["acta", "votos_recibidos"] = Field(
        description="«acta»: las cifras del acta de cómputo del primer cargo de la entidad; "
        "«votos_recibidos»: sin acta aún, los conteos en vivo (preliminares)"
    )
    postal: int
    electronica: int
    presencial: int | None = Field(
        None, description="En los módulos de las sedes consulares (solo si alguien votó así, como el acta)"
    )
    total: int
    participacion: str | None = Field(description="Votos entre LNERE en %, dos decimales")
    participacion_por_modalidad: dict[str, str | None]


class ActaInforme(BaseModel):
    documento: str
    publicada_at: str
    lnere: dict[str, int]
    votos: dict[str, int]
    participacion: str
    resultados: dict[str, Any]
    distribucion: dict[str, int]
    candidaturas: dict[str, int]
    personas_candidatas: dict[str, str] = Field(
        default_factory=dict, description="Nombre de la persona de cada candidatura (si la boleta los tuvo)"
    )
    recuento: list[str]
    firma: str | None = Field(description="La firma Ed25519 del acta, como la publicó computo")


class CargoInforme(BaseModel):
    cargo: str
    acta: ActaInforme | None = Field(description="Copiada del acta de cómputo publicada; null si aún no hay")


class SobresInforme(BaseModel):
    por_clasificacion: dict[str, int]
    extemporaneos_destruidos: int
    actas_de_destruccion: int


class EntidadInforme(BaseModel):
    nombre: str
    solicitudes: dict[str, Any]
    lnere: LnereInforme
    paquetes: dict[str, int] = Field(description="Paquetes que alcanzaron cada estado")
    sobres: SobresInforme
    votos: VotosInforme
    cargos: list[CargoInforme]


class SimulacroInforme(BaseModel):
    eleccion: str
    entidad: str
    cargo: str
    nombre: str
    abierta_at: str | None
    sellada_at: str | None
    credenciales: int | None
    participantes: int
    participacion: str | None


class Periodo(BaseModel):
    desde: str | None
    hasta: str | None


class EtapaInforme(BaseModel):
    etapa: str
    previsto: Periodo = Field(description="Según el calendario del proceso")
    observado: Periodo | None = Field(description="Primer y último día (o instante) en los eventos")


class IncidenteInforme(BaseModel):
    entidad: str
    cargo: str
    mesa: int
    incidente: str


class RecuentoInforme(BaseModel):
    entidad: str
    cargo: str
    motivos: list[str]


class EntidadNacional(BaseModel):
    votos: int
    participacion: str | None
    distribucion: dict[str, int]


class CargoNacionalInforme(BaseModel):
    """A national office (Presidencia): the sum of its actas de cómputo, one per entidad."""

    cargo: str
    nombre: str
    actas: int = Field(description="Actas de cómputo de entidad publicadas y sumadas")
    de: int = Field(description="Entidades del informe")
    completo: bool = Field(description="Verdadero cuando están todas: antes, la suma es preliminar")
    lnere: dict[str, int] = Field(default_factory=dict)
    votos: dict[str, int] = Field(default_factory=dict)
    participacion: str | None
    resultados: dict[str, Any] = Field(default_factory=dict)
    distribucion: dict[str, int] = Field(default_factory=dict)
    candidaturas: dict[str, int] = Field(default_factory=dict)
    por_entidad: dict[str, EntidadNacional]


class InformeFinal(BaseModel):
    """The closing report: LNERE, packages, envelopes, votes and results (copied from the actas), drills,
    timeline, incidents and recounts."""

    documento: str
    proceso: str
    proceso_nombre: str
    alcance: str = Field(description="«nacional» o la clave de la entidad")
    generado_at: str
    version_modelo: int = Field(description="Eventos aplicados al modelo de lectura cuando se generó")
    completo: bool = Field(description="Verdadero cuando todas las actas de cómputo están publicadas")
    totales: dict[str, int | str | None]
    lnere_por_pais: dict[str, dict[str, int]]
    entidades: dict[str, EntidadInforme]
    cargos_nacionales: list[CargoNacionalInforme] = Field(
        description="Cada cargo nacional con la suma de sus actas (vacío en un informe de entidad)"
    )
    simulacros: list[SimulacroInforme]
    cronologia: list[EtapaInforme]
    incidentes: list[IncidenteInforme]
    recuentos: list[RecuentoInforme]
