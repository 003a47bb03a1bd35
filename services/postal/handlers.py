"""postal consumes registro's closed list (one PEP per postal voter, once) and electronico's approved
candidacies (the names its paper ballots print)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.postal import boletas
from services.postal import service as postal_service
from shared.bus.consumer import Handler
from shared.bus.envelope import Envelope
from shared.events import electronico as eventos_electronico
from shared.events import registro as eventos_registro
from shared.proceso import Proceso
from shared.reloj import Reloj


def build(proceso: Proceso, reloj: Reloj) -> dict[str, Handler]:
    async def inscrito_postal(session: AsyncSession, envelope: Envelope) -> None:
        inscrito = eventos_registro.InscritoPostal.model_validate(envelope.data)
        await postal_service.integrar(session, inscrito, proceso, reloj.ahora())

    async def candidaturas(session: AsyncSession, envelope: Envelope) -> None:
        await boletas.guardar(
            session, eventos_electronico.CandidaturasAprobadas.model_validate(envelope.data)
        )

    return {
        eventos_registro.LNERE_POSTAL_INSCRITO: inscrito_postal,
        eventos_electronico.CANDIDATURAS_APROBADAS: candidaturas,
    }
