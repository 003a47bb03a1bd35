"""Signed webhooks through an outbox: a delivery per active subscription is staged in the same transaction
as the change that causes it (``encolar``), and a ``Despachador`` POSTs it afterwards, retrying with
exponential backoff until the receiver answers 2xx or the attempts run out. The ``entregas`` table is the
delivery log.

**The signature: one HMAC scheme for every signed request between VMRE and the outside**, both ways — these
webhooks to OPL systems, and the carriers' tracking events into postal
(``POST /v1/transportistas/{t}/eventos``). The sender signs the exact bytes of the body with the shared secret
(the subscription's; the carrier's ``VMRE_POSTAL_TRANSPORTISTAS`` entry), Stripe-style::

    X-VMRE-Firma: t=<unix seconds>,v1=<hex HMAC-SHA256(secreto, f"{t}.{cuerpo}")>

The receiver runs ``verificar_firma`` (or its equivalent in its own language) over the *raw* request body, and
rejects the request when it is false: that catches forged or altered bodies and, since ``t`` is inside the
MAC and may differ from the receiver's clock by at most ``TOLERANCIA_S`` (5 minutes), a request captured and
replayed later. Within those minutes a replay is harmless because every event is idempotent: here
``X-VMRE-Entrega`` identifies the delivery (the same on each retry) and the body's ``evento_id`` the event, so
a receiver deduplicates retries by it; postal applies a carrier's ``evento_id`` once.

**Where deliveries may go (SSRF).** A webhook URL is registered by an OPL, so it must never reach the
platform's own network: the cloud metadata service, the pods, the cluster's DNS names. A host is accepted
only if it is, or resolves only to, public internet addresses (``es_publica``), whatever its spelling
(decimal or hex IPv4, IPv6, IPv4 inside IPv6, names that resolve there); at registration (``suscribir``,
which tells the OPL) and again on every connection: the despachador's client resolves each host itself
(``RedPublica``) and connects to the very address it checked, never by name, so a DNS answer that changes
after the check (DNS rebinding) is not followed. The only exception is plain ``http://localhost`` (or
``127.0.0.1``) in local mode, for tests; production refuses it. Redirects are not followed, and the delivery
log tells the OPL only a class of error (``CLASES_DE_ERROR``), never the connection's own message, so it
cannot be used to probe what answers where.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import random
import re
import secrets
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit

import httpcore
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

from shared.claves import ENTIDAD_RE
from shared.db import UTCDateTime, insert_if_absent, utcnow
from shared.reloj import Reloj, RelojSistema
from shared.rondas import repetir

log = logging.getLogger(__name__)

PENDIENTE = "pendiente"
ENTREGADA = "entregada"
FALLIDA = "fallida"

CABECERA_FIRMA = "X-VMRE-Firma"
CABECERA_EVENTO = "X-VMRE-Evento"
CABECERA_ENTREGA = "X-VMRE-Entrega"

TOLERANCIA_S = 300  # how far a signature's ``t`` may be from the receiver's clock

_HOSTS_LOCALES = frozenset({"localhost", "127.0.0.1"})

# What ``GET /v1/webhooks/entregas`` may say about a failed attempt (``ultimo_error``): a class, never the
# connection's own message (which names addresses, ports and what answered).
CLASES_DE_ERROR = frozenset(
    {
        "destino_no_permitido",  # the host is, or now resolves to, an address outside the public internet
        "dns",  # the host does not resolve
        "conexion",  # refused, reset or unreachable
        "tls",  # handshake or certificate
        "tiempo",  # no answer in time
        "protocolo",  # the answer was not HTTP
        "http_3xx",  # redirects are not followed
        "http_4xx",
        "http_5xx",
        "interrumpido",  # the despachador died during the attempt
        "otro",
    }
)

Direccion = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the host resolves to, as text; raises OSError when it does not resolve.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class DestinoNoPermitido(ValueError):
    """The host of a webhook URL is, or resolves to, an address that is not of the public internet."""


class NombreNoResuelto(OSError):
    """The host of a webhook URL does not resolve."""


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


async def resolver_del_sistema(host: str, puerto: int) -> list[str]:
    """The addresses of ``host`` from the operating system's resolver (``getaddrinfo``), without repeats."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, puerto, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise NombreNoResuelto(f"{host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def ip_de(texto: str) -> Direccion | None:
    """``texto`` as an IP address, in any spelling a resolver would take for one — dotted quad, IPv6 (with a
    zone), and the old IPv4 forms ``inet_aton`` accepts: ``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
    ``127.1`` — or None if it is a name."""
    texto = texto.strip("[]")
    try:
        return ipaddress.ip_address(texto)
    except ValueError:
        pass
    if not texto or not texto[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(texto))
    except OSError:
        return None


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def es_publica(ip: Direccion) -> bool:
    """True only for an address of the public internet: not private, loopback, link-local (the cloud
    metadata service), shared (CGNAT), documentation, multicast, reserved or unspecified; for IPv6, not one
    that carries such an IPv4 address inside (IPv4-mapped, 6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return es_publica(ip.ipv4_mapped)
        dentro = ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if dentro is not None and not es_publica(dentro):
            return False
        if ip.scope_id:
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _excepcion_local(partes: SplitResult, permitir_http_local: bool) -> bool:
    """The one exception: plain http to localhost/127.0.0.1, in local mode (tests, development)."""
    return permitir_http_local and partes.scheme == "http" and (partes.hostname or "") in _HOSTS_LOCALES


def validar_url(url: str, permitir_http_local: bool) -> str:
    """The URL if a webhook may be sent to it, by what its text says: https to a name or to a public address
    (any spelling), or plain http to localhost/127.0.0.1 when allowed (local mode: development, tests).
    Raises ValueError with a message for people. Names are resolved by ``validar_destino``."""
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
    if _excepcion_local(partes, permitir_http_local):
        return url
    if partes.scheme == "http":
        raise ValueError(
            "La URL del webhook debe usar https (http solo se admite hacia localhost en pruebas)."
        )
    if partes.scheme != "https":
        raise ValueError(
            f"Esquema no admitido en la URL del webhook: {partes.scheme or '(ninguno)'}; use https."
        )
    ip = ip_de(host)
    if ip is not None and not es_publica(ip):
        raise DestinoNoPermitido(
            f"La URL del webhook apunta a {host}, que no es una dirección pública de internet."
        )
    return url


async def direcciones(host: str, puerto: int, resolver: Resolver, *, local: bool = False) -> list[Direccion]:
    """The addresses a webhook to ``host`` may connect to: all that it resolves to, each of them public (an IP
    literal, in any spelling, is its own address); else DestinoNoPermitido — also when only some are not, so
    no retry ever lands on the other. ``local``: the local-mode exception, where each must be loopback.
    NombreNoResuelto when the host does not resolve."""
    ip = ip_de(host)
    if ip is not None:
        ips = [ip]
    else:
        try:
            resueltas = await resolver(host, puerto)
        except NombreNoResuelto:
            raise
        except (OSError, UnicodeError) as exc:
            raise NombreNoResuelto(f"{host}: {exc}") from exc
        leidas = [ip_de(d) for d in resueltas]
        if not leidas:
            raise NombreNoResuelto(f"{host}: sin direcciones")
        if any(d is None for d in leidas):
            raise DestinoNoPermitido(f"{host}: el resolvedor no dio direcciones IP")
        ips = [d for d in leidas if d is not None]
    permitida = (lambda d: d.is_loopback) if local else es_publica
    if not all(permitida(d) for d in ips):
        raise DestinoNoPermitido(f"{host} no es, o no resuelve solo a, direcciones públicas")
    return ips


async def validar_destino(url: str, permitir_http_local: bool, resolver: Resolver) -> str:
    """``validar_url``, and the host resolved with ``resolver``: the URL if every address of its host is
    public. A name that does not resolve and one that resolves to a private address get the same message, so
    registering URLs tells nothing about the platform's network."""
    validar_url(url, permitir_http_local)
    partes = urlsplit(url)
    host = partes.hostname or ""
    puerto = partes.port or (443 if partes.scheme == "https" else 80)
    try:
        await direcciones(host, puerto, resolver, local=_excepcion_local(partes, permitir_http_local))
    except (DestinoNoPermitido, NombreNoResuelto):
        raise DestinoNoPermitido(
            f"El servidor {host} de la URL del webhook no resuelve a direcciones públicas de internet."
        ) from None
    return url


