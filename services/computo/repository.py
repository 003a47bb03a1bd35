"""Every query computo makes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.computo.models import (
    Acta,
    ActaComputo,
    CandidaturasBoleta,
    Captura,
    CorreccionActa,
    DescifradoParcial,
    EscrutinioElectronico,
    Lnere,
    Mesa,
)
from shared.db import insert_if_absent

# --- Mesas and the LNERE ----------------------------------------------------------------------------------


async def insertar_mesa(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """False when the mesa was already there."""
    return await insert_if_absent(session, Mesa, valores, ["entidad", "numero"])


async def mesa(session: AsyncSession, entidad: str, numero: int) -> Mesa | None:
    return await session.get(Mesa, (entidad, numero))


async def mesas(session: AsyncSession, entidad: str | None = None) -> list[Mesa]:
    """Every mesa (of one entidad, if given), by entidad and number."""
    q = select(Mesa).order_by(Mesa.entidad, Mesa.numero)
    if entidad:
        q = q.where(Mesa.entidad == entidad)
    return list((await session.execute(q)).scalars())


async def mesas_postales(session: AsyncSession, entidad: str) -> list[Mesa]:
    return list(
        (
            await session.execute(
                select(Mesa).where(Mesa.entidad == entidad, Mesa.tipo == "postal").order_by(Mesa.numero)
            )
        ).scalars()
    )


async def insertar_lnere(session: AsyncSession, valores: dict[str, Any]) -> bool:
    return await insert_if_absent(session, Lnere, valores, ["entidad"])


async def lnere(session: AsyncSession, entidad: str) -> Lnere | None:
    return await session.get(Lnere, entidad)


# --- Actas de escrutinio ----------------------------------------------------------------------------------


async def acta(
    session: AsyncSession, entidad: str, mesa: int, cargo: str, *, para_actualizar: bool = False
) -> Acta | None:
    return await session.get(Acta, (entidad, mesa, cargo), with_for_update=True if para_actualizar else None)


async def actas(session: AsyncSession, entidad: str, cargo: str) -> dict[int, Acta]:
    """The entidad's actas of an office, by mesa."""
    return {
        a.mesa: a
        for a in (
            await session.execute(select(Acta).where(Acta.entidad == entidad, Acta.cargo == cargo))
        ).scalars()
    }


async def insertar_captura(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """False when this operator already captured the acta."""
    return await insert_if_absent(session, Captura, valores, ["entidad", "mesa", "cargo", "operador"])


async def datos_capturas(session: AsyncSession, entidad: str, mesa: int, cargo: str) -> Sequence[Any]:
    """The figures of each capture of an acta, first captured first."""
    return (
        (
            await session.execute(
                select(Captura.datos)
                .where(Captura.entidad == entidad, Captura.mesa == mesa, Captura.cargo == cargo)
                .order_by(Captura.id)
            )
        )
        .scalars()
        .all()
    )


async def contar_capturas(session: AsyncSession, acta: Acta) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(Captura)
                .where(
                    Captura.entidad == acta.entidad, Captura.mesa == acta.mesa, Captura.cargo == acta.cargo
                )
            )
        ).scalar_one()
    )


async def correcciones(session: AsyncSession, acta: Acta) -> list[CorreccionActa]:
    """An acta's corrections, oldest first."""
    return list(
        (
            await session.execute(
                select(CorreccionActa)
                .where(
                    CorreccionActa.entidad == acta.entidad,
                    CorreccionActa.mesa == acta.mesa,
                    CorreccionActa.cargo == acta.cargo,
                )
                .order_by(CorreccionActa.version)
            )
        ).scalars()
    )


# --- Acta de cómputo --------------------------------------------------------------------------------------


async def acta_computo(session: AsyncSession, entidad: str, cargo: str) -> ActaComputo | None:
    """The published acta de cómputo of an entidad and office, if any."""
    return await session.get(ActaComputo, (entidad, cargo))


# --- Electronic MEC ---------------------------------------------------------------------------------------


async def insertar_escrutinio(session: AsyncSession, valores: dict[str, Any]) -> bool:
    return await insert_if_absent(session, EscrutinioElectronico, valores, ["eleccion"])


async def escrutinio(
    session: AsyncSession, eleccion: str, *, para_actualizar: bool = False
) -> EscrutinioElectronico | None:
    return await session.get(EscrutinioElectronico, eleccion, with_for_update=para_actualizar or None)


async def escrutinio_real(session: AsyncSession, entidad: str, cargo: str) -> EscrutinioElectronico | None:
    """The entidad's electronic count of an office (never a drill's)."""
    return (
        await session.execute(
            select(EscrutinioElectronico).where(
                EscrutinioElectronico.entidad == entidad,
                EscrutinioElectronico.cargo == cargo,
                EscrutinioElectronico.simulacro.is_(False),
            )
        )
    ).scalar_one_or_none()


async def descifrado(session: AsyncSession, eleccion: str, owner: int) -> DescifradoParcial | None:
    return await session.get(DescifradoParcial, (eleccion, owner))


async def insertar_descifrado(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """False when another delivery of this custodian got in first."""
    return await insert_if_absent(session, DescifradoParcial, valores, ["eleccion", "owner"])


async def descifrados(session: AsyncSession, eleccion: str) -> list[DescifradoParcial]:
    """An election's partial decryptions, in order of arrival."""
    return list(
        (
            await session.execute(
                select(DescifradoParcial)
                .where(DescifradoParcial.eleccion == eleccion)
                .order_by(DescifradoParcial.recibido_at, DescifradoParcial.owner)
            )
        ).scalars()
    )


async def guardar_candidaturas(
    session: AsyncSession, entidad: str, cargo: str, lista: list[dict[str, Any]]
) -> bool:
    return await insert_if_absent(
        session,
        CandidaturasBoleta,
        {"entidad": entidad, "cargo": cargo, "lista": lista},
        ["entidad", "cargo"],
    )


async def candidaturas_boleta(session: AsyncSession, entidad: str, cargo: str) -> list[dict[str, Any]]:
    c = await session.get(CandidaturasBoleta, (entidad, cargo))
    return c.lista if c is not None else []
