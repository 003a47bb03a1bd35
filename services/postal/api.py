from __future__ import annotations

import csv
import hashlib
import hmac
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy import select

from services.postal import service as postal_service
from services.postal.models import Paquete
from services.postal.schemas import (
    EnvioIn,
    EventosLote,
    EventoTransportistaIn,
    Mesas,
    PaqueteCiudadano,
    ReenvioIn,
    ResultadoEventos,
    SobreIn,
    SobreOut,
)
from shared import auditoria
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.db import ENTERO_MAX
from shared.limites import cuerpo_maximo
from shared.problems import Problem, validation_errors
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1")
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# The carriers' bulk file (JSON or CSV): 5,000 events are about 1 MB.
MAX_EVENTOS = 16 * 1024 * 1024
EntidadPath = Annotated[str, Path(pattern=r"^(0[1-9]|[12][0-9]|3[0-2])$")]
Operador = Annotated[Principal, Depends(require(Rol.INE_OPERADOR, Rol.INE_ADMIN))]
Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]
Lector = Annotated[Principal, Depends(require(*INE_ROLES, Rol.OPL))]
MENSAJES = {
    "en_tiempo": "Recibido a tiempo: el voto cuenta y la persona queda marcada como «votó».",
    "extemporaneo": "Llegó después del límite: se lista por remitente y no se cuenta.",
    "desconocido": "La clave no está en la LNERE postal: se aparta y no se cuenta.",
    "duplicado": "Esta persona ya tiene un sobre recibido: se aparta y no se cuenta.",
}


async def firma_transportista(request: Request, transportista: str) -> bytes:
    """Each carrier signs the raw body with its own secret: ``X-Firma: sha256=<hex HMAC>``."""
    secretos = request.app.state.settings.transportistas
    secreto = secretos.get(transportista)
    cuerpo = await request.body()
    firma = request.headers.get("x-firma", "")
    if secreto is None:
        raise Problem(404, f"Transportista desconocido: {transportista}.")
    esperada = "sha256=" + hmac.new(secreto.get_secret_value().encode(), cuerpo, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(firma, esperada):
        raise Problem(
            401,
            "Firma inválida: envíe X-Firma: sha256=<HMAC-SHA256 del cuerpo con su secreto>.",
            headers={"WWW-Authenticate": "HMAC-SHA256"},
        )
    auditoria.marcar_anonimo(request, "transportista")  # which one: the path, in the record's objeto
    return cuerpo


@router.post(
    "/envios",
    tags=["paquetes"],
    summary="Registrar el envío de paquetes: transportista y guías (ine-operador)",
    responses={
        404: {"description": "No existe alguno de los paquetes", **PROBLEM},
        409: {"description": "Paquete ya enviado o guía repetida", **PROBLEM},
    },
)
async def envios(
    datos: EnvioIn, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, _: Operador
) -> dict[str, int]:
    return {"enviados": await postal_service.enviar(session, datos, proceso, reloj.ahora())}


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
    proceso: ProcesoDep,
    reloj: RelojDep,
    _: Operador,
    numero: int = Path(ge=1, le=ENTERO_MAX),
) -> dict[str, Any]:
    p = await postal_service.reenviar(session, entidad, numero, datos, proceso, reloj.ahora())
    return {"entidad": p.entidad, "numero": p.numero, "estado": p.estado, "guia": p.guia, "envios": p.envios}


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
) -> dict[str, Any]:
    p = await postal_service.destruir(session, entidad, numero, reloj.ahora())
    return {"entidad": p.entidad, "numero": p.numero, "estado": p.estado}


@router.post(
    "/transportistas/{transportista}/eventos",
    tags=["transportistas"],
    response_model=ResultadoEventos,
    summary="Webhook de rastreo de un transportista (firmado)",
    description='Un evento (objeto) o varios (`{"eventos": [...]}`, el archivo masivo en JSON). '
    "Idempotente por `evento_id`; un evento atrasado nunca regresa un paquete a un estado anterior. "
    f"Cuerpo de hasta {MAX_EVENTOS // (1024 * 1024)} MB; divida archivos mayores.",
    responses={
        401: {"description": "Falta la firma X-Firma o no corresponde al cuerpo", **PROBLEM},
        404: {"description": "Transportista desconocido", **PROBLEM},
        409: {"description": "El mismo evento está en proceso por otra petición; reintente", **PROBLEM},
        413: {"description": "Cuerpo demasiado grande", **PROBLEM},
    },
)
@cuerpo_maximo(MAX_EVENTOS)
async def eventos_transportista(
    request: Request,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    transportista: str = Path(pattern=r"^[a-z0-9_-]{2,32}$"),
) -> ResultadoEventos:
    cuerpo = await firma_transportista(request, transportista)
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
    p = (await session.execute(select(Paquete).where(Paquete.folio == folio))).scalar_one_or_none()
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
async def estadisticas(session: SessionDep, proceso: ProcesoDep) -> dict[str, Any]:
    return await postal_service.estadisticas(session, proceso)


@router.get(
    "/en-transito", tags=["cifras"], summary="Paquetes aún en camino y cuántos días llevan (INE, opl)"
)
async def en_transito(
    session: SessionDep,
    reloj: RelojDep,
    principal: Lector,
    entidad: str | None = Query(None, pattern=r"^(0[1-9]|[12][0-9]|3[0-2])$"),
) -> list[dict[str, Any]]:
    if principal.rol == Rol.OPL:
        entidad = entidad or principal.entidad
        check_entidad(principal, entidad or "")
    return await postal_service.en_transito(session, entidad, reloj.ahora())


@router.post(
    "/avisos/retraso",
    tags=["paquetes"],
    summary="Avisar a quien tiene su paquete en camino desde hace `dias` días o más (ine-operador)",
    description="Cada persona recibe el aviso una sola vez; repetir la llamada no avisa dos veces.",
)
async def avisos_retraso(
    session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, _: Operador, dias: int = Query(14, ge=1, le=60)
) -> dict[str, int]:
    return {"avisados": await postal_service.avisar_retrasos(session, proceso, reloj.ahora(), dias)}