async def suscribir(
    session: AsyncSession,
    suscripcion: type[S],
    *,
    entidad: str,
    url: str,
    creada_por: str,
    ahora: dt.datetime,
    permitir_http_local: bool = False,
    resolver: Resolver = resolver_del_sistema,
) -> S:
    """A new active subscription with a fresh secret, in the caller's transaction. The caller shows
    ``.secreto`` once, to whoever registered it. ValueError (a message for people) if the URL may not receive
    webhooks, its host resolved with ``resolver`` (``validar_destino``)."""
    if not ENTIDAD_RE.match(entidad):
        raise ValueError("La entidad debe ser la clave de dos dígitos (01..32).")
    url = await validar_destino(url, permitir_http_local, resolver)
    fila = suscripcion()
    fila.entidad, fila.url = entidad, url
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


_HEX_MAC = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Firma:
    """A well-formed ``X-VMRE-Firma`` value: its timestamp and its ``v1`` MACs. Its two checks are apart so a
    receiver can refuse a stale one before reading the body (postal does, for the carriers)."""

    t: int
    v1: tuple[str, ...]

    def vigente(self, ahora_s: int | float, tolerancia_s: int = TOLERANCIA_S) -> bool:
        """``t`` within ``tolerancia_s`` seconds of the receiver's clock ``ahora_s`` (Unix seconds)."""
        return abs(ahora_s - self.t) <= tolerancia_s

    def corresponde(self, secreto: str, cuerpo: bytes) -> bool:
        """Some ``v1`` is the HMAC of ``cuerpo`` (the raw body) made with ``secreto`` at ``t``."""
        esperada = _mac(secreto, cuerpo, self.t)
        return any(hmac.compare_digest(esperada, f) for f in self.v1)


