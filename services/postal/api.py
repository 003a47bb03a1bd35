from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import Message, Receive

from services.postal import boletas, documentos, domain, repository
from services.postal import service as postal_service
from services.postal.config import MAX_EVENTOS
from services.postal.models import ActaDestruccion
from services.postal.schemas import (
    ActaDestruccionOut,
    Asistente,
    AvisosOut,
    Boleta,
    DestruccionExtemporaneosIn,
    DestruccionOut,
    EnvioIn,
    EnviosOut,
    Estadisticas,
    EventosLote,
    EventoTransportistaIn,
    Mesas,
    PaqueteCiudadano,
    PaqueteEnTransito,
    ReenvioIn,
    ReenvioOut,
    RelacionExtemporaneos,
    ResultadoEventos,
    SobreIn,
    SobreOut,
)
from shared import auditoria, limites, webhooks
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.claves import EntidadPath, EntidadQuery
from shared.db import ENTERO_MAX
from shared.limites import CuerpoDemasiadoGrande, LimitePorCliente, cuerpo_maximo
from shared.problems import PROBLEM, Problem, validation_errors
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1")
Operador = Annotated[Principal, Depends(require(Rol.INE_OPERADOR, Rol.INE_ADMIN))]
Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]
Lector = Annotated[Principal, Depends(require(*INE_ROLES, Rol.OPL))]
# The reports a process ends with (LGIPE 345.2): INE's admin, the auditor, and each OPL for its entidad.
LectorCierre = Annotated[Principal, Depends(require(Rol.INE_ADMIN, Rol.AUDITOR, Rol.OPL))]
MENSAJES = {
    "en_tiempo": "Recibido a tiempo: el voto cuenta y la persona queda marcada como «votó».",
    "extemporaneo": "Llegó después del límite: se lista por remitente y no se cuenta.",
    "desconocido": "La clave no está en la LNERE postal: se aparta y no se cuenta.",
    "duplicado": "Esta persona ya tiene un sobre recibido: se aparta y no se cuenta.",
}


# --- the carriers' webhook: authenticated before a byte of the body is read -----------------------------

FIRMA_INVALIDA = (
    "Firma inválida: envíe X-VMRE-Firma: t=<segundos Unix>,v1=<HMAC-SHA256 en hexadecimal de «t.cuerpo» con "
    "su secreto>, firmada al enviar (se aceptan hasta 5 minutos de diferencia de reloj)."
)
FIRMA_VENCIDA = (
    "La firma es de hace más de 5 minutos (o su reloj no está en hora): firme cada envío al enviarlo, con t "
    "en segundos Unix."
)


def _fallos(request: Request) -> LimitePorCliente:
    """Refused carrier requests per client, one count per app (``transportistas_fallos_por_minuto``)."""
    fallos: LimitePorCliente | None = getattr(request.app.state, "fallos_transportistas", None)
    if fallos is None:
        fallos = LimitePorCliente(request.app.state.settings.transportistas_fallos_por_minuto)
        request.app.state.fallos_transportistas = fallos
    return fallos


async def _leer_hasta(request: Request, tope: int) -> bytes:
    """The body, cut with 413 as soon as it passes ``tope`` bytes (whatever Content-Length said)."""
    partes: list[bytes] = []
    leidos = 0
    async for parte in request.stream():
        leidos += len(parte)
        if leidos > tope:
            raise CuerpoDemasiadoGrande(tope)
        partes.append(parte)
    return b"".join(partes)


