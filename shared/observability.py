"""JSON logs with the correlation id, and Prometheus metrics (one registry per app)."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

disable_created_metrics()

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

CORRELATION_HEADER = "x-correlation-id"


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation_id_var.get()
        if hasattr(record, "color_message"):
            del record.color_message  # uvicorn's ANSI copy of the message
        return True


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter(service))
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s [%(correlation_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request it makes (the SMS gateway's included); aiosmtplib, each SMTP exchange.
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore", "aiosmtplib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's access log would duplicate ours (and log query strings); keep its errors.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class Metrics:
    """The metrics every service exports; a registry of its own so tests can build many apps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "vmre_http_requests_total",
            "Peticiones HTTP",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "vmre_http_request_duration_seconds",
            "Duración de peticiones HTTP",
            ["method", "route"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "vmre_outbox_backlog", "Eventos en el outbox aún no publicados", registry=self.registry
        )
        self.outbox_published = Counter(
            "vmre_outbox_published_total", "Eventos publicados por el relay", registry=self.registry
        )
        self.broker_up = Gauge(
            "vmre_broker_up", "1 si el último contacto con el broker tuvo éxito", registry=self.registry
        )
        self.events_consumed = Counter(
            "vmre_events_consumed_total",
            "Eventos consumidos por resultado",
            ["consumer", "event_type", "outcome"],
            registry=self.registry,
        )
        self.event_lag = Histogram(
            "vmre_event_lag_seconds",
            "Del evento (occurred_at) a su efecto en este consumidor",
            ["consumer"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
        )
        self.avisos = Counter(
            "vmre_avisos_total",
            "Mensajes a la ciudadanía entregados a su pasarela (SMTP, SMS), por resultado: enviada, "
            "reintento, fallida (rechazo definitivo), incierta (el remitente se detuvo durante el envío)",
            ["canal", "resultado"],
            registry=self.registry,
        )
        self.avisos_por_estado = Gauge(
            "vmre_avisos_por_estado",
            "Mensajes de la bandeja de salida por estado (pendiente, enviando, enviada, fallida, incierta)",
            ["estado"],
            registry=self.registry,
        )


class RequestContextMiddleware:
    """Pure ASGI: correlation id from the request (or new) into logs, events and the response; metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger("vmre.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(CORRELATION_HEADER.encode(), b"").decode("latin-1")[:64]
        cid = incoming or str(uuid.uuid4())
        token = correlation_id_var.set(cid)
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None) or "sin_ruta"
            method = scope.get("method", "")
            self.metrics.http_requests.labels(method, path, str(status)).inc()
            self.metrics.http_duration.labels(method, path).observe(elapsed)
            extra: dict[str, Any] = {
                "method": method,
                "route": path,
                "status": status,
                "ms": round(elapsed * 1000, 2),
            }
            if path not in ("/healthz", "/readyz", "/metrics"):
                self.log.info("request", extra=extra)
            correlation_id_var.reset(token)


def instalar_tracemalloc() -> None:
    """For the soak (``python -m bench.soak --tracemalloc``): with ``VMRE_TRACEMALLOC_DIR`` set, trace this
    process's allocations and, on SIGUSR1, dump a snapshot to ``<dir>/ultima.tracemalloc``. Unset (always, in
    production), nothing happens."""
    import os

    directorio = os.environ.get("VMRE_TRACEMALLOC_DIR")
    if not directorio:
        return
    import signal
    import tracemalloc
    from pathlib import Path

    tracemalloc.start(1)

    def volcar(*_: Any) -> None:
        ruta = Path(directorio) / "ultima.tracemalloc"
        tracemalloc.take_snapshot().dump(str(ruta.with_suffix(".tmp")))
        ruta.with_suffix(".tmp").rename(ruta)

    signal.signal(signal.SIGUSR1, volcar)
