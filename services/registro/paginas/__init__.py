"""registro's pages for people (outside the OpenAPI): registration — the form, the review with the documents,
the confirmation that the folio went to the contact — and «my application» by folio — its state, the
correction in aclaración and the change of modality confirmed with the code, a document.

Rendered on the server over the same use cases as the API (``services/registro/service``): a form and its
errors work without JavaScript. A refusal re-renders the form with each error next to its field and changes
nothing (the transaction is rolled back), except what the API also keeps: a duplicate's re-sent folio and a
wrong code that counts."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import iso3166
from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from services.registro import repository
from services.registro import service as registro_service
from services.registro.api.solicitudes import estado_publico
from services.registro.domain import TRANSICIONES, Estado
from services.registro.models import CambioPendiente, Solicitud
from services.registro.schemas import CambioModalidad, ConfirmacionIn, Correccion, SolicitudIn
from services.registro.service.documentos import TIPOS_DOCUMENTO
from services.registro.service.importacion import COLUMNAS, COLUMNAS_OPCIONALES
from services.registro.service.validacion import errores_solicitud
from shared.limites import cuerpo_maximo
from shared.notificaciones import enmascarar
from shared.paginas import Paginas, Textos, fecha, leer_campos
from shared.problems import Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = Paginas(Path(__file__).resolve().parent)

# The application's fields, as the batch import names them; the address ones nested as in the API's JSON.
DOMICILIO = ("calle_numero", "ciudad", "region", "codigo_postal")
CAMPOS = (*(f"domicilio.{c}" if c in DOMICILIO else c for c in COLUMNAS), *COLUMNAS_OPCIONALES)
CORREGIBLES = (
    "nombre",
    "apellido_paterno",
    "apellido_materno",
    "domicilio.calle_numero",
    "domicilio.ciudad",
    "domicilio.region",
    "domicilio.codigo_postal",
    "email",
    "telefono",
)
DOCUMENTOS = (
    {"nombre": "credencial_frente", "requerido": True},
    {"nombre": "credencial_reverso", "requerido": True},
    {"nombre": "comprobante_domicilio", "requerido": False},
)
MAX = registro_service.MAX_DOCUMENTO
ACCIONES = {
    "revisar": "/inscripcion/revisar",
    "editar": "/inscripcion/editar",
    "enviar": "/inscripcion/enviar",
    "consultar": "/mi-solicitud",
    "corregir": "/mi-solicitud/corregir",
    "modalidad": "/mi-solicitud/modalidad",
    "confirmar": "/mi-solicitud/confirmar",
    "documentos": "/mi-solicitud/documentos",
}
Errores = dict[str, str]


def _render(request: Request, plantilla: str, status_code: int = 200, **contexto: Any) -> HTMLResponse:
    return PAGINAS.render(
        request,
        plantilla,
        status_code,
        acciones=ACCIONES,
        max_mb=MAX // (1024 * 1024),
        max_bytes=MAX,
        **contexto,
    )


def _fechas(proceso: Proceso, idioma: str) -> dict[str, str]:
    c = proceso.calendario
    return {
        "registro_fin": fecha(c.registro_fin, proceso, idioma),
        "spv": fecha(c.recepcion_spv_limite, proceso, idioma),
        "voto_inicio": fecha(c.voto_electronico_inicio, proceso, idioma),
        "voto_fin": fecha(c.voto_electronico_fin, proceso, idioma),
    }


@functools.cache
def _paises(idioma: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name in ``idioma``) of every country but Mexico, by name; computed once per language."""
    nombres = Locale(idioma).territories
    paises = (
        (a2, nombres.get(a2, pais.name)) for a2, pais in iso3166.countries_by_alpha2.items() if a2 != "MX"
    )
    return tuple(sorted(paises, key=lambda par: par[1].casefold()))


NULOS = ("email", "telefono")  # and every domicilio.* field: empty is null


def _anidado(valores: dict[str, str], *, vacios: bool) -> dict[str, Any]:
    """The form's flat fields as the API's JSON (``domicilio.ciudad`` → ``{"domicilio": {"ciudad": …}}``).
    ``vacios`` (a new application): an empty optional field is null (the second surname: empty text) and an
    empty required one is left out, so the error says it is missing. Otherwise (a correction) whatever is
    empty is left out: it does not change."""
    cuerpo: dict[str, Any] = {}
    for campo, valor in valores.items():
        *padres, hoja = campo.split(".")
        if not valor:
            if not vacios:
                continue
            if campo in NULOS or padres:
                valor_json: str | None = None
            elif campo == "apellido_materno":
                valor_json = ""
            else:
                continue
        else:
            valor_json = valor
        destino = cuerpo
        for padre in padres:
            destino = destino.setdefault(padre, {})
        destino[hoja] = valor_json
    return cuerpo


