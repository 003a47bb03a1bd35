"""Every query the credential authority makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.credenciales.models import Cierre, Credencial, Eleccion, Notificacion, Votante
from shared.db import insert_if_absent, insert_many_if_absent


async def insertar_votante(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """False when the voter was already there (a replay)."""
    return await insert_if_absent(session, Votante, valores, ["entidad", "numero"])


async def insertar_eleccion(session: AsyncSession, valores: dict[str, Any]) -> bool:
    return await insert_if_absent(session, Eleccion, valores, ["uuid"])


async def insertar_cierre(session: AsyncSession, entidad: str, electronica: int, presencial: int) -> bool:
    return await insert_if_absent(
        session,
        Cierre,
        {"entidad": entidad, "electronica": electronica, "presencial": presencial},
        ["entidad"],
    )


async def insertar_credenciales(session: AsyncSession, filas: list[dict[str, Any]]) -> int:
    """How many were inserted (a voter who already had one is skipped)."""
    return await insert_many_if_absent(session, Credencial, filas, ["eleccion", "numero"])


async def eleccion(session: AsyncSession, uuid: str) -> Eleccion | None:
    return await session.get(Eleccion, uuid)


async def elecciones(session: AsyncSession) -> Sequence[Eleccion]:
    return (
        (await session.execute(select(Eleccion).order_by(Eleccion.entidad, Eleccion.cargo))).scalars().all()
    )


async def abiertas(session: AsyncSession, entidad: str) -> list[Eleccion]:
    """The entidad's elections whose list is not signed yet (a signed list is final)."""
    consulta = (
        select(Eleccion).where(Eleccion.entidad == entidad, Eleccion.lista.is_(None)).order_by(Eleccion.uuid)
    )
    return list((await session.execute(consulta)).scalars())


async def cierre(session: AsyncSession, entidad: str) -> Cierre | None:
    return await session.get(Cierre, entidad)


async def cierres(session: AsyncSession) -> dict[str, Cierre]:
    """Every closed list, by entidad."""
    return {c.entidad: c for c in (await session.execute(select(Cierre))).scalars()}


async def sin_credencial(session: AsyncSession, e: Eleccion) -> list[Votante]:
    """The entidad's voters who have no credential for the election yet (a drill's: its testers too)."""
    tienen = select(Credencial.numero).where(Credencial.eleccion == e.uuid)
    consulta = (
        select(Votante)
        .where(Votante.entidad == e.entidad, Votante.numero.not_in(tienen))
        .order_by(Votante.numero)
    )
    if not e.simulacro:  # an outside tester never gets a real election's credential
        consulta = consulta.where(Votante.numero > 0)
    return list((await session.execute(consulta)).scalars())


async def publicas(session: AsyncSession, eleccion: str) -> Sequence[str]:
    """The election's public credentials."""
    return (
        (await session.execute(select(Credencial.publica).where(Credencial.eleccion == eleccion)))
        .scalars()
        .all()
    )


# --- Retention (`vmre datos depurar`) ---------------------------------------------------------------------


async def depurar_votantes(session: AsyncSession, antes_de: dt.datetime) -> int:
    """Delete the voters (their contacts) received before ``antes_de``; how many."""
    hecho = await session.execute(delete(Votante).where(Votante.recibido_at < antes_de))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_notificaciones(session: AsyncSession, antes_de: dt.datetime) -> int:
    """Delete the notifications created before ``antes_de``; how many."""
    hecho = await session.execute(delete(Notificacion).where(Notificacion.creada_at < antes_de))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]
