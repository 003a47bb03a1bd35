"""postal's console screens: the reception desk of return envelopes (SPV), for ``ine-operador`` and
``ine-admin`` (the roles of ``POST /v1/sobres``); the assignment to mesas; and the late envelopes (LGIPE
345.2), listed by sender with the acts destroying them.

A barcode scanner types the clave printed on the envelope and presses Enter: the form posts it, the same use
case as the API classifies it (``recibir_sobre``) and the page answers at once in large type and colour,
EN TIEMPO / EXTEMPORÁNEO / DUPLICADO / DESCONOCIDO, with the desk's running counts, and puts the cursor back
in the scan field for the next envelope. It works without JavaScript. The counts travel in the form (they
are the desk's own tally of this sitting, not a record: the record is the database).

``/consola/postal/extemporaneos`` is ``GET /v1/extemporaneos/{entidad}`` and its acts for a console session
(``ine-admin``, ``auditor``, an ``opl`` for its own entidad): names in full only for ``ine-admin``, masked for
the others (``documentos.remitentes``), each act's PDF (the same bytes as the API's); ``ine-admin`` records
the act destroying the pending ones, with who attended (``service.destruir_extemporaneos``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.postal import documentos
from services.postal import service as postal_service
from services.postal.domain import Clasificacion
from services.postal.schemas import DestruccionExtemporaneosIn, SobreIn
from shared.auth import Rol
from shared.claves import ENTIDAD_RE, EntidadPath
from shared.consola import Prohibido, Sesion, consola_de
from shared.db import ENTERO_MAX
from shared.paginas import CABECERAS, Paginas, fecha, leer_campos
from shared.problems import Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = Paginas(Path(__file__).resolve().parent / "paginas")
RUTA = "/consola/postal"
SOBRES = RUTA + "/sobres"
MESAS = RUTA + "/mesas"
EXTEMPORANEOS = RUTA + "/extemporaneos"
ROLES = (Rol.INE_OPERADOR, Rol.INE_ADMIN)  # as POST /v1/sobres (shared/autorizacion.py)
ROLES_MESAS = (Rol.INE_ADMIN,)  # as POST /v1/mesas/{entidad}/asignacion
ROLES_CIERRE = (Rol.INE_ADMIN, Rol.AUDITOR, Rol.OPL)  # as GET /v1/extemporaneos/{entidad}
ROLES_DESTRUCCION = (Rol.INE_ADMIN,)  # as POST /v1/extemporaneos/{entidad}/destrucciones
FILAS_ASISTENTES = 4  # rows of the form; empty ones are ignored (the schema asks for 2 to 60)
CLASES = [c.value for c in Clasificacion]


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
    sesion = consola_de(request).exigir(request, *ROLES)
    return _pantalla(request, sesion)


@router.post(SOBRES)
async def escanear(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    consola = consola_de(request)
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
    sesion = consola_de(request).exigir(request, *ROLES_MESAS)
    return _mesas(request, sesion)


@router.post(MESAS)
async def asignar(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """The on-time envelopes of an entidad into Mesas de Escrutinio y Cómputo (the same use case as
    POST /v1/mesas/{entidad}/asignacion: idempotent, only once the reception closed)."""
    consola = consola_de(request)
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


# --- late SPVs: the list by sender and the acts destroying them (LGIPE 345.2) ---------------------------

ActaPath = Annotated[int, PathParam(ge=1, le=ENTERO_MAX)]
# The screen's choice: checked here (an empty or wrong one is said next to the field, not a bare 422).
EntidadQuery = Annotated[str | None, Query(max_length=16)]


def _exigir_entidad(request: Request, roles: tuple[Rol, ...], entidad: str | None) -> Sesion:
    """The session, if its role is one of ``roles`` and (an OPL) ``entidad`` is its own: else 403, as the
    API's ``check_entidad``."""
    sesion = consola_de(request).exigir(request, *roles)
    if entidad is not None and not sesion.principal().puede_ver_entidad(entidad):
        raise Prohibido(sesion, f"Su cuenta solo consulta la entidad {sesion.entidad}.")
    return sesion


async def _extemporaneos(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    entidad: str | None,
    status_code: int = 200,
    *,
    v: dict[str, str] | None = None,
    errores: dict[str, str] | None = None,
    problema: str = "",
    aviso: str = "",
) -> HTMLResponse:
    """The screen: without ``entidad``, the choice of one; with it, its late envelopes by sender, how many
    wait to be destroyed, its acts (each with its PDF) and, for ``ine-admin``, the form of a new act.
    ``problema``: the service's refusal of the form just sent, shown at the form."""
    t = PAGINAS.textos(request)
    errores = dict(errores or {})
    remitentes: list[dict[str, Any]] = []
    actas: list[dict[str, Any]] = []
    elegida = None
    if entidad:
        try:
            async with transaccion(request, lectura=True) as session:
                filas = await postal_service.extemporaneos(session, entidad, proceso)
                registradas = await postal_service.actas_destruccion(session, entidad, proceso)
        except Problem as p:  # an entidad outside the process: said next to the choice
            status_code = p.status if status_code == 200 else status_code
            errores.setdefault("entidad", p.detail)
        else:
            elegida = (entidad, proceso.entidades[entidad].nombre)
            remitentes = [
                {
                    "numero": r.numero,
                    "nombre": r.nombre,
                    "pais": r.pais,
                    "recibido": fecha(r.recibido_at, proceso, t.idioma),
                    "acta": r.acta_destruccion,
                }
                for r in documentos.remitentes(filas, proceso, sesion.principal())
            ]
            actas = [
                {
                    "numero": a.id,
                    "lugar": a.lugar,
                    "celebrada": fecha(a.celebrada_at, proceso, t.idioma),
                    "sobres": a.sobres,
                    "asistentes": a.asistentes,
                    "pdf": f"{EXTEMPORANEOS}/{entidad}/destrucciones/{a.id}.pdf",
                }
                for a in registradas
            ]
    return PAGINAS.render(
        request,
        "consola_extemporaneos.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        accion=EXTEMPORANEOS,
        opl=sesion.rol == Rol.OPL,
        entidades=[(e, f"{e} · {proceso.entidades[e].nombre}") for e in sorted(proceso.entidades)],
        entidad=entidad or "",
        elegida=elegida,
        limite=fecha(proceso.calendario.recepcion_spv_limite, proceso, t.idioma),
        remitentes=remitentes,
        pendientes=sum(r["acta"] is None for r in remitentes),
        actas=actas,
        puede_registrar=sesion.rol in ROLES_DESTRUCCION,
        filas=range(1, FILAS_ASISTENTES + 1),
        v=v or {},
        errores=errores,
        problema=problema,
        aviso=aviso,
    )


