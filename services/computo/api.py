from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from services.computo import acta as acta_computo
from services.computo import escrutinio, repository, service
from services.computo.config import Settings
from services.computo.models import Acta, Mesa
from services.computo.schemas import (
    ActaComputoVista,
    ActaIn,
    ActaOut,
    AnulacionIn,
    ClaveFirma,
    CorreccionIn,
    EstadoEscrutinio,
    InstalacionIn,
    MesaOut,
)
from shared import auditoria, firma
from shared.auth import INE_ROLES, Principal, Rol, check_entidad, require
from shared.claves import EleccionPath, EntidadPath, EntidadQuery
from shared.problems import PROBLEM, Problem
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1")
MesaPath = Annotated[int, Path(ge=0, le=10_000, description="0 es la mesa electrónica")]
Operador = Annotated[Principal, Depends(require(Rol.INE_OPERADOR, Rol.INE_ADMIN))]
Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]
Lector = Annotated[Principal, Depends(require(*INE_ROLES, Rol.OPL, Rol.PARTIDO))]


def _mesa_out(m: Mesa) -> MesaOut:
    return MesaOut(
        entidad=m.entidad,
        numero=m.numero,
        tipo=m.tipo,
        sobres=m.sobres,
        instalada_at=m.instalada_at,
        funcionarios=m.funcionarios,
        representantes=m.representantes,
    )


async def _acta_out(session: Any, acta: Acta, advertencias: list[str] | None = None) -> ActaOut:
    capturas, historial = await service.historial(session, acta)
    return ActaOut(
        entidad=acta.entidad,
        mesa=acta.mesa,
        cargo=acta.cargo,
        estado=acta.estado,
        datos=acta.datos,
        diferencias=acta.diferencias,
        advertencias=(acta.datos or {}).get("advertencias", advertencias or []),
        version=acta.version,
        capturas=capturas,
        historial=historial,
    )


@router.get(
    "/mesas", tags=["mesas"], summary="Mesas de Escrutinio y Cómputo (INE, opl de su entidad, partidos)"
)
async def mesas(
    session: SessionDep,
    principal: Lector,
    entidad: EntidadQuery = None,
) -> list[MesaOut]:
    if principal.rol == Rol.OPL:
        entidad = entidad or principal.entidad
        check_entidad(principal, entidad or "")
    return [_mesa_out(m) for m in await repository.mesas(session, entidad)]


@router.post(
    "/mesas/{entidad}/{mesa}/instalacion",
    tags=["mesas"],
    summary="Instalar la mesa: funcionarios y representantes de partido (ine-operador)",
    responses={404: PROBLEM, 422: PROBLEM},
)
async def instalacion(
    entidad: EntidadPath,
    mesa: MesaPath,
    datos: InstalacionIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    _: Operador,
) -> MesaOut:
    m = await service.mesa_o_404(session, entidad, mesa)
    return _mesa_out(await service.instalar(m, datos, proceso, reloj.ahora()))


