"""Retention of personal data: digital copies are kept ``retencion_anios`` (7) years, then deleted.

``vmre datos depurar postal --antes-de FECHA`` deletes the packages integrated before FECHA (name, address,
contact, clave de elector), the SPVs scanned before FECHA or belonging to those packages, the acts that
destroyed late SPVs held before FECHA (their attendees' names), the carriers' reports and the notifications of
that age. postal's events never carried personal data: its outbox stays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.postal import repository


async def depurar(session: AsyncSession, corte: dt.datetime) -> dict[str, int]:
    return {
        "sobres": await repository.depurar_sobres(session, corte),
        "paquetes": await repository.depurar_paquetes(session, corte),
        "actas_destruccion": await repository.depurar_actas_destruccion(session, corte),
        "eventos_transportista": await repository.depurar_eventos_transportista(session, corte),
        "notificaciones": await repository.depurar_notificaciones(session, corte),
    }
