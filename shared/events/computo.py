"""Events computo publishes.

- ``vmre.computo.escrutinio``: the electronic MEC decrypted an election's tally with at least k custodians:
  every partial decryption (each proof already checked) and the result, so that electronico appends them to
  the public Belenios record. The result is per option of the ballot, in ballot order.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

ESCRUTINIO_PUBLICADO = "computo.escrutinio.publicado"


class Descifrado(BaseModel):
    owner: int = Field(description="Posición del custodio (1..n)")
    texto: str = Field(description="partial_decryption de Belenios, tal cual")


class EscrutinioPublicado(BaseModel):
    eleccion: str
    entidad: str
    cargo: str
    simulacro: bool
    descifrados: list[Descifrado]
    resultado: str = Field(description="Result de Belenios (JSON exacto)")
    votos: dict[str, int] = Field(description="Votos por opción (claves del cómputo)")
