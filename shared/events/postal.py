"""Events postal publishes.

- ``vmre.postal.paquete``: every transition of a package (tablero's PEP funnel): no name, no address.
- ``vmre.postal.sobre``: every SPV received, with its classification (on time, late, unknown, duplicate);
  each act destroying an entidad's late SPVs (how many, when; no sender).
- ``vmre.postal.voto``: a postal voter voted (electronico blocks their internet vote; computo checks the
  sobres against the "votó" marks). Only the voter's place on the list: entidad and número.
- ``vmre.postal.mesa``: SPVs in custody assigned to a Mesa de Escrutinio y Cómputo.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

VOTO_REGISTRADO = "postal.voto.registrado"
SOBRE_RECIBIDO = "postal.sobre.recibido"
MESA_ASIGNADA = "postal.mesa.asignada"
SOBRES_DESTRUIDOS = "postal.sobres.destruidos"


def paquete_event_type(estado: str) -> str:
    return f"postal.paquete.{estado}"


class PaqueteActualizado(BaseModel):
    entidad: str
    numero: int
    pais: str
    estado: str
    lote: int
    transportista: str | None = None
    ocurrido_at: dt.datetime


class SobreRecibido(BaseModel):
    entidad: str | None
    numero: int | None
    clasificacion: str
    recibido_at: dt.datetime


class VotoRegistrado(BaseModel):
    entidad: str
    numero: int
    recibido_at: dt.datetime


class MesaAsignada(BaseModel):
    entidad: str
    mesa: int
    sobres: int


class SobresDestruidos(BaseModel):
    """An act destroying, unopened, the late SPVs of an entidad (LGIPE 345.2)."""

    entidad: str
    acta: int
    sobres: int
    celebrada_at: dt.datetime
