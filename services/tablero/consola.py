"""tablero's console screens, read-only: the process overview (``ine-admin``) and the closing report.

The process overview: the configured process's calendar (every milestone in Centro time, in order, where the
service's clock is now and how long to the next); each internet election as electronico's public
``GET /v1/elecciones`` tells it, with the decryption progress computo's public
``GET /v1/escrutinio-electronico/{uuid}`` gives; and each of the six services' ``GET /readyz``. The server
asks them in parallel, with a short timeout, at the internal base URLs of ``VMRE_TABLERO_SERVICIOS_INTERNOS``
(services/tablero/config.py); a service that does not answer reads «no responde» (never a 500).

The closing report (``/consola/tablero/informe`` and its ``.pdf``): the same document as
``GET /v1/informe-final.{json,pdf}`` (services/tablero/informe.py, through ``InformeFinal``), for ine-admin
and the auditor (national or one entidad, ``?entidad=``) and for an OPL (always its own entidad)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.tablero import informe as informe_final
from services.tablero import paginas
from services.tablero.config import Settings
from services.tablero.schemas import InformeFinal
from shared.auth import Rol
from shared.claves import ENTIDAD_RE
from shared.consola import Prohibido, Sesion, consola_de
from shared.proceso import Proceso
from shared.settings import SERVICES
from shared.web import transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = paginas.PAGINAS
RUTA = "/consola/tablero"
PROCESO = RUTA + "/proceso"
INFORME = RUTA + "/informe"
ROLES = (Rol.INE_ADMIN,)
# As GET /v1/informe-final.* and /v1/entidades/{e}/informe-final.* (shared/autorizacion.py, CIERRE).
CIERRE = (Rol.INE_ADMIN, Rol.AUDITOR, Rol.OPL)
ESPERA = 2.0  # seconds for each internal request: the page answers even when a service does not
GUIA = "docs/operacion.md#fiabilidad-las-fallas-que-sobrevive"


@dataclass
class Hito:
    campo: str
    instante: dt.datetime
    local: str
    estado: str  # pasado | actual | siguiente | futuro


@dataclass
class Calendario:
    hitos: list[Hito]
    actual: Hito | None
    siguiente: Hito | None
    falta: str | None


@dataclass
class Listo:
    """One service's ``GET /readyz`` as the page shows it (``responde`` False: nothing answered)."""

    servicio: str
    responde: bool
    base_datos: str | None = None  # None: ok; else the error
    outbox: int | None = None
    broker: tuple[bool, str | None] | None = None  # None: no relay in this process
    consumidores: list[tuple[str, bool, str | None]] = field(default_factory=list)


def calendario(proceso: Proceso, ahora: dt.datetime) -> Calendario:
    """Every instant of the calendar, in order; the current stage is the one that began at the last
    milestone already reached."""
    cal = proceso.calendario
    instantes = sorted(
        ((getattr(cal, c), c) for c in type(cal).model_fields if isinstance(getattr(cal, c), dt.datetime)),
    )
    pasados = [i for i, (instante, _) in enumerate(instantes) if instante <= ahora]
    i_actual = pasados[-1] if pasados else None
    i_siguiente = (i_actual + 1 if i_actual is not None else 0) if len(pasados) < len(instantes) else None
    hitos = []
    for i, (instante, campo) in enumerate(instantes):
        estado = (
            "actual"
            if i == i_actual
            else "siguiente"
            if i == i_siguiente
            else "pasado"
            if instante <= ahora
            else "futuro"
        )
        hitos.append(Hito(campo, instante, f"{proceso.local(instante):%Y-%m-%d %H:%M}", estado))
    siguiente = hitos[i_siguiente] if i_siguiente is not None else None
    return Calendario(
        hitos,
        hitos[i_actual] if i_actual is not None else None,
        siguiente,
        _duracion(siguiente.instante - ahora) if siguiente else None,
    )


def _duracion(d: dt.timedelta) -> str:
    minutos = int(d.total_seconds()) // 60
    dias, resto = divmod(minutos, 24 * 60)
    horas, minutos = divmod(resto, 60)
    return f"{dias} d {horas} h {minutos} min" if dias else f"{horas} h {minutos} min"


async def _pedir(cliente: httpx.AsyncClient, url: str) -> tuple[int, Any] | None:
    """(status, JSON body) or None when nothing answers (refused, timed out, not JSON)."""
    try:
        r = await cliente.get(url)
        return r.status_code, r.json()
    except (httpx.HTTPError, ValueError):
        return None