@router.get(EXTEMPORANEOS)
async def extemporaneos(request: Request, proceso: ProcesoDep, entidad: EntidadQuery = None) -> HTMLResponse:
    sesion = _exigir_entidad(request, ROLES_CIERRE, entidad or None)
    if sesion.rol == Rol.OPL:  # an OPL reads its own entidad, without choosing it
        entidad = sesion.entidad
    if entidad and not ENTIDAD_RE.match(entidad):
        t = PAGINAS.textos(request)
        return await _extemporaneos(
            request, sesion, proceso, None, 422, errores={"entidad": t("consola_extemporaneos.error.entidad")}
        )
    return await _extemporaneos(request, sesion, proceso, entidad or None)


def _asistentes(campos: dict[str, str]) -> tuple[list[dict[str, str]], list[int]]:
    """The attendees typed (rows left empty are ignored) and the form row of each."""
    asistentes, filas = [], []
    for i in range(1, FILAS_ASISTENTES + 1):
        nombre, cargo = campos.get(f"nombre_{i}", ""), campos.get(f"cargo_{i}", "")
        if nombre or cargo:
            asistentes.append({"nombre": nombre, "cargo": cargo})
            filas.append(i)
    return asistentes, filas


def _errores_de(exc: ValidationError, filas: list[int], request: Request) -> dict[str, str]:
    """The schema's refusals by form field (``asistentes.1.cargo`` → ``cargo_<its row>``), in the
    catalog's words."""
    t = PAGINAS.textos(request)
    errores: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        if loc[:1] == ("lugar",):
            errores.setdefault("lugar", t("consola_extemporaneos.error.lugar"))
        elif len(loc) >= 3 and loc[0] == "asistentes" and isinstance(loc[1], int) and loc[1] < len(filas):
            campo = str(loc[2])
            if campo in ("nombre", "cargo"):
                errores.setdefault(f"{campo}_{filas[loc[1]]}", t(f"consola_extemporaneos.error.{campo}"))
        else:
            errores.setdefault("asistentes", t("consola_extemporaneos.error.asistentes"))
    return errores


@router.post(EXTEMPORANEOS)
async def destruir(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """The act destroying the entidad's pending late envelopes (the same use case as
    POST /v1/extemporaneos/{entidad}/destrucciones: only once the reception closed, never twice)."""
    consola = consola_de(request)
    sesion = consola.exigir(request, *ROLES_DESTRUCCION)
    form = await request.form()
    consola.revisar_csrf(sesion, form.get("csrf"))
    filas_form = [f"{c}_{i}" for i in range(1, FILAS_ASISTENTES + 1) for c in ("nombre", "cargo")]
    campos = leer_campos(form, ("entidad", "lugar", *filas_form))
    entidad = campos["entidad"]
    t = PAGINAS.textos(request)
    if not ENTIDAD_RE.match(entidad):
        return await _extemporaneos(
            request, sesion, proceso, None, 422, errores={"entidad": t("consola_extemporaneos.error.entidad")}
        )
    asistentes, filas = _asistentes(campos)
    try:
        datos = DestruccionExtemporaneosIn.model_validate(
            {"lugar": campos["lugar"], "asistentes": asistentes}
        )
    except ValidationError as exc:
        return await _extemporaneos(
            request, sesion, proceso, entidad, 422, v=campos, errores=_errores_de(exc, filas, request)
        )
    try:
        async with transaccion(request) as session:
            acta = await postal_service.destruir_extemporaneos(
                session, entidad, datos, proceso, sesion.principal(), reloj.ahora()
            )
            numero, sobres = acta.id, acta.sobres
    except Problem as problema:
        return await _extemporaneos(
            request, sesion, proceso, entidad, problema.status, v=campos, problema=problema.detail
        )
    return await _extemporaneos(
        request,
        sesion,
        proceso,
        entidad,
        aviso=t("consola_extemporaneos.registrada", acta=numero, sobres=sobres),
    )


@router.get(EXTEMPORANEOS + "/{entidad}/destrucciones/{acta}.pdf")
async def destruccion_pdf(
    request: Request, entidad: EntidadPath, acta: ActaPath, proceso: ProcesoDep
) -> Response:
    """The printable act, as ``GET /v1/extemporaneos/{entidad}/destrucciones/{acta}.pdf`` serves it (names
    masked but for ``ine-admin``), for a console session."""
    sesion = _exigir_entidad(request, ROLES_CIERRE, entidad)
    try:
        async with transaccion(request, lectura=True) as session:
            pdf = await documentos.acta_pdf(session, entidad, acta, proceso, sesion.principal())
    except Problem as p:
        return await _extemporaneos(request, sesion, proceso, entidad, p.status, problema=p.detail)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **CABECERAS,
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="destruccion-{entidad}-{acta}.pdf"',
        },
    )