def leer_firma(cabecera: str) -> Firma | None:
    """The ``X-VMRE-Firma`` value parsed, or None if malformed: without a ``t`` of ASCII digits or without a
    ``v1`` of 64 hex digits (other entries, like a future ``v2``, are ignored)."""
    if len(cabecera) > 1024:
        return None
    t: int | None = None
    firmas: list[str] = []
    for parte in cabecera.split(","):
        clave, sep, valor = parte.strip().partition("=")
        if not sep:
            return None
        if clave == "t":
            if not (valor.isascii() and valor.isdigit() and len(valor) <= 12):
                return None
            t = int(valor)
        elif clave == "v1" and _HEX_MAC.fullmatch(valor):
            firmas.append(valor.lower())
    if t is None or not firmas:
        return None
    return Firma(t, tuple(firmas))


def verificar_firma(
    secreto: str, cuerpo: bytes, cabecera: str, ahora_s: int | float, tolerancia_s: int = TOLERANCIA_S
) -> bool:
    """What a receiver runs on each request: True only if ``cabecera`` (the ``X-VMRE-Firma`` value) carries
    a ``v1`` HMAC of ``cuerpo`` — the raw request body, before any JSON parsing — made with ``secreto``, and
    its timestamp ``t`` lies within ``tolerancia_s`` seconds of the receiver's clock ``ahora_s`` (Unix
    seconds), so an intercepted request cannot be replayed later. Several ``v1`` entries are accepted (any
    may match); a malformed header is simply False."""
    firma = leer_firma(cabecera)
    return firma is not None and firma.vigente(ahora_s, tolerancia_s) and firma.corresponde(secreto, cuerpo)


def retraso_s(intentos: int, base_s: float, tope_s: float) -> float:
    """Seconds to wait after the ``intentos``-th failed attempt: exponential backoff with full jitter,
    uniform in [0, min(tope_s, base_s · 2^(intentos-1))]."""
    return random.uniform(0.0, min(tope_s, base_s * 2 ** max(intentos - 1, 0)))


class RedPublica(httpcore.AsyncNetworkBackend):
    """The network under the despachador's HTTP client: it resolves each host itself (``direcciones``),
    refuses the connection unless every address is public, and connects to an address it checked — by
    address, never by name, so nothing resolves the name again between the check and the connection (DNS
    rebinding). TLS still runs on the name: httpcore sends it as SNI and checks the certificate against it.
    ``locales``: hosts that may (and must) be loopback, the local-mode exception. ``red``: the network
    underneath (tests put one there that records, or forbids, every connection)."""

    def __init__(
        self,
        resolver: Resolver,
        locales: Iterable[str] = (),
        red: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._locales = frozenset(locales)
        self._red = red or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        ips = await direcciones(host, port, self._resolver, local=host in self._locales)
        error: Exception | None = None
        for ip in ips:
            try:
                return await self._red.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # ``direcciones`` never returns an empty list
        raise error

    async def connect_unix_socket(
        self,
        path: str,  # noqa: ARG002 — httpcore backend signature
        timeout: float | None = None,  # noqa: ARG002 — httpcore backend signature
        socket_options: Iterable[Any] | None = None,  # noqa: ARG002 — httpcore backend signature
    ) -> httpcore.AsyncNetworkStream:
        raise DestinoNoPermitido("los webhooks no se envían por sockets locales")

    async def sleep(self, seconds: float) -> None:
        await self._red.sleep(seconds)


class _Transporte(httpx.AsyncHTTPTransport):
    """httpx's transport over ``red``. httpx takes no network backend, so its connection pool is built again
    as httpx builds it, on ``red``; without proxies (``trust_env=False``): a proxy would connect by name."""

    def __init__(self, red: httpcore.AsyncNetworkBackend) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=red,
        )


