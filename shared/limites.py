"""Abuse limits of every service: requests per minute per client on public routes, and request body size.

- **Per client**: a sliding window per client address (``LimitePorCliente``), in the memory of the process. In
  Kubernetes each pod keeps its own count, so with N replicas behind the Service a client gets up to N times
  the budget; the ingress controller's own limit is the global one. The routes limited are those that
  ``shared/autorizacion.py`` marks ``público`` or ``folio`` (nobody authenticates there), except ``/healthz``,
  ``/readyz`` and ``/metrics``. A refused request never reaches the route: 429 with ``Retry-After``.
- **Who is the client** (``cliente``): the address of the TCP peer. Only when that peer is one of the reverse
  proxies in ``VMRE_PROXIES_CONFIABLES`` is ``X-Forwarded-For`` read, from the right, skipping the trusted
  proxies: the first address that is not one of them is the client. A header sent by anybody else is ignored,
  so nobody picks their own bucket; without the setting, everybody behind the ingress would share one. An
  IPv6 client counts by its /64 (what one home or phone gets).
- **Body size**: ``VMRE_<SERVICIO>_MAX_CUERPO_BYTES`` for every route, or what a route declares with
  ``@cuerpo_maximo(bytes)`` (the document upload, the INETEL file, the carriers' bulk file). A declared
  ``Content-Length`` over the limit is answered 413 before reading anything; a body without it is counted
  while the route reads it and cut at the limit, so it is never held whole in memory.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Mount, Router, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import autorizacion
from shared.problems import PROBLEM_JSON, Problem, responder
from shared.settings import Red

F = TypeVar("F", bound=Callable[..., Any])

SIN_LIMITE = frozenset({"/healthz", "/readyz", "/metrics"})
ABIERTAS = frozenset({autorizacion.Acceso.PUBLICO, autorizacion.Acceso.FOLIO})
ATRIBUTO = "_vmre_cuerpo_maximo"
MAX_CLIENTES = 100_000


class LimitePorCliente:
    """At most ``por_minuto`` requests per client in any minute: a sliding log per client, in the memory of
    the process. A refused request does not count. Memory is bounded by what the process accepts in a minute
    (one timestamp per accepted request), and clients idle for a minute are forgotten."""

    def __init__(
        self, por_minuto: int, reloj: Callable[[], float] = time.monotonic, ventana: float = 60.0
    ) -> None:
        self.por_minuto = por_minuto
        self.ventana = ventana
        self._reloj = reloj
        self._vistas: dict[str, deque[float]] = {}
        self._tope = MAX_CLIENTES

    def tomar(self, cliente: str) -> int | None:
        """Count one request of ``cliente``: None if it is within the budget, else the seconds to wait."""
        ahora = self._reloj()
        if len(self._vistas) > self._tope:
            self._olvidar(ahora)
        vistas = self._vistas.get(cliente)
        if vistas is None:
            vistas = self._vistas[cliente] = deque()
        while vistas and ahora - vistas[0] >= self.ventana:
            vistas.popleft()
        if len(vistas) >= self.por_minuto:  # the oldest one leaves the window first
            return max(1, math.ceil(self.ventana - (ahora - vistas[0])))
        vistas.append(ahora)
        return None

    def espera(self, cliente: str) -> int | None:
        """Like ``tomar`` without counting: None if ``cliente`` is within the budget, else the seconds to
        wait. For a limit on failures only (the carriers' webhook): ask before, ``tomar`` each failure."""
        vistas = self._vistas.get(cliente)
        if not vistas:
            return None
        ahora = self._reloj()
        while vistas and ahora - vistas[0] >= self.ventana:
            vistas.popleft()
        if len(vistas) >= self.por_minuto:
            return max(1, math.ceil(self.ventana - (ahora - vistas[0])))
        return None

    def _olvidar(self, ahora: float) -> None:
        """Forget clients idle for a whole window: memory stays bounded."""
        self._vistas = {c: v for c, v in self._vistas.items() if v and ahora - v[-1] < self.ventana}
        self._tope = max(MAX_CLIENTES, 2 * len(self._vistas))

    def revisar(self, cliente: str, detalle: str, slug: str = "demasiadas-peticiones") -> None:
        """Count one request; raise 429 (problem+json, ``Retry-After``) if it is over the budget."""
        espera = self.tomar(cliente)
        if espera is not None:
            raise Problem(429, detalle, slug=slug, headers={"Retry-After": str(espera)})


# --- who is the client -----------------------------------------------------------------------------------


@functools.cache
def _ip(texto: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    texto = texto.strip()
    if texto.startswith("[") and "]" in texto:  # [2001:db8::1]:443
        texto = texto[1 : texto.index("]")]
    elif texto.count(":") == 1:  # 203.0.113.7:5000
        texto = texto.split(":")[0]
    try:
        ip = ipaddress.ip_address(texto)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _confiable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, confiables: Sequence[Red]) -> bool:
    return any(ip.version == red.version and ip in red for red in confiables)


def origen(scope: Scope, confiables: Sequence[Red] = ()) -> str:
    """The address that sent this request: the connection's, or behind a trusted proxy the first hop of
    ``X-Forwarded-For`` that is not one (see the module's docstring). What the audit log records."""
    ip = _origen(scope, confiables)
    if ip is None:
        par = scope.get("client")
        return str(par[0]) if par else "desconocido"
    return str(ip)


def _origen(scope: Scope, confiables: Sequence[Red]) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    par = scope.get("client")
    ip = _ip(par[0]) if par else None
    if ip is None:
        return None
    if confiables and _confiable(ip, confiables):
        cadena = ",".join(Headers(scope=scope).getlist("x-forwarded-for")).split(",")
        for salto in reversed(cadena):
            anterior = _ip(salto)
            if anterior is None:  # unreadable: stop at the last hop we could trust
                break
            ip = anterior
            if not _confiable(ip, confiables):
                break
    return ip


def cliente(scope: Scope, confiables: Sequence[Red] = ()) -> str:
    """The key of the client that sent this request for its limits: its address, an IPv6 one by its /64."""
    ip = _origen(scope, confiables)
    if ip is None:
        return origen(scope, confiables)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


# --- body size -----------------------------------------------------------------------------------------


def cuerpo_maximo(limite: int) -> Callable[[F], F]:
    """Declare on a route that its body may be up to ``limite`` bytes (instead of the service's default)."""

    def marcar(endpoint: F) -> F:
        setattr(endpoint, ATRIBUTO, limite)
        return endpoint

    return marcar


class CuerpoDemasiadoGrande(HTTPException):
    """Raised from ``receive`` while the route reads: the app's handlers answer it as problem+json 413."""

    def __init__(self, limite: int) -> None:
        super().__init__(413, _mensaje_413(limite))


def _mensaje_413(limite: int) -> str:
    tamano = f"{limite / (1024 * 1024):.0f} MB" if limite >= 1024 * 1024 else f"{max(1, limite // 1024)} KB"
    return f"El cuerpo de la petición supera {tamano}: envíe menos datos o divídalos en varias peticiones."


# --- the middleware --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Regla:
    patron: re.Pattern[str]
    metodo: str
    publica: bool
    cuerpo: int


def _hojas(rutas: Iterable[Any]) -> Iterator[tuple[str, frozenset[str], re.Pattern[str], Any]]:
    """(path template, methods, regex, endpoint) of every route, in the order the router tries them."""
    for r in rutas:
        if hasattr(r, "effective_candidates"):  # FastAPI keeps an included router as one branch: walk it
            yield from _hojas(r.effective_candidates())
        elif isinstance(r, Mount):
            patron = re.compile("^" + re.escape(r.path) + "/")
            yield r.path + "/{archivo}", frozenset({"GET", "HEAD"}), patron, None
        elif isinstance(getattr(r, "path", None), str):
            patron, _, _ = compile_path(r.path)
            yield r.path, frozenset(getattr(r, "methods", None) or ()), patron, getattr(r, "endpoint", None)


def documentar_429(schema: dict[str, Any], servicio: str) -> None:
    """Publish in the OpenAPI what the middleware answers on the routes it limits: 429 with Retry-After."""
    matriz = {**autorizacion.COMUNES, **autorizacion.POR_SERVICIO.get(servicio, {})}
    for path, operaciones in schema.get("paths", {}).items():
        for metodo, operacion in operaciones.items():
            entrada = matriz.get((metodo.upper(), path))
            if entrada is None or entrada.acceso not in ABIERTAS or path in SIN_LIMITE:
                continue
            operacion.setdefault("responses", {}).setdefault(
                "429",
                {
                    "description": "Demasiadas peticiones: espere lo que dice Retry-After",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Segundos"}},
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problema"}}},
                },
            )


class LimitesMiddleware:
    """Pure ASGI, inside the request context (so refusals carry a correlation id and are counted)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Router,
        servicio: str,
        por_minuto: int,
        max_cuerpo: int,
        confiables: Sequence[Red] = (),
        reloj: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.router = router
        self.matriz = {**autorizacion.COMUNES, **autorizacion.POR_SERVICIO.get(servicio, {})}
        self.limite = LimitePorCliente(por_minuto, reloj)
        self.max_cuerpo = max_cuerpo
        self.confiables = confiables  # VMRE_PROXIES_CONFIABLES, parsed once (redes) by the app
        self._tabla: list[_Regla] | None = None

    def _reglas(self) -> list[_Regla]:
        """Built at the first request, when every route is in place."""
        if self._tabla is None:
            tabla = []
            for path, metodos, patron, endpoint in _hojas(self.router.routes):
                cuerpo = int(getattr(endpoint, ATRIBUTO, None) or self.max_cuerpo)
                for metodo in metodos:
                    entrada = self.matriz.get(("GET" if metodo == "HEAD" else metodo, path))
                    publica = entrada is not None and entrada.acceso in ABIERTAS and path not in SIN_LIMITE
                    tabla.append(_Regla(patron, metodo, publica, cuerpo))
            self._tabla = tabla
        return self._tabla

    def _regla(self, scope: Scope) -> tuple[bool, int]:
        """(public?, body limit) of the route this request goes to."""
        metodo = scope["method"]
        path = scope["path"]
        for regla in self._reglas():
            if metodo == regla.metodo and regla.patron.match(path):
                return regla.publica, regla.cuerpo
        return False, self.max_cuerpo

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        publica, limite = self._regla(scope)
        if publica:
            espera = self.limite.tomar(cliente(scope, self.confiables))
            if espera is not None:
                respuesta = responder(
                    Request(scope),
                    Problem(
                        429,
                        "Demasiadas peticiones desde su conexión: espere los segundos que indica "
                        "Retry-After y vuelva a intentar.",
                        headers={"Retry-After": str(espera)},
                    ),
                )
                await respuesta(scope, receive, send)
                return
        declarado = Headers(scope=scope).get("content-length")
        if declarado is not None and declarado.isdigit() and int(declarado) > limite:
            respuesta = responder(Request(scope), Problem(413, _mensaje_413(limite)))
            await respuesta(scope, receive, send)
            return
        leidos = 0

        async def recibir() -> Message:
            nonlocal leidos
            mensaje = await receive()
            if mensaje["type"] == "http.request":
                leidos += len(mensaje.get("body", b""))
                if leidos > limite:
                    raise CuerpoDemasiadoGrande(limite)
            return mensaje

        await self.app(scope, recibir, send)
