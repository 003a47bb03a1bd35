"""Events computo publishes.

- ``vmre.computo.escrutinio``: the electronic MEC decrypted an election's tally with at least k custodians:
  every partial decryption (each proof already checked, Belenios' and the strong one) and the result, so that
  electronico appends them to the public Belenios record (and the strong proofs next to it). The result is
  per option of the ballot, in ballot order.
- ``vmre.computo.acta``: the signed acta de cómputo de entidad of an office, for the OPL (and tablero): the
  same document ``GET /v1/computos/{entidad}`` serves.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

ESCRUTINIO_PUBLICADO = "computo.escrutinio.publicado"
ACTA_PUBLICADA = "computo.acta.publicada"


class Descifrado(BaseModel):
    owner: int = Field(description="Posición del custodio (1..n)")
    texto: str = Field(description="partial_decryption de Belenios, tal cual")
    pruebas_fuertes: str | None = Field(
        default=None,
        description="Pruebas fuertes del descifrado (JSON canónico {strong_decryption_proofs}); los eventos "
        "anteriores a esta extensión no las traen",
    )


class EscrutinioPublicado(BaseModel):
    eleccion: str
    entidad: str
    cargo: str
    simulacro: bool
    descifrados: list[Descifrado]
    resultado: str = Field(description="Result de Belenios (JSON exacto)")
    votos: dict[str, int] = Field(description="Votos por opción (claves del cómputo)")


class ActaPublicada(BaseModel):
    entidad: str
    cargo: str
    documento: dict[str, object] = Field(description="{acta, firma, clave_verificacion, algoritmo}")