def clase_de_error(exc: BaseException) -> str:
    """The class (``CLASES_DE_ERROR``) of a failed attempt's exception: what the OPL may read."""
    cadena: list[BaseException] = []
    actual: BaseException | None = exc
    while actual is not None and len(cadena) < 10:
        cadena.append(actual)
        actual = actual.__cause__ or actual.__context__
    if any(isinstance(e, DestinoNoPermitido) for e in cadena):
        return "destino_no_permitido"
    if any(isinstance(e, NombreNoResuelto) for e in cadena):
        return "dns"
    if any(isinstance(e, ssl.SSLError) for e in cadena):
        return "tls"
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "tiempo"
    if isinstance(exc, httpx.ProtocolError):
        return "protocolo"
    if isinstance(exc, httpx.NetworkError):
        return "conexion"
    return "otro"


def _clase_de_codigo(codigo: int) -> str:
    return f"http_{codigo // 100}xx" if 300 <= codigo < 600 else "protocolo"


def _modo_local() -> bool:
    """``VMRE_MODE`` as ``shared.settings.ServiceSettings`` reads it (``local`` when unset)."""
    return os.environ.get("VMRE_MODE", "local").strip().lower() == "local"


class Despachador:
    """Sends due deliveries and records each attempt.

    A short transaction claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several despachadores
    never send the same row at once), counts the attempt and leases the rows; the POSTs run outside any
    transaction, and each result is written in its own. If the process dies mid-send the lease expires and
    the delivery is tried again (receivers deduplicate by ``evento_id``). ``reloj`` schedules retries; the
    signature's timestamp is always the wall clock, which is what a receiver compares it with.

    Every connection goes through ``RedPublica`` (hosts resolved with ``resolver``, only public addresses,
    pinned); ``permitir_http_local`` allows the local-mode exception (plain http to localhost/127.0.0.1), by
    default when ``VMRE_MODE`` is local. ``red`` is the network under it (tests).
    """

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        entrega: type[EntregaMixin],
        suscripcion: type[SuscripcionMixin],
        *,
        resolver: Resolver = resolver_del_sistema,
        permitir_http_local: bool | None = None,
        red: httpcore.AsyncNetworkBackend | None = None,
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
        self.permitir_http_local = _modo_local() if permitir_http_local is None else permitir_http_local
        self._red = RedPublica(resolver, _HOSTS_LOCALES if self.permitir_http_local else (), red)
        self._cliente: httpx.AsyncClient | None = None
        # Long enough for a whole batch to be attempted before another despachador may claim it again.
        self.plazo_reclamo = dt.timedelta(seconds=timeout_s * (math.ceil(lote / concurrencia) + 1) + 60)

    def _http(self) -> httpx.AsyncClient:
        if self._cliente is None:
            self._cliente = httpx.AsyncClient(
                transport=_Transporte(self._red),
                timeout=self.timeout_s,
                follow_redirects=False,
                trust_env=False,
            )
        return self._cliente

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._cliente is not None:
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
                    update(E).where(E.id.in_(agotadas)).values(estado=FALLIDA, ultimo_error="interrumpido")
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
            # Again at each attempt: the scheme and an address written in the URL (the host's addresses are
            # checked by RedPublica as it connects).
            try:
                validar_url(url, self.permitir_http_local)
            except ValueError as exc:
                raise DestinoNoPermitido(str(exc)) from None
            async with asyncio.timeout(self.timeout_s):
                respuesta = await self._http().post(
                    url, content=datos, headers=cabeceras, follow_redirects=False
                )
            codigo = respuesta.status_code
            if not 200 <= codigo < 300:
                error = _clase_de_codigo(codigo)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # network errors and anything else: the attempt failed
            error = clase_de_error(exc)
            # The detail stays in the platform's log; the OPL reads only the class.
            log.warning(
                "webhook: intento fallido",
                extra={"entrega": id_, "clase": error, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
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
        async def ronda() -> bool:
            return await self.entregar_pendientes() >= self.lote  # a full batch: more may be waiting

        try:
            await repetir(ronda, self.poll_s, log=log, aviso="webhooks: error al despachar, se reintenta")
        finally:
            await self.aclose()
