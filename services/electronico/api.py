from __future__ import annotations

import json
from pathlib import Path as Ruta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import acceso, ceremonia, service
from services.electronico.config import Settings
from services.electronico.models import Boleta, Credencial, Eleccion, Votante
from services.electronico.schemas import (
    AcuseOut,
    CodigoSmsIn,
    EleccionDetalle,
    EleccionOut,
    EleccionVotante,
    EntradaTablon,
    IngresoIn,
    Opcion,
    PrimerAccesoIn,
    PrimerAccesoOut,
    SelloOut,
    SesionOut,
    SimulacroIn,
    TablonOut,
    VotanteOut,
)
from shared import auditoria, limites
from shared.auth import Principal, Rol, require
from shared.db import ENTERO_MAX
from shared.problems import Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1")
paginas = APIRouter()
ESTATICOS = Ruta(__file__).resolve().parent / "static"
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
Uuid = Annotated[str, Path(pattern=r"^[1-9A-HJ-NP-Za-km-z]{14,32}$", description="uuid de la elección")]
Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]
Custodio = Annotated[Principal, Depends(require(Rol.CUSTODIO))]
# Its own name in the OpenAPI: under the default ("HTTPBearer") it would overwrite the staff JWT's scheme.
sesion_bearer = HTTPBearer(
    auto_error=False, scheme_name="SesionVotante", description="Sesión de votante (POST /v1/acceso)."
)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _limite(request: Request) -> None:
    proxies = limites.redes(request.app.state.settings.proxies_confiables)
    request.app.state.limite_acceso.revisar(limites.cliente(request.scope, proxies))


async def _como_votante(request: Request) -> None:
    """In the audit log a voter is only "votante": never who, nor anything that links to a ballot."""
    auditoria.marcar_anonimo(request, auditoria.VOTANTE)


SettingsDep = Annotated[Settings, Depends(_settings)]
Limitado = Depends(_limite)
ComoVotante = Depends(_como_votante)


async def _votante(
    request: Request,
    session: SessionDep,
    reloj: RelojDep,
    credenciales: HTTPAuthorizationCredentials | None = Depends(sesion_bearer),
) -> Votante:
    auditoria.marcar_anonimo(request, auditoria.VOTANTE)
    if credenciales is None or credenciales.scheme.lower() != "bearer":
        raise Problem(
            401,
            "Ingrese primero: falta Authorization: Bearer <sesion>.",
            headers={"WWW-Authenticate": 'Bearer realm="votante"'},
        )
    return await acceso.votante_de_sesion(session, credenciales.credentials, reloj.ahora())


VotanteDep = Annotated[Votante, Depends(_votante)]


async def _conteos(session: AsyncSession) -> dict[str, int]:
    filas = await session.execute(select(Boleta.eleccion, func.count()).group_by(Boleta.eleccion))
    return {u: int(n) for u, n in filas.all()}


def _salida(e: Eleccion, boletas: int) -> dict[str, Any]:
    return {
        "uuid": e.uuid,
        "entidad": e.entidad,
        "cargo": e.cargo,
        "nombre": e.nombre,
        "simulacro": e.simulacro,
        "estado": e.estado,
        "inicio": e.inicio,
        "fin": e.fin,
        "boletas": boletas,
        "sello": e.sello,
    }


def _detalle(e: Eleccion, boletas: int, proceso: Proceso) -> dict[str, Any]:
    return _salida(e, boletas) | {
        "opciones": [Opcion(**o) for o in service.pregunta(e, proceso)],
        "eleccion_json": e.eleccion_json,
        "acta_apertura": e.acta_apertura,
    }


# --- Public: elections, bulletin board, archive, turnout ---------------------------------------------------


@router.get("/elecciones", tags=["elecciones"], summary="Elecciones por internet (público)")
async def elecciones(session: SessionDep, simulacro: bool | None = None) -> list[EleccionOut]:
    q = select(Eleccion).order_by(Eleccion.entidad, Eleccion.simulacro, Eleccion.cargo)
    if simulacro is not None:
        q = q.where(Eleccion.simulacro.is_(simulacro))
    conteos = await _conteos(session)
    return [EleccionOut(**_salida(e, conteos.get(e.uuid, 0))) for e in (await session.execute(q)).scalars()]


