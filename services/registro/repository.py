"""Every query registro makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro.models import (
    BoletaAdicional,
    CambioPendiente,
    CierreLnere,
    Documento,
    DocumentoPendiente,
    Historial,
    Notificacion,
    Observacion,
    Outbox,
    Probador,
    Solicitud,
)
from shared.db import insert_if_absent, insertar, por_clave

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
    return await por_clave(session, CierreLnere, (proceso, entidad))


async def entidades_cerradas(session: AsyncSession, proceso: str, entidades: list[str]) -> set[str]:
    """Which of ``entidades`` already closed their list."""
    filas = await session.execute(
        select(CierreLnere.entidad).where(CierreLnere.proceso == proceso, CierreLnere.entidad.in_(entidades))
    )
    return set(filas.scalars())


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


async def insertar_solicitud(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """One person per clave: False if a concurrent or earlier request already holds it."""
    return await insert_if_absent(session, Solicitud, valores, conflict=["proceso", "clave_elector_indice"])


async def marcar_reenvio_folio(
    session: AsyncSession, solicitud_id: int, ahora: dt.datetime, antes_de: dt.datetime
) -> bool:
    """Atomic: of simultaneous duplicates one finds the column old enough (or unset) and sets it."""
    hecho = await session.execute(
        update(Solicitud)
        .where(
            Solicitud.id == solicitud_id,
            or_(Solicitud.folio_reenviado_at.is_(None), Solicitud.folio_reenviado_at <= antes_de),
        )
        .values(folio_reenviado_at=ahora)
        .execution_options(synchronize_session=False)
    )
    return bool(hecho.rowcount)  # type: ignore[attr-defined]


async def anotar_historial(session: AsyncSession, filas: list[dict[str, Any]]) -> None:
    """Rows of the applications' history (``Historial``), in one statement."""
    await insertar(session, Historial, filas)


async def observacion(
    session: AsyncSession, observacion_id: int, *, para_actualizar: bool = False
) -> Observacion | None:
    return await session.get(Observacion, observacion_id, with_for_update=para_actualizar)


