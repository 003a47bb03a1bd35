"""electronico's queries: every read and write of its tables (beyond ``session.add`` of a new object).
Nobody else writes them; routes and use cases call these functions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico.models import (
    Boleta,
    Credencial,
    Descifrado,
    Eleccion,
    MensajeCeremonia,
    Notificacion,
    Sesion,
    TrozoArchivo,
    Votante,
    VotoPostal,
)
from shared.db import UTCDateTime, insert_if_absent, insert_if_absent_id, insert_many_if_absent, por_clave
from shared.numeros import PROBADORES_MAX

# --- Elections ---------------------------------------------------------------------------------------------


async def eleccion(session: AsyncSession, uuid: str, bloqueo: str | None = None) -> Eleccion | None:
    """One election by uuid, optionally locking its row (``bloqueo``): on PostgreSQL, FOR SHARE
    (``"compartido"``) while casting, FOR UPDATE (``"exclusivo"``) while sealing; SQLite serialises writers
    anyway."""
    return await por_clave(session, Eleccion, uuid, bloqueo)


async def crear_eleccion(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """Insert an election unless one with its ``clave`` exists: whether it was inserted."""
    return await insert_if_absent(session, Eleccion, valores, ["clave"])


async def elecciones(session: AsyncSession, simulacro: bool | None = None) -> list[Eleccion]:
    """Every election (or only drills / only real ones), by entidad, drill flag and cargo."""
    q = select(Eleccion).order_by(Eleccion.entidad, Eleccion.simulacro, Eleccion.cargo)
    if simulacro is not None:
        q = q.where(Eleccion.simulacro.is_(simulacro))
    return list((await session.execute(q)).scalars())


async def elecciones_del_votante(session: AsyncSession, v: Votante) -> list[tuple[Eleccion, str | None]]:
    """The elections a voter holds a credential for, each with the tracker of their ballot (None: none)."""
    filas = await session.execute(
        select(Eleccion, Boleta.rastreador)
        .join(Credencial, Credencial.eleccion == Eleccion.uuid)
        .outerjoin(Boleta, (Boleta.eleccion == Eleccion.uuid) & (Boleta.votante_id == v.id))
        .where(Credencial.numero == v.numero, Eleccion.entidad == v.entidad)
        .order_by(Eleccion.simulacro, Eleccion.cargo)
    )
    return [(e, r) for e, r in filas.all()]


async def probadores(session: AsyncSession, entidad: str) -> int:
    """How many outside testers of the drills the entidad has (their numbers: shared/numeros.py)."""
    consulta = select(func.count()).where(
        Votante.entidad == entidad, Votante.numero < 0, Votante.numero >= -PROBADORES_MAX
    )
    return int((await session.execute(consulta)).scalar_one())


async def elecciones_reales(session: AsyncSession, entidad: str) -> list[Eleccion]:
    """The real (not drill) elections of an entidad, by cargo."""
    consulta = (
        select(Eleccion)
        .where(Eleccion.entidad == entidad, Eleccion.simulacro.is_(False))
        .order_by(Eleccion.cargo)
    )
    return list((await session.execute(consulta)).scalars())


async def por_sellar(session: AsyncSession, ahora: dt.datetime) -> list[str]:
    """The open elections whose voting window has ended by ``ahora``."""
    return list(
        (
            await session.execute(
                select(Eleccion.uuid).where(Eleccion.estado == "abierta", Eleccion.fin <= ahora)
            )
        )
        .scalars()
        .all()
    )


# --- Voters and their sessions ------------------------------------------------------------------------------


async def votante(session: AsyncSession, votante_id: int) -> Votante | None:
    return await session.get(Votante, votante_id)


async def crear_votante(session: AsyncSession, valores: dict[str, Any]) -> int | None:
    """Insert a voter unless (entidad, numero) exists: the new row's id, or None."""
    return await insert_if_absent_id(session, Votante, valores, ["entidad", "numero"])


async def votante_por_numero(session: AsyncSession, entidad: str, numero: int) -> Votante | None:
    return (
        await session.execute(select(Votante).where(Votante.entidad == entidad, Votante.numero == numero))
    ).scalar_one_or_none()


async def votante_por_usuario(session: AsyncSession, usuario: str) -> Votante | None:
    return (await session.execute(select(Votante).where(Votante.usuario == usuario))).scalar_one_or_none()


def libre(ahora: dt.datetime) -> ColumnElement[bool]:
    """SQL: the account is not locked at ``ahora``."""
    return or_(Votante.bloqueado_hasta.is_(None), Votante.bloqueado_hasta <= ahora)


def sin_password() -> ColumnElement[bool]:
    """SQL: the voter has not set a password yet."""
    return Votante.password_hash.is_(None)


