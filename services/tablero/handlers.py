"""Event handlers: projections from events only. Run inside the consumer's transaction, once per event."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.tablero.models import ConteoSolicitudes
from shared.bus.consumer import Handler
from shared.bus.envelope import Envelope
from shared.events import registro as eventos


async def solicitud_recibida(session: AsyncSession, envelope: Envelope) -> None:
    data = eventos.SolicitudRecibida.model_validate(envelope.data)
    result = await session.execute(
        update(ConteoSolicitudes)
        .where(ConteoSolicitudes.entidad == data.entidad, ConteoSolicitudes.modalidad == data.modalidad)
        .values(total=ConteoSolicitudes.total + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ConteoSolicitudes(entidad=data.entidad, modalidad=data.modalidad, total=1))
        await session.flush()


HANDLERS: dict[str, Handler] = {eventos.SOLICITUD_RECIBIDA: solicitud_recibida}
