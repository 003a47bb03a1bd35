from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CLAVE_ELECTOR = r"^[A-ZÑ]{6}[0-9]{6}[0-9]{2}[HM][0-9A-Z]{3}$"
ENTIDAD = r"^(0[1-9]|[12][0-9]|3[0-2])$"


class SolicitudIn(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"clave_elector": "GOMZAN85031209M700", "entidad": "09", "modalidad": "electronica"}]
        },
    )

    clave_elector: str = Field(pattern=CLAVE_ELECTOR, description="Clave de elector de la credencial (18).")
    entidad: str = Field(pattern=ENTIDAD, description="Entidad de referencia, clave INEGI de dos dígitos.")
    modalidad: Literal["postal", "electronica"] = Field(description="Modalidad de voto elegida.")


class SolicitudCreada(BaseModel):
    folio: str
    estado: str = "recibida"


class SolicitudEstado(BaseModel):
    folio: str
    estado: str
    motivos: list[str] = Field(default_factory=list)
