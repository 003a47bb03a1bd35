"""What the credential authority makes public: how many credentials each election has (compare it with the
LNERE), its signed lists and its verification key. Nothing here reveals who has which credential."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.credenciales import repository, service
from services.credenciales.config import Settings
from services.credenciales.schemas import ClaveFirma, EleccionCredenciales, ListaFirmada
from shared import firma
from shared.claves import EleccionPath
from shared.problems import PROBLEM, Problem
from shared.web import SessionDep

router = APIRouter(prefix="/v1")


@router.get(
    "/elecciones",
    tags=["credenciales"],
    summary="Credenciales emitidas por elección y votantes por internet de la LNERE (público)",
)
async def elecciones(session: SessionDep) -> list[EleccionCredenciales]:
    filas = await repository.elecciones(session)
    cierres = await repository.cierres(session)
    return [EleccionCredenciales(**service.resumen(e, cierres.get(e.entidad))) for e in filas]


@router.get(
    "/elecciones/{eleccion}/lista",
    tags=["credenciales"],
    summary="La lista de credenciales públicas firmada por la autoridad (público)",
    description="Número de credenciales, votantes por internet de la LNERE y el SHA-256 de la lista ordenada "
    "tal como va en el archivo público; firmada con Ed25519. Con ella, `vmre verificar --lista-credenciales` "
    "comprueba que el archivo de la elección tiene exactamente esas credenciales. El cuerpo es el documento "
    "firmado tal cual se guardó (no se re-serializa: la firma cubre las claves en su orden).",
    response_model=None,
    responses={200: {"model": ListaFirmada, "description": "La lista y su firma"}, 404: PROBLEM},
)
async def lista(eleccion: EleccionPath, session: SessionDep, request: Request) -> dict[str, Any]:
    e = await repository.eleccion(session, eleccion)
    if e is None:
        raise Problem(404, f"La autoridad de credenciales no conoce la elección {eleccion}.")
    if e.lista is None:
        cierre = await repository.cierre(session, e.entidad)
        reserva = len(service.reserva(request.app.state.proceso, e))
        falta = (
            "aún no se cierra la LNERE de la entidad"
            if cierre is None
            else f"hay {e.emitidas} de {cierre.electronica + cierre.presencial + reserva + e.probadores} "
            f"credenciales ({cierre.electronica} votantes por internet, {cierre.presencial} en persona, "
            f"{reserva} de reserva de las sedes, {e.probadores} probadores)"
        )
        raise Problem(404, f"La lista de la elección {eleccion} aún no está firmada: {falta}.")
    return dict(e.lista)


@router.get(
    "/clave-firma", tags=["credenciales"], summary="Clave pública Ed25519 que firma las listas (público)"
)
async def clave_firma(request: Request) -> ClaveFirma:
    settings: Settings = request.app.state.settings
    return ClaveFirma(
        clave_verificacion=firma.clave_verificacion(settings.clave_firma.get_secret_value()),
        algoritmo=firma.ALGORITMO,
    )
