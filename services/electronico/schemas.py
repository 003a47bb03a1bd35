from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

ENTIDAD = r"^(0[1-9]|[12][0-9]|3[0-2])$"


class PrimerAccesoIn(BaseModel):
    usuario: str = Field(min_length=3, max_length=32)
    clave_acceso: str = Field(min_length=6, max_length=32, description="La clave que recibió por correo")
    password: str = Field(min_length=12, max_length=128, description="Mínimo 12 caracteres")
    segundo_factor: Literal["totp", "sms"] = Field(
        description="totp: aplicación autenticadora (código QR); sms: código por mensaje al teléfono"
    )
    qr: bool = Field(
        True,
        description="Incluir el código QR (SVG) en la respuesta; false si la clave se escribirá a mano en la "
        "aplicación (la respuesta trae igual el URI)",
    )


class PrimerAccesoOut(BaseModel):
    segundo_factor: str
    totp_uri: str | None = Field(None, description="otpauth:// para su aplicación autenticadora")
    qr_svg: str | None = Field(None, description="El mismo URI como código QR (SVG)")
    telefono: str | None = Field(None, description="Teléfono (enmascarado) al que llegarán los códigos")


class CodigoSmsIn(BaseModel):
    usuario: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class IngresoIn(BaseModel):
    usuario: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=128)
    codigo: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$", description="Código de 6 dígitos")


class SesionOut(BaseModel):
    sesion: str = Field(description="Envíela como Authorization: Bearer <sesion>")
    expira_at: dt.datetime


class Opcion(BaseModel):
    clave: str
    texto: str


class EleccionOut(BaseModel):
    uuid: str
    entidad: str
    cargo: str
    nombre: str
    simulacro: bool
    estado: str
    inicio: dt.datetime
    fin: dt.datetime
    boletas: int
    sello: str | None = None


class EleccionDetalle(EleccionOut):
    opciones: list[Opcion]
    eleccion_json: str | None = Field(None, description="election.json exacto (su hash es la huella φ)")
    acta_apertura: dict[str, Any] | None = None


class EleccionVotante(EleccionDetalle):
    rastreador: str | None = Field(None, description="Su acuse, si ya votó")


class VotanteOut(BaseModel):
    usuario: str
    entidad: str
    elecciones: list[EleccionVotante]


class AcuseOut(BaseModel):
    rastreador: str = Field(description="Hash de su boleta cifrada: búsquelo en el tablón público")
    eleccion: str
    emitida_at: dt.datetime
    tablon: str


class EntradaTablon(BaseModel):
    posicion: int
    rastreador: str
    emitida_at: dt.datetime


class TablonOut(BaseModel):
    eleccion: str
    estado: str
    sello: str | None
    boletas: list[EntradaTablon]
    siguiente: int | None = Field(None, description="Pase ?despues=<siguiente> para la página siguiente")


class SimulacroIn(BaseModel):
    entidad: str = Field(pattern=ENTIDAD)
    inicio: dt.datetime = Field(description="Con zona horaria")
    fin: dt.datetime


class SelloOut(BaseModel):
    eleccion: str
    sello: str
