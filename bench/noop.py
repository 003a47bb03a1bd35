"""The ceiling of an HTTP intake on this machine: a FastAPI app whose endpoint accepts the same JSON body and
does nothing with it, served the same way as the services (one uvicorn process)."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI


def create_app() -> FastAPI:
    app = FastAPI(title="no-op")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/solicitudes", status_code=201)
    async def solicitud(datos: dict[str, Any] = Body(...)) -> dict[str, str]:  # noqa: ARG001 — the body is parsed, like the real route
        return {"folio": "NOOP", "estado": "recibida"}

    return app