def _de_tipo(valor: Any, tipo: type, otro: Any) -> Any:
    """``valor`` if it is a ``tipo`` (what another service answered is read, never trusted), else ``otro``."""
    return valor if isinstance(valor, tipo) else otro


async def _listo(cliente: httpx.AsyncClient, servicio: str, base: str) -> Listo:
    respuesta = await _pedir(cliente, base + "/readyz")
    if respuesta is None or not isinstance(respuesta[1], dict):
        return Listo(servicio, False)
    checks = _de_tipo(respuesta[1].get("checks"), dict, {})
    base_datos: dict[str, Any] = _de_tipo(checks.get("database"), dict, {})
    outbox: dict[str, Any] = _de_tipo(checks.get("outbox"), dict, {})
    broker: dict[str, Any] | None = _de_tipo(checks.get("broker"), dict, None)
    consumidores: list[Any] = _de_tipo(checks.get("consumers"), list, [])
    return Listo(
        servicio,
        True,
        base_datos=None if base_datos.get("ok") else str(base_datos.get("error") or "?"),
        outbox=outbox.get("backlog") if isinstance(outbox.get("backlog"), int) else None,
        broker=None if broker is None else (bool(broker.get("ok")), broker.get("error")),
        consumidores=[
            (str(c.get("name")), bool(c.get("connected")), c.get("error"))
            for c in consumidores
            if isinstance(c, dict)
        ],
    )


async def _elecciones(cliente: httpx.AsyncClient, bases: dict[str, str]) -> list[dict[str, Any]] | None:
    """electronico's elections, each with computo's decryption progress (None: electronico did not answer;
    ``escrutinio`` None: computo did not answer; ``{}``: no sealed box yet)."""
    respuesta = await _pedir(cliente, bases["electronico"] + "/v1/elecciones")
    if respuesta is None or respuesta[0] != 200 or not isinstance(respuesta[1], list):
        return None
    elecciones = [e for e in respuesta[1] if isinstance(e, dict) and isinstance(e.get("uuid"), str)]
    escrutinios = await asyncio.gather(
        *(_pedir(cliente, f"{bases['computo']}/v1/escrutinio-electronico/{e['uuid']}") for e in elecciones)
    )
    for e, escrutinio in zip(elecciones, escrutinios, strict=True):
        if escrutinio is None:
            e["escrutinio"] = None
        elif escrutinio[0] == 200 and isinstance(escrutinio[1], dict):
            e["escrutinio"] = escrutinio[1]
        elif escrutinio[0] == 404:
            e["escrutinio"] = {}
        else:
            e["escrutinio"] = None
    return sorted(elecciones, key=lambda e: (bool(e.get("simulacro")), str(e.get("entidad")), e["uuid"]))


async def _panorama(settings: Settings) -> tuple[list[dict[str, Any]] | None, list[Listo]]:
    bases = settings.servicios()
    # Internal addresses: never through a proxy of the environment (HTTP_PROXY and the like).
    async with httpx.AsyncClient(timeout=ESPERA, follow_redirects=False, trust_env=False) as cliente:
        elecciones, *listos = await asyncio.gather(
            _elecciones(cliente, bases), *(_listo(cliente, s, bases[s]) for s in SERVICES)
        )
    return elecciones, listos


@router.get(RUTA + "/")
async def inicio() -> Response:
    return RedirectResponse(PROCESO, status_code=303)


@router.get(PROCESO)
async def proceso(request: Request) -> HTMLResponse:
    sesion = consola_de(request).exigir(request, *ROLES)
    settings: Settings = request.app.state.settings
    ahora = request.app.state.reloj.ahora()
    elecciones, listos = await _panorama(settings)
    return PAGINAS.render(
        request,
        "consola_proceso.html",
        sesion=sesion,
        consola_ruta=RUTA,
        nombre_proceso=request.app.state.proceso.nombre,
        ahora=f"{request.app.state.proceso.local(ahora):%Y-%m-%d %H:%M}",
        calendario=calendario(request.app.state.proceso, ahora),
        aclaracion_dias=request.app.state.proceso.calendario.aclaracion_dias,
        elecciones=elecciones,
        listos=listos,
        guia=GUIA,
    )


# --- the closing report -------------------------------------------------------------------------------------


class EntidadInvalida(Exception):
    """``?entidad=`` is not an INEGI key (422) or not an entidad of the process (404)."""

    def __init__(self, status: int, clave: str) -> None:
        self.status = status
        self.clave = clave[:16]  # shown back escaped, and short