@router.get(
    "/elecciones/{uuid}",
    tags=["elecciones"],
    summary="Una elección: opciones, election.json y acta de apertura (público)",
    responses={404: PROBLEM},
)
async def eleccion(uuid: Uuid, session: SessionDep, proceso: ProcesoDep) -> EleccionDetalle:
    e = await service.eleccion_o_404(session, uuid)
    return EleccionDetalle(**_detalle(e, await service.boletas_contadas(session, uuid), proceso))


@router.get(
    "/elecciones/{uuid}/tablon",
    tags=["tablón"],
    summary="Tablón público: los rastreadores de las boletas aceptadas (público)",
    description="Cada votante busca aquí su acuse (`?rastreador=`). Nunca muestra una elección de voto.",
    responses={404: PROBLEM},
)
async def tablon(
    uuid: Uuid,
    session: SessionDep,
    rastreador: Annotated[str | None, Query(max_length=64)] = None,
    despues: Annotated[int, Query(ge=0, le=ENTERO_MAX)] = 0,
    limite: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TablonOut:
    e = await service.eleccion_o_404(session, uuid)
    q = select(Boleta.id, Boleta.rastreador, Boleta.emitida_at).where(Boleta.eleccion == uuid)
    if rastreador is not None:
        fila = (await session.execute(q.where(Boleta.rastreador == rastreador))).first()
        if fila is None:
            raise Problem(404, f"El rastreador {rastreador} no está en la urna de esta elección.")
        filas = [fila]
    else:
        filas = list(
            (await session.execute(q.where(Boleta.id > despues).order_by(Boleta.id).limit(limite))).all()
        )
    return TablonOut(
        eleccion=uuid,
        estado=e.estado,
        sello=e.sello,
        boletas=[EntradaTablon(posicion=i, rastreador=r, emitida_at=t) for i, r, t in filas],
        siguiente=filas[-1][0] if len(filas) == limite and rastreador is None else None,
    )


@router.get(
    "/elecciones/{uuid}/archivo.bel",
    tags=["tablón"],
    summary="Archivo Belenios 3.0 de la elección (público)",
    description="Verificable con `vmre verificar ARCHIVO.bel` y con `belenios-tool election verify`.",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: PROBLEM, 409: PROBLEM},
)
async def archivo(uuid: Uuid, session: SessionDep) -> Response:
    e = await service.eleccion_o_404(session, uuid)
    a = await service.archivo(session, e)
    return Response(
        a.bytes(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{uuid}.bel"'},
    )


@router.get(
    "/elecciones/{uuid}/acta-apertura",
    tags=["elecciones"],
    summary="Acta de apertura firmada (público)",
    responses={404: PROBLEM},
)
async def acta_apertura(uuid: Uuid, session: SessionDep) -> dict[str, Any]:
    e = await service.eleccion_o_404(session, uuid)
    if e.acta_apertura is None:
        raise Problem(404, "La elección aún no ha sido abierta.")
    return e.acta_apertura


@router.get(
    "/clave-firma", tags=["elecciones"], summary="Clave pública Ed25519 que firma las actas (público)"
)
async def clave_firma(settings: SettingsDep) -> dict[str, str]:
    return {"algoritmo": "Ed25519", "clave_verificacion": service.clave_verificacion(settings)}


@router.get(
    "/participacion",
    tags=["tablón"],
    summary="Votos recibidos por elección y hora del Centro (público; nunca una elección de voto)",
)
async def participacion(session: SessionDep, proceso: ProcesoDep) -> list[dict[str, Any]]:
    return await service.participacion(session, proceso)


# --- Voters ----------------------------------------------------------------------------------------------


@router.post(
    "/acceso/primer",
    tags=["acceso"],
    summary="Primer acceso: contraseña y segundo factor",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 429: PROBLEM},
)
async def primer_acceso(datos: PrimerAccesoIn, session: SessionDep, settings: SettingsDep) -> PrimerAccesoOut:
    alta = await acceso.primer_acceso(
        session, datos.usuario, datos.clave_acceso, datos.password, datos.segundo_factor, settings, datos.qr
    )
    return PrimerAccesoOut(**alta.__dict__)


