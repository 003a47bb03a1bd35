"""electronico's console screen for a consular site on election day (#27): the site's staff (``ine-operador``
whose sign-in carries the ``sede`` claim) open a kiosk turn for a person of the site's list, after checking
their voter ID at the door (registro's screen gives the entidad and number), or for a person who got an extra
ballot there (its entidad and folio). The code shows in large type, to be typed on a module of the site; the
same use case as ``POST /v1/modulo/{sede}/turnos``, so the same refusals (not on this site's list, already
voted, the site closed), shown and changing nothing. Works without JavaScript."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.electronico.api.modulos import TurnoIn
from services.electronico.paginas import PAGINAS
from services.electronico.service import modulos
from shared.auth import Rol
from shared.consola import Sesion, consola_de
from shared.problems import Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
RUTA = "/consola/electronico"
TURNOS = RUTA + "/turnos"
ROLES = (Rol.INE_OPERADOR,)  # as POST /v1/modulo/{sede}/turnos


def _pantalla(
    request: Request, sesion: Sesion, proceso: Proceso, status_code: int = 200, **contexto: Any
) -> HTMLResponse:
    contexto.setdefault("turno", None)
    contexto.setdefault("problema", None)
    contexto.setdefault("valores", {})
    sede = proceso.sedes.get(sesion.sede or "")
    return PAGINAS.render(
        request,
        "consola_turnos.html",
        status_code if sede is not None else 403,
        sesion=sesion,
        consola_ruta=RUTA,
        accion=TURNOS,
        sede=sede,
        entidades=[(e, f"{e} · {proceso.entidades[e].nombre}") for e in sorted(proceso.entidades)],
        **contexto,
    )


@router.get(TURNOS)
async def turnos(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    """The form, filled in when the door's screen links here with ``?entidad=…&numero=…`` (or ``adicional=…``:
    an extra ballot's folio; nothing opens
    until the staff press the button)."""
    sesion = consola_de(request).exigir(request, *ROLES)
    valores = {k: request.query_params.get(k, "")[:8] for k in ("entidad", "numero", "adicional")}
    return _pantalla(request, sesion, proceso, valores=valores)


@router.post(TURNOS)
async def abrir(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    sesion, campos = await consola_de(request).formulario(request, ROLES, ("entidad", "numero", "adicional"))
    t = PAGINAS.textos(request)
    try:
        datos = TurnoIn.model_validate({k: v for k, v in campos.items() if v != ""})
    except ValidationError:
        return _pantalla(request, sesion, proceso, 422, problema=t("consola_turnos.invalido"), valores=campos)
    try:
        async with transaccion(request) as session:
            turno = await modulos.abrir_turno(
                session,
                proceso,
                sesion.sede or "",
                datos.entidad,
                sesion.principal(),
                reloj.ahora(),
                datos.numero,
                datos.adicional,
            )
    except Problem as p:
        return _pantalla(request, sesion, proceso, p.status, problema=p.detail, valores=campos)
    local = turno.expira_at.astimezone(ZoneInfo(proceso.sedes[sesion.sede or ""].zona_horaria))
    respuesta = _pantalla(request, sesion, proceso, 201, turno=turno, hora=local)
    respuesta.headers["Cache-Control"] = "no-store"
    return respuesta
