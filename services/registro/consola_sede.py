"""registro's console screen for a consular site on election day (#27): the door of the site, for its staff
(``ine-operador`` whose sign-in carries the ``sede`` claim).

A barcode scanner types the clave de elector of the voter ID: the page answers at once in large type and
colour with ``POST /v1/sedes/{sede}/consultas`` (the same use case): EN LA LISTA (with the name, to check
against the ID), OTRA SEDE, OTRA MODALIDAD, YA RECIBIÓ BOLETA or NO ESTÁ EN LA LNERE. For the last one the
form to hand an extra ballot follows, with the entidad of the voter ID (``POST /v1/sedes/{sede}/boletas-
adicionales``: the site's cap, one per clave, the site's hours; a refusal is shown and changes nothing).
A ballot handed links to the site's kiosk turns with its entidad and folio. The site's count (cap, handed,
left) is on the page. Works without JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.registro.schemas import BoletaAdicionalIn, ConsultaSedeIn, ConsultaSedeOut
from services.registro.service import sedes
from shared.auth import Rol
from shared.consola import Sesion, consola_de
from shared.paginas import Paginas
from shared.problems import Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = Paginas(Path(__file__).resolve().parent / "paginas")
RUTA = "/consola/registro"
SEDE = RUTA + "/sede"
BOLETA = SEDE + "/boleta"
ROLES = (Rol.INE_OPERADOR,)  # as POST /v1/sedes/{sede}/consultas and …/boletas-adicionales


async def _pantalla(
    request: Request, sesion: Sesion, proceso: Proceso, status_code: int = 200, **contexto: Any
) -> HTMLResponse:
    contexto.setdefault("resultado", None)
    contexto.setdefault("errores", {})
    contexto.setdefault("problema", None)
    contexto.setdefault("entregada", None)
    contexto.setdefault("adicional", None)
    contexto.setdefault("clave", "")
    sede = proceso.sedes.get(sesion.sede or "")
    estado = None
    if sede is not None and sesion.sede is not None:
        async with transaccion(request) as session:
            estado = await sedes.estado(session, proceso, sesion.sede)
    return PAGINAS.render(
        request,
        "consola_sede.html",
        status_code if sede is not None else 403,
        sesion=sesion,
        consola_ruta=RUTA,
        accion=SEDE,
        accion_boleta=BOLETA,
        sede=sede,
        estado=estado,
        entidades=[(e, f"{e} · {proceso.entidades[e].nombre}") for e in sorted(proceso.entidades)],
        **contexto,
    )


@router.get(SEDE)
async def sede(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    sesion = consola_de(request).exigir(request, *ROLES)
    return await _pantalla(request, sesion, proceso)


@router.post(SEDE)
async def consultar(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    sesion, campos = await consola_de(request).formulario(request, ROLES, ("clave_elector",))
    t = PAGINAS.textos(request)
    try:
        datos = ConsultaSedeIn.model_validate({"clave_elector": campos.get("clave_elector", "")})
    except ValidationError:
        return await _pantalla(
            request, sesion, proceso, 422, errores={"clave_elector": t("consola_sede.clave_invalida")}
        )
    try:
        async with transaccion(request) as session:
            r = await sedes.consultar(
                session, proceso, sesion.sede or "", datos.clave_elector, sesion.principal()
            )
    except Problem as p:
        return await _pantalla(request, sesion, proceso, p.status, problema=p.detail)
    return await _pantalla(
        request, sesion, proceso, resultado=ConsultaSedeOut(**r), clave=datos.clave_elector
    )


@router.post(BOLETA)
async def entregar(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    sesion, campos = await consola_de(request).formulario(request, ROLES, ("clave_elector", "entidad"))
    t = PAGINAS.textos(request)
    try:
        datos = BoletaAdicionalIn.model_validate(campos)
    except ValidationError as exc:
        sin_entidad = any("entidad" in e["loc"] for e in exc.errors())
        problema = t("consola_sede.elija") if sin_entidad else t("consola_sede.clave_invalida")
        return await _pantalla(request, sesion, proceso, 422, problema=problema)
    try:
        async with transaccion(request) as session:
            r = await sedes.entregar(
                session,
                proceso,
                sesion.sede or "",
                datos.clave_elector,
                datos.entidad,
                sesion.principal(),
                reloj.ahora(),
            )
    except Problem as p:
        return await _pantalla(request, sesion, proceso, p.status, problema=p.detail)
    return await _pantalla(
        request,
        sesion,
        proceso,
        entregada=t("consola_sede.entregada", numero=r["numero"], tope=r["tope"]),
        adicional={"entidad": r["entidad"], "folio": r["folio"]},
    )
