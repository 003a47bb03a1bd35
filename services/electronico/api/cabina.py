"""The voting booth's page (outside the OpenAPI); its scripts are served from /cabina/static (behind the one
public host, /static is the dashboard's)."""

from __future__ import annotations

from pathlib import Path as Ruta

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.paginas import CABECERAS

paginas = APIRouter()
ESTATICOS = Ruta(__file__).resolve().parent.parent / "static"


@paginas.get("/cabina", include_in_schema=False)
async def cabina() -> FileResponse:
    return FileResponse(ESTATICOS / "cabina.html", media_type="text/html; charset=utf-8", headers=CABECERAS)


@paginas.get("/modulo", include_in_schema=False)
async def modulo() -> FileResponse:
    """The same booth on a consular site's kiosk (cabina.js switches on the path): a turn code, no login."""
    return FileResponse(ESTATICOS / "cabina.html", media_type="text/html; charset=utf-8", headers=CABECERAS)
