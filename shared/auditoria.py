"""Audit log: append-only and hash-chained, one chain per service (table ``bitacora``).

Every state change (every non-GET request that commits) and every read of unmasked personal data adds a
row *in the same transaction* as the change itself: a crash cannot keep a change without its record. Rows are
inserted unsealed (``seq``/``hash`` NULL) so writers never wait on a chain lock; one background *sellador* per
service chains them in the order it sees them committed (by ``id``), giving each its ``seq``, the previous
record's hash and its own hash. A record is chained within about a second of its commit. The chain order is
``seq``, not ``id``: on PostgreSQL a lower id may commit after a higher one was already sealed, and then it
simply gets a later ``seq``.

``hash = SHA-256(JSON canónico de los campos del registro, incluidos seq y hash_previo)``; the first record's
``hash_previo`` is 64 zeros. ``vmre audit verify`` walks the chain and names the first broken link.

``detalle`` is small and never carries personal data nor anything of a vote.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import JSON, BigInteger, Index, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared import limites
from shared.db import UTCDateTime, insertar, utcnow

log = logging.getLogger(__name__)

GENESIS = "0" * 64
CIUDADANIA = "ciudadania"
VOTANTE = "votante"
ACTOR_ANONIMO = "vmre_actor_anonimo"  # request.state attribute: who an unauthenticated caller is
CAMPOS = ("seq", "id", "at", "actor", "rol", "accion", "objeto", "origen", "estado", "detalle", "hash_previo")


class AuditoriaMixin:
    """Columns of a service's ``bitacora`` table (declare ``class Bitacora(AuditoriaMixin, Base)``)."""

    __tablename__ = "bitacora"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    seq: Mapped[int | None] = mapped_column(BigInteger(), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    rol: Mapped[str] = mapped_column(String(32))
    accion: Mapped[str] = mapped_column(String(300))
    objeto: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    origen: Mapped[str] = mapped_column(String(64))
    estado: Mapped[str] = mapped_column(String(16))
    detalle: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hash_previo: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        # Unique: two sealers racing on one database cannot both give out a seq (one of them rolls back).
        return (Index("ix_bitacora_seq", "seq", unique=True),)


# --- writing (in the caller's transaction) -------------------------------------------------------------


def marcar_anonimo(request: Request, actor: str) -> None:
    """Who an unauthenticated caller is for the log (``votante``; ``ciudadania`` by default)."""
    setattr(request.state, ACTOR_ANONIMO, actor)


ANOTACION = "vmre_auditoria_detalle"  # request.state attribute: what a route adds to its request's record


def anotar(request: Request, **detalle: Any) -> None:
    """Add to the ``detalle`` of this request's record (the one ``get_session`` writes when it commits): what
    the change did beyond its route and parameters. Small, and never personal data nor a secret."""
    setattr(request.state, ANOTACION, getattr(request.state, ANOTACION, {}) | detalle)


def _quien(request: Request) -> tuple[str, str]:
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return principal.sub, principal.rol.value
    anonimo = getattr(request.state, ACTOR_ANONIMO, CIUDADANIA)
    return anonimo, anonimo


# Path parameters that are a person's secret (the folio is the key of an application, and auditors read this
# log): recorded as their SHA-256, which finds the records of a folio one holds and never shows the folio.
SECRETOS_DE_RUTA = frozenset({"folio"})


def _objeto(request: Request) -> dict[str, str]:
    objeto = {}
    for nombre, valor in request.path_params.items():
        if nombre in SECRETOS_DE_RUTA:
            objeto[f"{nombre}_sha256"] = hashlib.sha256(str(valor).encode()).hexdigest()
        else:
            objeto[nombre] = str(valor)
    return objeto


def _accion(request: Request) -> str:
    route = request.scope.get("route")
    plantilla = getattr(route, "path", None) or request.url.path
    return f"{request.method} {plantilla}"


async def registrar(
    session: AsyncSession,
    modelo: type[AuditoriaMixin],
    request: Request,
    *,
    estado: str = "ok",
    **detalle: Any,
) -> None:
    """Add the record of this request to the caller's transaction (unsealed). No personal data in
    ``detalle``."""
    actor, rol = _quien(request)
    proxies = getattr(request.app.state, "proxies_confiables", ())
    await insertar(
        session,
        modelo,
        {
            "at": utcnow(),
            "actor": actor,
            "rol": rol,
            "accion": _accion(request)[:300],
            "objeto": _objeto(request),
            # Behind the ingress, the client's address (VMRE_PROXIES_CONFIABLES), not the proxy's.
            "origen": limites.origen(request.scope, proxies)[:64],
            "estado": estado,
            "detalle": getattr(request.state, ANOTACION, {}) | detalle,
        },
    )


async def registrar_peticion(
    session: AsyncSession, request: Request, *, estado: str = "ok", **detalle: Any
) -> None:
    """``registrar`` into the service's own log (for routes that manage their transaction themselves)."""
    modelo = request.app.state.runtime.spec.auditoria
    if modelo is not None:
        await registrar(session, modelo, request, estado=estado, **detalle)


async def registrar_lectura(session: AsyncSession, request: Request, **detalle: Any) -> None:
    """A GET that shows unmasked personal data to staff: leave a record (same transaction as the read)."""
    await registrar_peticion(session, request, lectura="datos_personales", **detalle)


# --- the chain ------------------------------------------------------------------------------------------


def como_dict(fila: AuditoriaMixin) -> dict[str, Any]:
    """The exported form of a record; the hash covers exactly these fields (except ``hash``)."""
    return {
        "seq": fila.seq,
        "id": fila.id,
        "at": fila.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": fila.actor,
        "rol": fila.rol,
        "accion": fila.accion,
        "objeto": fila.objeto,
        "origen": fila.origen,
        "estado": fila.estado,
        "detalle": fila.detalle,
        "hash_previo": fila.hash_previo,
        "hash": fila.hash,
    }


def calcular_hash(registro: dict[str, Any]) -> str:
    canonico = json.dumps(
        {k: registro.get(k) for k in CAMPOS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonico.encode("utf-8")).hexdigest()


async def sellar(
    maker: async_sessionmaker[AsyncSession], modelo: type[AuditoriaMixin], lote: int = 1000
) -> int:
    """Chain the committed unsealed rows (oldest id first), up to ``lote``. Returns how many."""
    async with maker() as session, session.begin():
        ultimo = (
            await session.execute(
                select(modelo.seq, modelo.hash)
                .where(modelo.seq.is_not(None))
                .order_by(modelo.seq.desc())
                .limit(1)
            )
        ).first()
        seq, previo = (int(ultimo[0]), str(ultimo[1])) if ultimo else (0, GENESIS)
        filas = (
            (
                await session.execute(
                    select(modelo).where(modelo.seq.is_(None)).order_by(modelo.id).limit(lote)
                )
            )
            .scalars()
            .all()
        )
        if not filas:
            return 0
        cambios = []
        for fila in filas:
            seq += 1
            registro = como_dict(fila) | {"seq": seq, "hash_previo": previo}
            previo = calcular_hash(registro)
            cambios.append(
                {"id": fila.id, "seq": seq, "hash_previo": registro["hash_previo"], "hash": previo}
            )
        session.expunge_all()
        await session.execute(update(modelo), cambios)
    return len(filas)


async def sellador(
    maker: async_sessionmaker[AsyncSession], modelo: type[AuditoriaMixin], intervalo: float = 0.5
) -> None:
    """Background task of every service: seal what was committed, every ``intervalo`` seconds."""
    while True:
        ronda = asyncio.ensure_future(sellar(maker, modelo))
        try:
            n = await asyncio.shield(ronda)
        except asyncio.CancelledError:
            # Shutting down: let the round end its transaction (milliseconds) rather than cut a query short.
            with contextlib.suppress(Exception):
                await ronda
            raise
        except Exception as exc:  # another sealer won the race, or the database is away: try again
            log.warning("sellador de bitácora: %s", type(exc).__name__, exc_info=exc)
            n = 0
        if n == 0:
            await asyncio.sleep(intervalo)


async def exportar(
    session: AsyncSession, modelo: type[AuditoriaMixin], desde_seq: int = 1, limite: int = 1000
) -> list[dict[str, Any]]:
    """Sealed records from ``desde_seq`` on, in chain order."""
    filas = await session.execute(
        select(modelo).where(modelo.seq >= desde_seq).order_by(modelo.seq).limit(limite)
    )
    return [como_dict(f) for f in filas.scalars()]


async def recorrer(
    maker: async_sessionmaker[AsyncSession], modelo: type[AuditoriaMixin], lote: int = 5000
) -> AsyncIterator[dict[str, Any]]:
    """The whole sealed chain of a database, in ``seq`` order, a page at a time."""
    desde = -(2**62)
    while True:
        async with maker() as session:
            pagina = await exportar(session, modelo, desde, lote)
        for registro in pagina:
            yield registro
        if len(pagina) < lote:
            return
        desde = int(pagina[-1]["seq"]) + 1


# --- verification ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class Falla(Exception):
    seq: int
    motivo: str

    def __str__(self) -> str:
        return f"FALLA en el registro seq={self.seq}: {self.motivo}"


class Verificador:
    """Feed the records in order; raises ``Falla`` at the first broken link."""

    def __init__(self) -> None:
        self.esperado = 1
        self.previo = GENESIS
        self.total = 0

    def agregar(self, registro: dict[str, Any]) -> None:
        seq = registro.get("seq")
        if not isinstance(seq, int):
            raise Falla(self.esperado, "registro sin seq (no sellado o dañado)")
        if seq != self.esperado:
            if seq > self.esperado:
                motivo = f"falta (borrado o movido): después de seq={self.esperado - 1} sigue seq={seq}"
                raise Falla(self.esperado, motivo)
            raise Falla(seq, f"fuera de orden: se esperaba seq={self.esperado} (registros reordenados)")
        if registro.get("hash_previo") != self.previo:
            raise Falla(
                seq,
                "hash_previo no coincide con el hash del registro anterior "
                "(registro anterior borrado, insertado o reordenado)",
            )
        if calcular_hash(registro) != registro.get("hash"):
            raise Falla(seq, "el hash no corresponde a su contenido (registro editado)")
        self.previo = str(registro["hash"])
        self.esperado += 1
        self.total += 1


def verificar(registros: Iterable[dict[str, Any]]) -> int:
    """Check a whole chain (from seq=1); the number of records, or ``Falla``."""
    v = Verificador()
    for registro in registros:
        v.agregar(registro)
    return v.total


async def verificar_base(maker: async_sessionmaker[AsyncSession], modelo: type[AuditoriaMixin]) -> int:
    v = Verificador()
    async for registro in recorrer(maker, modelo):
        v.agregar(registro)
    return v.total
