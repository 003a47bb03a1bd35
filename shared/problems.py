"""Errors as RFC 9457 ``application/problem+json``, with the offending fields named, in Spanish."""

from __future__ import annotations

import contextlib
import http
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# A route's ``responses={404: PROBLEM}``: that answer is problem+json (the schema: ``documentar_problemas``).
PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
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


def responder(request: Request, problem: Problem) -> JSONResponse:
    """The answer to ``problem``. A route may return it instead of raising, so that its transaction commits
    what the refusal did (a counted try, a re-sent message): raising a ``Problem`` rolls everything back."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
    }
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extra)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


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


NULO = "\x00"


def _campos_con_nulo(valor: Any, ruta: tuple[str, ...] = ()) -> list[str]:
    if isinstance(valor, str):
        return [".".join(ruta) or "cuerpo"] if NULO in valor else []
    campos: list[str] = []
    if isinstance(valor, dict):
        for clave, v in valor.items():
            campos += [".".join((*ruta, clave))] if NULO in clave else _campos_con_nulo(v, (*ruta, clave))
    elif isinstance(valor, list):
        for i, v in enumerate(valor):
            campos += _campos_con_nulo(v, (*ruta, str(i)))
    return campos


async def sin_caracter_nulo(request: Request) -> None:
    """Dependency of every route: a path, query or JSON body with the NUL character (U+0000) is a 422 that
    names the field. No text of the platform contains it, and PostgreSQL cannot store it (on SQLite it would
    be stored): without this, the same input is a 500 on one database and accepted on the other.

    Files (multipart, CSV) are left to the route, which checks them by content."""
    campos = [n for n, v in request.path_params.items() if NULO in str(v)]
    campos += [n for n, v in request.query_params.multi_items() if NULO in n + v]
    tipo = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if tipo == "application/json" or tipo.endswith("+json"):
        cuerpo = await request.body()
        if b"\\u0000" in cuerpo:  # the only way to write U+0000 in JSON (a raw NUL is invalid JSON)
            with contextlib.suppress(ValueError, RecursionError):  # not JSON (or too deep): FastAPI answers
                campos += _campos_con_nulo(json.loads(cuerpo))
    if campos:
        campos = list(dict.fromkeys(campos))
        raise Problem(
            422,
            f"Revise estos campos: {', '.join(campos)}.",
            errors=[{"campo": c, "mensaje": "No se admite el carácter nulo (U+0000)."} for c in campos],
        )


def install(app: FastAPI, documentar: Callable[[dict[str, Any]], None] | None = None) -> None:
    """The handlers, and the published OpenAPI made to say what they answer (plus what ``documentar`` adds:
    e.g. the 429 of the routes the abuse limits cover)."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return responder(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        campos = ", ".join(sorted({e["campo"] for e in errors}))
        return responder(request, Problem(422, f"Revise estos campos: {campos}.", errors=errors))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's answer to a JSON body that is not UTF-8: the same 422 as any other invalid JSON.
            return responder(
                request,
                Problem(
                    422,
                    "Revise estos campos: cuerpo.",
                    errors=[{"campo": "cuerpo", "mensaje": "JSON inválido: el cuerpo debe ser texto UTF-8."}],
                ),
            )
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No existe el recurso {request.url.path}."
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"El método {request.method} no está permitido en {request.url.path}."
        return responder(request, Problem(exc.status_code, detail, headers=getattr(exc, "headers", None)))

    async def on_unexpected(request: Request, _exc: Exception) -> JSONResponse:
        # The route's template, never the path: a path may carry a person's secret (a folio).
        ruta = getattr(request.scope.get("route"), "path", None) or "sin_ruta"
        log.exception("error no controlado", extra={"route": ruta, "method": request.method})
        return responder(
            request, Problem(500, "Error interno. Reintente; si persiste, reporte el correlation id.")
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)

    generar = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generar()
            documentar_problemas(schema)
            if documentar is not None:
                documentar(schema)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


# What every error answer looks like, published in each service's OpenAPI.
ESQUEMA_PROBLEMA: dict[str, Any] = {
    "title": "Problema",
    "description": "Error según RFC 9457 (`application/problem+json`).",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "Tipo del problema (`/problemas/<clave>`)."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "Qué pasó y qué hacer, para personas."},
        "instance": {"type": "string", "description": "La ruta pedida."},
        "errors": {
            "type": "array",
            "description": "Cada campo con problema.",
            "items": {
                "type": "object",
                "required": ["campo", "mensaje"],
                "properties": {"campo": {"type": "string"}, "mensaje": {"type": "string"}},
            },
        },
    },
}
_REF_PROBLEMA = {"$ref": "#/components/schemas/Problema"}
_VALIDACION_FASTAPI = ("HTTPValidationError", "ValidationError")
# Answers of the JWT dependency (shared/auth.py): every route that declares it can give them.
_POR_JWT = {
    401: "Sin credenciales válidas (falta el token, expiró o no es válido).",
    403: "El rol o la entidad del token no pueden usar este recurso.",
}


def _frase(status: str) -> str | None:
    try:
        return http.HTTPStatus(int(status)).phrase
    except ValueError:
        return None


def documentar_problemas(schema: dict[str, Any]) -> None:
    """Make the published OpenAPI say what the handlers above answer: every 4xx/5xx is problem+json (FastAPI
    documents its 422 as plain JSON), a route behind the JWT can answer 401 and 403, and one that takes a body
    can answer 413."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problema"] = ESQUEMA_PROBLEMA
    for operaciones in schema.get("paths", {}).values():
        for operacion in operaciones.values():
            respuestas = operacion.setdefault("responses", {})
            if "requestBody" in operacion:  # the body size limit (shared/limites.py), before the route
                respuestas.setdefault("413", {"description": "Cuerpo demasiado grande"})
            if any("HTTPBearer" in requisito for requisito in operacion.get("security", [])):
                for status, descripcion in _POR_JWT.items():
                    respuestas.setdefault(str(status), {"description": descripcion})
            for status, respuesta in respuestas.items():
                if status[:1] in ("4", "5"):
                    # FastAPI's default description is the English reason phrase ("Not Found").
                    if respuesta.get("description") in (None, "", "Validation Error", _frase(status)):
                        respuesta["description"] = (
                            TITLES.get(int(status), "Error") if status.isdigit() else "Error"
                        )
                    respuesta["content"] = {PROBLEM_JSON: {"schema": _REF_PROBLEMA}}
    if "#/components/schemas/HTTPValidationError" not in json.dumps(schema.get("paths", {})):
        for nombre in _VALIDACION_FASTAPI:  # FastAPI's 422 body, no longer used
            schemas.pop(nombre, None)
