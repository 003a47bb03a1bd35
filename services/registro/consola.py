"""registro's console screens: the review desk (issue #26), for ``ine-operador`` and ``ine-admin`` (the roles
of ``GET /v1/revision/cola`` and of the dictamen, aclaración and baja routes in shared/autorizacion.py).

- The queue in order of arrival (the API's query, with the desk's filters: entidad, país, modalidad, with
  alerts), a page at a time with the count, and a batch «procedente» of the rows ticked (``dictaminar_lote``,
  as ``POST /v1/solicitudes/dictamenes``: all or nothing).
- The expediente: the data (personal data, as the API's expediente: its read goes to the audit log) beside the
  documents (served by a console route, inline, with their stored type), the alerts and the history of the
  application with who decided what and when.
- The decisions, each a form with the session's CSRF token over the same use case as the API
  (``dictaminar``, ``pedir_aclaracion``, ``dar_de_baja``); a refusal shows the problem next to its field and
  changes nothing. Alt+P decides «procedente», Alt+S opens the next application of the queue.

Works without JavaScript. Who decides is the session's ``sub`` (the application's history and the audit
log)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import iso3166
from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from services.registro import repository
from services.registro import service as registro_service
from services.registro.domain import MOTIVOS, MOTIVOS_BAJA, TRANSICIONES, Estado
from services.registro.models import Solicitud
from services.registro.schemas import Baja, Dictamen, Dictamenes, SolicitudAclaracion
from services.registro.service.documentos import TIPOS_DOCUMENTO
from shared.auditoria import registrar_lectura
from shared.auth import Rol
from shared.consola import Sesion, consola_de
from shared.paginas import NULO, Paginas, Textos, fecha, leer_campos
from shared.problems import Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
# The templates and texts of registro's pages (services/registro/paginas), the console frame over them.
PAGINAS = Paginas(Path(__file__).resolve().parent / "paginas")
RUTA = "/consola/registro"
COLA = RUTA + "/cola"
LOTE = COLA + "/lote"
SOLICITUDES = RUTA + "/solicitudes"
ROLES = (
    Rol.INE_OPERADOR,
    Rol.INE_ADMIN,
)  # as GET /v1/revision/cola and the decisions (shared/autorizacion.py)
POR_PAGINA = 50
POR_REVISAR = ["recibida"]  # the queue, as GET /v1/revision/cola
FILTROS = ("entidad", "pais", "modalidad", "con_alertas")
Errores = dict[str, str]


def _exigir(request: Request) -> Sesion:
    """The session of an allowed role (who it is also signs the audit log's record of this request)."""
    return consola_de(request).exigir(request, *ROLES)


MAX_CAMPOS = POR_PAGINA + 20  # the batch: a folio per row, the token and the filters


async def _formulario(request: Request, sesion: Sesion) -> FormData:
    form = await request.form(max_files=0, max_fields=MAX_CAMPOS)
    consola_de(request).revisar_csrf(sesion, form.get("csrf"))
    return form


def _lista(form: FormData, nombre: str) -> list[str]:
    return [v.replace(NULO, "").strip() for v in form.getlist(nombre) if isinstance(v, str)]


def _expediente_url(folio: str) -> str:
    return f"{SOLICITUDES}/{folio}"


def _pais(idioma: str, codigo: str) -> str:
    return str(Locale(idioma).territories.get(codigo, codigo))


@functools.cache
def _paises(idioma: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name in ``idioma``) of every country but Mexico, by name: the queue's country filter."""
    paises = ((a2, _pais(idioma, a2)) for a2 in iso3166.countries_by_alpha2 if a2 != "MX")
    return tuple(sorted(paises, key=lambda par: par[1].casefold()))


# --- the queue -------------------------------------------------------------------------------------------


@dataclass
class Filtros:
    entidad: str = ""
    pais: str = ""
    modalidad: str = ""
    con_alertas: bool = False

    @classmethod
    def de(cls, valores: dict[str, str], proceso: Proceso) -> Filtros:
        """Only values the process knows: anything else is no filter (a query cannot break the page)."""
        pais = valores.get("pais", "").upper()
        return cls(
            entidad=valores.get("entidad", "") if valores.get("entidad", "") in proceso.entidades else "",
            pais=pais if len(pais) == 2 and pais.isalpha() and pais.isascii() else "",
            modalidad=valores.get("modalidad", "")
            if valores.get("modalidad", "") in proceso.modalidades
            else "",
            con_alertas=valores.get("con_alertas", "") not in ("", "0"),
        )

    def consulta(self) -> dict[str, str]:
        q = {"entidad": self.entidad, "pais": self.pais, "modalidad": self.modalidad}
        return {k: v for k, v in q.items() if v} | ({"con_alertas": "1"} if self.con_alertas else {})

    def argumentos(self) -> dict[str, Any]:
        return {
            "entidad": self.entidad or None,
            "pais": self.pais or None,
            "modalidad": self.modalidad or None,
            "con_alertas": self.con_alertas,
        }


def _cursor(valor: str) -> tuple[dt.datetime, int] | None:
    """The API's cursor (``despues``); one that does not read is the start of the queue."""
    try:
        instante, ident = base64.urlsafe_b64decode(valor.encode()).decode().rsplit("|", 1)
        return dt.datetime.fromisoformat(instante), int(ident)
    except (ValueError, UnicodeDecodeError):
        return None


def _cursor_de(s: Solicitud) -> str:
    return base64.urlsafe_b64encode(f"{s.recibida_at.isoformat()}|{s.id}".encode()).decode()


async def _pantalla_cola(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    filtros: Filtros,
    despues: str = "",
    status_code: int = 200,
    **contexto: Any,
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    async with transaccion(request, lectura=True) as session:
        filas = await repository.cola(
            session, POR_PAGINA, _cursor(despues) if despues else None, POR_REVISAR, **filtros.argumentos()
        )
        total = await repository.contar_cola(session, POR_REVISAR, **filtros.argumentos())
        docs = await repository.tipos_documento(session, [f.id for f in filas])
        alertas = await repository.ids_con_alerta(session, [f.id for f in filas])
    siguiente = ""
    if len(filas) == POR_PAGINA:
        siguiente = COLA + "?" + urlencode(filtros.consulta() | {"despues": _cursor_de(filas[-1])})
    contexto.setdefault("hecho", "")
    contexto.setdefault("problema", "")
    contexto.setdefault("detalles", [])
    return PAGINAS.render(
        request,
        "consola_cola.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        cola=COLA,
        lote=LOTE,
        filtros=filtros,
        ocultos=filtros.consulta(),
        filas=[
            {
                "folio": f.folio,
                "url": _expediente_url(f.folio),
                "recibida": fecha(f.recibida_at, proceso, t.idioma),
                "entidad": f"{f.entidad} · {proceso.entidades[f.entidad].nombre}"
                if f.entidad in proceso.entidades
                else f.entidad,
                "pais": _pais(t.idioma, f.pais),
                "modalidad": t(f"modalidad.{f.modalidad}")
                if t.hay(f"modalidad.{f.modalidad}")
                else f.modalidad,
                "documentos": len(docs.get(f.id, [])),
                "alerta": f.id in alertas,
            }
            for f in filas
        ],
        total=total,
        pagina_siguiente=siguiente,
        entidades=[(clave, f"{clave} · {e.nombre}") for clave, e in sorted(proceso.entidades.items())],
        paises=_paises(t.idioma),
        modalidades=[(m, t(f"modalidad.{m}") if t.hay(f"modalidad.{m}") else m) for m in proceso.modalidades],
        **contexto,
    )


@router.get(RUTA + "/")
async def inicio() -> Response:
    return RedirectResponse(COLA, status_code=303)


@router.get(COLA)
async def cola(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    sesion = _exigir(request)
    valores = {k: request.query_params.get(k, "").replace(NULO, "").strip() for k in (*FILTROS, "despues")}
    return await _pantalla_cola(request, sesion, proceso, Filtros.de(valores, proceso), valores["despues"])


@router.post(LOTE)
async def lote(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """The rows ticked, «procedente», as ``POST /v1/solicitudes/dictamenes``: all or nothing."""
    sesion = _exigir(request)
    form = await _formulario(request, sesion)
    t = PAGINAS.textos(request)
    filtros = Filtros.de(leer_campos(form, FILTROS), proceso)
    folios = _lista(form, "folio")
    try:
        datos = Dictamenes.model_validate(
            {"dictamenes": [{"folio": f, "resultado": "procedente", "motivos": []} for f in folios]}
        )
    except ValidationError:
        return await _pantalla_cola(
            request, sesion, proceso, filtros, status_code=422, problema=t("consola_cola.elija")
        )
    try:
        async with transaccion(request) as session:
            reporte = await registro_service.dictaminar_lote(
                session, datos.dictamenes, proceso, sesion.principal(), reloj.ahora()
            )
    except Problem as problema:
        return await _pantalla_cola(
            request,
            sesion,
            proceso,
            filtros,
            status_code=problema.status,
            problema=problema.detail,
            detalles=[e.get("mensaje", "") for e in problema.errors or []],
        )
    hecho = t("consola_cola.hecho", aplicados=reporte.aplicados, sin_cambio=reporte.sin_cambio)
    return await _pantalla_cola(request, sesion, proceso, filtros, hecho=hecho)


# --- the expediente --------------------------------------------------------------------------------------


def _puede(estado: str) -> dict[str, bool]:
    e = Estado(estado)
    return {
        "dictamen": e in TRANSICIONES["dictamen"],
        "aclaracion": e in TRANSICIONES["aclaracion"],
        "baja": e in TRANSICIONES["baja"],
    }


def _detalle(t: Textos, detalle: dict[str, Any]) -> str:
    partes = []
    if detalle.get("resultado"):
        partes.append(str(detalle["resultado"]))
    motivos = detalle.get("motivos") or ([detalle["motivo"]] if detalle.get("motivo") else [])
    if motivos:
        partes.append(t("consola_expediente.motivos_de", motivos=", ".join(str(m) for m in motivos)))
    if detalle.get("tipo"):
        partes.append(str(detalle["tipo"]))
    return " · ".join(partes)


async def _siguiente(session: AsyncSession, s: Solicitud) -> str:
    """The next application of the queue after this one (order of arrival); else the first still there."""
    despues = await repository.cola(session, 1, (s.recibida_at, s.id), POR_REVISAR)
    if not despues:
        despues = [f for f in await repository.cola(session, 2, None, POR_REVISAR) if f.id != s.id]
    return _expediente_url(despues[0].folio) if despues else ""


async def _pantalla_expediente(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    folio: str,
    status_code: int = 200,
    *,
    leer: bool = True,
    **contexto: Any,
) -> HTMLResponse:
    """The expediente as it is now (read in its own transaction); its read of personal data goes to the
    audit log (``leer``: not again when the page answers a decision, whose request is already recorded)."""
    t = PAGINAS.textos(request)
    try:
        async with transaccion(request, lectura=not leer) as session:
            s = await registro_service.obtener(session, folio)
            if leer:
                await registrar_lectura(session, request, recurso="expediente")
            documentos = await repository.documentos_de(session, s.id)
            alertas = await registro_service.alertas(session, s)
            historial = await repository.historial(session, folio)
            siguiente = await _siguiente(session, s)
    except Problem as problema:
        return PAGINAS.render(
            request,
            "consola_aviso.html",
            problema.status,
            sesion=sesion,
            consola_ruta=RUTA,
            cola=COLA,
            texto=problema.detail,
        )
    datos = [
        ("clave_elector", s.clave_elector),
        ("nombre", s.nombre),
        ("apellido_paterno", s.apellido_paterno),
        ("apellido_materno", s.apellido_materno or "—"),
        ("fecha_nacimiento", s.fecha_nacimiento.isoformat()),
        ("sexo", t("campo.sexo_m") if s.sexo == "M" else t("campo.sexo_h")),
        (
            "entidad",
            f"{s.entidad} · {proceso.entidades[s.entidad].nombre}"
            if s.entidad in proceso.entidades
            else s.entidad,
        ),
        ("pais", f"{s.pais} · {_pais(t.idioma, s.pais)}"),
        ("calle_numero", s.calle_numero or "—"),
        ("ciudad", s.ciudad or "—"),
        ("region", s.region or "—"),
        ("codigo_postal", s.codigo_postal or "—"),
        ("email", s.email or "—"),
        ("telefono", s.telefono or "—"),
        ("modalidad", t(f"modalidad.{s.modalidad}") if t.hay(f"modalidad.{s.modalidad}") else s.modalidad),
        *([("sede", proceso.sedes[s.sede].nombre if s.sede in proceso.sedes else s.sede)] if s.sede else []),
    ]
    puede = _puede(s.estado)
    # A refusal for a form the page no longer shows (the state changed meanwhile): above the forms.
    errores = dict(contexto.pop("errores", {}))
    formulario = {
        "procedente": "dictamen",
        "improcedente": "dictamen",
        "aclaracion": "aclaracion",
        "baja": "baja",
    }
    for clave in list(errores):
        if not puede[formulario[clave.split(".")[0]]]:
            errores["general"] = errores.pop(clave)
    contexto["errores"] = errores
    contexto.setdefault("hecho", "")
    contexto.setdefault("marcados", {})
    return PAGINAS.render(
        request,
        "consola_expediente.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        cola=COLA,
        accion=_expediente_url(s.folio),
        s=s,
        estado=t(f"estado.{s.estado}") if t.hay(f"estado.{s.estado}") else s.estado,
        recibida=fecha(s.recibida_at, proceso, t.idioma),
        plazo=fecha(s.plazo_aclaracion, proceso, t.idioma) if s.plazo_aclaracion else "",
        datos=datos,
        documentos=[
            {
                "tipo": tipo,
                "url": f"{_expediente_url(s.folio)}/documentos/{tipo}",
                "imagen": content_type.startswith("image/"),
                "kb": max(1, tamano // 1024),
            }
            for tipo, content_type, tamano in documentos
        ],
        alertas=alertas,
        historial=[
            {
                "accion": t(f"consola_expediente.accion.{h.accion}")
                if t.hay(f"consola_expediente.accion.{h.accion}")
                else h.accion,
                "actor": h.actor,
                "rol": h.rol,
                "cuando": fecha(h.at, proceso, t.idioma, segundos=True),
                "detalle": _detalle(t, h.detalle or {}),
            }
            for h in historial
        ],
        siguiente=siguiente,
        puede=puede,
        motivos=list(MOTIVOS.items()),
        motivos_baja=list(MOTIVOS_BAJA.items()),
        **contexto,
    )


@router.get(SOLICITUDES + "/{folio}")
async def expediente(folio: str, request: Request, proceso: ProcesoDep) -> HTMLResponse:
    sesion = _exigir(request)
    return await _pantalla_expediente(request, sesion, proceso, folio)


@router.get(SOLICITUDES + "/{folio}/documentos/{tipo}")
async def documento(folio: str, tipo: str, request: Request) -> Response:
    """The document's bytes with its stored type, inline (the expediente shows images with <img>, a PDF
    opens in the browser), never sniffed; its read goes to the audit log."""
    _exigir(request)
    no_hay = Response(status_code=404, headers={"Cache-Control": "no-store"})
    if tipo not in TIPOS_DOCUMENTO:
        return no_hay
    async with transaccion(request) as session:
        s = await repository.by_folio(session, folio)
        doc = await repository.documento(session, s.id, tipo) if s is not None else None
        if doc is None:
            return no_hay
        await registrar_lectura(session, request, recurso="documento")
    extension = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(
        doc.content_type, "bin"
    )
    return Response(
        doc.contenido,
        media_type=doc.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{tipo}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


CAMPOS_DE_MOTIVO = ("motivos", "motivo")


def _errores(accion: str, problema: Problem | None = None, exc: ValidationError | None = None) -> Errores:
    """A refusal as errors of one form: by field (``improcedente.motivos``) or for the whole form."""
    if exc is not None:
        campos = {str(e["loc"][0]) if e.get("loc") else "" for e in exc.errors()}
        return {f"{accion}.{c}" if c in CAMPOS_DE_MOTIVO else accion: "" for c in campos}
    assert problema is not None
    errores: Errores = {}
    for e in problema.errors or []:
        campo = str(e.get("campo", "")).split(".")[0]
        errores[f"{accion}.{campo}" if campo in CAMPOS_DE_MOTIVO else accion] = problema.detail
    return errores or {accion: problema.detail}


async def _decidir(
    request: Request,
    sesion: Sesion,
    folio: str,
    proceso: Proceso,
    accion: str,
    datos: dict[str, Any],
    reloj: RelojDep,
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    esquemas: dict[str, type[BaseModel]] = {"aclaracion": SolicitudAclaracion, "baja": Baja}
    esquema = esquemas.get(accion, Dictamen)
    marcados = {accion: datos.get("motivos", []) + ([datos["motivo"]] if datos.get("motivo") else [])}
    try:
        valido = esquema.model_validate(datos)
    except ValidationError as exc:
        errores = _errores(accion, exc=exc)
        errores = {k: v or t(f"consola_expediente.error.{accion}") for k, v in errores.items()}
        return await _pantalla_expediente(
            request, sesion, proceso, folio, 422, leer=False, errores=errores, marcados=marcados
        )
    principal, ahora = sesion.principal(), reloj.ahora()
    try:
        async with transaccion(request) as session:
            if isinstance(valido, Dictamen):
                await registro_service.dictaminar(session, folio, valido, proceso, principal, ahora)
            elif isinstance(valido, SolicitudAclaracion):
                await registro_service.pedir_aclaracion(session, folio, valido, proceso, principal, ahora)
            else:
                assert isinstance(valido, Baja)
                await registro_service.dar_de_baja(session, folio, valido, proceso, principal, ahora)
    except Problem as problema:
        return await _pantalla_expediente(
            request,
            sesion,
            proceso,
            folio,
            problema.status,
            leer=False,
            errores=_errores(accion, problema),
            marcados=marcados,
        )
    return await _pantalla_expediente(
        request, sesion, proceso, folio, leer=False, hecho=t(f"consola_expediente.hecho.{accion}")
    )


@router.post(SOLICITUDES + "/{folio}/dictamen")
async def dictamen(folio: str, request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """As ``POST /v1/solicitudes/{folio}/dictamen``: procedente, or improcedente with its motivos."""
    sesion = _exigir(request)
    form = await _formulario(request, sesion)
    resultado = leer_campos(form, ("resultado",))["resultado"]
    accion = resultado if resultado in ("procedente", "improcedente") else "improcedente"
    datos = {"resultado": resultado, "motivos": _lista(form, "motivos")}
    return await _decidir(request, sesion, folio, proceso, accion, datos, reloj)


@router.post(SOLICITUDES + "/{folio}/aclaracion")
async def aclaracion(folio: str, request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """As ``POST /v1/solicitudes/{folio}/aclaracion``: the motivos the applicant must correct."""
    sesion = _exigir(request)
    form = await _formulario(request, sesion)
    return await _decidir(
        request, sesion, folio, proceso, "aclaracion", {"motivos": _lista(form, "motivos")}, reloj
    )


@router.post(SOLICITUDES + "/{folio}/baja")
async def baja(folio: str, request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """As ``POST /v1/solicitudes/{folio}/baja``: with its motivo."""
    sesion = _exigir(request)
    form = await _formulario(request, sesion)
    motivo = leer_campos(form, ("motivo",))["motivo"]
    return await _decidir(
        request, sesion, folio, proceso, "baja", {"motivo": motivo} if motivo else {}, reloj
    )
