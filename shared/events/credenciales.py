"""Events the credential authority publishes on ``vmre.credenciales.lista`` (keyed by election uuid, so in
order per election). Never a private credential: those go only to each voter, through the notification
channels of the authority itself.

- ``credenciales.emitidas``: a batch of public credentials, each with the voter's number on the entidad's
  LNERE (electronico binds each one to the voter's account: one credential per voter).
- ``credenciales.lista_firmada``: once every internet voter of the entidad has one, the authority signs the
  list (Ed25519, its own key): election, number of credentials and the SHA-256 of the sorted list as it goes
  in the public record. electronico opens the election only with a list that matches it; anyone compares the
  count with the LNERE and checks the record against it (``vmre verificar --lista-credenciales``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

CREDENCIALES_EMITIDAS = "credenciales.emitidas"
LISTA_FIRMADA = "credenciales.lista_firmada"


class CredencialPublica(BaseModel):
    numero: int = Field(description="Número del votante en la LNERE de la entidad")
    publica: str = Field(description="Credencial pública (elemento del grupo, hex)")
    sellada: str | None = Field(
        default=None,
        description="Voto en persona: la credencial privada sellada a la clave de la sede "
        "(shared/cripto/sede.py); solo un módulo de la sede la abre",
    )


class CredencialesEmitidas(BaseModel):
    eleccion: str
    entidad: str
    credenciales: list[CredencialPublica]


class ListaFirmada(BaseModel):
    eleccion: str
    entidad: str
    documento: dict[str, object] = Field(description="Lista de credenciales firmada (shared.firma)")
