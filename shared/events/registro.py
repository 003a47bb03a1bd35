"""Events registro publishes. Payloads carry only what each consumer needs.

- ``vmre.registro.solicitud``: the life of an application (tablero counts them): no names, no clave.
- ``vmre.registro.lnere``: an entidad's list was closed, with its aggregate figures.
- ``vmre.registro.lnere_postal``: one per postal voter (postal prints and ships the PEP: name, address,
  the clave de elector printed on the return envelope, the folio for the citizen's lookup, and contact for
  the shipping notices).
- ``vmre.registro.lnere_electronica``: one per internet voter (electronico sends credentials: name and
  contact). No address, no clave. Also one per in-person voter (the authority seals its credentials to its
  consular site, electronico keeps the account the site's kiosks open): number and site only.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

SOLICITUD_RECIBIDA = "registro.solicitud.recibida"
SOLICITUD_DICTAMINADA = "registro.solicitud.dictaminada"
SOLICITUD_ACLARACION_SOLICITADA = "registro.solicitud.aclaracion_solicitada"
SOLICITUD_CORREGIDA = "registro.solicitud.corregida"
SOLICITUD_DADA_DE_BAJA = "registro.solicitud.dada_de_baja"
SOLICITUD_MODALIDAD_CAMBIADA = "registro.solicitud.modalidad_cambiada"
LNERE_CERRADA = "registro.lnere.cerrada"
LNERE_POSTAL_INSCRITO = "registro.lnere_postal.inscrito"
LNERE_ELECTRONICA_INSCRITO = "registro.lnere_electronica.inscrito"
LNERE_PRESENCIAL_INSCRITO = "registro.lnere_presencial.inscrito"
# On the list's topic (vmre.registro.lnere): who votes at a site without being on the list (#27).
BOLETA_ADICIONAL_ENTREGADA = "registro.boleta_adicional.entregada"
# On the internet list's topic, for electronico and the credential authority: a drills' outside tester.
PROBADOR_INSCRITO = "registro.probador.inscrito"
# On the internet list's topic (vmre.registro.lnere_electronica), for electronico: its kiosk turn.
BOLETA_ADICIONAL_EN_MODULO = "registro.boleta_adicional.en_modulo"

Modalidad = Literal["postal", "electronica", "presencial"]


class SolicitudRecibida(BaseModel):
    folio: str
    entidad: str
    modalidad: Modalidad
    recibida_at: dt.datetime
    pais: str | None = None  # added in schema_version 1 as optional: older events lack it


class SolicitudActualizada(BaseModel):
    """Any later change of an application: its new state, modality and reasons."""

    folio: str
    entidad: str
    pais: str
    modalidad: Modalidad
    estado: str
    motivos: list[str] = Field(default_factory=list)


class LnereCerrada(BaseModel):
    entidad: str
    total: int
    postal: int
    electronica: int
    presencial: int = 0  # added with the in-person modality (#27): older events lack it
    por_pais: dict[str, dict[str, int]] = Field(description="país → modalidad → personas")
    por_sede: dict[str, int] = Field(
        default_factory=dict, description="sede consular → personas (presencial)"
    )
    cerrada_at: dt.datetime


class BoletaAdicionalEntregada(BaseModel):
    """An extra ballot handed at a consular site to a citizen with a valid voter ID not on the LNERE. Nobody
    is named: the site, the entidad of the ballot, and how many the site has handed out."""

    sede: str
    entidad: str
    entregadas: int = Field(description="Boletas adicionales entregadas en la sede, esta incluida")
    tope: int
    entregada_at: dt.datetime


class BoletaAdicionalEnModulo(BaseModel):
    """The same extra ballot, for the site's kiosk: it votes with the site's ``folio``-th reserve credential
    for the entidad (``shared.sedes.numero_adicional``). Nobody is named."""

    sede: str
    entidad: str
    folio: int = Field(ge=1)


class ProbadorInscrito(BaseModel):
    """An outside tester of the drills (never on the LNERE): electronico opens its account, the credential
    authority sends it drill credentials only. Its contact, for those two; its name stays in registro."""

    entidad: str
    numero: int = Field(lt=0, gt=-100_000, description="Negativo: nunca un número de la LNERE")
    email: str
    telefono: str


class DomicilioPostal(BaseModel):
    calle_numero: str
    ciudad: str
    region: str | None
    codigo_postal: str
    pais: str


class InscritoPostal(BaseModel):
    entidad: str
    numero: int = Field(description="Número en la LNERE de la entidad")
    folio: str = Field(description="La persona consulta su paquete con él")
    clave_elector: str = Field(description="Va impresa en el sobre de retorno (LGIPE 342)")
    nombre: str
    apellido_paterno: str
    apellido_materno: str
    domicilio: DomicilioPostal
    email: str | None = Field(default=None, description="Avisos de envío, entrega y recepción del voto")
    telefono: str | None = None


class InscritoElectronica(BaseModel):
    entidad: str
    numero: int
    nombre: str
    apellido_paterno: str
    apellido_materno: str
    email: str
    telefono: str


class InscritoPresencial(BaseModel):
    """Votes in person at its consular site (#27): the credential authority seals its credentials to the
    site's key, electronico keeps an account the site's staff open on a kiosk. No name, no contact."""

    entidad: str
    numero: int
    sede: str
