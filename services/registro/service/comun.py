"""registro · what every use case shares: folios, the two refusals, the history row, the application's new
version and its event, and the checks before a change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import domain, repository
from services.registro.domain import Estado
from services.registro.models import Outbox, Solicitud, emisor
from shared.auth import Principal
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage
from shared.bus.topics import REGISTRO_SOLICITUD
from shared.events import registro as eventos
from shared.problems import Problem
from shared.proceso import Proceso

CIUDADANIA = "ciudadania"


def nuevo_folio() -> str:
    """Unguessable: 100 random bits."""
    cuerpo = domain.aleatorio(20)
    return f"VMRE-{cuerpo[:5]}-{cuerpo[5:10]}-{cuerpo[10:15]}-{cuerpo[15:]}"


def nueva_confirmacion() -> str:
    """What the applicant quotes with a change code: 80 random bits."""
    return "C-" + domain.aleatorio(16)


class SolicitudDuplicada(Exception):
    """The clave de elector already has an application in this process (``existente``, with its folio: only
    for the applicant's own contact and INE operators)."""

    def __init__(self, existente: Solicitud) -> None:
        super().__init__("solicitud duplicada")
        self.existente = existente


class RechazoConEfecto(Exception):
    """A refusal whose effect must still be kept (a wrong code counted against its tries): the route answers
    with ``problem`` *without* raising it, so that the request's transaction commits (raising a ``Problem``
    rolls everything back)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


# --- events and the applications' history ---------------------------------------------------------


def _fila_historial(
    folio: str | None, actor: Principal | None, accion: str, ahora: dt.datetime, **detalle: Any
) -> dict[str, Any]:
    return {
        "folio": folio,
        "actor": actor.sub if actor else CIUDADANIA,
        "rol": actor.rol.value if actor else CIUDADANIA,
        "accion": accion,
        "detalle": detalle,
        "at": ahora,
    }


async def _al_historial(
    session: AsyncSession,
    folio: str | None,
    actor: Principal | None,
    accion: str,
    ahora: dt.datetime,
    **detalle: Any,
) -> None:
    await repository.anotar_historial(session, [_fila_historial(folio, actor, accion, ahora, **detalle)])


def _cambio(solicitud: Solicitud, event_type: str, ahora: dt.datetime) -> Envelope:
    """The new version of the application and the event that says so (staged by the caller)."""
    solicitud.version += 1
    solicitud.actualizada_at = ahora
    return emisor.envelope(
        event_type=event_type,
        aggregate_id=solicitud.folio,
        aggregate_version=solicitud.version,
        data=eventos.SolicitudActualizada(
            folio=solicitud.folio,
            entidad=solicitud.entidad,
            pais=solicitud.pais,
            modalidad=solicitud.modalidad,
            estado=solicitud.estado,
            motivos=list(solicitud.motivos),
        ),
    )


async def _publicar_cambio(
    session: AsyncSession, solicitud: Solicitud, event_type: str, ahora: dt.datetime
) -> None:
    await stage(session, Outbox, REGISTRO_SOLICITUD, _cambio(solicitud, event_type, ahora))


# --- the application, and the checks before changing it ----------------------------------------------


async def obtener(session: AsyncSession, folio: str, *, para_actualizar: bool = False) -> Solicitud:
    return _existente(await repository.by_folio(session, folio, para_actualizar=para_actualizar))


def _existente(solicitud: Solicitud | None) -> Solicitud:
    if solicitud is None:
        raise Problem(404, "No hay ninguna solicitud con ese folio; revise que esté completo.")
    return solicitud


def _exigir_estado(solicitud: Solicitud, accion: str, texto: str) -> None:
    if Estado(solicitud.estado) not in domain.TRANSICIONES[accion]:
        permitidos = ", ".join(sorted(e.value for e in domain.TRANSICIONES[accion]))
        raise Problem(
            409,
            f"No se puede {texto} una solicitud en estado {solicitud.estado} (solo en: {permitidos}).",
            slug="transicion-invalida",
            estado=solicitud.estado,
        )


async def _para_cambio(
    session: AsyncSession, folio: str, proceso: Proceso, accion: str, texto: str
) -> Solicitud:
    """The application, locked, if ``accion`` is allowed from its state and its entidad's list is open."""
    solicitud = await obtener(session, folio, para_actualizar=True)
    _exigir_estado(solicitud, accion, texto)
    await _exigir_lista_abierta(session, proceso, solicitud)
    return solicitud


async def _exigir_lista_abierta(session: AsyncSession, proceso: Proceso, solicitud: Solicitud) -> None:
    _lista_abierta(solicitud, await repository.cierre(session, proceso.clave, solicitud.entidad) is not None)


def _lista_abierta(solicitud: Solicitud, cerrada: bool) -> None:
    if cerrada:
        raise Problem(
            409,
            f"La LNERE de la entidad {solicitud.entidad} ya está cerrada: no admite cambios.",
            slug="lnere-cerrada",
        )
