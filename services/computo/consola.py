"""computo's console screens: the actas of the Mesas de Escrutinio y Cómputo (MEC), behind the staff sign-in
(shared/consola.py).

- ``/consola/computo/mesas``: every mesa (an OPL: its entidad's), installed or not, and the state of each acta
  (captured once, twice and equal, twice and different, corrected).
- ``/consola/computo/mesas/{entidad}/{mesa}``: the mesa. Operators install it (officials and party
  representatives) and capture its actas with the options of the entidad's ballot in ballot order; the same
  use cases as the API (``service.instalar``, ``service.capturar``: double capture by two people). The
  screen never shows a capture's figures: the second person types without seeing the first's, and only when
  both disagree does it show, field by field, what each typed. An ``ine-admin`` corrects an acta with a
  reason (``service.corregir``; the history keeps who, when and why).
- ``/consola/computo/computos/{entidad}``: the acta de cómputo: its signature checked with computo's key
  (``shared.firma.verificar``), the printable PDF (the same bytes as ``GET /v1/computos/{e}/acta.pdf``) and,
  for an ``ine-admin``, the close of the cómputo (``acta.cerrar``).

Each screen admits the roles of the API routes it stands for (shared/autorizacion.py); every form carries the
session's CSRF token; a refusal of the service is shown next to the field it is about, and changes nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from services.computo import acta as acta_computo
from services.computo import repository, service
from services.computo.config import Settings
from services.computo.models import Mesa
from services.computo.paginas import PAGINAS
from services.computo.schemas import ActaIn, CorreccionIn, InstalacionIn
from shared import firma
from shared.auth import INE_ROLES, Rol
from shared.claves import EntidadPath
from shared.consola import Prohibido, Sesion, consola_de
from shared.paginas import CABECERAS, PorCampo, Textos, fecha, leer_campos
from shared.problems import Problem
from shared.proceso import NO_REGISTRADOS, NULOS, Entidad, Proceso, opciones
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
RUTA = "/consola/computo"
MESAS = RUTA + "/mesas"
COMPUTOS = RUTA + "/computos"
# The roles of the API routes each screen uses (shared/autorizacion.py, COMPUTO).
LECTORES = (*INE_ROLES, Rol.OPL, Rol.PARTIDO)  # GET /v1/mesas, GET …/actas/{cargo}, GET /v1/computos/{e}
OPERADORES = (Rol.INE_OPERADOR, Rol.INE_ADMIN)  # POST …/instalacion, POST …/actas
ADMIN = (Rol.INE_ADMIN,)  # PUT …/actas/{cargo}, POST /v1/computos/{e}/cierre
CIFRAS = ("total", "sobres_recibidos", "sobres_vacios", "sobres_con_varias_boletas")
OPCIONALES = ("sobres_vacios", "sobres_con_varias_boletas")  # empty: 0, as the API's default
DIGITOS_MAX = 9  # below the database's integer limit
NOMBRE_MAX = 200
MesaPath = Annotated[int, Path(ge=0, le=10_000)]
CargoQuery = Annotated[str | None, Query(max_length=64)]
Errores = dict[str, str]


def _exigir(request: Request, roles: tuple[Rol, ...], entidad: str | None = None) -> Sesion:
    """The session, if its role is one of ``roles`` (and, for an OPL, ``entidad`` is its own); the audit log
    of a form's transaction records who signed in."""
    sesion = consola_de(request).exigir(request, *roles)
    if entidad is not None and not sesion.principal().puede_ver_entidad(entidad):
        raise Prohibido(sesion, f"Su cuenta solo consulta la entidad {sesion.entidad}.")
    return sesion


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _aviso(request: Request, sesion: Sesion, status_code: int, texto: str) -> HTMLResponse:
    return PAGINAS.render(
        request, "consola_aviso.html", status_code, sesion=sesion, consola_ruta=RUTA, texto=texto, mesas=MESAS
    )


def _etiqueta(clave: str, t: Textos) -> str:
    if clave in (NO_REGISTRADOS, NULOS):
        return t(f"consola_mesa.opcion.{clave}")
    return clave


# --- The mesas --------------------------------------------------------------------------------------------


@router.get(RUTA + "/")
async def inicio() -> Response:
    return RedirectResponse(MESAS, status_code=303)


