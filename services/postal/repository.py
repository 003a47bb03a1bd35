"""Every query postal makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.postal.domain import Clasificacion, EstadoPaquete
from services.postal.models import ActaDestruccion, EventoTransportista, Notificacion, Paquete, Sobre
from shared.db import insert_if_absent, insert_many_if_absent

EN_CAMINO = (EstadoPaquete.ENVIADO.value, EstadoPaquete.EN_TRANSITO.value)

# --- packages ---------------------------------------------------------------------------------------------


async def insertar_paquete(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """False when the voter's package already exists (a replayed close)."""
    return await insert_if_absent(session, Paquete, valores, conflict=["entidad", "numero"])


async def paquete(session: AsyncSession, entidad: str, numero: int) -> Paquete | None:
    """One package, locked."""
    return (
        await session.execute(
            select(Paquete).where(Paquete.entidad == entidad, Paquete.numero == numero).with_for_update()
        )
    ).scalar_one_or_none()


async def paquetes(session: AsyncSession, claves: list[tuple[str, int]]) -> dict[tuple[str, int], Paquete]:
    """Many packages by (entidad, número), locked in key order (concurrent callers lock in the same order)."""
    return {
        (p.entidad, p.numero): p
        for p in await session.scalars(
            select(Paquete)
            .where(tuple_(Paquete.entidad, Paquete.numero).in_(claves))
            .order_by(Paquete.entidad, Paquete.numero)
            .with_for_update()
        )
    }


async def paquetes_por_guia(
    session: AsyncSession, transportista: str, guias: list[str]
) -> dict[str | None, Paquete]:
    """A carrier's packages by tracking number, locked in tracking-number order."""
    return {
        p.guia: p
        for p in await session.scalars(
            select(Paquete)
            .where(Paquete.transportista == transportista, Paquete.guia.in_(guias))
            .order_by(Paquete.guia)
            .with_for_update()
        )
    }


async def por_folio(session: AsyncSession, folio: str) -> Paquete | None:
    return (await session.execute(select(Paquete).where(Paquete.folio == folio))).scalar_one_or_none()


async def por_clave_elector(session: AsyncSession, clave_elector: str) -> Paquete | None:
    """By the blind index: the clave is bound in clear and compared as its HMAC."""
    return (
        await session.execute(select(Paquete).where(Paquete.clave_elector_indice == clave_elector))
    ).scalar_one_or_none()


async def guias_ocupadas(session: AsyncSession, transportista: str, guias: list[str]) -> set[str]:
    """Which of ``guias`` the carrier already gave to a package."""
    return set(
        await session.scalars(
            select(Paquete.guia).where(Paquete.transportista == transportista, Paquete.guia.in_(guias))
        )
    )


async def guia_ocupada(session: AsyncSession, transportista: str, guia: str, salvo: int) -> bool:
    """Whether the carrier gave ``guia`` to a package other than ``salvo`` (its id)."""
    fila = (
        await session.execute(
            select(Paquete.id).where(
                Paquete.transportista == transportista, Paquete.guia == guia, Paquete.id != salvo
            )
        )
    ).first()
    return bool(fila)


async def marcar_retrasados(session: AsyncSession, ahora: dt.datetime, dias: int) -> Sequence[Row[Any]]:
    """Mark the packages on their way ``dias`` days or more and not warned yet: (email, teléfono, folio) of
    each."""
    return (
        await session.execute(
            update(Paquete)
            .where(
                Paquete.estado.in_(list(EN_CAMINO)),
                Paquete.enviado_at <= ahora - dt.timedelta(days=dias),
                Paquete.aviso_retraso_at.is_(None),
            )
            .values(aviso_retraso_at=ahora)
            .returning(Paquete.email, Paquete.telefono, Paquete.folio)
        )
    ).all()


async def marcar_voto(session: AsyncSession, paquete_id: int, ahora: dt.datetime) -> bool:
    """Atomic "first one wins": False if the package's vote was already received."""
    marcado = await session.execute(
        update(Paquete)
        .where(Paquete.id == paquete_id, Paquete.voto_recibido_at.is_(None))
        .values(voto_recibido_at=ahora, version=Paquete.version + 1)
    )
    return bool(marcado.rowcount)  # type: ignore[attr-defined]


async def en_transito(session: AsyncSession, entidad: str | None) -> Sequence[Paquete]:
    """Packages still on their way (of one entidad, if given), longest on the way first."""
    query = select(Paquete).where(Paquete.estado.in_(list(EN_CAMINO)))
    if entidad:
        query = query.where(Paquete.entidad == entidad)
    return (await session.execute(query.order_by(Paquete.enviado_at))).scalars().all()


async def conteo_paquetes(session: AsyncSession) -> Sequence[Row[Any]]:
    """(entidad, país, estado, votos en tiempo, paquetes) per entidad, country and state."""
    return (
        await session.execute(
            select(
                Paquete.entidad,
                Paquete.pais,
                Paquete.estado,
                func.count(Paquete.voto_recibido_at),
                func.count(),
            ).group_by(Paquete.entidad, Paquete.pais, Paquete.estado)
        )
    ).all()


# --- carriers' reports ------------------------------------------------------------------------------------