@router.post(
    "/mesas/{entidad}/{mesa}/actas",
    tags=["actas"],
    summary="Capturar el acta de escrutinio de una mesa postal (ine-operador; dos capturas deben coincidir)",
    description="Se rechaza, sin guardar nada, un acta cuyas sumas no cuadran (422, con cada campo y qué "
    "revisar). La primera captura espera una segunda de otra persona: si coinciden el acta queda "
    "`validada`; si no, pasa a `revision` con las diferencias.",
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def capturar(
    entidad: EntidadPath,
    mesa: MesaPath,
    acta: ActaIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
) -> ActaOut:
    m = await service.mesa_o_404(session, entidad, mesa)
    if m.tipo != "postal":
        raise Problem(
            409, "La mesa electrónica no captura actas: su resultado sale del descifrado del cómputo."
        )
    guardada, advertencias = await service.capturar(session, m, acta, operador.sub, proceso, reloj.ahora())
    return await _acta_out(session, guardada, advertencias)


@router.put(
    "/mesas/{entidad}/{mesa}/actas/{cargo}",
    tags=["actas"],
    summary="Corregir un acta, con motivo (ine-admin; queda en el historial)",
    responses={404: PROBLEM, 422: PROBLEM},
)
async def corregir(
    entidad: EntidadPath,
    mesa: MesaPath,
    cargo: str,
    acta: CorreccionIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    admin: Admin,
) -> ActaOut:
    if acta.cargo != cargo:
        raise Problem(422, f"El cargo del cuerpo ({acta.cargo}) no es el de la ruta ({cargo}).")
    m = await service.mesa_o_404(session, entidad, mesa)
    return await _acta_out(
        session, await service.corregir(session, m, acta, admin.sub, proceso, reloj.ahora())
    )


@router.get(
    "/mesas/{entidad}/{mesa}/actas/{cargo}",
    tags=["actas"],
    summary="Un acta: estado, cifras, diferencias entre capturas e historial de correcciones",
    responses={404: PROBLEM},
)
async def acta(
    entidad: EntidadPath, mesa: MesaPath, cargo: str, session: SessionDep, principal: Lector
) -> ActaOut:
    check_entidad(principal, entidad)
    a = await repository.acta(session, entidad, mesa, cargo)
    if a is None:
        raise Problem(404, f"No se ha capturado el acta de la mesa {mesa} ({entidad}) para {cargo}.")
    return await _acta_out(session, a)


# --- Electronic MEC: the custodians decrypt ---------------------------------------------------------------

Custodio = Annotated[Principal, Depends(require(Rol.CUSTODIO))]


@router.get(
    "/escrutinio-electronico/{eleccion}",
    tags=["escrutinio electrónico"],
    summary="Recuento cifrado de una urna sellada, descifrados recibidos y resultado (público)",
    response_model=EstadoEscrutinio,
    response_model_exclude_unset=True,  # `mensaje` only while there is no result, as escrutinio.estado says
    responses={404: PROBLEM},
)
async def escrutinio_estado(eleccion: EleccionPath, session: SessionDep) -> dict[str, Any]:
    return await escrutinio.estado(session, await escrutinio.o_404(session, eleccion))


@router.put(
    "/escrutinio-electronico/{eleccion}/descifrados/{indice}",
    tags=["escrutinio electrónico"],
    summary="Entregar un descifrado parcial con sus pruebas de Belenios y sus pruebas fuertes (custodio; lo "
    "hace `vmre custodio descifrar`)",
    description='El cuerpo es `{"partial_decryption": …, "strong_proofs": …}`: el `partial_decryption` '
    "de Belenios (se guarda y publica re-serializado en JSON canónico, idéntico al de `belenios-tool`) y "
    '`{"strong_decryption_proofs": [[{challenge, response}, …], …]}`, una prueba fuerte por entrada del '
    "recuento cuyo reto también liga el cifrado (α, β) y el factor (la de Belenios 3.0 no liga el factor: "
    "con ella un custodio puede publicar un factor falso cuya prueba verifica). Se revisan todas contra la "
    "clave de verificación del custodio: si falta alguna o alguna no verifica, 422 (queda en la bitácora). "
    "Con k descifrados válidos se publica el resultado; si aun así alguno no combinara (descifrados "
    "anteriores a las pruebas fuertes), se prueban las demás combinaciones de k, el resultado sale de una "
    "que funciona y el descifrado falso queda en cuarentena (visible en el estado de la elección).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["partial_decryption", "strong_proofs"],
                        "properties": {
                            "partial_decryption": {
                                "type": "object",
                                "description": "partial_decryption de Belenios 3.0 "
                                "{decryption_factors, decryption_proofs}",
                            },
                            "strong_proofs": {
                                "type": "object",
                                "description": "{strong_decryption_proofs}: una prueba fuerte por entrada",
                            },
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    },
    response_model=EstadoEscrutinio,
    response_model_exclude_unset=True,
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def escrutinio_descifrado(
    eleccion: EleccionPath,
    indice: Annotated[int, Path(ge=1, le=99)],
    request: Request,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    custodio: Custodio,
) -> dict[str, Any]:
    cuerpo = await request.body()
    if len(cuerpo) > 2_000_000:
        raise Problem(413, "La entrega del descifrado parcial excede 2 MB.")
    e = await escrutinio.o_404(session, eleccion, bloqueo=True)
    try:
        return await escrutinio.recibir(
            session,
            e,
            indice,
            cuerpo.decode("utf-8", "replace"),
            custodio.sub,
            proceso,
            reloj.ahora(),
            auditar=lambda **detalle: auditoria.anotar(request, **detalle),
        )
    except escrutinio.DescifradoRechazado as rechazo:
        # The request's transaction rolls back (nothing of the share is kept): the refusal is recorded in a
        # transaction of its own. Only the reason and the SHA-256 of what arrived (public; never a secret).
        async with request.app.state.runtime.maker() as aparte, aparte.begin():
            await auditoria.registrar_peticion(
                aparte, request, estado="rechazado", motivo=rechazo.motivo, sha256=rechazo.sha256
            )
        raise rechazo.problem from None


@router.post(
    "/escrutinio-electronico/{eleccion}/descifrados/{indice}/anulacion",
    tags=["escrutinio electrónico"],
    summary="Anular un descifrado parcial, con motivo (ine-admin; queda en la bitácora)",
    description="El descifrado anulado deja de usarse (también uno en cuarentena) y su custodio puede "
    "entregar otro. La bitácora guarda el motivo y el SHA-256 del texto anulado. 409 si el resultado ya se "
    "publicó o si ya estaba anulado.",
    response_model=EstadoEscrutinio,
    response_model_exclude_unset=True,
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
async def escrutinio_anulacion(
    eleccion: EleccionPath,
    indice: Annotated[int, Path(ge=1, le=99)],
    datos: AnulacionIn,
    request: Request,
    session: SessionDep,
    reloj: RelojDep,
    _: Admin,
) -> dict[str, Any]:
    e = await escrutinio.o_404(session, eleccion, bloqueo=True)
    estado, sha256 = await escrutinio.anular(session, e, indice, datos.motivo, reloj.ahora())
    auditoria.anotar(request, motivo=datos.motivo, sha256=sha256)
    return estado


# --- Acta de cómputo de entidad -------------------------------------------------------------------------

Cargo = Annotated[str | None, Query(max_length=64, description="Por omisión, el cargo de la entidad")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _publicada(
    session: Any, proceso: Proceso, principal: Principal, entidad: str, cargo: str | None
) -> tuple[dict[str, Any], str]:
    """The published acta de cómputo of the entidad and cargo (by default, the entidad's), and that cargo."""
    check_entidad(principal, entidad)  # before anything about the entidad is looked up
    clave = acta_computo.cargo_de(proceso, entidad, cargo)
    a = await repository.acta_computo(session, entidad, clave)
    if a is None:
        raise Problem(404, f"El cómputo de la entidad {entidad} ({clave}) aún no se cierra.")
    return a.documento, clave


@router.post(
    "/computos/{entidad}/cierre",
    tags=["cómputo"],
    summary="Cerrar el cómputo de la entidad: acta firmada, evento y webhooks (ine-admin)",
    description="409 con lo que falta: actas sin validar o en revisión, urna sin sellar, descifrados. "
    "Responde el acta publicada, igual que `GET /v1/computos/{entidad}`: el documento firmado tal cual se "
    "guardó (no se re-serializa: la firma cubre las claves en su orden).",
    response_model=None,
    responses={
        200: {"model": ActaComputoVista, "description": "El acta publicada y su firma"},
        404: PROBLEM,
        409: PROBLEM,
    },
)
async def cerrar_computo(
    entidad: EntidadPath,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    request: Request,
    _: Admin,
    cargo: Cargo = None,
) -> dict[str, Any]:
    clave = acta_computo.cargo_de(proceso, entidad, cargo)
    documento = await acta_computo.cerrar(session, entidad, clave, proceso, _settings(request), reloj.ahora())
    return acta_computo.vista(documento)


@router.get(
    "/computos/{entidad}",
    tags=["cómputo"],
    summary="Acta de cómputo de la entidad (INE; opl solo la suya). 404 antes del cierre",
    description="Lo mismo que recibe el webhook `computo.acta.publicada` en `datos` (ver `webhooks`). El "
    "cuerpo es el documento firmado tal cual se guardó: verifique `firma` con la clave de "
    "`GET /v1/clave-firma`.",
    response_model=None,
    responses={
        200: {"model": ActaComputoVista, "description": "El acta y su firma"},
        403: PROBLEM,
        404: PROBLEM,
    },
)
async def computo(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, principal: Lector, cargo: Cargo = None
) -> dict[str, Any]:
    documento, _ = await _publicada(session, proceso, principal, entidad, cargo)
    return acta_computo.vista(documento)


@router.get(
    "/computos/{entidad}/acta.csv",
    tags=["cómputo"],
    summary="El acta de cómputo en CSV",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "Columnas seccion, clave, postal, electronica, total",
        },
        403: PROBLEM,
        404: PROBLEM,
    },
)
async def computo_csv(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, principal: Lector, cargo: Cargo = None
) -> Response:
    documento, clave = await _publicada(session, proceso, principal, entidad, cargo)
    return Response(
        acta_computo.csv_de(documento, proceso),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="computo-{entidad}-{clave}.csv"'},
    )


@router.get(
    "/computos/{entidad}/acta.pdf",
    tags=["cómputo"],
    summary="El acta de cómputo, imprimible (PDF)",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "El acta imprimible"},
        403: PROBLEM,
        404: PROBLEM,
    },
)
async def computo_pdf(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, principal: Lector, cargo: Cargo = None
) -> Response:
    documento, clave = await _publicada(session, proceso, principal, entidad, cargo)
    return Response(
        acta_computo.pdf_de(documento, proceso),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="computo-{entidad}-{clave}.pdf"'},
    )


@router.get("/clave-firma", tags=["cómputo"], summary="Clave pública Ed25519 que firma las actas (público)")
async def clave_firma(request: Request) -> ClaveFirma:
    semilla = _settings(request).clave_firma.get_secret_value()
    return ClaveFirma(algoritmo="Ed25519", clave_verificacion=firma.clave_verificacion(semilla))
