"""postal's console screen: the reception desk of return envelopes (SPV), for ``ine-operador`` and
``ine-admin`` (the roles of ``POST /v1/sobres``).

A barcode scanner types the clave printed on the envelope and presses Enter: the form posts it, the same use
case as the API classifies it (``recibir_sobre``) and the page answers at once in large type and colour,
EN TIEMPO / EXTEMPORÁNEO / DUPLICADO / DESCONOCIDO, with the desk's running counts, and puts the cursor back
in the scan field for the next envelope. It works without JavaScript. The counts travel in the form (they
are the desk's own tally of this sitting, not a record: the record is the database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.postal import service as postal_service
from services.postal.domain import Clasificacion
from services.postal.schemas import SobreIn
from shared.auth import Rol
from shared.consola import Consola, Sesion
from shared.paginas import Paginas, leer_campos
from shared.problems import Problem
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = Paginas(Path(__file__).resolve().parent / "paginas")
RUTA = "/consola/postal"
SOBRES = RUTA + "/sobres"
MESAS = RUTA + "/mesas"
ROLES = (Rol.INE_OPERADOR, Rol.INE_ADMIN)  # as POST /v1/sobres (shared/autorizacion.py)
ROLES_MESAS = (Rol.INE_ADMIN,)  # as POST /v1/mesas/{entidad}/asignacion
CLASES = [c.value for c in Clasificacion]


def _consola(request: Request) -> Consola:
    consola: Consola = request.app.state.consola
    return consola


def _conteos(campos: dict[str, str]) -> dict[str, int]:
    conteos = {}
    for clase in CLASES:
        valor = campos.get(f"n_{clase}", "0")
        conteos[clase] = int(valor) if valor.isdigit() and len(valor) < 7 else 0
    return conteos


def _pantalla(request: Request, sesion: Sesion, status_code: int = 200, **contexto: Any) -> HTMLResponse:
    contexto.setdefault("conteos", dict.fromkeys(CLASES, 0))
    contexto.setdefault("resultado", None)
    contexto.setdefault("errores", {})
    return PAGINAS.render(
        request,
        "consola_sobres.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        accion=SOBRES,
        clases=CLASES,
        **contexto,
    )


@router.get(RUTA + "/")
async def inicio() -> Response:
    return RedirectResponse(SOBRES, status_code=303)


@router.get(SOBRES)
async def sobres(request: Request) -> HTMLResponse:
    sesion = _consola(request).exigir(request, *ROLES)
    return _pantalla(request, sesion)


@router.post(SOBRES)
async def escanear(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    consola = _consola(request)
    sesion = consola.exigir(request, *ROLES)
    form = await request.form()
    consola.revisar_csrf(sesion, form.get("csrf"))
    campos = leer_campos(form, ("clave_elector", *(f"n_{c}" for c in CLASES)))
    conteos = _conteos(campos)
    t = PAGINAS.textos(request)
    try:
        datos = SobreIn.model_validate({"clave_elector": campos.get("clave_elector", "")})
    except ValidationError:
        return _pantalla(
            request,
            sesion,
            422,
            conteos=conteos,
            errores={"clave_elector": t("consola_sobres.clave_invalida")},
            v={"clave_elector": campos.get("clave_elector", "")},
        )
    async with transaccion(request) as session:
        sobre = await postal_service.recibir_sobre(
            session, datos.clave_elector.upper(), proceso, sesion.principal(), reloj.ahora()
        )
    conteos[sobre.clasificacion] += 1
    return _pantalla(
        request, sesion, conteos=conteos, resultado=sobre.clasificacion, clave=datos.clave_elector.upper()
    )


def _mesas(request: Request, sesion: Sesion, status_code: int = 200, **contexto: Any) -> HTMLResponse:
    proceso = request.app.state.proceso
    contexto.setdefault("errores", {})
    contexto.setdefault("asignadas", None)
    return PAGINAS.render(
        request,
        "consola_mesas.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        accion=MESAS,
        entidades=[(e, f"{e} · {proceso.entidades[e].nombre}") for e in sorted(proceso.entidades)],
        limite=proceso.local(proceso.calendario.recepcion_spv_limite),
        **contexto,
    )


@router.get(MESAS)
async def mesas(request: Request) -> HTMLResponse:
    sesion = _consola(request).exigir(request, *ROLES_MESAS)
    return _mesas(request, sesion)


@router.post(MESAS)
async def asignar(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """The on-time envelopes of an entidad into Mesas de Escrutinio y Cómputo (the same use case as
    POST /v1/mesas/{entidad}/asignacion: idempotent, only once the reception closed)."""
    consola = _consola(request)
    sesion = consola.exigir(request, *ROLES_MESAS)
    form = await request.form()
    consola.revisar_csrf(sesion, form.get("csrf"))
    entidad = leer_campos(form, ("entidad",)).get("entidad", "")
    try:
        async with transaccion(request) as session:
            tamanos = await postal_service.asignar_mesas(session, entidad, proceso, reloj.ahora())
    except Problem as problema:
        return _mesas(
            request, sesion, problema.status, errores={"entidad": problema.detail}, v={"entidad": entidad}
        )
    return _mesas(
        request, sesion, asignadas=(entidad, list(enumerate(tamanos, start=1))), v={"entidad": entidad}
    )