async def insertar_cierre(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """An entidad's closing, unless another one already holds it."""
    return await insert_if_absent(session, CierreLnere, valores, conflict=["proceso", "entidad"])


# --- pending changes (confirmed with a code) ----------------------------------------------------------


def _cambio_vigente(ahora: dt.datetime, max_intentos: int) -> list[ColumnElement[bool]]:
    return [
        CambioPendiente.usado_at.is_(None),
        CambioPendiente.anulado_at.is_(None),
        CambioPendiente.intentos < max_intentos,
        CambioPendiente.expira_at > ahora,
    ]


async def anular_cambios(
    session: AsyncSession, solicitud_id: int, ahora: dt.datetime, salvo: int | None = None
) -> None:
    """The application's unused codes become void (all but ``salvo``)."""
    condicion = [
        CambioPendiente.solicitud_id == solicitud_id,
        CambioPendiente.usado_at.is_(None),
        CambioPendiente.anulado_at.is_(None),
    ]
    if salvo is not None:
        condicion.append(CambioPendiente.id != salvo)
    await session.execute(
        update(CambioPendiente)
        .where(*condicion)
        .values(anulado_at=ahora)
        .execution_options(synchronize_session=False)
    )
    await borrar_documentos_pendientes(session, solicitud_id, salvo)


async def borrar_documentos_pendientes(
    session: AsyncSession, solicitud_id: int, salvo: int | None = None
) -> None:
    """The files of the application's pending documents, but the one of change ``salvo`` if it is still
    live: a voided, used, expired or blocked change keeps no file."""
    await session.execute(
        delete(DocumentoPendiente)
        .where(
            DocumentoPendiente.cambio_id.in_(
                select(CambioPendiente.id).where(
                    CambioPendiente.solicitud_id == solicitud_id,
                    *([CambioPendiente.id != salvo] if salvo is not None else []),
                )
            )
        )
        .execution_options(synchronize_session=False)
    )


async def documento_pendiente(session: AsyncSession, cambio_id: int) -> DocumentoPendiente | None:
    return (
        await session.execute(select(DocumentoPendiente).where(DocumentoPendiente.cambio_id == cambio_id))
    ).scalar_one_or_none()


async def cambios_desde(
    session: AsyncSession, solicitud_id: int, desde: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """How many changes the application asked for after ``desde``, and when the first of them."""
    recientes, primero = (
        await session.execute(
            select(func.count(), func.min(CambioPendiente.creado_at)).where(
                CambioPendiente.solicitud_id == solicitud_id, CambioPendiente.creado_at > desde
            )
        )
    ).one()
    return recientes, primero


async def cambio_por_confirmacion(
    session: AsyncSession, solicitud_id: int, confirmacion: str
) -> CambioPendiente | None:
    return (
        await session.execute(
            select(CambioPendiente).where(
                CambioPendiente.confirmacion == confirmacion, CambioPendiente.solicitud_id == solicitud_id
            )
        )
    ).scalar_one_or_none()


async def cambio_releido(session: AsyncSession, cambio_id: int) -> CambioPendiente:
    query = select(CambioPendiente).where(CambioPendiente.id == cambio_id)
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one()


async def contar_intento(
    session: AsyncSession, cambio_id: int, ahora: dt.datetime, max_intentos: int
) -> int | None:
    """One more wrong try, if the change is still valid: its tries so far (None: used, voided or blocked)."""
    return (
        await session.execute(
            update(CambioPendiente)
            .where(CambioPendiente.id == cambio_id, *_cambio_vigente(ahora, max_intentos))
            .values(intentos=CambioPendiente.intentos + 1)
            .returning(CambioPendiente.intentos)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()


async def usar_cambio(session: AsyncSession, cambio_id: int, ahora: dt.datetime, max_intentos: int) -> bool:
    """Mark the change used if it is still valid (of simultaneous confirmations, one)."""
    usado = await session.execute(
        update(CambioPendiente)
        .where(CambioPendiente.id == cambio_id, *_cambio_vigente(ahora, max_intentos))
        .values(usado_at=ahora)
        .execution_options(synchronize_session=False)
    )
    return usado.rowcount == 1  # type: ignore[attr-defined]


# --- Retention (`vmre datos depurar`) ---------------------------------------------------------------------


def _solicitudes_anteriores(corte: dt.datetime) -> Select[tuple[int]]:
    """The ids of the applications last changed before ``corte``."""
    return select(Solicitud.id).where(Solicitud.actualizada_at < corte)


async def depurar_documentos(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the documents of the applications last changed before ``corte``; how many."""
    hecho = await session.execute(
        delete(Documento).where(Documento.solicitud_id.in_(_solicitudes_anteriores(corte)))
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_cambios_pendientes(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the pending changes (and their documents) of the applications last changed before ``corte``;
    how many changes."""
    await session.execute(
        delete(DocumentoPendiente).where(
            DocumentoPendiente.cambio_id.in_(
                select(CambioPendiente.id).where(
                    CambioPendiente.solicitud_id.in_(_solicitudes_anteriores(corte))
                )
            )
        )
    )
    hecho = await session.execute(
        delete(CambioPendiente).where(CambioPendiente.solicitud_id.in_(_solicitudes_anteriores(corte)))
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_solicitudes(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the applications last changed before ``corte``; how many."""
    hecho = await session.execute(delete(Solicitud).where(Solicitud.actualizada_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_observaciones(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the party observations made before ``corte``; how many."""
    hecho = await session.execute(delete(Observacion).where(Observacion.creada_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_boletas_adicionales(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the extra ballots handed before ``corte`` (they hold the clave de elector); how many. The
    site's count (``boletas_sede``) names nobody and stays."""
    hecho = await session.execute(delete(BoletaAdicional).where(BoletaAdicional.entregada_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_probadores(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the drills' outside testers uploaded before ``corte`` (name and contact); how many."""
    hecho = await session.execute(delete(Probador).where(Probador.cargado_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_notificaciones(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the messages to applicants created before ``corte``; how many."""
    hecho = await session.execute(delete(Notificacion).where(Notificacion.creada_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_outbox(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the outbox rows created before ``corte`` and already published; how many."""
    hecho = await session.execute(
        delete(Outbox).where(Outbox.created_at < corte, Outbox.published_at.is_not(None))
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


# --- the review desk (services/registro/consola.py) -------------------------------------------------------


def _con_alerta() -> ColumnElement[bool]:
    """The application's proof of address is also in another application (``alertas``: comprobante
    reutilizado), as one SQL condition: the desk filters the queue by it."""
    from sqlalchemy.orm import aliased

    propio, otro = aliased(Documento), aliased(Documento)
    return (
        select(propio.id)
        .join(otro, (otro.sha256 == propio.sha256) & (otro.solicitud_id != propio.solicitud_id))
        .where(
            propio.solicitud_id == Solicitud.id,
            propio.tipo == "comprobante_domicilio",
            otro.tipo == "comprobante_domicilio",
        )
        .exists()
    )


def _filtros_cola(
    query: Any,
    estados: Sequence[str],
    entidad: str | None,
    pais: str | None,
    modalidad: str | None,
    con_alertas: bool,
) -> Any:
    query = query.where(Solicitud.estado.in_(estados))
    if entidad:
        query = query.where(Solicitud.entidad == entidad)
    if pais:
        query = query.where(Solicitud.pais == pais)
    if modalidad:
        query = query.where(Solicitud.modalidad == modalidad)
    if con_alertas:
        query = query.where(_con_alerta())
    return query


async def cola(
    session: AsyncSession,
    limite: int,
    despues: tuple[Any, int] | None,
    estados: Sequence[str],
    entidad: str | None = None,
    pais: str | None = None,
    modalidad: str | None = None,
    con_alertas: bool = False,
) -> list[Solicitud]:
    """Work queue in order of receipt (keyset pagination on (recibida_at, id)), with the review desk's
    filters (the API filters by entidad only)."""
    query = _filtros_cola(select(Solicitud), estados, entidad, pais, modalidad, con_alertas)
    if despues is not None:
        instante, ident = despues
        query = query.where(
            (Solicitud.recibida_at > instante)
            | ((Solicitud.recibida_at == instante) & (Solicitud.id > ident))
        )
    query = query.order_by(Solicitud.recibida_at, Solicitud.id).limit(limite)
    return list((await session.execute(query)).scalars())


async def contar_cola(
    session: AsyncSession,
    estados: Sequence[str],
    entidad: str | None = None,
    pais: str | None = None,
    modalidad: str | None = None,
    con_alertas: bool = False,
) -> int:
    query = _filtros_cola(
        select(func.count()).select_from(Solicitud), estados, entidad, pais, modalidad, con_alertas
    )
    return int((await session.execute(query)).scalar_one())


async def ids_con_alerta(session: AsyncSession, solicitud_ids: Sequence[int]) -> set[int]:
    if not solicitud_ids:
        return set()
    filas = await session.execute(select(Solicitud.id).where(Solicitud.id.in_(solicitud_ids), _con_alerta()))
    return set(filas.scalars())


async def historial(session: AsyncSession, folio: str) -> list[Historial]:
    """The application's history (who did what, when), oldest first."""
    filas = await session.execute(
        select(Historial).where(Historial.folio == folio).order_by(Historial.at, Historial.id)
    )
    return list(filas.scalars())


async def documentos_de(session: AsyncSession, solicitud_id: int) -> list[tuple[str, str, int]]:
    """(tipo, content type, size) of each document of an application, without reading their bytes."""
    filas = await session.execute(
        select(Documento.tipo, Documento.content_type, Documento.tamano)
        .where(Documento.solicitud_id == solicitud_id)
        .order_by(Documento.tipo)
    )
    return [(tipo, content_type, tamano) for tipo, content_type, tamano in filas]
