"""Retention of personal data: digital copies are kept ``retencion_anios`` (7) years, then deleted.

``vmre datos depurar registro --antes-de FECHA`` deletes the applications last changed before FECHA (their
documents and pending changes go with them), the party observations, the messages to applicants and the
published outbox rows (the LNERE events carry names and addresses) of that age. Aggregates already published
(tablero, open data) are not personal data and stay; the audit log never held personal data and stays whole
(its chain must verify)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro.models import CambioPendiente, Documento, Notificacion, Observacion, Outbox, Solicitud


async def depurar(session: AsyncSession, corte: dt.datetime) -> dict[str, int]:
    viejas = select(Solicitud.id).where(Solicitud.actualizada_at < corte)
    hechos = {
        # Explicit (not only ON DELETE CASCADE): SQLite enforces it only with foreign keys on.
        "documentos": await session.execute(delete(Documento).where(Documento.solicitud_id.in_(viejas))),
        "cambios_pendientes": await session.execute(
            delete(CambioPendiente).where(CambioPendiente.solicitud_id.in_(viejas))
        ),
        "solicitudes": await session.execute(delete(Solicitud).where(Solicitud.actualizada_at < corte)),
        "observaciones": await session.execute(delete(Observacion).where(Observacion.creada_at < corte)),
        "notificaciones": await session.execute(delete(Notificacion).where(Notificacion.creada_at < corte)),
        "outbox": await session.execute(
            delete(Outbox).where(Outbox.created_at < corte, Outbox.published_at.is_not(None))
        ),
    }
    return {tabla: int(r.rowcount or 0) for tabla, r in hechos.items()}  # type: ignore[attr-defined]
