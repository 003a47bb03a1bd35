from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.db import ENTERO_MAX

ENTIDAD = r"^(0[1-9]|[12][0-9]|3[0-2])$"


class PaqueteEnvio(BaseModel):
    entidad: str = Field(pattern=ENTIDAD)
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