def _mensaje(t: Textos, campo: str, tipo: str, original: str) -> str:
    """The error in the person's words: the catalog's, or (in Spanish) the server's own explanation."""
    if tipo == "missing" or (tipo == "servicio" and not original):
        return t("comun.obligatorio")
    if tipo == "string_too_long":
        return t("comun.demasiado_largo")
    if tipo.startswith("date"):
        return t("comun.fecha")
    if tipo == "servicio" and t.idioma == "es":
        return original
    if t.hay(f"error.{campo}"):
        return t(f"error.{campo}")
    return original if t.idioma == "es" and original else t("comun.formato")


def _de_pydantic(t: Textos, exc: ValidationError) -> Errores:
    errores: Errores = {}
    for err in exc.errors():
        campo = ".".join(str(p) for p in err.get("loc", ())) or "clave_elector"
        errores.setdefault(campo, _mensaje(t, campo, err.get("type", ""), ""))
    return errores


def _de_problema(t: Textos, problema: Problem) -> Errores:
    return {
        e["campo"]: _mensaje(t, e["campo"], "servicio", e.get("mensaje", "")) for e in (problema.errors or [])
    }


def _validar(
    request: Request, valores: dict[str, str], proceso: Proceso
) -> tuple[SolicitudIn | None, Errores]:
    t = PAGINAS.textos(request)
    try:
        datos = SolicitudIn.model_validate(_anidado(valores, vacios=True))
    except ValidationError as exc:
        return None, _de_pydantic(t, exc)
    errores = {
        e["campo"]: _mensaje(t, e["campo"], "servicio", e["mensaje"])
        for e in errores_solicitud(datos, proceso)
    }
    return (None, errores) if errores else (datos, {})


PISTAS = tomllib.loads((Path(__file__).resolve().parent / "paises.toml").read_text(encoding="utf-8"))


def _pistas(t: Textos) -> dict[str, dict[str, str]]:
    """Per country: the postal-code example and what its region is called, in the person's language."""
    return {
        pais: {"cp": t("ayuda.codigo_postal_pais", cp=p["cp"]), "region": p["region"][t.idioma]}
        for pais, p in PISTAS.items()
    }


