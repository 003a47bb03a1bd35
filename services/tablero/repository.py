from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.tablero.models import PROJECTIONS, ConteoSolicitudes, ProcessedEvent


async def conteo_solicitudes(session: AsyncSession, entidad: str | None = None) -> list[ConteoSolicitudes]:
    query = select(ConteoSolicitudes)
    if entidad is not None:
        query = query.where(ConteoSolicitudes.entidad == entidad)
    return list((await session.execute(query)).scalars())


async def reset(session: AsyncSession) -> None:
    """Empty every projection and the inbox, so a replay rebuilds the read model from zero."""
    for model in PROJECTIONS:
        await session.execute(delete(model))
    await session.execute(delete(ProcessedEvent))
