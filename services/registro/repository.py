from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro.models import Solicitud


async def by_folio(session: AsyncSession, folio: str) -> Solicitud | None:
    return (await session.execute(select(Solicitud).where(Solicitud.folio == folio))).scalar_one_or_none()


async def by_clave(session: AsyncSession, clave_elector: str) -> Solicitud | None:
    return (
        await session.execute(select(Solicitud).where(Solicitud.clave_elector == clave_elector))
    ).scalar_one_or_none()