async def eventos_vistos(session: AsyncSession, transportista: str, evento_ids: list[str]) -> set[str]:
    """Which of ``evento_ids`` the carrier already reported."""
    return set(
        await session.scalars(
            select(EventoTransportista.evento_id).where(
                EventoTransportista.transportista == transportista,
                EventoTransportista.evento_id.in_(evento_ids),
            )
        )
    )


async def insertar_eventos_transportista(session: AsyncSession, reportes: list[dict[str, Any]]) -> int:
    """How many were new (a report already there is skipped)."""
    return await insert_many_if_absent(
        session, EventoTransportista, reportes, conflict=["transportista", "evento_id"]
    )


async def eventos_de_envio(
    session: AsyncSession, transportista: str, guia: str, desde: dt.datetime
) -> Sequence[Row[Any]]:
    """(estado, ocurrido_at) of each report the carrier sent about ``guia`` since ``desde`` (the shipment's
    own, received after it was recorded) that matched the package, in the order they happened."""
    return (
        await session.execute(
            select(EventoTransportista.estado, EventoTransportista.ocurrido_at)
            .where(
                EventoTransportista.transportista == transportista,
                EventoTransportista.guia == guia,
                EventoTransportista.resultado != "sin_paquete",
                EventoTransportista.recibido_at >= desde,
            )
            .order_by(EventoTransportista.ocurrido_at, EventoTransportista.evento_id)
        )
    ).all()


# --- SPVs -------------------------------------------------------------------------------------------------


async def sobres_en_tiempo(session: AsyncSession, entidad: str) -> list[Sobre]:
    """The entidad's on-time SPVs, in order of reception."""
    return list(
        (
            await session.execute(
                select(Sobre)
                .where(Sobre.entidad == entidad, Sobre.clasificacion == Clasificacion.EN_TIEMPO.value)
                .order_by(Sobre.id)
            )
        ).scalars()
    )


async def sobres_recibidos(session: AsyncSession) -> Sequence[Row[Any]]:
    """(entidad, clasificación, recibido_at) of every SPV."""
    return (await session.execute(select(Sobre.entidad, Sobre.clasificacion, Sobre.recibido_at))).all()


async def sobres_de_paquete(session: AsyncSession, paquete_id: int) -> Sequence[Row[Any]]:
    """(clasificación, recibido_at) of each SPV scanned for a package, in order of reception."""
    return (
        await session.execute(
            select(Sobre.clasificacion, Sobre.recibido_at)
            .where(Sobre.paquete_id == paquete_id)
            .order_by(Sobre.recibido_at, Sobre.id)
        )
    ).all()


# --- late SPVs and their destruction (LGIPE 345.2) ------------------------------------------------------


async def extemporaneos(session: AsyncSession, entidad: str) -> list[tuple[Sobre, Paquete]]:
    """The entidad's late SPVs with the package of their sender, in order of reception."""
    filas = await session.execute(
        select(Sobre, Paquete)
        .join(Paquete, Sobre.paquete_id == Paquete.id)
        .where(Sobre.entidad == entidad, Sobre.clasificacion == Clasificacion.EXTEMPORANEO.value)
        .order_by(Sobre.recibido_at, Sobre.id)
    )
    return [(sobre, paquete) for sobre, paquete in filas.tuples()]


async def destruir_extemporaneos(session: AsyncSession, entidad: str, acta_id: int) -> int:
    """Put every late SPV of the entidad not yet destroyed under the act; how many. Atomic: of two acts at
    once, the second finds the rows taken (PostgreSQL re-reads them after the first commits) and gets 0."""
    hecho = await session.execute(
        update(Sobre)
        .where(
            Sobre.entidad == entidad,
            Sobre.clasificacion == Clasificacion.EXTEMPORANEO.value,
            Sobre.acta_destruccion_id.is_(None),
        )
        .values(acta_destruccion_id=acta_id)
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def actas_destruccion(session: AsyncSession, entidad: str) -> list[ActaDestruccion]:
    return list(
        await session.scalars(
            select(ActaDestruccion).where(ActaDestruccion.entidad == entidad).order_by(ActaDestruccion.id)
        )
    )


# --- Retention (`vmre datos depurar`) ---------------------------------------------------------------------


async def depurar_sobres(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the SPVs scanned before ``corte`` or belonging to a package integrated before it; how many."""
    viejos = select(Paquete.id).where(Paquete.integrado_at < corte)
    hecho = await session.execute(
        delete(Sobre).where(or_(Sobre.recibido_at < corte, Sobre.paquete_id.in_(viejos)))
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_paquetes(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the packages integrated before ``corte``; how many."""
    hecho = await session.execute(delete(Paquete).where(Paquete.integrado_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_actas_destruccion(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the destruction acts held before ``corte`` that no remaining SPV points at; how many."""
    en_uso = select(Sobre.acta_destruccion_id).where(Sobre.acta_destruccion_id.is_not(None))
    hecho = await session.execute(
        delete(ActaDestruccion).where(ActaDestruccion.celebrada_at < corte, ActaDestruccion.id.not_in(en_uso))
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_eventos_transportista(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the carriers' reports received before ``corte``; how many."""
    hecho = await session.execute(delete(EventoTransportista).where(EventoTransportista.recibido_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_notificaciones(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the notifications created before ``corte``; how many."""
    hecho = await session.execute(delete(Notificacion).where(Notificacion.creada_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]
