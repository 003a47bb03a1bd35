from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.claves import ClaveEntidad
from shared.db import ENTERO_MAX


class PaqueteEnvio(BaseModel):
    entidad: ClaveEntidad
    numero: int = Field(ge=1, le=ENTERO_MAX)
    guia: str = Field(min_length=3, max_length=64, description="Número de guía del transportista")


class EnvioIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "transportista": "mensajeria",
                    "paquetes": [{"entidad": "09", "numero": 1, "guia": "MX1234567890"}],
                }
            ]
        }
    )

    transportista: str = Field(pattern=r"^[a-z0-9_-]{2,32}$")
    paquetes: list[PaqueteEnvio] = Field(min_length=1, max_length=5000)


class DomicilioCorregido(BaseModel):
    calle_numero: str | None = Field(default=None, min_length=1, max_length=200)
    ciudad: str | None = Field(default=None, min_length=1, max_length=120)
    region: str | None = Field(default=None, max_length=120)
    codigo_postal: str | None = Field(default=None, min_length=1, max_length=20)


class ReenvioIn(BaseModel):
    transportista: str = Field(pattern=r"^[a-z0-9_-]{2,32}$")
    guia: str = Field(min_length=3, max_length=64)
    domicilio: DomicilioCorregido | None = None


class EventoTransportistaIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "evento_id": "evt-000123",
                    "guia": "MX1234567890",
                    "estado": "entregado",
                    "ocurrido_at": "2021-05-03T15:20:00-05:00",
                    "detalle": "Firmó: M. Gómez",
                }
            ]
        }
    )

    evento_id: str = Field(
        min_length=1, max_length=100, description="Id único del evento en el transportista"
    )
    guia: str = Field(min_length=3, max_length=64)
    estado: Literal["en_transito", "entregado", "no_entregado", "devuelto"]
    ocurrido_at: dt.datetime = Field(description="Con zona horaria")
    detalle: str | None = Field(default=None, max_length=500)

    @field_validator("ocurrido_at")
    @classmethod
    def _con_zona(cls, valor: dt.datetime) -> dt.datetime:
        if valor.tzinfo is None:
            raise ValueError("Indique la zona horaria (p. ej. 2021-05-03T15:20:00-05:00).")
        return valor.astimezone(dt.UTC)


class EventosLote(BaseModel):
    eventos: list[EventoTransportistaIn] = Field(min_length=1, max_length=20000)


class ResultadoEventos(BaseModel):
    aplicados: int
    ignorados: int = Field(description="No mueven el paquete (atrasados o repetidos)")
    duplicados: int = Field(description="Mismo id de evento ya recibido")
    sin_paquete: int = Field(description="Guía desconocida")


class SobreIn(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True, json_schema_extra={"examples": [{"clave_elector": "GOMZAN85031209M700"}]}
    )

    clave_elector: str = Field(
        pattern=r"^[A-Za-z]{6}[0-9]{8}[HMhm][0-9A-Za-z]{3}$",
        description="Código de barras del sobre de retorno",
    )


class SobreOut(BaseModel):
    clasificacion: Literal["en_tiempo", "extemporaneo", "desconocido", "duplicado"]
    cuenta: bool = Field(description="true solo si el voto cuenta")
    entidad: str | None
    recibido_at: dt.datetime
    mensaje: str


class PaqueteCiudadano(BaseModel):
    folio: str
    estado: str
    transportista: str | None
    guia: str | None
    enviado_at: dt.datetime | None
    voto_recibido: bool
    voto_recibido_at: dt.datetime | None
    limite_recepcion: dt.datetime


class Mesas(BaseModel):
    entidad: str
    mesas: list[int] = Field(description="Sobres por mesa (máximo 1,500 cada una)")


class EnviosOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enviados": 1}]})

    enviados: int = Field(description="Paquetes registrados como enviados")


class ReenvioOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"entidad": "09", "numero": 1, "estado": "enviado", "guia": "MX1234567891", "envios": 2}
            ]
        }
    )

    entidad: str
    numero: int
    estado: str
    guia: str | None = Field(description="La guía nueva")
    envios: int = Field(description="Veces que se ha enviado el paquete")


class DestruccionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"entidad": "09", "numero": 1, "estado": "destruido"}]}
    )

    entidad: str
    numero: int
    estado: str