def _repetir(cuerpo: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``cuerpo`` (already read) once, then the connection's own (disconnects)."""
    dado = False

    async def recibir() -> Message:
        nonlocal dado
        if not dado:
            dado = True
            return {"type": "http.request", "body": cuerpo, "more_body": False}
        return await receive()

    return recibir


async def autenticar_transportista(request: Request) -> Request:
    """Who may send and how much, decided from the path and the headers before the body is read (the app's
    own dependencies read a JSON body): a client with too many refusals this minute gets 429; an unknown
    carrier 404; a Content-Length over the carrier's cap 413; a missing, malformed or stale signature
    (``shared.webhooks``: ``t`` more than 5 minutes away, a replay) 401. Only then the body is read, up to the
    cap, and its HMAC checked (401). Each refusal but 413 counts against the client. The request returned
    carries the body already read."""
    ajustes = request.app.state.settings
    fallos = _fallos(request)
    cliente = limites.cliente(request.scope, request.app.state.proxies_confiables)
    espera = fallos.espera(cliente)
    if espera is not None:
        raise Problem(
            429,
            "Demasiadas peticiones rechazadas desde su conexión: espere los segundos que indica Retry-After.",
            slug="demasiadas-peticiones",
            headers={"Retry-After": str(espera)},
        )
    transportista = str(request.path_params.get("transportista", ""))
    secreto = ajustes.transportistas.get(transportista)
    if secreto is None:
        fallos.tomar(cliente)
        raise Problem(404, f"Transportista desconocido: {transportista[:40]}.")
    tope = ajustes.max_cuerpo_de(transportista)
    declarado = request.headers.get("content-length", "")
    if declarado.isdigit() and int(declarado) > tope:
        raise CuerpoDemasiadoGrande(tope)
    firma = webhooks.leer_firma(request.headers.get(webhooks.CABECERA_FIRMA, ""))
    if firma is None or not firma.vigente(time.time()):
        fallos.tomar(cliente)
        raise Problem(
            401,
            FIRMA_INVALIDA if firma is None else FIRMA_VENCIDA,
            headers={"WWW-Authenticate": "HMAC-SHA256"},
        )
    cuerpo = await _leer_hasta(request, tope)
    if not firma.corresponde(secreto.get_secret_value(), cuerpo):
        fallos.tomar(cliente)
        raise Problem(401, FIRMA_INVALIDA, headers={"WWW-Authenticate": "HMAC-SHA256"})
    auditoria.marcar_anonimo(request, "transportista")  # which one: the path, in the record's objeto
    return Request(request.scope, _repetir(cuerpo, request.receive))


class RutaDeTransportista(APIRoute):
    """A route whose caller is authenticated by ``autenticar_transportista`` before anything else of the route
    runs (dependencies, parameters)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        manejar = super().get_route_handler()

        async def autenticado(request: Request) -> Response:
            return await manejar(await autenticar_transportista(request))

        return autenticado


@router.post(
    "/envios",
    tags=["paquetes"],
    summary="Registrar el envío de paquetes: transportista y guías (ine-operador)",
    responses={
        404: {"description": "No existe alguno de los paquetes", **PROBLEM},
        409: {"description": "Paquete ya enviado o guía repetida", **PROBLEM},
    },
)
async def envios(datos: EnvioIn, session: SessionDep, reloj: RelojDep, _: Operador) -> EnviosOut:
    return EnviosOut(enviados=await postal_service.enviar(session, datos, reloj.ahora()))


@router.post(
    "/paquetes/{entidad}/{numero}/reenvio",
    tags=["paquetes"],
    summary="Reenviar un paquete no entregado o devuelto, con domicilio corregido (ine-operador)",
    responses={
        404: {"description": "No existe el paquete", **PROBLEM},
        409: {
            "description": "El paquete no está no entregado ni devuelto, o la guía ya está asignada",
            **PROBLEM,
        },
    },
)
async def reenvio(
    entidad: EntidadPath,
    datos: ReenvioIn,
    session: SessionDep,
    reloj: RelojDep,
    _: Operador,
    numero: int = Path(ge=1, le=ENTERO_MAX),
) -> ReenvioOut:
    p = await postal_service.reenviar(session, entidad, numero, datos, reloj.ahora())
    return ReenvioOut(entidad=p.entidad, numero=p.numero, estado=p.estado, guia=p.guia, envios=p.envios)


@router.post(
    "/paquetes/{entidad}/{numero}/destruccion",
    tags=["paquetes"],
    summary="Registrar la destrucción de un paquete devuelto, ante representantes (ine-admin)",
    responses={
        404: {"description": "No existe el paquete", **PROBLEM},
        409: {"description": "El paquete no está devuelto", **PROBLEM},
    },
)
async def destruccion(
    entidad: EntidadPath,
    session: SessionDep,
    reloj: RelojDep,
    _: Admin,
    numero: int = Path(ge=1, le=ENTERO_MAX),
) -> DestruccionOut:
    p = await postal_service.destruir(session, entidad, numero, reloj.ahora())
    return DestruccionOut(entidad=p.entidad, numero=p.numero, estado=p.estado)


@cuerpo_maximo(MAX_EVENTOS)
async def eventos_transportista(
    request: Request,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    transportista: str = Path(pattern=r"^[a-z0-9_-]{2,32}$"),
) -> ResultadoEventos:
    cuerpo = await request.body()  # read and authenticated by RutaDeTransportista
    # U+0000 in a CSV file (in JSON, shared.problems.sin_caracter_nulo): PostgreSQL cannot store it.
    if b"\x00" in cuerpo:
        raise Problem(
            422,
            "Evento inválido.",
            errors=[{"campo": "cuerpo", "mensaje": "No se admite el carácter nulo (U+0000)."}],
        )
    try:
        if request.headers.get("content-type", "").startswith("text/csv"):
            filas = list(csv.DictReader(io.StringIO(cuerpo.decode("utf-8-sig"))))
            lista = EventosLote.model_validate(
                {"eventos": [{k: v or None for k, v in f.items()} for f in filas]}
            ).eventos
        elif cuerpo.lstrip().startswith(b"{") and b'"eventos"' in cuerpo[:200]:
            lista = EventosLote.model_validate_json(cuerpo).eventos
        else:
            lista = [EventoTransportistaIn.model_validate_json(cuerpo)]
    except (ValueError, UnicodeDecodeError) as exc:
        errores = validation_errors(exc) if isinstance(exc, ValidationError) else []
        raise Problem(422, "Evento inválido.", errors=errores) from exc
    conteo = await postal_service.eventos_transportista(session, transportista, lista, proceso, reloj.ahora())
    return ResultadoEventos(
        aplicados=conteo["aplicado"],
        ignorados=conteo["ignorado"],
        duplicados=conteo["duplicado"],
        sin_paquete=conteo["sin_paquete"],
    )


router.add_api_route(
    "/transportistas/{transportista}/eventos",
    eventos_transportista,
    methods=["POST"],
    route_class_override=RutaDeTransportista,
    tags=["transportistas"],
    response_model=ResultadoEventos,
    summary="Webhook de rastreo de un transportista (firmado)",
    description='Un evento (objeto) o varios (`{"eventos": [...]}`, el archivo masivo en JSON). '
    "Idempotente por `evento_id`; un evento atrasado nunca regresa un paquete a un estado anterior. "
    "Firmado como los webhooks a los OPL: `X-VMRE-Firma: t=<segundos Unix>,v1=<HMAC-SHA256 hex del secreto "
    "del transportista sobre «t.cuerpo»>`; se rechaza una firma de hace más de 5 minutos. Cuerpo de hasta "
    f"{MAX_EVENTOS // (1024 * 1024)} MB (o el tope de cada transportista); divida archivos mayores. "
    "Transportista, tamaño declarado y firma se revisan antes de leer el cuerpo; una conexión con demasiados "
    "rechazos en un minuto recibe 429.",
    responses={
        401: {
            "description": "Falta la firma X-VMRE-Firma, está vencida o no corresponde al cuerpo",
            **PROBLEM,
        },
        404: {"description": "Transportista desconocido", **PROBLEM},
        409: {"description": "El mismo evento está en proceso por otra petición; reintente", **PROBLEM},
        413: {"description": "Cuerpo demasiado grande", **PROBLEM},
        429: {
            "description": "Demasiados rechazos desde esta conexión: espere lo que dice Retry-After",
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Segundos"}},
            **PROBLEM,
        },
    },
)


@router.post(
    "/sobres",
    tags=["sobres"],
    response_model=SobreOut,
    status_code=201,
    summary="Recibir un Sobre-Postal-Voto: escanear su código de barras (ine-operador)",
    description="Antes de las 08:00 (hora del Centro) del día previo a la jornada, el primero de cada "
    "persona cuenta y la marca como «votó»; los tardíos, repetidos o de personas fuera de la LNERE "
    "postal se guardan y reportan, nunca se cuentan.",
)
async def sobres(
    datos: SobreIn, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, operador: Operador
) -> SobreOut:
    s = await postal_service.recibir_sobre(
        session, datos.clave_elector.upper(), proceso, operador, reloj.ahora()
    )
    return SobreOut(
        clasificacion=s.clasificacion,
        cuenta=s.clasificacion == "en_tiempo",
        entidad=s.entidad,
        recibido_at=proceso.local(s.recibido_at),
        mensaje=MENSAJES[s.clasificacion],
    )


@router.post(
    "/mesas/{entidad}/asignacion",
    tags=["sobres"],
    response_model=Mesas,
    summary="Asignar los sobres en resguardo a Mesas de Escrutinio y Cómputo (ine-admin)",
    responses={
        404: {"description": "La entidad no participa en el proceso", **PROBLEM},
        409: {"description": "La recepción de sobres sigue abierta", **PROBLEM},
    },
)
async def asignacion(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, _: Admin
) -> Mesas:
    return Mesas(
        entidad=entidad, mesas=await postal_service.asignar_mesas(session, entidad, proceso, reloj.ahora())
    )


@router.get(
    "/paquetes/{folio}",
    tags=["ciudadanía"],
    response_model=PaqueteCiudadano,
    summary="Dónde está mi paquete y si llegó mi voto (público, con el folio)",
    responses={404: {"description": "No hay paquete para ese folio", **PROBLEM}},
)
async def paquete_ciudadano(folio: str, session: SessionDep, proceso: ProcesoDep) -> PaqueteCiudadano:
    p = await repository.por_folio(session, folio)
    if p is None:
        raise Problem(
            404, "No hay paquete para ese folio: se integra cuando se cierra la LNERE de su entidad."
        )
    return PaqueteCiudadano(
        folio=p.folio,
        estado=p.estado,
        transportista=p.transportista,
        guia=p.guia,
        enviado_at=proceso.local(p.enviado_at) if p.enviado_at else None,
        voto_recibido=p.voto_recibido_at is not None,
        voto_recibido_at=proceso.local(p.voto_recibido_at) if p.voto_recibido_at else None,
        limite_recepcion=proceso.local(proceso.calendario.recepcion_spv_limite),
    )


@router.get(
    "/estadisticas", tags=["cifras"], summary="Paquetes, entregas, devoluciones y votos recibidos (público)"
)
async def estadisticas(session: SessionDep, proceso: ProcesoDep) -> Estadisticas:
    return Estadisticas.model_validate(await postal_service.estadisticas(session, proceso))


@router.get(
    "/en-transito", tags=["cifras"], summary="Paquetes aún en camino y cuántos días llevan (INE, opl)"
)
async def en_transito(
    session: SessionDep,
    reloj: RelojDep,
    principal: Lector,
    entidad: EntidadQuery = None,
) -> list[PaqueteEnTransito]:
    if principal.rol == Rol.OPL:
        entidad = entidad or principal.entidad
        check_entidad(principal, entidad or "")
    return [
        PaqueteEnTransito.model_validate(p)
        for p in await postal_service.en_transito(session, entidad, reloj.ahora())
    ]


@router.post(
    "/avisos/retraso",
    tags=["paquetes"],
    summary="Avisar a quien tiene su paquete en camino desde hace `dias` días o más (ine-operador)",
    description="Cada persona recibe el aviso una sola vez; repetir la llamada no avisa dos veces.",
)
async def avisos_retraso(
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    _: Operador,
    dias: int = Query(domain.DIAS_RETRASO, ge=1, le=60),
) -> AvisosOut:
    return AvisosOut(avisados=await postal_service.avisar_retrasos(session, proceso, reloj.ahora(), dias))


# --- late SPVs: the list by sender and the acts destroying them (LGIPE 345.2) ----------------------------


def _acta_out(acta: ActaDestruccion, proceso: Proceso) -> ActaDestruccionOut:
    return ActaDestruccionOut(
        acta=acta.id,
        entidad=acta.entidad,
        lugar=acta.lugar,
        celebrada_at=proceso.local(acta.celebrada_at),
        asistentes=[Asistente.model_validate(a) for a in acta.asistentes],
        sobres=acta.sobres,
        registrada_por=acta.registrada_por,
    )


@router.get(
    "/extemporaneos/{entidad}",
    tags=["sobres"],
    summary="Relación de los sobres extemporáneos por remitente (ine-admin, auditor, opl de la entidad)",
    description="LGIPE 345.2: los sobres recibidos desde el límite se listan por remitente y se "
    "destruyen sin abrir. Nombres completos solo para ine-admin; enmascarados para los demás.",
    responses={403: PROBLEM, 404: {"description": "La entidad no participa en el proceso", **PROBLEM}},
)
async def extemporaneos(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, principal: LectorCierre
) -> RelacionExtemporaneos:
    check_entidad(principal, entidad)
    remitentes = documentos.remitentes(
        await postal_service.extemporaneos(session, entidad, proceso), proceso, principal
    )
    return RelacionExtemporaneos(
        entidad=entidad,
        limite_recepcion=proceso.local(proceso.calendario.recepcion_spv_limite),
        total=len(remitentes),
        pendientes_de_destruir=sum(r.acta_destruccion is None for r in remitentes),
        remitentes=remitentes,
    )


@router.post(
    "/extemporaneos/{entidad}/destrucciones",
    tags=["sobres"],
    status_code=201,
    summary="Registrar el acta de destrucción de los sobres extemporáneos, con quién asistió (ine-admin)",
    description="Abarca todos los sobres extemporáneos de la entidad que aún no están en un acta. Sin sobres "
    "pendientes (o con la recepción abierta) responde 409 y no registra nada.",
    responses={
        404: {"description": "La entidad no participa en el proceso", **PROBLEM},
        409: {"description": "Recepción abierta, o ningún sobre extemporáneo pendiente", **PROBLEM},
    },
)
async def destruir_extemporaneos(
    entidad: EntidadPath,
    datos: DestruccionExtemporaneosIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    admin: Admin,
) -> ActaDestruccionOut:
    acta = await postal_service.destruir_extemporaneos(session, entidad, datos, proceso, admin, reloj.ahora())
    return _acta_out(acta, proceso)


@router.get(
    "/extemporaneos/{entidad}/destrucciones",
    tags=["sobres"],
    summary="Las actas de destrucción de la entidad (ine-admin, auditor, opl de la entidad)",
    responses={403: PROBLEM, 404: PROBLEM},
)
async def destrucciones(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, principal: LectorCierre
) -> list[ActaDestruccionOut]:
    check_entidad(principal, entidad)
    return [_acta_out(a, proceso) for a in await postal_service.actas_destruccion(session, entidad, proceso)]


@router.get(
    "/extemporaneos/{entidad}/destrucciones/{acta}.pdf",
    tags=["sobres"],
    summary="El acta de destrucción imprimible, con la relación de remitentes y las firmas (PDF)",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "El acta imprimible"},
        403: PROBLEM,
        404: PROBLEM,
    },
)
async def destruccion_pdf(
    entidad: EntidadPath,
    session: SessionDep,
    proceso: ProcesoDep,
    principal: LectorCierre,
    acta: int = Path(ge=1, le=ENTERO_MAX),
) -> Response:
    check_entidad(principal, entidad)
    pdf = await documentos.acta_pdf(session, entidad, acta, proceso, principal)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="destruccion-{entidad}-{acta}.pdf"'},
    )


CargoPath = Annotated[
    str, Path(pattern=r"^[a-z_]{1,64}$", description="Clave del cargo", examples=["presidencia"])
]


@router.get(
    "/boletas/{entidad}/{cargo}.pdf",
    tags=["paquetes"],
    summary="La boleta postal de un cargo, imprimible (PDF, público)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "La boleta"}, 404: PROBLEM},
)
async def boleta_pdf(
    entidad: EntidadPath, cargo: CargoPath, session: SessionDep, proceso: ProcesoDep
) -> Response:
    b = await boletas.boleta(session, proceso, entidad, cargo)
    return Response(
        boletas.pdf(b),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="boleta-{entidad}-{cargo}.pdf"'},
    )


@router.get(
    "/boletas/{entidad}/{cargo}",
    tags=["paquetes"],
    summary="La boleta postal de un cargo: cada partido en orden, con su candidatura (público)",
    description="Los nombres son los de las candidaturas que `ine-admin` aprobó en electrónico; sin ellas la "
    "boleta lleva solo los partidos (`huella_candidaturas` null). La Presidencia es la misma boleta en todas "
    "las entidades.",
    responses={404: PROBLEM},
)
async def boleta(entidad: EntidadPath, cargo: CargoPath, session: SessionDep, proceso: ProcesoDep) -> Boleta:
    return await boletas.boleta(session, proceso, entidad, cargo)