@router.get(MESAS)
async def mesas(request: Request, proceso: ProcesoDep) -> HTMLResponse:
    sesion = _exigir(request, LECTORES)
    t = PAGINAS.textos(request)
    solo = sesion.entidad if sesion.rol == Rol.OPL else None  # as GET /v1/mesas for an OPL
    entidades: dict[str, dict[str, Any]] = {}
    async with transaccion(request, lectura=True) as session:
        for m in await repository.mesas(session, solo):
            ent = proceso.entidades.get(m.entidad)
            if m.entidad not in entidades:
                estados: dict[tuple[int, str], str] = {}
                for c in ent.cargos if ent else []:
                    for numero, a in (await repository.actas(session, m.entidad, c.clave)).items():
                        estados[(numero, c.clave)] = a.estado
                entidades[m.entidad] = {
                    "clave": m.entidad,
                    "nombre": ent.nombre if ent else m.entidad,
                    "computo": f"{COMPUTOS}/{m.entidad}",
                    "mesas": [],
                    "estados": estados,
                    "cargos": [(c.clave, c.nombre) for c in ent.cargos] if ent else [],
                }
            e = entidades[m.entidad]
            e["mesas"].append(
                {
                    "numero": m.numero,
                    "tipo": m.tipo,
                    "sobres": m.sobres,
                    "enlace": f"{MESAS}/{m.entidad}/{m.numero}",
                    "instalada": fecha(m.instalada_at, proceso, t.idioma) if m.instalada_at else "",
                    "actas": [
                        {
                            "cargo": nombre,
                            "estado": "electronica"
                            if m.tipo != "postal"
                            else e["estados"].get((m.numero, clave), "sin_captura"),
                        }
                        for clave, nombre in e["cargos"]
                    ],
                }
            )
    return PAGINAS.render(
        request, "consola_mesas.html", sesion=sesion, consola_ruta=RUTA, entidades=list(entidades.values())
    )


def _diferencias(a: dict[str, Any], b: dict[str, Any], ent: Entidad, t: Textos) -> list[dict[str, Any]]:
    """Field by field, in ballot order, what each capture typed where they differ (as service._diferencias
    compares them)."""
    filas = []
    claves = [*opciones(ent), *sorted((set(a["votos"]) | set(b["votos"])) - set(opciones(ent)))]
    for clave in claves:
        if a["votos"].get(clave) != b["votos"].get(clave):
            filas.append(
                {
                    "campo": t("consola_mesa.voto_de", opcion=_etiqueta(clave, t)),
                    "primera": a["votos"].get(clave, "—"),
                    "segunda": b["votos"].get(clave, "—"),
                }
            )
    for clave in CIFRAS:
        if a.get(clave) != b.get(clave):
            filas.append(
                {"campo": t(f"consola_mesa.cifra.{clave}"), "primera": a.get(clave), "segunda": b.get(clave)}
            )
    return filas


def _valores_de(datos: dict[str, Any]) -> dict[str, str]:
    """An acta's figures as the form's fields."""
    valores = {f"voto_{k}": str(n) for k, n in datos.get("votos", {}).items()}
    valores |= {k: str(datos.get(k, "")) for k in CIFRAS}
    valores["incidentes"] = "\n".join(datos.get("incidentes", []))
    return valores


async def _pantalla_mesa(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    entidad: str,
    numero: int,
    status_code: int = 200,
    *,
    activo: str = "",
    v: dict[str, str] | None = None,
    errores: Errores | None = None,
    problema: str = "",
    aviso: str = "",
) -> HTMLResponse:
    """The mesa, its installation and each acta. ``activo`` names the form that was just sent (``instalacion``
    or ``acta:<cargo>``): it shows what was typed (``v``) with its errors; the others start empty, or with
    the acta's official figures for a correction."""
    t = PAGINAS.textos(request)
    ent = proceso.entidades.get(entidad)
    if ent is None:
        return _aviso(request, sesion, 404, t("consola_mesa.no_entidad", entidad=entidad))
    v, errores = v or {}, errores or {}
    puede_operar = sesion.rol in OPERADORES
    async with transaccion(request, lectura=True) as session:
        mesa = await repository.mesa(session, entidad, numero)
        if mesa is None:
            return _aviso(request, sesion, 404, t("consola_mesa.no_mesa", numero=numero, entidad=entidad))
        cargos = [await _cargo(session, mesa, c.clave, c.nombre, ent, t, sesion) for c in ent.cargos]
    for c in cargos:
        mio = activo == f"acta:{c['clave']}"
        c["valores"] = PorCampo(
            v if mio else (_valores_de(c["datos"]) if c["corregir"] and c["datos"] else {})
        )
        c["errores"] = PorCampo(errores if mio else {})
        c["problema"] = problema if mio else ""
    instalacion = activo == "instalacion"
    return PAGINAS.render(
        request,
        "consola_mesa.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        mesas=MESAS,
        computo=f"{COMPUTOS}/{entidad}",
        entidad=entidad,
        entidad_nombre=ent.nombre,
        mesa=mesa,
        instalada=fecha(mesa.instalada_at, proceso, t.idioma) if mesa.instalada_at else "",
        partidos=ent.partidos,
        opciones=[{"clave": o, "etiqueta": _etiqueta(o, t)} for o in opciones(ent)],
        cifras=CIFRAS,
        opcionales=OPCIONALES,
        cargos=cargos,
        puede_operar=puede_operar,
        accion=f"{MESAS}/{entidad}/{numero}",
        inst=PorCampo(v if instalacion else _instalacion_de(mesa)),
        inst_errores=PorCampo(errores if instalacion else {}),
        inst_problema=problema if instalacion else "",
        aviso=aviso,
    )