def codigo_totp_sin_usar(paso: int) -> ColumnElement[bool]:
    """SQL: no TOTP code of time step ``paso`` or later was accepted yet."""
    return or_(Votante.ultimo_codigo.is_(None), Votante.ultimo_codigo < paso)


def codigo_sms_vigente(codigo_hash: str, ahora: dt.datetime) -> ColumnElement[bool]:
    """SQL: the pending SMS code is this one and has not expired at ``ahora``."""
    return and_(Votante.sms_codigo_hash == codigo_hash, Votante.sms_expira_at > ahora)


async def actualizar_votante_si(
    session: AsyncSession, votante_id: int, condicion: ColumnElement[bool], **valores: Any
) -> bool:
    """Set ``valores`` on the voter's row only if ``condicion`` still holds there, in one statement: whether
    it did. The ORM object, if loaded, is left as it was read."""
    stmt = (
        update(Votante)
        .where(Votante.id == votante_id, condicion)
        .values(**valores)
        .returning(Votante.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def contar_fallo(
    session: AsyncSession,
    votante_id: int,
    ahora: dt.datetime,
    intentos_maximos: int,
    bloquear_hasta: dt.datetime,
) -> tuple[bool, dt.datetime | None]:
    """Count a failed attempt in one statement, if the account is not locked at ``ahora``: the one that
    reaches ``intentos_maximos`` locks it until ``bloquear_hasta`` (and resets the count). Whether it was
    counted, and the lockout then stored."""
    bloquea = Votante.fallos + 1 >= intentos_maximos
    hasta = literal(bloquear_hasta, UTCDateTime())
    stmt = (
        update(Votante)
        .where(Votante.id == votante_id, libre(ahora))
        .values(
            fallos=case((bloquea, 0), else_=Votante.fallos + 1),
            bloqueado_hasta=case((bloquea, hasta), else_=Votante.bloqueado_hasta),
        )
        .returning(Votante.bloqueado_hasta)
        .execution_options(synchronize_session=False)
    )
    fila = (await session.execute(stmt)).first()
    return (False, None) if fila is None else (True, fila.bloqueado_hasta)


async def bloqueado_hasta(session: AsyncSession, votante_id: int) -> dt.datetime | None:
    """The voter's lockout as stored now (None: never locked)."""
    return (
        await session.execute(select(Votante.bloqueado_hasta).where(Votante.id == votante_id))
    ).scalar_one()


async def sesion(session: AsyncSession, token_hash: str) -> Sesion | None:
    return await por_clave(session, Sesion, token_hash)


async def borrar_sesion(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(Sesion).where(Sesion.token_hash == token_hash))


async def borrar_sesiones_vencidas(session: AsyncSession, votante_id: int, ahora: dt.datetime) -> None:
    """Delete the voter's sessions expired by ``ahora``."""
    await session.execute(delete(Sesion).where(Sesion.votante_id == votante_id, Sesion.expira_at <= ahora))


# --- The key ceremony -------------------------------------------------------------------------------------


async def mensajes_de_ceremonia(session: AsyncSession, uuid: str) -> list[MensajeCeremonia]:
    """Every public message the custodians delivered for an election's key ceremony."""
    return list(
        (await session.execute(select(MensajeCeremonia).where(MensajeCeremonia.eleccion == uuid)))
        .scalars()
        .all()
    )


# --- Credentials and postal votes --------------------------------------------------------------------------


async def guardar_credenciales(session: AsyncSession, filas: list[dict[str, Any]]) -> int:
    """Insert public credentials, skipping (eleccion, numero) already stored: how many were inserted."""
    return await insert_many_if_absent(session, Credencial, filas, ["eleccion", "numero"])


async def credenciales_publicas(session: AsyncSession, uuid: str) -> list[str]:
    """Every public credential received for an election."""
    return list(
        (await session.execute(select(Credencial.publica).where(Credencial.eleccion == uuid))).scalars().all()
    )


async def credencial_publica(session: AsyncSession, uuid: str, numero: int) -> str | None:
    """The public credential of voter ``numero`` in an election, or None."""
    return (await session.execute(_CREDENCIAL, {"eleccion": uuid, "numero": numero})).scalar_one_or_none()


# Built once (a ballot reads it): a select built per call cost more CPU than running it.
_CREDENCIAL = select(Credencial.publica).where(
    Credencial.eleccion == bindparam("eleccion"), Credencial.numero == bindparam("numero")
)


async def credenciales_selladas(session: AsyncSession, uuids: list[str], numero: int) -> dict[str, str]:
    """Voter ``numero``'s sealed private credentials (in-person voting), by election uuid."""
    filas = await session.execute(
        select(Credencial.eleccion, Credencial.sellada).where(
            Credencial.eleccion.in_(uuids), Credencial.numero == numero, Credencial.sellada.is_not(None)
        )
    )
    return {str(e): str(s) for e, s in filas.all()}


async def guardar_voto_postal(session: AsyncSession, entidad: str, numero: int) -> None:
    """Record that voter ``numero`` of ``entidad`` voted by mail (once)."""
    await insert_if_absent(session, VotoPostal, {"entidad": entidad, "numero": numero}, ["entidad", "numero"])


async def voto_postal(session: AsyncSession, entidad: str, numero: int) -> VotoPostal | None:
    """The postal vote received from voter ``numero`` of ``entidad``, or None."""
    return await session.get(VotoPostal, (entidad, numero))


# --- Ballots and the bulletin board ------------------------------------------------------------------------


async def conteos_de_boletas(session: AsyncSession) -> dict[str, int]:
    """Ballots in each election's box, by election uuid (elections without ballots are absent)."""
    filas = await session.execute(select(Boleta.eleccion, func.count()).group_by(Boleta.eleccion))
    return {u: int(n) for u, n in filas.all()}


async def entrada_del_tablon(
    session: AsyncSession, uuid: str, rastreador: str
) -> Row[tuple[int, str, dt.datetime]] | None:
    """The bulletin-board row (id, tracker, cast at) of one tracker in one election, or None."""
    q = select(Boleta.id, Boleta.rastreador, Boleta.emitida_at).where(
        Boleta.eleccion == uuid, Boleta.rastreador == rastreador
    )
    return (await session.execute(q)).first()


async def pagina_del_tablon(
    session: AsyncSession, uuid: str, despues: int, limite: int
) -> list[Row[tuple[int, str, dt.datetime]]]:
    """Up to ``limite`` bulletin-board rows (id, tracker, cast at) of an election after ballot ``despues``."""
    q = (
        select(Boleta.id, Boleta.rastreador, Boleta.emitida_at)
        .where(Boleta.eleccion == uuid)
        .where(Boleta.id > despues)
        .order_by(Boleta.id)
        .limit(limite)
    )
    return list((await session.execute(q)).all())


# --- Decryptions -------------------------------------------------------------------------------------------


async def pruebas_fuertes(session: AsyncSession, uuid: str) -> list[Row[tuple[int, str | None]]]:
    """Each partial decryption's (owner, strong proofs as JSON text or None), in the archive's order."""
    return list(
        (
            await session.execute(
                select(Descifrado.owner, Descifrado.pruebas_fuertes)
                .where(Descifrado.eleccion == uuid)
                .order_by(Descifrado.posicion)
            )
        ).all()
    )


async def guardar_boleta(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """Insert a ballot unless the voter already has one in that election: whether it was inserted."""
    return await insert_if_absent(session, Boleta, valores, ["eleccion", "votante_id"])


async def boleta_del_votante(session: AsyncSession, uuid: str, votante_id: int) -> Boleta | None:
    """The ballot a voter cast in an election, or None."""
    return (await session.execute(_BOLETA, {"eleccion": uuid, "votante": votante_id})).scalar_one_or_none()


_BOLETA = select(Boleta).where(
    Boleta.eleccion == bindparam("eleccion"), Boleta.votante_id == bindparam("votante")
)


async def boletas_contadas(session: AsyncSession, uuid: str) -> int:
    """Ballots in an election's box."""
    return int(
        (
            await session.execute(select(func.count()).select_from(Boleta).where(Boleta.eleccion == uuid))
        ).scalar_one()
    )


async def boletas_presenciales(session: AsyncSession, uuid: str) -> int:
    """How many of the election's ballots were cast at a consular site's kiosk (by in-person voters)."""
    q = (
        select(func.count())
        .select_from(Boleta)
        .join(Votante, Votante.id == Boleta.votante_id)
        .where(Boleta.eleccion == uuid, Votante.sede.is_not(None))
    )
    return int((await session.execute(q)).scalar_one())


async def textos_de_boletas(session: AsyncSession, uuid: str) -> list[str]:
    """Every accepted ballot of an election (its canonical JSON), in the order it was accepted."""
    return list(
        (
            await session.execute(select(Boleta.texto).where(Boleta.eleccion == uuid).order_by(Boleta.id))
        ).scalars()
    )


async def ultima_boleta(session: AsyncSession, uuid: str) -> int | None:
    """The id of the last ballot accepted in an election (None: none yet)."""
    return (
        await session.execute(select(func.max(Boleta.id)).where(Boleta.eleccion == uuid))
    ).scalar_one_or_none()


async def lote_de_boletas(
    session: AsyncSession, uuid: str, desde: int, hasta: int, limite: int
) -> list[Row[tuple[int, str]]]:
    """Up to ``limite`` (id, ballot) of an election with ``desde < id <= hasta``, by id."""
    return list(
        (
            await session.execute(
                select(Boleta.id, Boleta.texto)
                .where(Boleta.eleccion == uuid, Boleta.id > desde, Boleta.id <= hasta)
                .order_by(Boleta.id)
                .limit(limite)
            )
        ).all()
    )


async def emitidas_por_eleccion(session: AsyncSession) -> list[Row[tuple[str, str, bool, dt.datetime]]]:
    """(election uuid, entidad, drill flag, cast at) of every accepted ballot: counts, never a choice."""
    return list(
        (
            await session.execute(
                select(Eleccion.uuid, Eleccion.entidad, Eleccion.simulacro, Boleta.emitida_at).join(
                    Boleta, Boleta.eleccion == Eleccion.uuid
                )
            )
        ).all()
    )


async def descifrados(session: AsyncSession, uuid: str) -> list[Descifrado]:
    """An election's partial decryptions, in the archive's order."""
    return list(
        (
            await session.execute(
                select(Descifrado).where(Descifrado.eleccion == uuid).order_by(Descifrado.posicion)
            )
        ).scalars()
    )


async def textos_de_descifrados(session: AsyncSession, uuid: str) -> list[Row[tuple[int, str]]]:
    """(owner, partial decryption) of an election, in the archive's order."""
    return list(
        (
            await session.execute(
                select(Descifrado.owner, Descifrado.texto)
                .where(Descifrado.eleccion == uuid)
                .order_by(Descifrado.posicion)
            )
        ).all()
    )


# --- The stored archive ------------------------------------------------------------------------------------


async def insertar_trozo(session: AsyncSession, uuid: str, posicion: int, datos: bytes) -> None:
    """Store one piece of an election's archive, starting at byte ``posicion``."""
    await session.execute(insert(TrozoArchivo).values(eleccion=uuid, posicion=posicion, datos=datos))


async def trozo_con_el_byte(session: AsyncSession, uuid: str, byte: int) -> int | None:
    """Where the stored piece that holds ``byte`` starts (None: no piece starts at or before it)."""
    return (
        await session.execute(
            select(func.max(TrozoArchivo.posicion)).where(
                TrozoArchivo.eleccion == uuid, TrozoArchivo.posicion <= byte
            )
        )
    ).scalar_one_or_none()


async def trozos(
    session: AsyncSession, uuid: str, desde: int, hasta: int, limite: int
) -> list[Row[tuple[int, bytes]]]:
    """Up to ``limite`` stored pieces (start, bytes) of an archive starting in [desde, hasta), in order."""
    return list(
        (
            await session.execute(
                select(TrozoArchivo.posicion, TrozoArchivo.datos)
                .where(
                    TrozoArchivo.eleccion == uuid,
                    TrozoArchivo.posicion >= desde,
                    TrozoArchivo.posicion < hasta,
                )
                .order_by(TrozoArchivo.posicion)
                .limit(limite)
            )
        ).all()
    )


# --- Retention (`vmre datos depurar`) ---------------------------------------------------------------------


async def depurar_sesiones(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the sessions of the accounts created before ``corte``; how many."""
    viejos = select(Votante.id).where(Votante.creado_at < corte)
    hecho = await session.execute(delete(Sesion).where(Sesion.votante_id.in_(viejos)))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_votantes(session: AsyncSession, corte: dt.datetime) -> int:
    """Blank the email, phone and every login secret of the accounts created before ``corte`` (the row
    stays); how many. Only accounts that still hold something: running it again changes nothing."""
    hecho = await session.execute(
        update(Votante)
        .where(
            Votante.creado_at < corte,
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
    )
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


async def depurar_notificaciones(session: AsyncSession, corte: dt.datetime) -> int:
    """Delete the notifications created before ``corte``; how many."""
    hecho = await session.execute(delete(Notificacion).where(Notificacion.creada_at < corte))
    return int(hecho.rowcount or 0)  # type: ignore[attr-defined]


# --- «Check my vote» and the booth's receipts ---------------------------------------------------------------


async def boleta_por_rastreador(
    session: AsyncSession, rastreador: str
) -> Row[tuple[Eleccion, int, dt.datetime]] | None:
    """The election, bulletin-board position (the ballot's id, as the tablón shows it) and cast time of the
    ballot with this tracker, in whichever election it is (a tracker is unique across all of them: the
    database enforces it), or None. Nothing about the voter."""
    q = (
        select(Eleccion, Boleta.id, Boleta.emitida_at)
        .join(Boleta, Boleta.eleccion == Eleccion.uuid)
        .where(Boleta.rastreador == rastreador)
    )
    return (await session.execute(q)).first()


async def emitidas_del_votante(session: AsyncSession, votante_id: int) -> dict[str, dt.datetime]:
    """When each of a voter's ballots was cast, by election uuid (elections without one are absent)."""
    filas = await session.execute(
        select(Boleta.eleccion, Boleta.emitida_at).where(Boleta.votante_id == votante_id)
    )
    return {str(u): t for u, t in filas.all()}
