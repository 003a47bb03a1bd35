"""The live stream of the dashboard (``GET /v1/tablero/stream``, Server-Sent Events), at a cost that does not
grow with its listeners.

- **One broadcaster per process** (``Difusor``): while anybody listens, it reads the read model's version once
  per ``VMRE_TABLERO_FLUJO_SONDEO`` seconds — one query, however many listeners — and when it changed,
  computes each view somebody listens to (all entidades, or one) once, and wakes every listener. A listener
  only copies the text already made to its socket. With nobody listening it does not read at all.
- **Caps**: at most ``VMRE_TABLERO_FLUJO_POR_CLIENTE`` connections per client (its address, as the per-minute
  limit sees it: ``shared/limites.py``) — the next one is a 429 problem+json —, and at most
  ``VMRE_TABLERO_FLUJO_MAXIMO`` in the process — then a 503 with Retry-After. A connection's place is freed
  the moment its client disconnects (the response listens for it) or a write to it fails.
- **Heartbeats**: a comment line after ``VMRE_TABLERO_FLUJO_LATIDO`` seconds without sending anything, so
  proxies do not close an idle stream (and a dead client is noticed).
- A view whose figures did not change is not sent again (the version moves with every event of any entidad).
  A client that reconnects with ``Last-Event-ID`` of the current view does not get it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import anyio
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from services.tablero import repository
from shared.problems import Problem
from shared.proceso import Proceso

log = logging.getLogger(__name__)
LATIDO = b": sigue viva\n\n"


@dataclass(frozen=True)
class Vista:
    """One view of the dashboard (all entidades: ``None``, or one) ready to send: the version of the read
    model at which its figures last changed, and the SSE event."""

    version: int
    evento: bytes
    cifras: str  # the figures without the version: what decides whether the view changed


@dataclass
class Oyente:
    cliente: str
    entidad: str | None


class Difusor:
    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        proceso: Proceso,
        *,
        sondeo: float,
        latido: float,
        por_cliente: int,
        maximo: int,
        registro: CollectorRegistry | None = None,
    ) -> None:
        self.maker = maker
        self.proceso = proceso
        self.sondeo = sondeo
        self.latido = latido
        self.por_cliente = por_cliente
        self.maximo = maximo
        self.cambio = asyncio.Event()  # set (and replaced) each time some view changed
        self.sondeos = 0  # reads of the version
        self.calculos = 0  # views computed
        self._vistas: dict[str | None, Vista] = {}
        self._oyentes: dict[str | None, int] = {}  # listeners per view
        self._clientes: dict[str, int] = {}  # connections per client
        self._total = 0
        self._version: int | None = None  # the last version the broadcaster read
        self._candados: dict[str | None, asyncio.Lock] = {}
        self._tarea: asyncio.Task[None] | None = None
        self._durmiendo = False
        self._conexiones = Gauge(
            "vmre_tablero_flujo_conexiones", "Conexiones abiertas al flujo en vivo", registry=registro
        )
        self._sondeos = Counter(
            "vmre_tablero_flujo_sondeos", "Lecturas de la versión del modelo de lectura", registry=registro
        )
        self._calculos = Counter(
            "vmre_tablero_flujo_calculos", "Vistas del tablero calculadas para el flujo", registry=registro
        )
        self._rechazos = Counter(
            "vmre_tablero_flujo_rechazos",
            "Conexiones al flujo rechazadas por los topes",
            ["motivo"],
            registry=registro,
        )

    @property
    def conexiones(self) -> int:
        return self._total

    # --- listeners -------------------------------------------------------------------------------------

    def admitir(self, cliente: str, entidad: str | None) -> Oyente:
        """Take a place for a new connection, or refuse it (429 over the client's cap, 503 over the total)."""
        if self._clientes.get(cliente, 0) >= self.por_cliente:
            self._rechazos.labels("por_cliente").inc()
            raise Problem(
                429,
                f"Ya hay {self.por_cliente} conexiones abiertas al flujo en vivo desde su dirección, el "
                "máximo por cliente: cierre alguna (otra pestaña o ventana del tablero) antes de abrir otra.",
                slug="demasiadas-conexiones",
                headers={"Retry-After": str(max(1, round(self.latido)))},
            )
        if self._total >= self.maximo:
            self._rechazos.labels("total").inc()
            raise Problem(
                503,
                f"El flujo en vivo ya atiende su máximo de {self.maximo} conexiones en este servidor: vuelva "
                "a intentar en unos segundos, o consulte GET /v1/tablero (con If-None-Match).",
                slug="flujo-lleno",
                headers={"Retry-After": "5"},
            )
        self._clientes[cliente] = self._clientes.get(cliente, 0) + 1
        self._oyentes[entidad] = self._oyentes.get(entidad, 0) + 1
        self._total += 1
        self._conexiones.set(self._total)
        if self._tarea is None:
            self._tarea = asyncio.create_task(self._sondear(), name="tablero-flujo")
        return Oyente(cliente, entidad)

    def soltar(self, oyente: Oyente) -> None:
        """Free a connection's place (once)."""
        _restar(self._clientes, oyente.cliente)
        _restar(self._oyentes, oyente.entidad)
        if oyente.entidad not in self._oyentes:
            self._vistas.pop(oyente.entidad, None)  # nobody keeps it fresh any more
        self._total -= 1
        self._conexiones.set(self._total)
        if self._total == 0 and self._tarea is not None and self._durmiendo:
            self._tarea.cancel()  # nobody listens: stop reading (cancelled only between reads)
            self._tarea = None

    # --- views -----------------------------------------------------------------------------------------

    def actual(self, entidad: str | None) -> Vista | None:
        return self._vistas.get(entidad)

    async def primera(self, entidad: str | None) -> Vista:
        """The view a new listener gets first: the one kept fresh for the others, or computed now (once,
        however many connect at the same time)."""
        vista = self._vistas.get(entidad)
        if vista is not None:
            return vista
        async with self._candados.setdefault(entidad, asyncio.Lock()):
            vista = self._vistas.get(entidad)
            if vista is None:
                async with self.maker() as session:
                    version = await repository.version(session)
                    vista = await self._calcular(session, entidad, version)
                # The broadcaster need not recompute it until the version moves past this one.
                self._version = version if self._version is None else min(self._version, version)
            return vista

    async def _calcular(self, session: AsyncSession, entidad: str | None, version: int) -> Vista:
        datos = await repository.cifras(session, self.proceso, entidad)
        self.calculos += 1
        self._calculos.inc()
        texto = json.dumps(datos, ensure_ascii=False)
        cifras = json.dumps({k: v for k, v in datos.items() if k != "version"}, ensure_ascii=False)
        previa = self._vistas.get(entidad)
        if previa is not None and previa.cifras == cifras:
            return previa  # the same figures (another entidad changed): not sent again
        vista = Vista(version, f"event: cifras\nid: {version}\ndata: {texto}\n\n".encode(), cifras)
        if entidad in self._oyentes:  # keep it only while somebody listens (the broadcaster refreshes it)
            self._vistas[entidad] = vista
        return vista

    async def _sondear(self) -> None:
        """While anybody listens: read the version every ``sondeo`` seconds; when it moved, recompute each
        listened view once and wake the listeners."""
        try:
            while True:
                self._durmiendo = True
                try:
                    await asyncio.sleep(self.sondeo)
                finally:
                    self._durmiendo = False
                if self._total == 0:
                    return
                try:
                    async with self.maker() as session:
                        version = await repository.version(session)
                        self.sondeos += 1
                        self._sondeos.inc()
                        if version == self._version:
                            continue
                        cambio = False
                        for entidad in list(self._oyentes):
                            async with self._candados.setdefault(entidad, asyncio.Lock()):
                                previa = self._vistas.get(entidad)
                                cambio |= await self._calcular(session, entidad, version) is not previa
                        self._version = version
                    if cambio:
                        anterior, self.cambio = self.cambio, asyncio.Event()
                        anterior.set()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database restarting, say: try again at the next tick
                    log.warning(
                        "flujo en vivo: no se pudo leer la versión", extra={"error": type(exc).__name__}
                    )
        finally:
            if self._tarea is asyncio.current_task():
                self._tarea = None


def _restar(cuenta: dict[Any, int], clave: Any) -> None:
    if cuenta.get(clave, 0) > 1:
        cuenta[clave] -= 1
    else:
        cuenta.pop(clave, None)


class FlujoSSE(Response):
    """The response of one listener: its first view at once, then each change of it, heartbeats in
    between. Pure ASGI, so that the place is freed as soon as the client leaves (whatever the ASGI version
    of the server)."""

    media_type = "text/event-stream"

    def __init__(self, difusor: Difusor, oyente: Oyente, primera: Vista, ultimo_id: str | None) -> None:
        super().__init__(
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}, media_type=self.media_type
        )
        # A stream has no length: without Content-Length the server sends it chunked.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.difusor = difusor
        self.oyente = oyente
        self.primera = primera
        self.ultimo_id = ultimo_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 — ASGI app signature
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as grupo:

                async def desconexion() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    grupo.cancel_scope.cancel()

                grupo.start_soon(desconexion)
                await self._emitir(send)  # returns only when a write fails: the client left
                grupo.cancel_scope.cancel()
        except OSError:
            pass  # the client left before the stream began
        finally:
            self.difusor.soltar(self.oyente)

    async def _emitir(self, send: Send) -> None:
        d, entidad = self.difusor, self.oyente.entidad
        vista = self.primera
        ultimo = self.ultimo_id or ""
        enviada = int(ultimo) if ultimo.isdigit() else -1
        ultimo_envio = time.monotonic()
        while True:
            cambio = d.cambio  # taken before reading the view: a change while we write wakes us at once
            vista = d.actual(entidad) or vista
            if vista.version != enviada:
                if not await self._enviar(send, vista.evento):
                    return
                enviada, ultimo_envio = vista.version, time.monotonic()
            espera = ultimo_envio + d.latido - time.monotonic()
            if espera <= 0:
                if not await self._enviar(send, LATIDO):
                    return
                ultimo_envio = time.monotonic()
                continue
            with anyio.move_on_after(espera):
                await cambio.wait()

    @staticmethod
    async def _enviar(send: Send, cuerpo: bytes) -> bool:
        try:
            await send({"type": "http.response.body", "body": cuerpo, "more_body": True})
        except OSError:
            return False
        return True
