"""registro use cases: (session, input) -> result. Stage events; never commit."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import repository
from services.registro.models import Outbox, Solicitud
from services.registro.schemas import SolicitudIn
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage
from shared.bus.topics import REGISTRO_SOLICITUD
from shared.db import insert_if_absent, utcnow
from shared.events import registro as eventos
from shared.problems import Problem

# Crockford base32 without look-alikes: readable over the phone.
_ALFABETO = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def nuevo_folio() -> str:
    """Unguessable: 100 random bits."""
    cuerpo = "".join(secrets.choice(_ALFABETO) for _ in range(20))
    return f"VMRE-{cuerpo[:5]}-{cuerpo[5:10]}-{cuerpo[10:15]}-{cuerpo[15:]}"


async def solicitar(session: AsyncSession, datos: SolicitudIn) -> Solicitud:
    folio = nuevo_folio()
    insertada = await insert_if_absent(
        session,
        Solicitud,
        {
            "folio": folio,
            "clave_elector": datos.clave_elector,
            "entidad": datos.entidad,
            "modalidad": datos.modalidad,
            "estado": "recibida",
            "version": 1,
            "recibida_at": utcnow(),
        },
        conflict=["clave_elector"],
    )
    # One person per clave: a concurrent or earlier request already holds it; never a second record.
    solicitud = await repository.by_clave(session, datos.clave_elector)
    assert solicitud is not None
    if not insertada:
        raise _duplicada(solicitud)
    stage(
        session,
        Outbox,
        REGISTRO_SOLICITUD,
        Envelope.new(
            event_type=eventos.SOLICITUD_RECIBIDA,
            source="registro",
            aggregate_id=solicitud.folio,
            aggregate_version=solicitud.version,
            data=eventos.SolicitudRecibida(
                folio=solicitud.folio,
                entidad=solicitud.entidad,
                modalidad=datos.modalidad,
                recibida_at=solicitud.recibida_at,
            ),
        ),
    )
    return solicitud


def _duplicada(existente: Solicitud) -> Problem:
    return Problem(
        409,
        "Ya existe una solicitud con esta clave de elector en este proceso; consulte su folio.",
        slug="solicitud-duplicada",
        folio=existente.folio,
        estado=existente.estado,
    )