def _alcance(sesion: Sesion, proceso: Proceso, pedida: str | None) -> str | None:
    """The report's entidad (None: national). ine-admin and the auditor choose (empty: national); an OPL
    always reads its own entidad's, and asking for another is refused (403), as the API refuses it."""
    pedida = (pedida or "").strip() or None
    if pedida is not None and not ENTIDAD_RE.match(pedida):
        raise EntidadInvalida(422, pedida)
    if sesion.rol == Rol.OPL:
        if pedida is not None and pedida != sesion.entidad:
            raise Prohibido(sesion, f"Su cuenta solo consulta la entidad {sesion.entidad}.")
        pedida = sesion.entidad
    if pedida is not None and pedida not in proceso.entidades:
        raise EntidadInvalida(404, pedida)
    return pedida


async def _construir(request: Request, proceso: Proceso, entidad: str | None) -> dict[str, Any]:
    """The report through its model, as ``api._informe`` sends it: what the screen shows is the JSON."""
    async with transaccion(request, lectura=True) as session:
        datos = await informe_final.construir(session, proceso, entidad, request.app.state.reloj.ahora())
    informe: dict[str, Any] = InformeFinal.model_validate(datos).model_dump(mode="json")
    return informe


def _hora(proceso: Proceso) -> Callable[[str], str]:
    """An instant of the report as the screen shows it: in Centro time, to the minute (the actas keep UTC);
    a day (``AAAA-MM-DD``) stays a day."""

    def hora(valor: str) -> str:
        try:
            instante = dt.datetime.fromisoformat(valor)
        except ValueError:
            return valor
        if len(valor) <= len("AAAA-MM-DD") or instante.tzinfo is None:
            return valor
        return f"{proceso.local(instante):%Y-%m-%d %H:%M}"

    return hora


def _pantalla(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    status_code: int = 200,
    *,
    alcance: str | None = None,
    informe: dict[str, Any] | None = None,
    aviso: str | None = None,
) -> HTMLResponse:
    return PAGINAS.render(
        request,
        "consola_informe.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        accion=INFORME,
        puede_elegir=sesion.rol != Rol.OPL,
        entidades={clave: e.nombre for clave, e in proceso.entidades.items()},
        cargos={c.clave: c.nombre for e in proceso.entidades.values() for c in e.cargos},
        nombre_proceso=proceso.nombre,
        hora=_hora(proceso),
        alcance=alcance,
        informe=informe,
        pdf=INFORME + ".pdf" + (f"?entidad={alcance}" if alcance else ""),
        aviso=aviso,
    )


def _entidad_invalida(
    request: Request, sesion: Sesion, proceso: Proceso, exc: EntidadInvalida
) -> HTMLResponse:
    """The screen with the reason, and the scope form to choose again; no report."""
    t = PAGINAS.textos(request)
    clave = "consola_informe.no_entidad" if exc.status == 404 else "consola_informe.entidad_invalida"
    return _pantalla(request, sesion, proceso, exc.status, aviso=t(clave, entidad=exc.clave))


async def _informe_de(
    request: Request, entidad: str | None
) -> tuple[Sesion, str | None, dict[str, Any]] | HTMLResponse:
    """Who asks, the scope they may see and its report; or the screen saying why not (403 is raised)."""
    sesion = consola_de(request).exigir(request, *CIERRE)
    proceso: Proceso = request.app.state.proceso
    try:
        alcance = _alcance(sesion, proceso, entidad)
    except EntidadInvalida as exc:
        return _entidad_invalida(request, sesion, proceso, exc)
    return sesion, alcance, await _construir(request, proceso, alcance)


@router.get(INFORME)
async def informe(request: Request, entidad: str | None = None) -> HTMLResponse:
    resultado = await _informe_de(request, entidad)
    if isinstance(resultado, HTMLResponse):
        return resultado
    sesion, alcance, datos = resultado
    return _pantalla(request, sesion, request.app.state.proceso, alcance=alcance, informe=datos)


@router.get(INFORME + ".pdf")
async def informe_pdf(request: Request, entidad: str | None = None) -> Response:
    resultado = await _informe_de(request, entidad)
    if isinstance(resultado, HTMLResponse):
        return resultado
    _, alcance, datos = resultado
    nombre = f"informe-final-{request.app.state.proceso.clave}-{alcance or 'nacional'}.pdf"
    return Response(
        informe_final.pdf(datos),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{nombre}"', "Cache-Control": "no-store"},
    )