async def _con_registro_de_fallos(request: Request, accion: Any) -> Any:
    """Run a login step in its own transaction and commit even when it fails (attempts must count).
    The audit record goes in that transaction too, failed or not."""
    maker = request.app.state.runtime.maker
    async with maker() as session, session.begin():
        resultado = await accion(session)
        estado = "rechazado" if isinstance(resultado, Problem) else "ok"
        await auditoria.registrar_peticion(session, request, estado=estado)
    if isinstance(resultado, Problem):
        raise resultado
    return resultado


@router.post(
    "/acceso/codigo",
    tags=["acceso"],
    summary="Pedir un código por SMS (si eligió SMS como segundo factor)",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 429: PROBLEM},
)
async def codigo_sms(
    datos: CodigoSmsIn, request: Request, reloj: RelojDep, settings: SettingsDep
) -> dict[str, str]:
    telefono = await _con_registro_de_fallos(
        request,
        lambda s: acceso.enviar_codigo_sms(s, datos.usuario, datos.password, reloj.ahora(), settings),
    )
    return {"enviado_a": telefono}


@router.post(
    "/acceso",
    tags=["acceso"],
    summary="Ingresar: usuario, contraseña y código de 6 dígitos",
    description="Tras varios fallos seguidos (`VMRE_ELECTRONICO_INTENTOS_MAXIMOS`, 5 por omisión) la "
    "cuenta se bloquea unos minutos: 429 con Retry-After.",
    dependencies=[Limitado, ComoVotante],
    responses={401: PROBLEM, 409: PROBLEM, 429: PROBLEM},
)
async def ingresar(datos: IngresoIn, request: Request, reloj: RelojDep, settings: SettingsDep) -> SesionOut:
    token, expira = await _con_registro_de_fallos(
        request,
        lambda s: acceso.ingresar(s, datos.usuario, datos.password, datos.codigo, reloj.ahora(), settings),
    )
    return SesionOut(sesion=token, expira_at=expira)


@router.delete(
    "/acceso",
    tags=["acceso"],
    summary="Salir (cierra la sesión)",
    status_code=204,
    dependencies=[ComoVotante],
)
async def salir(
    session: SessionDep, credenciales: HTTPAuthorizationCredentials | None = Depends(sesion_bearer)
) -> Response:
    if credenciales is not None:
        await acceso.salir(session, credenciales.credentials)
    return Response(status_code=204)


@router.get(
    "/votante", tags=["votación"], summary="Mis elecciones (sesión de votante)", responses={401: PROBLEM}
)
async def votante(v: VotanteDep, session: SessionDep, proceso: ProcesoDep) -> VotanteOut:
    filas = (
        await session.execute(
            select(Eleccion, Boleta.rastreador)
            .join(Credencial, Credencial.eleccion == Eleccion.uuid)
            .outerjoin(Boleta, (Boleta.eleccion == Eleccion.uuid) & (Boleta.votante_id == v.id))
            .where(Credencial.votante_id == v.id)
            .order_by(Eleccion.simulacro, Eleccion.cargo)
        )
    ).all()
    conteos = await _conteos(session)
    return VotanteOut(
        usuario=v.usuario,
        entidad=v.entidad,
        elecciones=[
            EleccionVotante(**_detalle(e, conteos.get(e.uuid, 0), proceso), rastreador=r) for e, r in filas
        ],
    )


