"""computo consumes registro's closed lists (the base of participation), postal's custody assignment (its
postal MEC), electronico's opened elections (the entidad's electronic MEC) and sealed ballot boxes (the
encrypted tally custodians decrypt)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.computo import escrutinio, repository, service
from shared.bus.consumer import Handler
from shared.bus.envelope import Envelope
from shared.events import electronico as eventos_electronico
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro


def build() -> dict[str, Handler]:
    async def mesa_asignada(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_postal.MesaAsignada.model_validate(envelope.data)
        await service.mesa_postal_asignada(session, datos.entidad, datos.mesa, datos.sobres)

    async def eleccion_abierta(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_electronico.EleccionAbierta.model_validate(envelope.data)
        if not datos.simulacro:  # drills never reach the cómputo
            await service.mesa_electronica(session, datos.entidad)
            if datos.candidaturas:
                await repository.guardar_candidaturas(session, datos.entidad, datos.cargo, datos.candidaturas)

    async def urna_sellada(session: AsyncSession, envelope: Envelope) -> None:
        await escrutinio.urna_sellada(session, eventos_electronico.UrnaSellada.model_validate(envelope.data))

    async def lnere_cerrada(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.LnereCerrada.model_validate(envelope.data)
        await service.lnere_cerrada(
            session, datos.entidad, datos.postal, datos.electronica, datos.total, datos.presencial
        )

    return {
        eventos_registro.LNERE_CERRADA: lnere_cerrada,
        eventos_postal.MESA_ASIGNADA: mesa_asignada,
        eventos_electronico.ELECCION_ABIERTA: eleccion_abierta,
        eventos_electronico.URNA_SELLADA: urna_sellada,
    }
