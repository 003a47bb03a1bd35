"""Retention of personal data: digital copies are kept ``retencion_anios`` (7) years, then deleted.

``vmre datos depurar registro --antes-de FECHA`` deletes the applications last changed before FECHA (their
documents and pending changes go with them), the party observations, the extra ballots handed at consular
sites (they hold the clave de elector), the drills' outside testers (name and contact), the messages to
applicants and the published outbox rows (the LNERE events carry names and addresses) of that age.
Aggregates already published (tablero, open data) are not personal data and stay; the audit log never held
personal data and stays whole (its chain must verify)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import repository


async def depurar(session: AsyncSession, corte: dt.datetime) -> dict[str, int]:
    return {
        # Explicit (not only ON DELETE CASCADE): SQLite enforces it only with foreign keys on.
        "documentos": await repository.depurar_documentos(session, corte),
        "cambios_pendientes": await repository.depurar_cambios_pendientes(session, corte),
        "solicitudes": await repository.depurar_solicitudes(session, corte),
        "observaciones": await repository.depurar_observaciones(session, corte),
        "boletas_adicionales": await repository.depurar_boletas_adicionales(session, corte),
        "probadores": await repository.depurar_probadores(session, corte),
        "notificaciones": await repository.depurar_notificaciones(session, corte),
        "outbox": await repository.depurar_outbox(session, corte),
    }
