"""The drill's HTTP client to the platform: authenticated requests retried while a service restarts, polls,
phases run by a pool of concurrent clients, and the services' simulated clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import httpx

from shared.auth import Rol, mint_token
from shared.settings import AuthSettings
from simulacion.plataforma import Plataforma
from simulacion.progreso import Barra

T = TypeVar("T")


class SimulacionFallida(Exception):
    pass


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _transporte(**kwargs: Any) -> httpx.AsyncHTTPTransport:
    """Connections retried while a service restarts (refused for a second or two): the drill, like a real
    client, outlives a killed process. A request that did reach the service is not retried here. One TLS
    context for all (building one loads the CA bundle: tens of milliseconds per client otherwise)."""
    return httpx.AsyncHTTPTransport(retries=6, verify=_tls(), **kwargs)


class Cliente:
    """The platform as the drill sees it: its services' URLs, tokens minted for each role, requests retried
    while a service restarts, and phases run by a pool of concurrent clients."""

    def __init__(self, plataforma: Plataforma, *, concurrencia: int = 16) -> None:
        self.plataforma = plataforma
        self.concurrencia = concurrencia
        self.auth = AuthSettings()
        self.http = httpx.AsyncClient(
            timeout=120,
            transport=_transporte(
                limits=httpx.Limits(max_connections=concurrencia * 2, max_keepalive_connections=64)
            ),
        )
        self._tokens: dict[tuple[str, str], str] = {}
        # What the drill is waiting for right now (what, since when, what is still missing): printed on
        # SIGUSR1 (``estado``), so that a drill that seems stuck says where.
        self.esperas: dict[str, tuple[float, str]] = {}

    def falta(self, que: str, detalle: str) -> None:
        """What a wait in progress still lacks, in words (``esperar``'s condition may say it)."""
        if que in self.esperas:
            self.esperas[que] = (self.esperas[que][0], detalle)

    def estado(self) -> str:
        ahora = time.monotonic()
        if not self.esperas:
            return "el simulacro no espera ninguna condición (peticiones en curso o cálculo)"
        return "\n".join(
            f"esperando desde hace {ahora - desde:.0f} s: {que}" + (f" — falta: {detalle}" if detalle else "")
            for que, (desde, detalle) in self.esperas.items()
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- requests ------------------------------------------------------------------------------------------

    def url(self, servicio: str, ruta: str) -> str:
        return f"{self.plataforma.urls[servicio]}{ruta}"

    def token(
        self, rol: Rol, sub: str, entidad: str | None = None, sede: str | None = None
    ) -> dict[str, str]:
        if (rol.value, sub) not in self._tokens:
            self._tokens[(rol.value, sub)] = mint_token(
                self.auth, rol, sub=sub, entidad=entidad, sede=sede, ttl=dt.timedelta(hours=6)
            )
        return {"Authorization": f"Bearer {self._tokens[(rol.value, sub)]}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.token(Rol.INE_ADMIN, "simulacro-admin")

    def operador(self, quien: str = "a") -> dict[str, str]:
        return self.token(Rol.INE_OPERADOR, f"simulacro-operador-{quien}")

    async def pedir(
        self, metodo: str, url: str, *, esperado: Iterable[int] = (200, 201), **kwargs: Any
    ) -> httpx.Response:
        """One request, retried on a dropped connection or a 5xx (a service restarting): every write the
        drill makes is idempotent or answers its retry with a recognisable 409."""
        esperados = set(esperado)
        ultimo = ""
        for intento in range(60):
            try:
                r = await self.http.request(metodo, url, **kwargs)
            except httpx.TransportError as exc:
                ultimo = f"{type(exc).__name__}: {exc}"
            else:
                if r.status_code in esperados:
                    return r
                if r.status_code < 500:
                    raise SimulacionFallida(f"{metodo} {url} → {r.status_code}: {r.text[:600]}")
                ultimo = f"{r.status_code}: {r.text[:300]}"
            await asyncio.sleep(min(0.2 * 2**intento, 3))
        raise SimulacionFallida(f"{metodo} {url} sin respuesta válida tras reintentos ({ultimo})")

    async def esperar(
        self, que: str, condicion: Callable[[], Awaitable[T | None]], timeout: float = 300
    ) -> T:
        inicio = time.monotonic()
        self.esperas[que] = (inicio, "")
        try:
            while True:
                try:
                    valor = await condicion()
                except httpx.TransportError:  # the service it asks is restarting: ask again
                    valor = None
                if valor is not None and valor is not False:
                    return valor
                if time.monotonic() - inicio > timeout:
                    falta = self.esperas[que][1]
                    raise SimulacionFallida(
                        f"tiempo agotado ({timeout:.0f} s) esperando: {que}"
                        + (f" (falta: {falta})" if falta else "")
                        + f"\n{self.plataforma.ultimas_lineas(30)}"
                    )
                await asyncio.sleep(0.5)
        finally:
            self.esperas.pop(que, None)

    async def en_paralelo(
        self, fase: str, unidad: str, elementos: Sequence[T], f: Callable[[T], Awaitable[object]], n: int = 0
    ) -> None:
        barra = Barra(fase, len(elementos), unidad)
        cola: asyncio.Queue[T] = asyncio.Queue()
        for x in elementos:
            cola.put_nowait(x)

        async def trabajador() -> None:
            while not cola.empty():
                x = cola.get_nowait()
                await f(x)
                barra.avanzar()

        try:
            await asyncio.gather(*(trabajador() for _ in range(n or self.concurrencia)))
        finally:
            barra.cerrar()

    async def reloj(self, instante: dt.datetime) -> None:
        """Move every service's simulated clock."""
        cuerpo = {"ahora": instante.astimezone(dt.UTC).isoformat()}
        for servicio in self.plataforma.urls:
            try:
                await self.pedir("PUT", self.url(servicio, "/v1/reloj"), json=cuerpo, headers=self.admin)
            except SimulacionFallida as exc:
                if "→ 404" in str(exc) or "→ 405" in str(exc):
                    raise SimulacionFallida(
                        f"{servicio} no tiene reloj simulado: arranque la plataforma con VMRE_RELOJ=simulado "
                        "(o deje que el simulacro la arranque)"
                    ) from exc
                raise
