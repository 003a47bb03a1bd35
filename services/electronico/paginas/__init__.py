"""electronico's page for people (outside the OpenAPI): «check my vote». The voter pastes the receipt the
booth showed (the tracker of the encrypted ballot: its SHA-256 in Base64, as ``GET
/v1/elecciones/{uuid}/tablon`` lists it) and learns whether it is on the public bulletin board, in which
election and since when, where to download the public record (``archivo.bel``) and how to verify it with
tools independent of this site.

The tracker travels in the body of a POST, never in the URL (a query string is ignored). It is searched
across every election (trackers are unique across all of them), with a read-only transaction: the page
writes nothing, not even an audit record. What it shows is what the bulletin board already shows to anyone;
never who voted. A drill's ballot is marked SIMULACRO."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.electronico import repository
from shared.limites import cuerpo_maximo
from shared.paginas import Paginas, fecha
from shared.proceso import Proceso
from shared.web import ProcesoDep, transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = Paginas(Path(__file__).resolve().parent)

ACCIONES = {"verificar": "/verificar"}
# A tracker: SHA-256 in Base64 without padding (shared.cripto.grupo.sha256_b64), 43 characters.
RASTREADOR = re.compile(r"[A-Za-z0-9+/]{43}")
LARGO = 43
ECO = 64  # at most this much of what was typed goes back into the form
ESPACIOS = re.compile(r"\s+")
CUERPO = 4 * 1024  # the form is one short field: a larger body is refused before it is read


def _render(request: Request, plantilla: str, status_code: int = 200, **contexto: Any) -> HTMLResponse:
    return PAGINAS.render(
        request,
        plantilla,
        status_code,
        acciones=ACCIONES,
        largo=LARGO,
        **contexto,
    )


def _fecha(instante: dt.datetime, proceso: Proceso, idioma: str) -> str:
    return fecha(instante, proceso, idioma, segundos=True)


def _formulario(
    request: Request, valor: str, errores: dict[str, str], status_code: int, *, no_encontrado: bool = False
) -> HTMLResponse:
    return _render(
        request,
        "verificar.html",
        status_code,
        v={"rastreador": valor[:ECO]},
        errores=errores,
        no_encontrado=no_encontrado,
    )


@router.get("/verificar")
async def verificar(request: Request) -> HTMLResponse:
    """The empty form (a ``?rastreador=`` in the URL is ignored: a tracker never travels there)."""
    return _formulario(request, "", {}, 200)


@router.post("/verificar")
@cuerpo_maximo(CUERPO)
async def buscar(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    t = PAGINAS.textos(request)
    form = await request.form(max_files=0, max_fields=5)
    crudo = form.get("rastreador", "")
    escrito = crudo.strip() if isinstance(crudo, str) else ""
    rastreador = ESPACIOS.sub("", escrito)  # a receipt copied across lines still counts
    if not rastreador:
        return _formulario(request, "", {"rastreador": t("comun.obligatorio")}, 422)
    if not RASTREADOR.fullmatch(rastreador):
        return _formulario(request, escrito, {"rastreador": t("error.rastreador")}, 422)
    async with transaccion(request, lectura=True) as session:
        fila = await repository.boleta_por_rastreador(session, rastreador)
    if fila is None:
        mensaje = t("verificar.no_encontrado")
        return _formulario(request, rastreador, {"rastreador": mensaje}, 404, no_encontrado=True)
    e, posicion, emitida_at = fila
    return _render(
        request,
        "encontrado.html",
        rastreador=rastreador,
        eleccion=e,
        es_simulacro=e.simulacro,
        posicion=posicion,
        registrada=_fecha(emitida_at, proceso, t.idioma),
        urna=t(f"urna.{e.estado}") if t.hay(f"urna.{e.estado}") else e.estado,
        archivo=f"{e.uuid}.bel",
        descarga=f"/v1/elecciones/{e.uuid}/archivo.bel",
    )