def _formulario(
    request: Request,
    proceso: Proceso,
    valores: dict[str, str],
    errores: Errores,
    problema: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    return _render(
        request,
        "inscripcion.html",
        status_code,
        v={c: valores.get(c, "") for c in CAMPOS},
        errores=errores,
        problema=problema,
        fechas=_fechas(proceso, t.idioma),
        entidades=[(clave, e.nombre) for clave, e in sorted(proceso.entidades.items())],
        paises=_paises(t.idioma),
        pistas=_pistas(t),
        modalidades=list(proceso.modalidades),
        sedes=_sedes(proceso),
    )


def _sedes(proceso: Proceso) -> list[tuple[str, str]]:
    """The consular sites of in-person voting, by country and city, as a person looks for theirs."""
    return [
        (clave, f"{s.ciudad} — {s.nombre}")
        for clave, s in sorted(proceso.sedes.items(), key=lambda x: (x[1].pais, x[1].ciudad))
    ]


def _revision(
    request: Request, proceso: Proceso, valores: dict[str, str], errores: Errores, status_code: int = 200
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    nombres = dict(_paises(t.idioma))
    legibles = {
        "sexo": t("campo.sexo_m") if valores.get("sexo") == "M" else t("campo.sexo_h"),
        "entidad": proceso.entidades[valores["entidad"]].nombre
        if valores.get("entidad") in proceso.entidades
        else "",
        "pais": nombres.get(valores.get("pais", ""), ""),
        "modalidad": t(f"modalidad.{valores['modalidad']}")
        if valores.get("modalidad") in proceso.modalidades
        else "",
        "sede": dict(_sedes(proceso)).get(valores.get("sede", ""), ""),
    }
    resumen = [(c, legibles.get(c, valores.get(c, ""))) for c in CAMPOS if c != "sede" or valores.get(c)]
    return _render(
        request,
        "revisar.html",
        status_code,
        resumen=resumen,
        ocultos={c: valores.get(c, "") for c in CAMPOS},
        documentos=DOCUMENTOS,
        errores=errores,
    )


@router.get("/inscripcion")
async def inscripcion(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    return _formulario(request, proceso, {}, {})


@router.post("/inscripcion/editar")
async def editar(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    return _formulario(request, proceso, leer_campos(await request.form(), CAMPOS), {})


@router.post("/inscripcion/revisar")
async def revisar(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    valores = leer_campos(await request.form(), CAMPOS)
    datos, errores = _validar(request, valores, proceso)
    if datos is None:
        return _formulario(request, proceso, valores, errores, status_code=422)
    return _revision(request, proceso, valores, {})


async def _archivos(request: Request, form: FormData) -> tuple[dict[str, bytes], Errores]:
    """The documents of the form, each checked (size and content) before anything is written."""
    t = PAGINAS.textos(request)
    archivos: dict[str, bytes] = {}
    errores: Errores = {}
    for doc in DOCUMENTOS:
        nombre = str(doc["nombre"])
        subido = form.get(nombre)
        contenido = await subido.read(MAX + 1) if isinstance(subido, UploadFile) and subido.filename else b""
        if not contenido:
            if doc["requerido"]:
                errores[nombre] = t("documento.falta")
        elif len(contenido) > MAX:
            errores[nombre] = t("documento.muy_grande", mb=MAX // (1024 * 1024))
        elif registro_service.tipo_por_contenido(contenido) is None:
            errores[nombre] = t("documento.formato")
        else:
            archivos[nombre] = contenido
    return archivos, errores


def _contacto(email: str | None, telefono: str | None) -> str:
    return ", ".join(enmascarar(c) for c in (email, telefono) if c)


@router.post("/inscripcion/enviar")
@cuerpo_maximo(len(DOCUMENTOS) * MAX + 256 * 1024)  # the files and the fields around them
async def enviar(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    t = PAGINAS.textos(request)
    form = await request.form(max_files=len(DOCUMENTOS), max_fields=len(CAMPOS) + 5)
    valores = leer_campos(form, CAMPOS)
    datos, errores = _validar(request, valores, proceso)
    if datos is None:
        return _formulario(request, proceso, valores, errores, status_code=422)
    archivos, errores = await _archivos(request, form)
    if errores:
        return _revision(request, proceso, valores, errores, status_code=422)
    ahora = reloj.ahora()
    try:
        async with transaccion(request) as session:  # the application and its documents, or nothing
            solicitud = await registro_service.solicitar(session, datos, proceso, ahora)
            for tipo, contenido in archivos.items():
                await registro_service.guardar_documento(
                    session, solicitud.folio, tipo, contenido, proceso, ahora
                )
    except registro_service.SolicitudDuplicada:
        # As the API: the folio goes to the contact on file (this is committed), never to the page.
        async with transaccion(request) as session:
            existente = await repository.by_clave(session, proceso.clave, datos.clave_elector)
            assert existente is not None
            problema = await registro_service.reenviar_folio(session, existente, proceso, ahora)
        destino = ", ".join(problema.extra.get("contacto", [])) or "—"
        return _render(
            request,
            "enviada.html",
            409,
            titulo="enviada.duplicada_titulo",
            clase="alerta",
            parrafos=[problema.detail if t.idioma == "es" else t("enviada.duplicada", destino=destino)],
        )
    except Problem as problema:
        texto = "" if problema.errors else problema.detail
        return _formulario(request, proceso, valores, _de_problema(t, problema), texto, problema.status)
    return _render(
        request,
        "enviada.html",
        201,
        titulo="enviada.titulo",
        clase="bien",
        parrafos=[
            t("enviada.folio_enviado", destino=_contacto(datos.email, datos.telefono)),
            t("enviada.sin_folio_aqui"),
        ],
    )


# «Mi solicitud»


def _estado(
    request: Request,
    solicitud: Solicitud,
    proceso: Proceso,
    *,
    aviso: str = "",
    errores: Errores | None = None,
    valores: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    e = estado_publico(solicitud, proceso)
    estado = Estado(solicitud.estado)
    entidad = proceso.entidades.get(solicitud.entidad)
    return _render(
        request,
        "estado.html",
        status_code,
        e=e,
        aviso=aviso,
        errores=errores or {},
        v={c: (valores or {}).get(c, "") for c in CORREGIBLES},
        entidad_nombre=entidad.nombre if entidad else solicitud.entidad,
        recibida=fecha(solicitud.recibida_at, proceso, t.idioma),
        plazo=fecha(e.plazo_aclaracion, proceso, t.idioma) if e.plazo_aclaracion else "",
        puede_corregir=estado in TRANSICIONES["correccion"],
        puede_cambiar_modalidad=estado in {Estado.RECIBIDA, Estado.PROCEDENTE, Estado.EN_ACLARACION}
        and len(proceso.modalidades) > 1,
        modalidades=[
            (m, t(f"modalidad.{m}"))
            for m in proceso.modalidades
            if m != solicitud.modalidad or m == "presencial"  # in person: another site
        ],
        sedes=_sedes(proceso),
        sede_nombre=dict(_sedes(proceso)).get(solicitud.sede or "", ""),
        recibe_documentos=estado in {Estado.RECIBIDA, Estado.EN_ACLARACION, Estado.IMPROCEDENTE},
        tipos_documento=[(d, t(f"documento.{d}")) for d in TIPOS_DOCUMENTO],
    )


def _consulta(request: Request, folio: str, errores: Errores, status_code: int) -> HTMLResponse:
    return _render(request, "mi_solicitud.html", status_code, folio=folio, errores=errores)


async def _solicitud(request: Request, session: AsyncSession, folio: str) -> Solicitud | HTMLResponse:
    """The application of ``folio``, or the page that says there is none (the same for any unknown folio)."""
    t = PAGINAS.textos(request)
    if not folio:
        return _consulta(request, folio, {"folio": t("comun.obligatorio")}, 422)
    try:
        return await registro_service.obtener(session, folio[:32])
    except Problem:
        return _consulta(request, folio[:32], {"folio": t("mi.no_encontrado")}, 404)


async def _releer(request: Request, folio: str) -> Solicitud | HTMLResponse:
    async with transaccion(request, lectura=True) as session:
        return await _solicitud(request, session, folio)


@router.get("/mi-solicitud")
async def mi_solicitud(request: Request) -> HTMLResponse:
    return _consulta(request, "", {}, 200)


@router.post("/mi-solicitud")
async def consultar(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    solicitud = await _releer(request, leer_campos(await request.form(), ("folio",)).get("folio", ""))
    if isinstance(solicitud, HTMLResponse):
        return solicitud
    return _estado(request, solicitud, proceso)


Pedir = Callable[[AsyncSession], Awaitable[tuple[CambioPendiente, list[str]]]]


async def _pedido(
    request: Request, proceso: Proceso, folio: str, valores: dict[str, str], pedir: Pedir
) -> HTMLResponse:
    """A change asked for from the page: the code goes to the contact on file, the page asks for it. A
    refusal changes nothing and shows the application with the error."""
    t = PAGINAS.textos(request)
    solicitud = await _releer(request, folio)
    if isinstance(solicitud, HTMLResponse):
        return solicitud
    try:
        async with transaccion(request) as session:
            cambio, enviado_a = await pedir(session)
    except ValidationError as exc:
        return _estado(
            request, solicitud, proceso, errores=_de_pydantic(t, exc), valores=valores, status_code=422
        )
    except Problem as problema:
        errores = _de_problema(t, problema) or {"folio": problema.detail}
        return _estado(
            request, solicitud, proceso, errores=errores, valores=valores, status_code=problema.status
        )
    vence = fecha(cambio.expira_at, proceso, t.idioma)
    return _codigo(request, folio, cambio.confirmacion, ", ".join(enviado_a), vence, {})


def _codigo(
    request: Request,
    folio: str,
    confirmacion: str,
    enviado_a: str,
    vence: str,
    errores: Errores,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "codigo.html",
        status_code,
        folio=folio,
        confirmacion=confirmacion,
        enviado_a=enviado_a,
        vence=vence,
        errores=errores,
    )


@router.post("/mi-solicitud/corregir")
async def corregir(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    form = await request.form()
    folio = leer_campos(form, ("folio",)).get("folio", "")
    valores = leer_campos(form, CORREGIBLES)
    cuerpo = _anidado(valores, vacios=False)

    async def pedir(session: AsyncSession) -> tuple[CambioPendiente, list[str]]:
        if not cuerpo:
            nada = PAGINAS.textos(request)("mi.nada_que_cambiar")
            raise Problem(422, nada, errors=[{"campo": "nombre", "mensaje": nada}])
        datos = Correccion.model_validate(cuerpo)
        return await registro_service.pedir_correccion(session, folio, datos, proceso, reloj.ahora())

    return await _pedido(request, proceso, folio, valores, pedir)


@router.post("/mi-solicitud/modalidad")
async def modalidad(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    valores = leer_campos(await request.form(), ("folio", "modalidad", "sede"))
    folio = valores.pop("folio", "")

    async def pedir(session: AsyncSession) -> tuple[CambioPendiente, list[str]]:
        datos = CambioModalidad.model_validate(
            {"modalidad": valores.get("modalidad") or None, "sede": valores.get("sede") or None}
        )
        return await registro_service.pedir_cambio_modalidad(session, folio, datos, proceso, reloj.ahora())

    return await _pedido(request, proceso, folio, valores, pedir)


@router.post("/mi-solicitud/confirmar")
async def confirmar(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    t = PAGINAS.textos(request)
    v = leer_campos(await request.form(), ("folio", "confirmacion", "codigo", "enviado_a", "vence"))
    folio = v.get("folio", "")

    def de_nuevo(errores: Errores, status_code: int) -> HTMLResponse:
        confirmacion, enviado_a, vence = v.get("confirmacion", ""), v.get("enviado_a", ""), v.get("vence", "")
        return _codigo(request, folio, confirmacion, enviado_a, vence, errores, status_code)

    try:
        datos = ConfirmacionIn.model_validate(
            {"confirmacion": v.get("confirmacion"), "codigo": v.get("codigo")}
        )
    except ValidationError:
        return de_nuevo({"codigo": t("error.codigo")}, 422)
    rechazo: Problem | None = None
    try:
        async with transaccion(request) as session:
            try:
                solicitud = await registro_service.confirmar_cambio(
                    session, folio, datos, proceso, reloj.ahora()
                )
            except registro_service.RechazoConEfecto as con_efecto:  # the wrong try is committed: it counts
                rechazo = con_efecto.problem
    except Problem as problema:
        rechazo = problema
    if rechazo is None:
        return _estado(request, solicitud, proceso, aviso=t("mi.aplicado"))
    mensaje = rechazo.detail if t.idioma == "es" else t("error.codigo")
    if rechazo.status == 422:
        return de_nuevo({"codigo": mensaje}, 422)
    encontrada = await _releer(request, folio)
    if isinstance(encontrada, HTMLResponse):
        return encontrada
    return _estado(request, encontrada, proceso, errores={"codigo": mensaje}, status_code=rechazo.status)


@router.post("/mi-solicitud/documentos")
@cuerpo_maximo(MAX + 64 * 1024)  # the file and the multipart around it
async def documento(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    t = PAGINAS.textos(request)
    form = await request.form(max_files=1, max_fields=5)
    v = leer_campos(form, ("folio", "tipo"))
    solicitud = await _releer(request, v.get("folio", ""))
    if isinstance(solicitud, HTMLResponse):
        return solicitud
    subido = form.get("archivo")
    contenido = await subido.read(MAX + 1) if isinstance(subido, UploadFile) else b""
    if not contenido:
        return _estado(
            request, solicitud, proceso, errores={"archivo": t("documento.falta")}, status_code=422
        )
    try:
        async with transaccion(request) as session:
            resultado = await registro_service.pedir_documento(
                session, solicitud.folio, v.get("tipo", ""), contenido, proceso, reloj.ahora()
            )
    except Problem as problema:
        por_estado = {413: t("documento.muy_grande", mb=MAX // (1024 * 1024)), 415: t("documento.formato")}
        errores = {
            e["campo"]: por_estado.get(problema.status)
            or (t("error.tipo_documento") if e["campo"] == "tipo" else e["mensaje"])
            for e in (problema.errors or [{"campo": "archivo", "mensaje": problema.detail}])
        }
        return _estado(request, solicitud, proceso, errores=errores, status_code=problema.status)
    if isinstance(resultado, tuple):  # after the review, or a replacement: it waits for the code
        cambio, enviado_a = resultado
        vence = fecha(cambio.expira_at, proceso, t.idioma)
        return _codigo(request, solicitud.folio, cambio.confirmacion, ", ".join(enviado_a), vence, {})
    return _estado(request, solicitud, proceso, aviso=t("mi.documento_recibido"))
