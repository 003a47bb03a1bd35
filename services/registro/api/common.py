from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from shared.problems import PROBLEM

FolioPath = Annotated[str, Path(min_length=1, max_length=32, description="Folio de la solicitud")]


def errores(*codigos: int) -> dict[int | str, dict[str, Any]]:
    textos = {
        400: "El cuerpo no se puede leer (p. ej. multipart mal formado)",
        401: "Sin token o token inválido",
        403: "El rol no tiene acceso",
        404: "No existe",
        409: "Conflicto con el estado actual (el cuerpo dice cuál)",
        429: "Demasiados códigos pedidos para esta solicitud (`Retry-After` dice cuánto esperar)",
        413: "Archivo demasiado grande",
        415: "Tipo de archivo no admitido",
        422: "Datos inválidos: `errors` nombra cada campo",
    }
    return {c: {"description": textos[c], **PROBLEM} for c in codigos}
