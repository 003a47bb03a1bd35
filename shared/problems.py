"""Errors as RFC 9457 ``application/problem+json``, with the offending fields named, in Spanish."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problemas/"

TITLES = {
    400: "Petición inválida",
    401: "Autenticación requerida",
    403: "Acceso denegado",
    404: "No encontrado",
    405: "Método no permitido",
    409: "Conflicto",
    413: "Contenido demasiado grande",
    415: "Tipo de contenido no soportado",
    422: "Datos inválidos",
    429: "Demasiadas peticiones",
    500: "Error interno",
    503: "Servicio no disponible",
}
SLUGS = {
    400: "peticion-invalida",
    401: "no-autenticado",
    403: "prohibido",
    404: "no-encontrado",
    405: "metodo-no-permitido",
    409: "conflicto",
    413: "demasiado-grande",
    415: "tipo-no-soportado",
    422: "validacion",
    429: "demasiadas-peticiones",
    500: "error-interno",
    503: "no-disponible",
}

# pydantic error type -> message for people
MENSAJES = {
    "missing": "Campo obligatorio.",
    "string_type": "Debe ser texto.",
    "string_too_short": "Demasiado corto.",
    "string_too_long": "Demasiado largo.",
    "string_pattern_mismatch": "Formato inválido.",
    "int_parsing": "Debe ser un número entero.",
    "int_type": "Debe ser un número entero.",
    "bool_parsing": "Debe ser verdadero o falso.",
    "literal_error": "Valor no permitido.",
    "enum": "Valor no permitido.",
    "date_from_datetime_parsing": "Fecha inválida; use AAAA-MM-DD.",
    "date_parsing": "Fecha inválida; use AAAA-MM-DD.",
    "date_type": "Fecha inválida; use AAAA-MM-DD.",
    "json_invalid": "JSON inválido.",
    "model_attributes_type": "Debe ser un objeto JSON.",
    "dict_type": "Debe ser un objeto JSON.",
    "list_type": "Debe ser una lista.",
    "extra_forbidden": "Campo no reconocido.",
}


class Problem(Exception):
    """Raise from any layer to answer with problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or SLUGS.get(status, "error")
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or SLUGS.get(status, "error")),
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _campo(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "cuerpo"


def validation_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        mensaje = MENSAJES.get(err.get("type", ""))
        ctx = err.get("ctx") or {}
        if err.get("type") == "value_error":
            mensaje = str(ctx.get("error", err.get("msg", "")))
        elif err.get("type") == "literal_error" and "expected" in ctx:
            mensaje = f"Valor no permitido; se espera {ctx['expected']}."
        elif err.get("type") == "string_pattern_mismatch" and "pattern" in ctx:
            mensaje = f"Formato inválido (patrón {ctx['pattern']})."
        errors.append({"campo": _campo(err.get("loc", ())), "mensaje": mensaje or str(err.get("msg", ""))})
    return errors


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            request,
            exc.status,
            exc.detail,
            slug=exc.slug,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extra,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        campos = ", ".join(sorted({e["campo"] for e in errors}))
        return problem_response(request, 422, f"Revise estos campos: {campos}.", errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No existe el recurso {request.url.path}."
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"El método {request.method} no está permitido en {request.url.path}."
        return problem_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("error no controlado", extra={"path": request.url.path})
        return problem_response(
            request, 500, "Error interno. Reintente; si persiste, reporte el correlation id."
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