def _instalacion_de(mesa: Mesa) -> dict[str, str]:
    f = mesa.funcionarios or {}
    valores = {"presidente": f.get("presidente", ""), "secretario": f.get("secretario", "")}
    for i, nombre in enumerate(f.get("escrutadores", [])[:2], 1):
        valores[f"escrutador_{i}"] = nombre
    for i, nombre in enumerate(f.get("suplentes", [])[:2], 1):
        valores[f"suplente_{i}"] = nombre
    for partido, nombres in (mesa.representantes or {}).items():
        for i, nombre in enumerate(nombres[:2], 1):
            valores[f"rep_{partido}_{i}"] = nombre
    return valores


async def _cargo(
    session: AsyncSession, mesa: Mesa, clave: str, nombre: str, ent: Entidad, t: Textos, sesion: Sesion
) -> dict[str, Any]:
    a = await repository.acta(session, mesa.entidad, mesa.numero, clave)
    estado = "electronica" if mesa.tipo != "postal" else (a.estado if a else "sin_captura")
    diferencias: list[dict[str, Any]] = []
    historial: list[dict[str, Any]] = []
    if a is not None:
        if a.estado == "revision":
            capturas = await repository.datos_capturas(session, mesa.entidad, mesa.numero, clave)
            if len(capturas) >= 2:
                diferencias = _diferencias(capturas[0], capturas[1], ent, t)
        _, historial = await service.historial(session, a)
    # Official figures only once two captures agree or an ine-admin corrected them: never one capture's.
    datos = a.datos if a is not None and a.estado in acta_computo.CERRADAS else None
    return {
        "clave": clave,
        "nombre": nombre,
        "estado": estado,
        "diferencias": diferencias,
        "historial": historial,
        "datos": datos,
        "votos": [(_etiqueta(o, t), (datos or {}).get("votos", {}).get(o, 0)) for o in opciones(ent)],
        "advertencias": (datos or {}).get("advertencias", []),
        "capturar": mesa.tipo == "postal"
        and sesion.rol in OPERADORES
        and estado in ("sin_captura", "capturada"),
        "corregir": mesa.tipo == "postal"
        and sesion.rol in ADMIN
        and a is not None
        and a.estado != "capturada",
    }


@router.get(MESAS + "/{entidad}/{mesa}")
async def ver_mesa(
    request: Request, entidad: EntidadPath, mesa: MesaPath, proceso: ProcesoDep
) -> HTMLResponse:
    sesion = _exigir(request, LECTORES, entidad)
    return await _pantalla_mesa(request, sesion, proceso, entidad, mesa)


# --- Installation -----------------------------------------------------------------------------------------


