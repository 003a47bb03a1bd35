"""Retention of personal data: digital copies are kept ``retencion_anios`` (7) years, then deleted.

``vmre datos depurar postal --antes-de FECHA`` deletes the packages integrated before FECHA (name, address,
contact, clave de elector), the SPVs scanned before FECHA or belonging to those packages, the carriers'
reports and the notifications of that age. postal's events never carried personal data: its outbox stays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.postal.models import EventoTransportista, Notificacion, Paquete, Sobre


async def depurar(session: AsyncSession, corte: dt.datetime) -> dict[str, int]:
    viejos = select(Paquete.id).where(Paquete.integrado_at < corte)
    hechos = {
        "sobres": await session.execute(
            delete(Sobre).where(or_(Sobre.recibido_at < corte, Sobre.paquete_id.in_(viejos)))
        ),
        "paquetes": await session.execute(delete(Paquete).where(Paquete.integrado_at < corte)),
        "eventos_transportista": await session.execute(
            delete(EventoTransportista).where(EventoTransportista.recibido_at < corte)
        ),
        "notificaciones": await session.execute(delete(Notificacion).where(Notificacion.creada_at < corte)),
    }
    return {tabla: int(r.rowcount or 0) for tabla, r in hechos.items()}  # type: ignore[attr-defined]
