"""registro · applying and following: a new application, the folio re-sent to a duplicate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import avisos, domain, repository
from services.registro.domain import Estado
from services.registro.models import Notificacion, Solicitud, emisor
from services.registro.schemas import SolicitudIn
from services.registro.service.comun import SolicitudDuplicada, _al_historial, nuevo_folio
from services.registro.service.validacion import errores_solicitud, verificar_periodo
from shared.auth import Principal
from shared.bus.topics import REGISTRO_SOLICITUD
from shared.events import registro as eventos
from shared.notificaciones import Aviso, destinos, encolar, enmascarar
from shared.problems import Problem
from shared.proceso import Proceso

# A duplicate application re-sends the folio to the contact on file at most this often.
REENVIO_FOLIO_CADA = dt.timedelta(minutes=15)


async def solicitar(
    session: AsyncSession,
    datos: SolicitudIn,
    proceso: Proceso,
    ahora: dt.datetime,
    canal: str = "internet",
    actor: Principal | None = None,
    avisar: bool = True,
) -> Solicitud:
    """A new application (and, with ``avisar``, its receipt with the folio to the applicant's contact).

    The same clave de elector again raises ``SolicitudDuplicada``: the caller decides what the other party
    may see (the applicant: nothing, the folio goes to their contact, ``reenviar_folio``; an operator's
    batch: the folio)."""
    errores = errores_solicitud(datos, proceso)
    if errores:
        raise Problem(
            422,
            "Revise estos campos: " + ", ".join(sorted({e["campo"] for e in errores})) + ".",
            errors=errores,
        )
    await verificar_periodo(session, proceso, datos.entidad, ahora)
    domicilio = datos.domicilio.model_dump()
    valores = {
        "folio": nuevo_folio(),
        "referencia": domain.nueva_referencia(),
        "proceso": proceso.clave,
        "clave_elector": datos.clave_elector,
        "clave_elector_indice": datos.clave_elector,  # the type stores its HMAC, never the clave
        "nombre": datos.nombre,
        "apellido_paterno": datos.apellido_paterno,
        "apellido_materno": datos.apellido_materno,
        "fecha_nacimiento": datos.fecha_nacimiento,
        "sexo": datos.sexo,
        "entidad": datos.entidad,
        "pais": datos.pais,
        **domicilio,
        "email": str(datos.email) if datos.email else None,
        "telefono": datos.telefono,
        "modalidad": datos.modalidad,
        "sede": datos.sede,
        "canal": canal,
        "estado": Estado.RECIBIDA.value,
        "motivos": [],
        "version": 1,
        "recibida_at": ahora,
        "actualizada_at": ahora,
    }
    # One person per clave: a concurrent or earlier request already holds it; never a second record.
    if not await repository.insertar_solicitud(session, valores):
        existente = await repository.by_clave(session, proceso.clave, datos.clave_elector)
        assert existente is not None
        raise SolicitudDuplicada(existente)
    solicitud = Solicitud(**valores)  # the row just written, not read back (not attached to the session)
    await emisor.emitir(
        session,
        REGISTRO_SOLICITUD,
        event_type=eventos.SOLICITUD_RECIBIDA,
        aggregate_id=solicitud.folio,
        aggregate_version=solicitud.version,
        data=eventos.SolicitudRecibida(
            folio=solicitud.folio,
            entidad=solicitud.entidad,
            pais=solicitud.pais,
            modalidad=datos.modalidad,
            recibida_at=ahora,
        ),
    )
    await _al_historial(session, solicitud.folio, actor, "solicitud_recibida", ahora, canal=canal)
    if avisar:
        await encolar(session, Notificacion, [avisos.recibida(solicitud, proceso)], ahora)
    return solicitud


def _enviado_a(aviso: Aviso) -> list[str]:
    """Where a message goes, masked (what the answer may say about the contact on file)."""
    return [enmascarar(destino) for _canal, destino in destinos(aviso)]


async def reenviar_folio(
    session: AsyncSession, existente: Solicitud, proceso: Proceso, ahora: dt.datetime
) -> Problem:
    """Someone applied again with a clave that already has an application: the folio goes to the contact on
    file (at most once per ``REENVIO_FOLIO_CADA``, however many ask), never to whoever asked. Returns the 409
    to answer; the caller commits what this staged (raising would roll the message back)."""
    aviso = avisos.folio_reenviado(existente, proceso, ahora)
    contacto = _enviado_a(aviso)
    base = "Ya existe una solicitud con esta clave de elector en este proceso. Por seguridad, su folio no se "
    if not contacto:
        return Problem(
            409,
            base + "muestra aquí, y la solicitud no tiene correo ni teléfono registrados a dónde reenviarlo: "
            "comuníquese con INETEL para recuperarlo.",
            slug="solicitud-duplicada",
            contacto=[],
            reenviado=False,
        )
    # Atomic: of simultaneous duplicates one finds the column old enough and sets it; the rest see it set.
    hecho = await repository.marcar_reenvio_folio(session, existente.id, ahora, ahora - REENVIO_FOLIO_CADA)
    donde = ", ".join(contacto)
    if not hecho:
        minutos = int(REENVIO_FOLIO_CADA.total_seconds() // 60)
        return Problem(
            409,
            base + f"muestra aquí: ya se reenvió al contacto registrado en la solicitud ({donde}) hace menos "
            f"de {minutos} minutos. Revise ese buzón o ese teléfono (también la carpeta de correo no "
            "deseado); no se reenvía de nuevo hasta que pasen esos minutos.",
            slug="solicitud-duplicada",
            contacto=contacto,
            reenviado=False,
        )
    await encolar(session, Notificacion, [aviso], ahora)
    await _al_historial(session, existente.folio, None, "folio_reenviado", ahora, canal=destinos(aviso)[0][0])
    return Problem(
        409,
        base + f"muestra aquí: lo reenviamos al contacto registrado en la solicitud ({donde}).",
        slug="solicitud-duplicada",
        contacto=contacto,
        reenviado=True,
    )