def _leer_instalacion(form: FormData, ent: Entidad, t: Textos) -> tuple[dict[str, str], Errores, Any]:
    nombres = ["presidente", "secretario", "escrutador_1", "escrutador_2", "suplente_1", "suplente_2"]
    nombres += [f"rep_{p}_{i}" for p in ent.partidos for i in (1, 2)]
    v = leer_campos(form, nombres)
    errores = {n: t("comun.demasiado_largo") for n in nombres if len(v[n]) > NOMBRE_MAX}
    # The API takes the two tellers as a list of texts: an empty box is nobody's name.
    errores |= {n: t("comun.obligatorio") for n in nombres[:4] if not v[n]}
    datos = {
        "funcionarios": {
            "presidente": v["presidente"],
            "secretario": v["secretario"],
            "escrutadores": [v["escrutador_1"], v["escrutador_2"]],
            "suplentes": [s for s in (v["suplente_1"], v["suplente_2"]) if s],
        },
        "representantes": {
            p: nombres_p
            for p in ent.partidos
            if (nombres_p := [n for n in (v[f"rep_{p}_1"], v[f"rep_{p}_2"]) if n])
        },
    }
    try:
        instalacion = InstalacionIn.model_validate(datos)
    except ValidationError as exc:
        for e in exc.errors():
            loc = [str(x) for x in e["loc"]]
            if loc[:2] == ["funcionarios", "escrutadores"] and len(loc) > 2:
                campo = f"escrutador_{int(loc[2]) + 1}"
            elif loc[:2] == ["funcionarios", "suplentes"] and len(loc) > 2:
                campo = f"suplente_{int(loc[2]) + 1}"
            else:
                campo = loc[-1] if loc[0] == "funcionarios" else ""
            if campo in v:
                errores.setdefault(
                    campo, t("comun.obligatorio") if not v[campo] else t("consola_mesa.nombre_corto")
                )
        return v, errores or {"presidente": t("comun.formato")}, None
    return v, errores, None if errores else instalacion


async def _formulario(
    request: Request, sesion: Sesion, proceso: Proceso, entidad: str
) -> tuple[FormData, Textos, Entidad] | HTMLResponse:
    """A mesa's form as posted, once its CSRF token is the session's; or the 404 page of an unknown one."""
    form = await request.form()
    consola_de(request).revisar_csrf(sesion, form.get("csrf"))
    t = PAGINAS.textos(request)
    ent = proceso.entidades.get(entidad)
    if ent is None:
        return _aviso(request, sesion, 404, t("consola_mesa.no_entidad", entidad=entidad))
    return form, t, ent


async def _por_revisar(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    entidad: str,
    mesa: int,
    errores: Errores,
    pantalla: dict[str, Any],
) -> HTMLResponse:
    """The mesa again with what was typed and each error next to its field (422): nothing was stored."""
    t = PAGINAS.textos(request)
    return await _pantalla_mesa(
        request,
        sesion,
        proceso,
        entidad,
        mesa,
        422,
        errores=errores,
        problema=t("consola_mesa.revise"),
        **pantalla,
    )


@router.post(MESAS + "/{entidad}/{mesa}/instalacion")
async def instalar(
    request: Request, entidad: EntidadPath, mesa: MesaPath, proceso: ProcesoDep, reloj: RelojDep
) -> HTMLResponse:
    sesion = _exigir(request, OPERADORES, entidad)
    recibido = await _formulario(request, sesion, proceso, entidad)
    if isinstance(recibido, HTMLResponse):
        return recibido
    form, t, ent = recibido
    v, errores, datos = _leer_instalacion(form, ent, t)
    pantalla: dict[str, Any] = {"activo": "instalacion", "v": v}
    if datos is None:
        return await _por_revisar(request, sesion, proceso, entidad, mesa, errores, pantalla)
    try:
        async with transaccion(request) as session:
            m = await service.mesa_o_404(session, entidad, mesa)
            await service.instalar(m, datos, proceso, reloj.ahora())
    except Problem as p:
        return await _pantalla_mesa(
            request, sesion, proceso, entidad, mesa, p.status, problema=p.detail, **pantalla
        )
    return await _pantalla_mesa(request, sesion, proceso, entidad, mesa, aviso=t("consola_mesa.instalada_ok"))


# --- Actas: capture and correction ----------------------------------------------------------------------


