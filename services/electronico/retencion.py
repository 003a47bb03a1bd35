"""Retention of personal data: digital copies are kept ``retencion_anios`` (7) years, then removed.

``vmre datos depurar electronico --antes-de FECHA``: the accounts created before FECHA lose their email,
phone and every login secret (the account row stays: the ballot box, the public record of the election,
refers to it by number and holds no personal data); their sessions and the notifications of that age are
deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico.models import Notificacion, Sesion, Votante


async def depurar(session: AsyncSession, corte: dt.datetime) -> dict[str, int]:
    viejos = Votante.creado_at < corte
    hechos = {
        "sesiones": await session.execute(
            delete(Sesion).where(Sesion.votante_id.in_(select(Votante.id).where(viejos)))
        ),
        # Only accounts that still hold something: running it again changes nothing.
        "votantes": await session.execute(
            update(Votante)
            .where(
                viejos,
                or_(Votante.password_hash.is_not(None), Votante.clave_acceso_hash.is_not(None)),
            )
            .values(
                email="",
                telefono="",
                password_hash=None,
                clave_acceso_hash=None,
                segundo_factor=None,
                totp_secreto=None,
                sms_codigo_hash=None,
                ultimo_codigo=None,
            )
        ),
        "notificaciones": await session.execute(delete(Notificacion).where(Notificacion.creada_at < corte)),
    }
    return {tabla: int(r.rowcount or 0) for tabla, r in hechos.items()}  # type: ignore[attr-defined]
