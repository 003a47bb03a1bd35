"""Signed webhooks through an outbox: a delivery per active subscription is staged in the same transaction
as the change that causes it (``encolar``), and a ``Despachador`` POSTs it afterwards, retrying with
exponential backoff until the receiver answers 2xx or the attempts run out. The ``entregas`` table is the
delivery log.

Receivers authenticate each request with the subscription's secret (Stripe-style)::

    X-VMRE-Firma: t=<unix seconds>,v1=<hex HMAC-SHA256(secreto, f"{t}.{cuerpo}")>

An OPL runs ``verificar_firma`` (or its equivalent in its own language) over the *raw* request body, and
rejects the request when it is false: that catches forged or altered bodies and, through the timestamp
tolerance, replays of an old request. ``X-VMRE-Entrega`` identifies the delivery (the same on each retry)
and the body's ``evento_id`` identifies the event, so a receiver deduplicates retries by it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import random
import secrets
import time
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.auth import ENTIDAD_RE
from shared.db import UTCDateTime, insert_if_absent, utcnow
from shared.reloj import Reloj, RelojSistema

log = logging.getLogger(__name__)

PENDIENTE = "pendiente"
ENTREGADA = "entregada"
FALLIDA = "fallida"

CABECERA_FIRMA = "X-VMRE-Firma"
CABECERA_EVENTO = "X-VMRE-Evento"
CABECERA_ENTREGA = "X-VMRE-Entrega"

_HOSTS_LOCALES = frozenset({"localhost", "127.0.0.1"})


def nuevo_secreto() -> str:
    return secrets.token_urlsafe(32)


class SuscripcionMixin:
    """Columns of a service's ``suscripciones`` table (declare ``class Suscripcion(SuscripcionMixin, Base)``).

    ``secreto`` is the HMAC key: it must be readable to sign, so it is stored as is; show it once, when the
    subscription is created, and never log it."""

    __tablename__ = "suscripciones"

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secreto: Mapped[str] = mapped_column(String(100), default=nuevo_secreto)
    activa: Mapped[bool] = mapped_column(Boolean, default=True)
    creada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    creada_por: Mapped[str] = mapped_column(String(200))


class EntregaMixin:
    """Columns of a service's ``entregas`` table (declare ``class Entrega(EntregaMixin, Base)``): one row per
    (subscription, event), which is also the log of its attempts."""

    __tablename__ = "entregas"

    id: Mapped[int] = mapped_column(primary_key=True)
    suscripcion_id: Mapped[int] = mapped_column(ForeignKey("suscripciones.id"))
    evento: Mapped[str] = mapped_column(String(100))
    evento_id: Mapped[str] = mapped_column(String(100))
    cuerpo: Mapped[str] = mapped_column(Text)
    intentos: Mapped[int] = mapped_column(SmallInteger, default=0)
    estado: Mapped[str] = mapped_column(String(10), default=PENDIENTE)
    proximo_intento_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ultimo_codigo: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ultimo_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    entregada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    creada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            UniqueConstraint("suscripcion_id", "evento_id"),
            Index("ix_entregas_pendientes", "estado", "proximo_intento_at"),
        )


S = TypeVar("S", bound=SuscripcionMixin)


def validar_url(url: str, permitir_http_local: bool) -> str:
    """The URL if a webhook may be sent to it: https, or http only to localhost/127.0.0.1 when allowed
    (development, tests). Raises ValueError with a message for people."""
    try:
        partes = urlsplit(url)
        host = partes.hostname
        partes.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError(f"URL no válida: {exc}") from None
    if not host:
        raise ValueError("La URL del webhook debe indicar un servidor.")
    if partes.username or partes.password:
        raise ValueError("La URL del webhook no debe llevar usuario ni contraseña: se firma con el secreto.")
    if partes.scheme == "https":
        return url
    if partes.scheme == "http":
        if permitir_http_local and host in _HOSTS_LOCALES:
            return url
        raise ValueError(
            "La URL del webhook debe usar https (http solo se admite hacia localhost en pruebas)."
        )
    raise ValueError(f"Esquema no admitido en la URL del webhook: {partes.scheme or '(ninguno)'}; use https.")


async def suscribir(
    session: AsyncSession,
    suscripcion: type[S],
    *,
    entidad: str,
    url: str,
    creada_por: str,
    ahora: dt.datetime,
    permitir_http_local: bool = False,
) -> S:
    """A new active subscription with a fresh secret, in the caller's transaction. The caller shows
    ``.secreto`` once, to whoever registered it."""
    if not ENTIDAD_RE.match(entidad):
        raise ValueError("La entidad debe ser la clave de dos dígitos (01..32).")
    fila = suscripcion()
    fila.entidad, fila.url = entidad, validar_url(url, permitir_http_local)
    fila.secreto, fila.activa = nuevo_secreto(), True
    fila.creada_at, fila.creada_por = ahora, creada_por
    session.add(fila)
    await session.flush()
    return fila


async def encolar(
    session: AsyncSession,
    entrega: type[EntregaMixin],
    suscripcion: type[SuscripcionMixin],
    *,
    entidad: str,
    evento: str,
    evento_id: str,
    datos: dict[str, Any],
    ahora: dt.datetime,
) -> int:
    """Stage one delivery per active subscription of ``entidad``, in the caller's transaction; due at once.

    Idempotent: a subscription gets an ``evento_id`` once, however often it is staged. Returns how many
    deliveries were created. The body is serialized here, once, and sent byte for byte as stored."""
    ids = (
        (
            await session.execute(
                select(suscripcion.id)
                .where(suscripcion.entidad == entidad, suscripcion.activa.is_(True))
                .order_by(suscripcion.id)
            )
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0
    cuerpo = json.dumps(
        {
            "evento": evento,
            "evento_id": evento_id,
            "entidad": entidad,
            "ocurrido_at": ahora.astimezone(dt.UTC).isoformat(),
            "datos": datos,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    creadas = 0
    for suscripcion_id in ids:
        creadas += await insert_if_absent(
            session,
            entrega,
            {
                "suscripcion_id": suscripcion_id,
                "evento": evento,
                "evento_id": evento_id,
                "cuerpo": cuerpo,
                "intentos": 0,
                "estado": PENDIENTE,
                "proximo_intento_at": ahora,
                "creada_at": ahora,
            },
            ["suscripcion_id", "evento_id"],
        )
    return creadas


def _mac(secreto: str, cuerpo: bytes, t: int) -> str:
    return hmac.new(secreto.encode("utf-8"), f"{t}.".encode("ascii") + cuerpo, hashlib.sha256).hexdigest()


def firmar(secreto: str, cuerpo: bytes, t: int) -> str:
    """The ``X-VMRE-Firma`` value: ``t=<t>,v1=<hex HMAC-SHA256(secreto, b"<t>." + cuerpo)>``."""
    return f"t={t},v1={_mac(secreto, cuerpo, t)}"


def verificar_firma(
    secreto: str, cuerpo: bytes, cabecera: str, ahora_s: int | float, tolerancia_s: int = 300
) -> bool:
    """What a receiver runs on each request: True only if ``cabecera`` (the ``X-VMRE-Firma`` value) carries
    a ``v1`` HMAC of ``cuerpo`` — the raw request body, before any JSON parsing — made with ``secreto``, and
    its timestamp ``t`` lies within ``tolerancia_s`` seconds of the receiver's clock ``ahora_s`` (Unix
    seconds), so an intercepted request cannot be replayed later. Several ``v1`` entries are accepted (any
    may match); a malformed header is simply False."""
    t: int | None = None
    firmas: list[str] = []
    for parte in cabecera.split(","):
        clave, sep, valor = parte.strip().partition("=")
        if not sep:
            return False
        if clave == "t":
            try:
                t = int(valor)
            except ValueError:
                return False
        elif clave == "v1":
            firmas.append(valor)
    if t is None or not firmas or abs(ahora_s - t) > tolerancia_s:
        return False
    esperada = _mac(secreto, cuerpo, t)
    return any(hmac.compare_digest(esperada, f) for f in firmas)


def retraso_s(intentos: int, base_s: float, tope_s: float) -> float:
    """Seconds to wait after the ``intentos``-th failed attempt: exponential backoff with full jitter,
    uniform in [0, min(tope_s, base_s · 2^(intentos-1))]."""
    return random.uniform(0.0, min(tope_s, base_s * 2 ** max(intentos - 1, 0)))


class Despachador:
    """Sends due deliveries and records each attempt.

    A short transaction claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several despachadores
    never send the same row at once), counts the attempt and leases the rows; the POSTs run outside any
    transaction, and each result is written in its own. If the process dies mid-send the lease expires and
    the delivery is tried again (receivers deduplicate by ``evento_id``). ``reloj`` schedules retries; the
    signature's timestamp is always the wall clock, which is what a receiver compares it with.
    """

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        entrega: type[EntregaMixin],
        suscripcion: type[SuscripcionMixin],
        *,
        cliente: httpx.AsyncClient | None = None,
        reloj: Reloj | None = None,
        max_intentos: int = 8,
        base_s: float = 2.0,
        tope_s: float = 3600.0,
        timeout_s: float = 10.0,
        lote: int = 100,
        poll_s: float = 1.0,
        concurrencia: int = 10,
    ) -> None:
        if max_intentos < 1 or lote < 1 or concurrencia < 1:
            raise ValueError("max_intentos, lote y concurrencia deben ser al menos 1")
        self.maker, self.entrega, self.suscripcion = maker, entrega, suscripcion
        self.reloj: Reloj = reloj or RelojSistema()
        self.max_intentos, self.base_s, self.tope_s = max_intentos, base_s, tope_s
        self.timeout_s, self.lote, self.poll_s = timeout_s, lote, poll_s
        self.concurrencia = concurrencia
        self._cliente = cliente
        self._cliente_propio = cliente is None
        # Long enough for a whole batch to be attempted before another despachador may claim it again.
        self.plazo_reclamo = dt.timedelta(seconds=timeout_s * (math.ceil(lote / concurrencia) + 1) + 60)

    def _http(self) -> httpx.AsyncClient:
        if self._cliente is None:
            self._cliente = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        return self._cliente

    async def aclose(self) -> None:
        """Close the HTTP client if the despachador created it."""
        if self._cliente_propio and self._cliente is not None:
            await self._cliente.aclose()
            self._cliente = None

    async def _reclamar(self) -> list[tuple[int, int, str, str, str, str]]:
        E, S = self.entrega, self.suscripcion
        ahora = self.reloj.ahora()
        async with self.maker() as session, session.begin():
            filas = (
                await session.execute(
                    select(E.id, E.intentos, E.evento, E.cuerpo, S.url, S.secreto)
                    .join(S, S.id == E.suscripcion_id)
                    .where(E.estado == PENDIENTE, E.proximo_intento_at <= ahora, S.activa.is_(True))
                    .order_by(E.proximo_intento_at, E.id)
                    .limit(self.lote)
                    .with_for_update(of=E, skip_locked=True)
                )
            ).all()
            if not filas:
                return []
            # Attempts already used up: a previous despachador died during the last one.
            agotadas = [f.id for f in filas if f.intentos >= self.max_intentos]
            if agotadas:
                await session.execute(
                    update(E)
                    .where(E.id.in_(agotadas))
                    .values(estado=FALLIDA, ultimo_error="intento interrumpido sin resultado")
                )
            reclamadas = [f for f in filas if f.intentos < self.max_intentos]
            if reclamadas:
                await session.execute(
                    update(E)
                    .where(E.id.in_([f.id for f in reclamadas]))
                    .values(intentos=E.intentos + 1, proximo_intento_at=ahora + self.plazo_reclamo)
                )
        return [(f.id, f.intentos + 1, f.evento, f.cuerpo, f.url, f.secreto) for f in reclamadas]

    async def _enviar(self, id_: int, intento: int, evento: str, cuerpo: str, url: str, secreto: str) -> None:
        datos = cuerpo.encode("utf-8")
        cabeceras = {
            "Content-Type": "application/json",
            "User-Agent": "VMRE-webhooks/1",
            CABECERA_EVENTO: evento,
            CABECERA_ENTREGA: str(id_),
            CABECERA_FIRMA: firmar(secreto, datos, int(time.time())),
        }
        codigo: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                respuesta = await self._http().post(
                    url, content=datos, headers=cabeceras, follow_redirects=False
                )
            codigo = respuesta.status_code
            if not 200 <= codigo < 300:
                error = f"HTTP {codigo}"
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            error = f"sin respuesta en {self.timeout_s:g} s"
        except Exception as exc:  # network errors and anything else: the attempt failed
            error = f"{type(exc).__name__}: {exc}"[:200]
        await self._registrar(id_, intento, codigo, error)

    async def _registrar(self, id_: int, intento: int, codigo: int | None, error: str | None) -> None:
        E = self.entrega
        ahora = self.reloj.ahora()
        valores: dict[str, Any] = {"ultimo_codigo": codigo, "ultimo_error": error}
        if error is None:
            valores |= {"estado": ENTREGADA, "entregada_at": ahora}
            log.info("webhook entregado", extra={"entrega": id_, "intento": intento, "codigo": codigo})
        elif intento >= self.max_intentos:
            valores["estado"] = FALLIDA
            log.warning("webhook fallido: sin más intentos", extra={"entrega": id_, "intento": intento})
        else:
            valores["proximo_intento_at"] = ahora + dt.timedelta(
                seconds=retraso_s(intento, self.base_s, self.tope_s)
            )
            log.warning(
                "webhook no entregado, se reintentará",
                extra={"entrega": id_, "intento": intento, "codigo": codigo},
            )
        async with self.maker() as session, session.begin():
            # Only if nobody re-claimed the row meanwhile (after an expired lease).
            await session.execute(
                update(E).where(E.id == id_, E.intentos == intento, E.estado == PENDIENTE).values(**valores)
            )

    async def entregar_pendientes(self) -> int:
        """Attempt every due delivery (one batch); returns how many were attempted."""
        reclamadas = await self._reclamar()
        if not reclamadas:
            return 0
        limite = asyncio.Semaphore(self.concurrencia)

        async def una(fila: tuple[int, int, str, str, str, str]) -> None:
            async with limite:
                await self._enviar(*fila)

        resultados = await asyncio.gather(*(una(f) for f in reclamadas), return_exceptions=True)
        for r in resultados:
            if isinstance(r, BaseException):
                # The row stays leased and is tried again when the lease expires.
                log.warning("webhooks: no se registró un intento", extra={"error": type(r).__name__})
        return len(reclamadas)

    async def run(self) -> None:
        try:
            while True:
                try:
                    if await self.entregar_pendientes() >= self.lote:
                        continue
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "webhooks: error al despachar, se reintenta", extra={"error": type(exc).__name__}
                    )
                await asyncio.sleep(self.poll_s)
        finally:
            await self.aclose()