def _leer_acta(
    form: FormData, ent: Entidad, t: Textos, modelo: type[ActaIn]
) -> tuple[dict[str, str], Errores, ActaIn | None]:
    """The acta's fields as typed, the errors next to each, and the acta (None while there are errors)."""
    numericos = [f"voto_{o}" for o in opciones(ent)] + list(CIFRAS)
    v = leer_campos(form, [*numericos, "cargo", "incidentes", "motivo"])
    errores: Errores = {}
    numeros: dict[str, int] = {}
    for nombre in numericos:
        valor = v[nombre]
        if not valor and nombre in OPCIONALES:
            numeros[nombre] = 0
        elif not valor:
            errores[nombre] = t("comun.obligatorio")
        elif not (valor.isascii() and valor.isdigit()) or len(valor) > DIGITOS_MAX:
            errores[nombre] = t("consola_mesa.entero")
        else:
            numeros[nombre] = int(valor)
    incidentes = [linea.strip() for linea in v["incidentes"].splitlines() if linea.strip()]
    datos: dict[str, Any] = {
        "cargo": v["cargo"],
        "votos": {o: numeros.get(f"voto_{o}", 0) for o in opciones(ent)},
        **{k: numeros.get(k, 0) for k in CIFRAS},
        "incidentes": incidentes,
    }
    if modelo is CorreccionIn:
        datos["motivo"] = v["motivo"]
    try:
        acta = modelo.model_validate(datos)
    except ValidationError as exc:
        for e in exc.errors():
            campo = str(e["loc"][0])
            if campo == "motivo":
                errores.setdefault("motivo", t("consola_mesa.motivo_corto"))
            elif campo == "incidentes":
                errores.setdefault("incidentes", t("consola_mesa.incidentes_muchos"))
            elif campo == "votos" and len(e["loc"]) > 1:
                errores.setdefault(f"voto_{e['loc'][1]}", t("consola_mesa.entero"))
            else:
                errores.setdefault(campo if campo in v else "votos", t("comun.formato"))
        return v, errores, None
    return v, errores, None if errores else acta


def _errores_del_servicio(p: Problem) -> Errores:
    """The service's refusal by field (``errors`` of its problem): next to the field it is about."""
    campos = {"total": "total", "votos.nulos": "voto_nulos", "votos": "votos"}
    errores: Errores = {}
    for e in p.errors or []:
        campo = campos.get(e.get("campo", ""))
        if campo:
            errores[campo] = (errores[campo] + " " if campo in errores else "") + e.get("mensaje", "")
    return errores


async def _acta_enviada(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    reloj: RelojDep,
    entidad: str,
    mesa: int,
    modelo: type[ActaIn],
    cargo_ruta: str | None = None,
) -> HTMLResponse:
    recibido = await _formulario(request, sesion, proceso, entidad)
    if isinstance(recibido, HTMLResponse):
        return recibido
    form, t, ent = recibido
    v, errores, acta = _leer_acta(form, ent, t, modelo)
    cargo = cargo_ruta or v["cargo"]
    if cargo not in [c.clave for c in ent.cargos] or v["cargo"] != cargo:
        return _aviso(request, sesion, 404, t("consola_mesa.no_cargo", cargo=cargo[:64]))
    pantalla: dict[str, Any] = {"activo": f"acta:{cargo}", "v": v}
    if acta is None:
        return await _por_revisar(request, sesion, proceso, entidad, mesa, errores, pantalla)
    try:
        async with transaccion(request) as session:
            m = await service.mesa_o_404(session, entidad, mesa)
            if isinstance(acta, CorreccionIn):
                guardada = await service.corregir(session, m, acta, sesion.sub, proceso, reloj.ahora())
            elif m.tipo != "postal":
                raise Problem(409, t("consola_mesa.electronica"))
            else:
                guardada, _ = await service.capturar(session, m, acta, sesion.sub, proceso, reloj.ahora())
            estado = guardada.estado
    except Problem as p:
        return await _pantalla_mesa(
            request,
            sesion,
            proceso,
            entidad,
            mesa,
            p.status,
            errores=_errores_del_servicio(p),
            problema=p.detail,
            **pantalla,
        )
    return await _pantalla_mesa(
        request, sesion, proceso, entidad, mesa, aviso=t(f"consola_mesa.guardada.{estado}")
    )


@router.post(MESAS + "/{entidad}/{mesa}/actas")
async def capturar(
    request: Request, entidad: EntidadPath, mesa: MesaPath, proceso: ProcesoDep, reloj: RelojDep
) -> HTMLResponse:
    sesion = _exigir(request, OPERADORES, entidad)
    return await _acta_enviada(request, sesion, proceso, reloj, entidad, mesa, ActaIn)


@router.post(MESAS + "/{entidad}/{mesa}/actas/{cargo}/correccion")
async def corregir(
    request: Request, entidad: EntidadPath, mesa: MesaPath, cargo: str, proceso: ProcesoDep, reloj: RelojDep
) -> HTMLResponse:
    sesion = _exigir(request, ADMIN, entidad)
    return await _acta_enviada(request, sesion, proceso, reloj, entidad, mesa, CorreccionIn, cargo)


