"""Retention of personal data: digital copies are kept ``retencion_anios`` (7) years, then removed.

``vmre datos depurar electronico --antes-de FECHA``: the accounts created before FECHA lose their email,
phone and every login secret (the account row stays: the ballot box, the public record of the election,
refers to it by number and holds no personal data); their sessions and the notifications of that age are
deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository


async def depurar(session: AsyncSession, corte: dt.datetime) -> dict[str, int]:
    return {
        "sesiones": await repository.depurar_sesiones(session, corte),
        # Only accounts that still hold something: running it again changes nothing.
        "votantes": await repository.depurar_votantes(session, corte),
        "notificaciones": await repository.depurar_notificaciones(session, corte),
    }
