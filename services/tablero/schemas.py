from __future__ import annotations

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