# --- The acta de cómputo ----------------------------------------------------------------------------------


async def _pantalla_computo(
    request: Request,
    sesion: Sesion,
    proceso: Proceso,
    entidad: str,
    status_code: int = 200,
    *,
    problema: dict[str, str] | None = None,
    aviso: str = "",
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    ent = proceso.entidades.get(entidad)
    if ent is None:
        return _aviso(request, sesion, 404, t("consola_mesa.no_entidad", entidad=entidad))
    # The key the reader expects is computo's own (GET /v1/clave-firma), never the one an acta carries.
    clave = firma.clave_verificacion(_settings(request).clave_firma.get_secret_value())
    cargos = []
    async with transaccion(request, lectura=True) as session:
        for c in ent.cargos:
            publicada = await repository.acta_computo(session, entidad, c.clave)
            fila: dict[str, Any] = {
                "clave": c.clave,
                "nombre": c.nombre,
                "problema": (problema or {}).get(c.clave, ""),
                "publicada": "",
            }
            if publicada is not None:
                documento = publicada.documento
                acta = documento.get("acta", {})
                fila |= {
                    "publicada": fecha(publicada.publicada_at, proceso, t.idioma),
                    "votos": acta.get("votos", {}),
                    "participacion": acta.get("participacion", ""),
                    "firma_valida": firma.verificar(documento, clave),
                    "clave_documento": str(documento.get("clave_verificacion", "")),
                    "pdf": f"{COMPUTOS}/{entidad}/acta.pdf?cargo={c.clave}",
                }
            cargos.append(fila)
    return PAGINAS.render(
        request,
        "consola_computo.html",
        status_code,
        sesion=sesion,
        consola_ruta=RUTA,
        mesas=MESAS,
        entidad=entidad,
        entidad_nombre=ent.nombre,
        clave=clave,
        cargos=cargos,
        puede_cerrar=sesion.rol in ADMIN,
        accion=f"{COMPUTOS}/{entidad}/cierre",
        aviso=aviso,
    )


@router.get(COMPUTOS + "/{entidad}")
async def ver_computo(request: Request, entidad: EntidadPath, proceso: ProcesoDep) -> HTMLResponse:
    sesion = _exigir(request, LECTORES, entidad)
    return await _pantalla_computo(request, sesion, proceso, entidad)


@router.get(COMPUTOS + "/{entidad}/acta.pdf")
async def acta_pdf(
    request: Request, entidad: EntidadPath, proceso: ProcesoDep, cargo: CargoQuery = None
) -> Response:
    """The printable acta, as ``GET /v1/computos/{entidad}/acta.pdf`` serves it, for a console session."""
    sesion = _exigir(request, LECTORES, entidad)
    t = PAGINAS.textos(request)
    try:
        clave = acta_computo.cargo_de(proceso, entidad, cargo)
    except Problem as p:
        return _aviso(request, sesion, p.status, p.detail)
    async with transaccion(request, lectura=True) as session:
        publicada = await repository.acta_computo(session, entidad, clave)
    if publicada is None:
        return _aviso(request, sesion, 404, t("consola_computo.sin_cerrar"))
    return Response(
        acta_computo.pdf_de(publicada.documento, proceso),
        media_type="application/pdf",
        headers={
            **CABECERAS,
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="computo-{entidad}-{clave}.pdf"',
        },
    )


@router.post(COMPUTOS + "/{entidad}/cierre")
async def cerrar(
    request: Request, entidad: EntidadPath, proceso: ProcesoDep, reloj: RelojDep
) -> HTMLResponse:
    sesion = _exigir(request, ADMIN, entidad)
    form = await request.form()
    consola_de(request).revisar_csrf(sesion, form.get("csrf"))
    t = PAGINAS.textos(request)
    pedido = leer_campos(form, ("cargo",))["cargo"] or None
    try:
        clave = acta_computo.cargo_de(proceso, entidad, pedido)
    except Problem as p:
        return _aviso(request, sesion, p.status, p.detail)
    try:
        async with transaccion(request) as session:
            await acta_computo.cerrar(session, entidad, clave, proceso, _settings(request), reloj.ahora())
    except Problem as p:
        return await _pantalla_computo(
            request, sesion, proceso, entidad, p.status, problema={clave: p.detail}
        )
    return await _pantalla_computo(request, sesion, proceso, entidad, aviso=t("consola_computo.cerrado"))