class Estadisticas(BaseModel):
    model_config = ConfigDict(
        extra="forbid",  # built from the use case's dict: an undeclared key fails, not vanishes
        json_schema_extra={
            "examples": [
                {
                    "paquetes": 120,
                    "votos_en_tiempo": 45,
                    "tasa_retorno": "37.50",
                    "sobres": {"en_tiempo": 45, "extemporaneo": 2},
                    "por_entidad": {
                        "09": {
                            "paquetes": 120,
                            "entregado": 100,
                            "en_transito": 20,
                            "votos_en_tiempo": 45,
                            "extemporaneos": 2,
                        }
                    },
                    "por_pais": {
                        "US": {"paquetes": 120, "entregado": 100, "en_transito": 20, "votos_en_tiempo": 45}
                    },
                    "sobres_por_dia": {"2021-05-20": {"en_tiempo": 45, "extemporaneo": 2}},
                }
            ]
        },
    )

    paquetes: int
    votos_en_tiempo: int
    tasa_retorno: str = Field(description="Votos en tiempo entre paquetes, en %, dos decimales")
    sobres: dict[str, int] = Field(description="Sobres recibidos por clasificación")
    por_entidad: dict[str, dict[str, int]] = Field(
        description="Entidad → paquetes, uno por estado, votos_en_tiempo y extemporaneos"
    )
    por_pais: dict[str, dict[str, int]] = Field(
        description="País → paquetes, uno por estado y votos_en_tiempo"
    )
    sobres_por_dia: dict[str, dict[str, int]] = Field(
        description="Día (hora del Centro) → sobres recibidos por clasificación"
    )


class PaqueteEnTransito(BaseModel):
    model_config = ConfigDict(
        extra="forbid",  # built from the use case's dict: an undeclared key fails, not vanishes
        json_schema_extra={
            "examples": [
                {
                    "entidad": "09",
                    "numero": 1,
                    "pais": "US",
                    "estado": "en_transito",
                    "transportista": "mensajeria",
                    "dias": 12.5,
                }
            ]
        },
    )

    entidad: str
    numero: int
    pais: str
    estado: str
    transportista: str | None
    dias: float | None = Field(description="Días desde el envío, con un decimal")


class AvisosOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"avisados": 3}]})

    avisados: int = Field(description="Personas avisadas ahora (cada una solo una vez)")


# --- late SPVs and their destruction (LGIPE 345.2) -------------------------------------------------------


class Asistente(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nombre: str = Field(min_length=3, max_length=120, description="Nombre completo de quien asiste")
    cargo: str = Field(
        min_length=2,
        max_length=120,
        description="Cargo o representación: «Vocal del Registro Federal de Electores», "
        "«Representante del PAN»",
    )


class DestruccionExtemporaneosIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "lugar": "Local Único, Ciudad de México",
                    "asistentes": [
                        {"nombre": "María López Ruiz", "cargo": "Vocal Ejecutiva del INE"},
                        {"nombre": "Juan Pérez Gómez", "cargo": "Representante del PAN"},
                    ],
                }
            ]
        },
    )

    lugar: str = Field(min_length=3, max_length=200, description="Dónde se destruyen los sobres")
    asistentes: list[Asistente] = Field(
        min_length=2,
        max_length=60,
        description="Quién asiste y firma: al menos quien la preside y una representación partidista",
    )


class Remitente(BaseModel):
    numero: int = Field(description="Número en la LNERE de la entidad")
    nombre: str = Field(description="Completo para ine-admin; enmascarado (J*** P***) para los demás roles")
    pais: str
    recibido_at: dt.datetime = Field(description="Hora del Centro en que se escaneó el sobre")
    acta_destruccion: int | None = Field(description="El acta que lo destruyó; null si falta destruirlo")


class RelacionExtemporaneos(BaseModel):
    entidad: str
    limite_recepcion: dt.datetime = Field(
        description="Los sobres escaneados desde esta hora son extemporáneos"
    )
    total: int
    pendientes_de_destruir: int
    remitentes: list[Remitente] = Field(description="En orden de recepción")


class ActaDestruccionOut(BaseModel):
    acta: int
    entidad: str
    lugar: str
    celebrada_at: dt.datetime = Field(description="Hora del Centro")
    asistentes: list[Asistente]
    sobres: int = Field(description="Sobres extemporáneos destruidos sin abrir")
    registrada_por: str


class CasillaBoleta(BaseModel):
    opcion: str = Field(description="Clave de la opción, como la cuenta el cómputo", examples=["MORENA"])
    partido: str = Field(examples=["Morena"])
    candidatura: str | None = Field(
        default=None, description="Nombre de la persona que postula (sin candidaturas aprobadas: null)"
    )
    coalicion: str | None = Field(default=None, description="La coalición que la postula, si la hay")


class Boleta(BaseModel):
    """The paper ballot of one office, in ballot order."""

    entidad: str
    entidad_nombre: str
    cargo: str
    cargo_nombre: str
    proceso: str
    huella_candidaturas: str | None = Field(
        description="Huella de las candidaturas aprobadas que imprime; null: solo partidos"
    )
    casillas: list[CasillaBoleta]
