"""What several of electronico's route modules share: dependencies (settings, the access limit, the voter's
session, roles) and the election's public shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.electronico import acceso, service
from services.electronico.config import Settings
from services.electronico.models import Eleccion, Votante
from services.electronico.schemas import ActaAperturaFirmada, EleccionDetalle, EleccionOut, Opcion
from shared import auditoria, limites
from shared.auth import Principal, Rol, require
from shared.problems import Problem
from shared.proceso import Proceso
from shared.settings import redes
from shared.web import RelojDep, SessionDep

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
    proxies = redes(request.app.state.settings.proxies_confiables)
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
    v, request.state.sesion_creada_at = await acceso.votante_de_sesion(
        session, credenciales.credentials, reloj.ahora()
    )
    return v


VotanteDep = Annotated[Votante, Depends(_votante)]


def salida(e: Eleccion, boletas: int) -> EleccionOut:
    return EleccionOut(
        uuid=e.uuid,
        entidad=e.entidad,
        cargo=e.cargo,
        nombre=e.nombre,
        simulacro=e.simulacro,
        estado=e.estado,
        inicio=e.inicio,
        fin=e.fin,
        boletas=boletas,
        sello=e.sello,
    )


def eleccion_detalle(e: Eleccion, boletas: int, proceso: Proceso) -> EleccionDetalle:
    acta = e.acta_apertura
    return EleccionDetalle(
        **dict(salida(e, boletas)),
        opciones=[Opcion(**o) for o in service.pregunta(e, proceso)],
        eleccion_json=e.eleccion_json,
        acta_apertura=None if acta is None else ActaAperturaFirmada.model_validate(acta),
    )
