"""Events electronico publishes. Never a choice: ballots stay encrypted and only their hashes travel.

- ``vmre.electronico.eleccion``: an election was opened (its signed opening act) or its ballot box sealed:
  the final hash and what the electronic MEC (computo) needs to have the tally decrypted — election.json, the
  custodians' public record and the encrypted tally, all public. Drills carry ``simulacro: true``.
  It also announces each election it prepares (uuid, entidad, cargo, name): the credential authority issues
  that election's credentials from it; and each ballot's candidacies once ``ine-admin`` approves them (postal
  prints its paper ballots with the names).
- ``vmre.electronico.voto``: a ballot was accepted — for turnout counts by entidad and hour, and as the
  voter's «votó» mark (entidad and número on the list, like postal's). No ballot, no tracker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

ELECCION_PREPARADA = "electronico.eleccion.preparada"
ELECCION_ABIERTA = "electronico.eleccion.abierta"
URNA_SELLADA = "electronico.urna.sellada"
VOTO_EMITIDO = "electronico.voto.emitido"
CANDIDATURAS_APROBADAS = "electronico.candidaturas.aprobadas"


class CandidaturasAprobadas(BaseModel):
    """A ballot's candidacies, approved and locked (public: the names on the ballot)."""

    ambito: str = Field(description="Clave INEGI de la entidad, o «nacional» (Presidencia: igual en todas)")
    cargo: str
    huella: str = Field(description="SHA-256 de las candidaturas (va en la apertura de la elección)")
    candidaturas: list[dict[str, Any]] = Field(description="{nombre, partidos}, en el orden de la boleta")


class EleccionPreparada(BaseModel):
    eleccion: str = Field(description="uuid de la elección (Belenios): las credenciales se derivan de él")
    entidad: str
    cargo: str
    nombre: str
    simulacro: bool
    probadores: int = Field(
        0,
        ge=0,
        description="Un simulacro: cuántos probadores de la entidad (fuera de la LNERE) tienen cuenta al "
        "crearlo; la autoridad no firma su lista antes de darles credencial (eventos anteriores: 0)",
    )


class EleccionAbierta(BaseModel):
    eleccion: str = Field(description="uuid de la elección (Belenios)")
    entidad: str
    cargo: str
    simulacro: bool
    huella: str = Field(description="Huella φ de election.json")
    clave_publica: str
    acta: dict[str, object] = Field(description="Acta de apertura firmada")
    candidaturas: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Las candidaturas aprobadas de su boleta ({nombre, partidos}, en orden), si las hay",
    )


class UrnaSellada(BaseModel):
    eleccion: str
    entidad: str
    cargo: str
    simulacro: bool
    boletas: int
    presenciales: int = Field(
        0, description="De esas boletas, cuántas se emitieron en los módulos de las sedes (voto en persona)"
    )
    sello: str = Field(description="Hash del evento EndBallots del archivo: la urna cerrada")
    archivo: str = Field(description="Ruta del archivo .bel en el servicio electronico")
    sellada_at: dt.datetime
    eleccion_json: str = Field(description="election.json exacto (su hash es la huella φ)")
    custodios_json: str = Field(description="Registro público de los custodios (trustees)")
    recuento: str = Field(description="Recuento cifrado (EncryptedTally)")
    recuento_dimensionado: str


class VotoEmitido(BaseModel):
    eleccion: str
    entidad: str
    numero: int
    simulacro: bool
    emitido_at: dt.datetime
    sede: str | None = Field(
        default=None, description="Voto en persona (#27): la sede consular donde se emitió, en su módulo"
    )
