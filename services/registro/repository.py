"""Every query registro makes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro.models import CierreLnere, Documento, Notificacion, Observacion, Solicitud

# Who is on an entidad's list for the party review.
EN_LISTA = ("procedente", "inscrita")


async def by_folio(session: AsyncSession, folio: str, *, para_actualizar: bool = False) -> Solicitud | None:
    query = select(Solicitud).where(Solicitud.folio == folio)
    if para_actualizar:  # locked, and read afresh even if the session already holds it
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def by_referencia(session: AsyncSession, referencia: str) -> Solicitud | None:
    query = select(Solicitud).where(Solicitud.referencia == referencia)
    return (await session.execute(query)).scalar_one_or_none()


async def by_folios(
    session: AsyncSession, folios: list[str], *, para_actualizar: bool = False
) -> dict[str, Solicitud]:
    """Many applications in one read (folio order: concurrent callers lock rows in the same order)."""
    query = select(Solicitud).where(Solicitud.folio.in_(folios)).order_by(Solicitud.folio)
    if para_actualizar:
        query = query.with_for_update()
    return {s.folio: s for s in (await session.execute(query)).scalars()}


async def by_clave(session: AsyncSession, proceso: str, clave_elector: str) -> Solicitud | None:
    """By the blind index: the clave is bound in clear and compared as its HMAC (the column is encrypted)."""
    return (
        await session.execute(
            select(Solicitud).where(
                Solicitud.proceso == proceso, Solicitud.clave_elector_indice == clave_elector
            )
        )
    ).scalar_one_or_none()


async def cierre(session: AsyncSession, proceso: str, entidad: str) -> CierreLnere | None:
    return await session.get(CierreLnere, (proceso, entidad))


async def entidades_cerradas(session: AsyncSession, proceso: str, entidades: list[str]) -> set[str]:
    """Which of ``entidades`` already closed their list."""
    filas = await session.execute(
        select(CierreLnere.entidad).where(CierreLnere.proceso == proceso, CierreLnere.entidad.in_(entidades))
    )
    return set(filas.scalars())


async def cola(
    session: AsyncSession,
    limite: int,
    despues: tuple[Any, int] | None,
    estados: Sequence[str],
    entidad: str | None,
) -> list[Solicitud]:
    """Work queue in order of receipt (keyset pagination on (recibida_at, id))."""
    query = select(Solicitud).where(Solicitud.estado.in_(estados))
    if entidad:
        query = query.where(Solicitud.entidad == entidad)
    if despues is not None:
        instante, ident = despues
        query = query.where(
            (Solicitud.recibida_at > instante)
            | ((Solicitud.recibida_at == instante) & (Solicitud.id > ident))
        )
    query = query.order_by(Solicitud.recibida_at, Solicitud.id).limit(limite)
    return list((await session.execute(query)).scalars())


async def tipos_documento(session: AsyncSession, solicitud_ids: Sequence[int]) -> dict[int, list[str]]:
    if not solicitud_ids:
        return {}
    rows = await session.execute(
        select(Documento.solicitud_id, Documento.tipo).where(Documento.solicitud_id.in_(solicitud_ids))
    )
    out: dict[int, list[str]] = {}
    for solicitud_id, tipo in rows:
        out.setdefault(solicitud_id, []).append(tipo)
    return {k: sorted(v) for k, v in out.items()}


async def avisos(session: AsyncSession, referencia: str) -> list[Notificacion]:
    """The messages sent (or not) to one applicant, oldest first: the record of what reached them."""
    filas = await session.execute(
        select(Notificacion).where(Notificacion.referencia == referencia).order_by(Notificacion.id)
    )
    return list(filas.scalars())


async def documento(session: AsyncSession, solicitud_id: int, tipo: str) -> Documento | None:
    return (
        await session.execute(
            select(Documento).where(Documento.solicitud_id == solicitud_id, Documento.tipo == tipo)
        )
    ).scalar_one_or_none()


async def comprobante_reutilizado(session: AsyncSession, solicitud_id: int) -> int:
    """How many other applications carry the same proof of address (same SHA-256)."""
    propio = (
        select(Documento.sha256)
        .where(Documento.solicitud_id == solicitud_id, Documento.tipo == "comprobante_domicilio")
        .scalar_subquery()
    )
    result = await session.execute(
        select(func.count())
        .select_from(Documento)
        .where(
            Documento.tipo == "comprobante_domicilio",
            Documento.sha256 == propio,
            Documento.solicitud_id != solicitud_id,
        )
    )
    return int(result.scalar_one())


async def procedentes(session: AsyncSession, proceso: str, entidad: str) -> list[Solicitud]:
    query = (
        select(Solicitud)
        .where(Solicitud.proceso == proceso, Solicitud.entidad == entidad, Solicitud.estado == "procedente")
        .order_by(Solicitud.recibida_at, Solicitud.id)
        .with_for_update()
    )
    return list((await session.execute(query)).scalars())


async def contar_pendientes(session: AsyncSession, proceso: str, entidad: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Solicitud)
        .where(
            Solicitud.proceso == proceso,
            Solicitud.entidad == entidad,
            Solicitud.estado.in_(["recibida", "en_aclaracion"]),
        )
    )
    return int(result.scalar_one())


async def lista(
    session: AsyncSession, proceso: str, entidad: str, limite: int, despues: int
) -> tuple[int, list[Solicitud]]:
    """The entidad's list for party review: procedentes and inscritas, in order of receipt."""
    base = select(Solicitud).where(
        Solicitud.proceso == proceso,
        Solicitud.entidad == entidad,
        Solicitud.estado.in_(EN_LISTA),
    )
    total = int((await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one())
    query = base.where(Solicitud.id > despues).order_by(Solicitud.id).limit(limite)
    return total, list((await session.execute(query)).scalars())


async def observaciones(session: AsyncSession, entidad: str, partido: str | None) -> list[Observacion]:
    query = select(Observacion).where(Observacion.entidad == entidad)
    if partido is not None:
        query = query.where(Observacion.partido == partido)
    return list((await session.execute(query.order_by(Observacion.id))).scalars())


async def filas_estadisticas(session: AsyncSession, proceso: str) -> AsyncIterator[Any]:
    result = await session.stream(
        select(
            Solicitud.entidad,
            Solicitud.pais,
            Solicitud.modalidad,
            Solicitud.estado,
            Solicitud.sexo,
            Solicitud.fecha_nacimiento,
            Solicitud.recibida_at,
        ).where(Solicitud.proceso == proceso)
    )
    async for fila in result:
        yield fila