@router.post(
    "/elecciones/{uuid}/boletas",
    tags=["votación"],
    summary="Emitir el voto: la boleta cifrada y firmada en su dispositivo",
    description="El cuerpo es el JSON canónico de la boleta Belenios, tal cual lo produjo la cabina. "
    "`Idempotency-Key`: un reintento con la misma clave devuelve el acuse original (200).",
    status_code=201,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    },
    responses={
        200: {"description": "Reintento: el acuse original"},
        401: PROBLEM,
        403: PROBLEM,
        404: {"description": "No existe la elección", **PROBLEM},
        409: PROBLEM,
        413: {"description": "La boleta excede 1 MB", **PROBLEM},
        422: PROBLEM,
    },
)
async def emitir(
    uuid: Uuid,
    request: Request,
    v: VotanteDep,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Any:
    cuerpo = await request.body()
    if len(cuerpo) > 1_000_000:
        raise Problem(413, "La boleta excede 1 MB.")
    try:
        texto = cuerpo.decode("utf-8")
        json.loads(texto)
    except ValueError:
        raise Problem(422, "El cuerpo debe ser la boleta en JSON (UTF-8).", slug="boleta-invalida") from None
    e = await service.eleccion_o_404(session, uuid, bloqueo="compartido")
    acuse = await service.emitir(
        session, e, v, texto, idempotency_key, proceso, reloj.ahora(), request.app.state.verificadores
    )
    salida = AcuseOut(
        rastreador=acuse.rastreador,
        eleccion=acuse.eleccion,
        emitida_at=acuse.emitida_at,
        tablon=f"/v1/elecciones/{uuid}/tablon",
    )
    if acuse.nuevo:
        return salida
    return Response(salida.model_dump_json(), status_code=200, media_type="application/json")


# --- Key ceremony, opening, close, drills -------------------------------------------------------------------


@router.get(
    "/elecciones/{uuid}/ceremonia",
    tags=["ceremonia"],
    summary="Estado de la ceremonia de llaves y sus mensajes públicos (público)",
    responses={404: PROBLEM},
)
async def ceremonia_estado(uuid: Uuid, session: SessionDep) -> dict[str, Any]:
    return await ceremonia.estado(session, await service.eleccion_o_404(session, uuid))


@router.put(
    "/elecciones/{uuid}/ceremonia/{indice}/{paso}",
    tags=["ceremonia"],
    summary="Entregar el mensaje público de un paso de la ceremonia (custodio)",
    description="Paso 1 certificado, 2 polinomio, 3 clave de verificación. "
    "Lo envía `vmre custodio ceremonia`.",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def ceremonia_paso(
    uuid: Uuid,
    indice: Annotated[int, Path(ge=1, le=99)],
    paso: Annotated[int, Path(ge=1, le=3)],
    contenido: dict[str, Any],
    session: SessionDep,
    custodio: Custodio,
) -> dict[str, Any]:
    e = await service.eleccion_o_404(session, uuid)
    return await ceremonia.recibir(session, e, indice, paso, custodio.sub, contenido)


@router.post(
    "/elecciones/{uuid}/apertura",
    tags=["ceremonia"],
    summary="Abrir la elección: acta de apertura firmada con la urna vacía (ine-admin)",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def apertura(
    uuid: Uuid, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, settings: SettingsDep, _: Admin
) -> dict[str, Any]:
    e = await service.eleccion_o_404(session, uuid)
    return await service.abrir(session, e, proceso, settings, reloj.ahora())


@router.post(
    "/elecciones/{uuid}/cierre",
    tags=["ceremonia"],
    summary="Sellar la urna al terminar el periodo (ine-admin; también ocurre solo a la hora del cierre)",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def cierre(
    uuid: Uuid, request: Request, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, _: Admin
) -> SelloOut:
    e = await service.eleccion_o_404(session, uuid, bloqueo="exclusivo")
    sello = await service.sellar(session, e, reloj.ahora(), proceso, request.app.state.verificadores)
    return SelloOut(eleccion=uuid, sello=sello)


@router.post(
    "/simulacros",
    tags=["ceremonia"],
    summary="Crear un simulacro: elecciones aparte, marcadas, con llaves propias (ine-admin)",
    status_code=201,
    responses={404: PROBLEM, 422: PROBLEM},
)
async def simulacro(
    datos: SimulacroIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    settings: SettingsDep,
    _: Admin,
) -> list[EleccionOut]:
    creadas = await service.crear_simulacro(
        session, proceso, settings, datos.entidad, datos.inicio, datos.fin, reloj.ahora()
    )
    return [EleccionOut(**_salida(e, 0)) for e in creadas]


# --- The voting booth ------------------------------------------------------------------------------------


@paginas.get("/cabina", include_in_schema=False)
async def cabina() -> FileResponse:
    return FileResponse(ESTATICOS / "cabina.html", media_type="text/html; charset=utf-8")
