"""registro use cases: (session, input) -> result. Stage events and audit records; never commit."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import avisos, domain, repository
from services.registro.domain import Estado
from services.registro.models import (
    Auditoria,
    CambioPendiente,
    CierreLnere,
    Documento,
    Notificacion,
    Observacion,
    Outbox,
    Solicitud,
)
from services.registro.schemas import (
    Baja,
    CambioModalidad,
    CambioVerificado,
    ConfirmacionIn,
    Correccion,
    Dictamen,
    DictamenDeFolio,
    FilaRechazada,
    ReporteDictamenes,
    ReporteLote,
    Resolucion,
    SinAcceso,
    SolicitudAclaracion,
    SolicitudIn,
)
from shared.auth import Principal
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage, stage_many
from shared.bus.topics import (
    REGISTRO_LNERE,
    REGISTRO_LNERE_ELECTRONICA,
    REGISTRO_LNERE_POSTAL,
    REGISTRO_SOLICITUD,
)
from shared.db import insert_if_absent
from shared.events import registro as eventos
from shared.notificaciones import Aviso, destinos, encolar, enmascarar
from shared.problems import Problem, validation_errors
from shared.proceso import Proceso

CIUDADANIA = "ciudadania"

TIPOS_DOCUMENTO = ("credencial_frente", "credencial_reverso", "comprobante_domicilio")
MAX_DOCUMENTO = 5 * 1024 * 1024
# Each admitted type: its signature and what must follow it (a JPEG's next marker; a PNG's first chunk is
# IHDR; a PDF names its version).
FIRMAS: dict[bytes, tuple[str, Callable[[bytes], bool]]] = {
    b"\xff\xd8\xff": ("image/jpeg", lambda c: len(c) > 3 and c[3] >= 0xC0),
    b"\x89PNG\r\n\x1a\n": ("image/png", lambda c: c[8:16] == b"\x00\x00\x00\x0dIHDR"),
    b"%PDF-": ("application/pdf", lambda c: re.match(rb"%PDF-[12]\.[0-9]", c) is not None),
}


# A duplicate application re-sends the folio to the contact on file at most this often.
REENVIO_FOLIO_CADA = dt.timedelta(minutes=15)
# A change code: valid this long, this many wrong tries, and at most this many codes per application an hour.
CODIGO_VIGENCIA = dt.timedelta(minutes=10)
MAX_INTENTOS = 5
MAX_CODIGOS_POR_HORA = 5


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


# --- validation ---------------------------------------------------------------------------------------


def _error(campo: str, mensaje: str) -> dict[str, str]:
    return {"campo": campo, "mensaje": mensaje}


def errores_modalidad(
    modalidad: str, domicilio: dict[str, Any], email: str | None, telefono: str | None
) -> list[dict[str, str]]:
    errores = []
    if modalidad == "postal":
        for campo in ("calle_numero", "ciudad", "codigo_postal"):
            if not domicilio.get(campo):
                errores.append(_error(f"domicilio.{campo}", "Obligatorio para votar por correo postal."))
    else:
        if not email:
            errores.append(_error("email", "Obligatorio para votar por internet: ahí llegan sus claves."))
        if not telefono:
            errores.append(
                _error("telefono", "Obligatorio para votar por internet (segundo factor por SMS).")
            )
    return errores


SIN_CONTACTO = (
    "Indique un correo electrónico o un teléfono (o ambos): ahí le enviamos su folio, los códigos para "
    "confirmar cambios y los avisos de su solicitud."
)


def errores_contacto(email: str | None, telefono: str | None) -> list[dict[str, str]]:
    """Every application keeps a contact: the folio, the change codes and the notices go there."""
    if email or telefono:
        return []
    return [_error("email", SIN_CONTACTO), _error("telefono", SIN_CONTACTO)]


def _con_contacto(errores: list[dict[str, str]], email: str | None, telefono: str | None) -> None:
    """Add the contact errors to ``errores`` unless those fields are already named (electrónica)."""
    nombrados = {e["campo"] for e in errores}
    errores += [e for e in errores_contacto(email, telefono) if e["campo"] not in nombrados]


def errores_solicitud(datos: SolicitudIn, proceso: Proceso) -> list[dict[str, str]]:
    errores = [
        _error("clave_elector", m)
        for m in domain.errores_clave(datos.clave_elector, datos.fecha_nacimiento, datos.sexo)
    ]
    if datos.entidad not in proceso.entidades:
        con_cargo = ", ".join(proceso.entidades)
        errores.append(
            _error(
                "entidad",
                f"En este proceso no se vota desde el extranjero por esa entidad "
                f"(entidades con cargo: {con_cargo}).",
            )
        )
    if datos.modalidad not in proceso.modalidades:
        errores.append(
            _error("modalidad", f"Modalidad no disponible en este proceso: {proceso.modalidades}.")
        )
    jornada = proceso.local(proceso.calendario.jornada).date()
    if domain.edad(datos.fecha_nacimiento, jornada) < 18:
        errores.append(
            _error("fecha_nacimiento", "Debe tener 18 años cumplidos el día de la jornada electoral.")
        )
    errores += errores_modalidad(datos.modalidad, datos.domicilio.model_dump(), datos.email, datos.telefono)
    _con_contacto(errores, datos.email, datos.telefono)
    return errores


async def verificar_periodo(
    session: AsyncSession, proceso: Proceso, entidad: str, ahora: dt.datetime
) -> None:
    cal = proceso.calendario
    cerrada = await repository.cierre(session, proceso.clave, entidad)
    if cerrada is not None or not cal.registro_inicio <= ahora < cal.registro_fin:
        inicio, fin = proceso.local(cal.registro_inicio), proceso.local(cal.registro_fin)
        motivo = (
            f"la LNERE de la entidad {entidad} ya se cerró"
            if cerrada
            else (
                f"el periodo de solicitudes es del {inicio:%d/%m/%Y %H:%M} "
                f"al {fin:%d/%m/%Y %H:%M} (hora del Centro)"
            )
        )
        raise Problem(
            422,
            f"Solicitud extemporánea: {motivo}. Recibirá un aviso de no inscripción por extemporaneidad.",
            slug="extemporanea",
            title="Solicitud extemporánea",
        )


# --- events and audit ---------------------------------------------------------------------------------


def _fila_auditoria(
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


async def _auditar(
    session: AsyncSession,
    folio: str | None,
    actor: Principal | None,
    accion: str,
    ahora: dt.datetime,
    **detalle: Any,
) -> None:
    await session.execute(insert(Auditoria).values(**_fila_auditoria(folio, actor, accion, ahora, **detalle)))


def _cambio(solicitud: Solicitud, event_type: str, ahora: dt.datetime) -> Envelope:
    """The new version of the application and the event that says so (staged by the caller)."""
    solicitud.version += 1
    solicitud.actualizada_at = ahora
    return Envelope.new(
        event_type=event_type,
        source="registro",
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


# --- apply and follow ---------------------------------------------------------------------------------


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
        "canal": canal,
        "estado": Estado.RECIBIDA.value,
        "motivos": [],
        "version": 1,
        "recibida_at": ahora,
        "actualizada_at": ahora,
    }
    # One person per clave: a concurrent or earlier request already holds it; never a second record.
    if not await insert_if_absent(session, Solicitud, valores, conflict=["proceso", "clave_elector_indice"]):
        existente = await repository.by_clave(session, proceso.clave, datos.clave_elector)
        assert existente is not None
        raise SolicitudDuplicada(existente)
    solicitud = Solicitud(**valores)  # the row just written, not read back (not attached to the session)
    await stage(
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
                pais=solicitud.pais,
                modalidad=datos.modalidad,
                recibida_at=ahora,
            ),
        ),
    )
    await _auditar(session, solicitud.folio, actor, "solicitud_recibida", ahora, canal=canal)
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
    hecho = await session.execute(
        update(Solicitud)
        .where(
            Solicitud.id == existente.id,
            or_(
                Solicitud.folio_reenviado_at.is_(None),
                Solicitud.folio_reenviado_at <= ahora - REENVIO_FOLIO_CADA,
            ),
        )
        .values(folio_reenviado_at=ahora)
        .execution_options(synchronize_session=False)
    )
    donde = ", ".join(contacto)
    if not hecho.rowcount:  # type: ignore[attr-defined]
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
    await _auditar(session, existente.folio, None, "folio_reenviado", ahora, canal=destinos(aviso)[0][0])
    return Problem(
        409,
        base + f"muestra aquí: lo reenviamos al contacto registrado en la solicitud ({donde}).",
        slug="solicitud-duplicada",
        contacto=contacto,
        reenviado=True,
    )


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


# --- review -------------------------------------------------------------------------------------------


async def dictaminar(
    session: AsyncSession,
    folio: str,
    dictamen: Dictamen,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
) -> Solicitud:
    solicitud = await _para_cambio(session, folio, proceso, "dictamen", "dictaminar")
    motivos = _aplicar_dictamen(solicitud, dictamen, proceso, ahora)
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_DICTAMINADA, ahora)
    await _auditar(session, folio, operador, "dictamen", ahora, resultado=dictamen.resultado, motivos=motivos)
    await encolar(session, Notificacion, [avisos.dictaminada(solicitud, proceso)], ahora)
    return solicitud


def _aplicar_dictamen(
    solicitud: Solicitud, dictamen: Dictamen, proceso: Proceso, ahora: dt.datetime
) -> list[str]:
    """Check the dictamen and apply it to the (locked) application; returns its motivos, deduplicated."""
    motivos = list(dict.fromkeys(dictamen.motivos))
    if dictamen.resultado == "improcedente" and not motivos:
        raise Problem(
            422,
            "Un dictamen improcedente necesita al menos un motivo del catálogo.",
            errors=[_error("motivos", "Indique uno o más motivos (GET /v1/catalogos/motivos).")],
        )
    if dictamen.resultado == "procedente" and motivos:
        raise Problem(
            422,
            "Un dictamen procedente no lleva motivos.",
            errors=[_error("motivos", "Envíe una lista vacía.")],
        )
    solicitud.estado = dictamen.resultado
    solicitud.motivos = motivos
    # Improcedente: the citizen may still correct it (aclaración) until the deadline.
    solicitud.plazo_aclaracion = (
        ahora + dt.timedelta(days=proceso.calendario.aclaracion_dias)
        if dictamen.resultado == "improcedente"
        else None
    )
    return motivos


async def dictaminar_lote(
    session: AsyncSession,
    dictamenes: list[DictamenDeFolio],
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
) -> ReporteDictamenes:
    """Many dictámenes in one transaction, all or nothing: each as ``dictaminar`` would (event, audit trail);
    if any fails, none applies and the 422 names each one. Resending a batch after a cut is harmless: a
    solicitud that already has that same dictamen is left as is (``sin_cambio``)."""
    errores: list[dict[str, str]] = []
    aplicados = sin_cambio = 0
    vistos: set[str] = set()
    # Every application of the batch in one locked read, in folio order (two batches that share folios lock
    # their rows in the same order: no deadlock); the closed lists in another; the events and the audit trail
    # in one insert each at the end. The same checks and changes as ``dictaminar``, one by one.
    solicitudes = await repository.by_folios(
        session, sorted({d.folio for d in dictamenes}), para_actualizar=True
    )
    entidades = sorted({s.entidad for s in solicitudes.values()})
    cerradas = await repository.entidades_cerradas(session, proceso.clave, entidades)
    eventos_lote: list[Envelope] = []
    auditoria: list[dict[str, Any]] = []
    mensajes: list[Aviso] = []
    for i, d in sorted(enumerate(dictamenes), key=lambda x: x[1].folio):
        campo = f"dictamenes[{i}]"
        if d.folio in vistos:
            errores.append(_error(f"{campo}.folio", f"El folio {d.folio} viene más de una vez en el lote."))
            continue
        vistos.add(d.folio)
        actual = solicitudes.get(d.folio)
        try:
            solicitud = _existente(actual)
            _exigir_estado(solicitud, "dictamen", "dictaminar")
            _lista_abierta(solicitud, solicitud.entidad in cerradas)
            motivos = _aplicar_dictamen(solicitud, d, proceso, ahora)
        except Problem as exc:
            # Refused because it is already decided: with this same dictamen, a resent batch; else an error.
            if (
                exc.status == 409
                and actual is not None
                and actual.estado == d.resultado
                and list(actual.motivos or []) == list(dict.fromkeys(d.motivos))
            ):
                sin_cambio += 1
            else:
                errores.append(_error(campo, f"{d.folio}: {exc.detail}"))
            continue
        eventos_lote.append(_cambio(solicitud, eventos.SOLICITUD_DICTAMINADA, ahora))
        mensajes.append(avisos.dictaminada(solicitud, proceso))
        auditoria.append(
            _fila_auditoria(d.folio, operador, "dictamen", ahora, resultado=d.resultado, motivos=motivos)
        )
        aplicados += 1
    if errores:
        raise Problem(
            422,
            f"No se aplicó ningún dictamen del lote: {len(errores)} de {len(dictamenes)} tienen errores. "
            "Corríjalos (o quítelos) y envíe el lote de nuevo.",
            errors=errores,
        )
    if eventos_lote:
        await stage_many(session, Outbox, REGISTRO_SOLICITUD, eventos_lote)
        await session.execute(insert(Auditoria), auditoria)
        await encolar(session, Notificacion, mensajes, ahora)  # one insert for the whole batch
    return ReporteDictamenes(recibidos=len(dictamenes), aplicados=aplicados, sin_cambio=sin_cambio)


async def pedir_aclaracion(
    session: AsyncSession,
    folio: str,
    datos: SolicitudAclaracion,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
) -> Solicitud:
    solicitud = await _para_cambio(session, folio, proceso, "aclaracion", "pedir aclaración de")
    solicitud.estado = Estado.EN_ACLARACION.value
    solicitud.motivos = list(dict.fromkeys(datos.motivos))
    solicitud.plazo_aclaracion = ahora + dt.timedelta(days=proceso.calendario.aclaracion_dias)
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_ACLARACION_SOLICITADA, ahora)
    await _auditar(session, folio, operador, "aclaracion_solicitada", ahora, motivos=solicitud.motivos)
    await encolar(session, Notificacion, [avisos.aclaracion(solicitud, proceso)], ahora)
    return solicitud


async def dar_de_baja(
    session: AsyncSession, folio: str, datos: Baja, proceso: Proceso, operador: Principal, ahora: dt.datetime
) -> Solicitud:
    solicitud = await _para_cambio(session, folio, proceso, "baja", "dar de baja")
    solicitud.estado = Estado.BAJA.value
    solicitud.motivos = [datos.motivo]
    solicitud.plazo_aclaracion = None
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_DADA_DE_BAJA, ahora)
    await _auditar(session, folio, operador, "baja", ahora, motivo=datos.motivo)
    return solicitud


# --- changes, confirmed by the applicant -------------------------------------------------------------

DOMICILIO = ("calle_numero", "ciudad", "region", "codigo_postal")
# What a change may touch: columns of the application.
CAMBIABLES = (
    "nombre",
    "apellido_paterno",
    "apellido_materno",
    "pais",
    *DOMICILIO,
    "email",
    "telefono",
    "modalidad",
)
OBLIGATORIOS = ("nombre", "apellido_paterno", "pais")
CORRECCION, MODALIDAD = "correccion", "modalidad"


def _valores(solicitud: Solicitud) -> dict[str, Any]:
    return {c: getattr(solicitud, c) for c in CAMBIABLES}


def _domicilio(valores: dict[str, Any]) -> dict[str, Any]:
    return {c: valores.get(c) for c in DOMICILIO}


def _plano(cambios: dict[str, Any]) -> dict[str, Any]:
    """A request body (only the fields sent) as column → new value: the address's fields are columns."""
    nuevos = dict(cambios)
    domicilio = nuevos.pop("domicilio", None)
    if domicilio:  # absent or null: the address stays as it is
        nuevos.update(domicilio)
    if "email" in nuevos and nuevos["email"] is not None:
        nuevos["email"] = str(nuevos["email"])
    if "apellido_materno" in nuevos and nuevos["apellido_materno"] is None:
        nuevos["apellido_materno"] = ""  # may be empty, never null
    return nuevos


def _campos(nuevos: Any) -> list[str]:
    """The changed fields for the audit log (no values): the address counts as one."""
    return sorted({"domicilio" if c in DOMICILIO else c for c in nuevos})


def _validar_resultado(solicitud: Solicitud, nuevos: dict[str, Any], texto: str) -> None:
    vacios = [c for c in OBLIGATORIOS if c in nuevos and not nuevos[c]]
    if vacios:
        raise Problem(
            422,
            "Revise estos campos: " + ", ".join(vacios) + ".",
            errors=[_error(c, "No puede quedar vacío.") for c in vacios],
        )
    resultado = {**_valores(solicitud), **nuevos}
    errores = errores_modalidad(
        resultado["modalidad"], _domicilio(resultado), resultado["email"], resultado["telefono"]
    )
    if errores:
        raise Problem(422, texto, errors=errores)
    sin_contacto = errores_contacto(resultado["email"], resultado["telefono"])
    if sin_contacto:
        raise Problem(
            422, "La solicitud debe conservar al menos un correo o un teléfono.", errors=sin_contacto
        )


async def _validar_cambio(
    session: AsyncSession,
    solicitud: Solicitud,
    tipo: str,
    nuevos: dict[str, Any],
    proceso: Proceso,
    ahora: dt.datetime,
) -> None:
    """The rules of a change: the same when it is asked for and when its code confirms it (state, deadline
    and LNERE close are checked again then)."""
    if tipo == CORRECCION:
        _exigir_estado(solicitud, "correccion", "corregir")
        await _exigir_lista_abierta(session, proceso, solicitud)
        if solicitud.plazo_aclaracion is None or ahora >= solicitud.plazo_aclaracion:
            limite = proceso.local(solicitud.plazo_aclaracion) if solicitud.plazo_aclaracion else None
            raise Problem(
                409,
                "El plazo para corregir esta solicitud ya venció"
                + (f" ({limite:%d/%m/%Y %H:%M}, hora del Centro)." if limite else "."),
                slug="plazo-vencido",
            )
        if not nuevos:
            raise Problem(
                422, "Envíe al menos un dato a corregir.", errors=[_error("cuerpo", "Sin cambios.")]
            )
        _validar_resultado(solicitud, nuevos, "La corrección deja incompletos los datos de su modalidad.")
    else:
        _exigir_estado(solicitud, "cambio_modalidad", "cambiar la modalidad de")
        await _exigir_lista_abierta(session, proceso, solicitud)
        _modalidad_posible(proceso, nuevos["modalidad"], ahora)
        _validar_resultado(solicitud, nuevos, "Faltan datos para la nueva modalidad.")


def _modalidad_posible(proceso: Proceso, modalidad: str, ahora: dt.datetime) -> None:
    """A change to ``modalidad``: only before the LNERE cut, and only to one this process has."""
    _antes_del_corte(proceso, ahora)
    if modalidad not in proceso.modalidades:
        raise Problem(
            422, "Modalidad no disponible en este proceso.", errors=[_error("modalidad", "No disponible.")]
        )


def _antes_del_corte(proceso: Proceso, ahora: dt.datetime) -> None:
    if ahora >= proceso.calendario.cierre_lnere:
        raise Problem(
            409, "El cambio de modalidad solo procede antes del corte de la LNERE.", slug="plazo-vencido"
        )


def _hash_codigo(sal: str, codigo: str) -> str:
    return hmac.new(bytes.fromhex(sal), codigo.encode(), hashlib.sha256).hexdigest()


async def _anular_pendientes(
    session: AsyncSession, solicitud_id: int, ahora: dt.datetime, salvo: int | None = None
) -> None:
    """Unused codes of the application become void (a newer request, or a change applied meanwhile)."""
    condicion = [
        CambioPendiente.solicitud_id == solicitud_id,
        CambioPendiente.usado_at.is_(None),
        CambioPendiente.anulado_at.is_(None),
    ]
    if salvo is not None:
        condicion.append(CambioPendiente.id != salvo)
    await session.execute(
        update(CambioPendiente)
        .where(*condicion)
        .values(anulado_at=ahora)
        .execution_options(synchronize_session=False)
    )


async def pedir_correccion(
    session: AsyncSession, folio: str, datos: Correccion, proceso: Proceso, ahora: dt.datetime
) -> tuple[CambioPendiente, list[str]]:
    """The citizen asks to correct within the deadline: nothing changes until the code confirms it."""
    nuevos = _plano(datos.model_dump(exclude_unset=True, mode="json"))
    return await _pedir_cambio(session, folio, CORRECCION, nuevos, proceso, ahora)


async def pedir_cambio_modalidad(
    session: AsyncSession, folio: str, datos: CambioModalidad, proceso: Proceso, ahora: dt.datetime
) -> tuple[CambioPendiente, list[str]]:
    nuevos: dict[str, Any] = {"modalidad": datos.modalidad}
    if datos.domicilio is not None:
        nuevos.update(datos.domicilio.model_dump(exclude_unset=True))
    if datos.email is not None:
        nuevos["email"] = str(datos.email)
    if datos.telefono is not None:
        nuevos["telefono"] = datos.telefono
    return await _pedir_cambio(session, folio, MODALIDAD, nuevos, proceso, ahora)


async def _pedir_cambio(
    session: AsyncSession, folio: str, tipo: str, nuevos: dict[str, Any], proceso: Proceso, ahora: dt.datetime
) -> tuple[CambioPendiente, list[str]]:
    """Validate the change as if applying it, keep it pending and send a one-time code to the contact
    already on file (never to a new one). Returns the pending change and where the code went (masked)."""
    solicitud = await obtener(session, folio, para_actualizar=True)
    await _validar_cambio(session, solicitud, tipo, nuevos, proceso, ahora)
    if not (solicitud.email or solicitud.telefono):
        raise Problem(
            409,
            "La solicitud no tiene correo ni teléfono registrados a dónde enviar el código de confirmación: "
            "avise con POST /v1/solicitudes/{folio}/sin-acceso o comuníquese con INETEL.",
            slug="sin-contacto",
        )
    hora = ahora - dt.timedelta(hours=1)
    recientes, primero = (
        await session.execute(
            select(func.count(), func.min(CambioPendiente.creado_at)).where(
                CambioPendiente.solicitud_id == solicitud.id, CambioPendiente.creado_at > hora
            )
        )
    ).one()
    if recientes >= MAX_CODIGOS_POR_HORA:
        espera = max(1, int((primero - hora).total_seconds()) + 1)
        raise Problem(
            429,
            f"Ya se enviaron {MAX_CODIGOS_POR_HORA} códigos para cambios de esta solicitud en la última "
            f"hora. Use el último que recibió o espere {espera // 60 + 1} minutos para pedir otro.",
            slug="demasiados-codigos",
            headers={"Retry-After": str(espera)},
        )
    await _anular_pendientes(session, solicitud.id, ahora)  # only the newest request can be confirmed
    codigo = f"{secrets.randbelow(10**6):06d}"
    sal = secrets.token_hex(16)
    vence = ahora + CODIGO_VIGENCIA
    aviso = avisos.codigo(solicitud, proceso, codigo, nuevos, vence)
    canal = destinos(aviso)[0][0]
    cambio = CambioPendiente(
        confirmacion=nueva_confirmacion(),
        solicitud_id=solicitud.id,
        tipo=tipo,
        cambio=json.dumps(nuevos, ensure_ascii=False),
        codigo_hash=_hash_codigo(sal, codigo),
        sal=sal,
        canal=canal,
        intentos=0,
        expira_at=vence,
        creado_at=ahora,
    )
    session.add(cambio)
    await session.flush()
    await encolar(session, Notificacion, [aviso], ahora)
    await _auditar(
        session,
        folio,
        None,
        "cambio_pedido",
        ahora,
        tipo=tipo,
        campos=_campos(nuevos),
        canal=canal,
        confirmacion=cambio.confirmacion,
    )
    return cambio, _enviado_a(aviso)


def _exigir_vigente(cambio: CambioPendiente, ahora: dt.datetime) -> None:
    if cambio.usado_at is not None:
        raise Problem(
            409,
            "Este código ya se usó: el cambio ya se aplicó. Si necesita otro cambio, pídalo de nuevo.",
            slug="confirmacion-usada",
        )
    if cambio.anulado_at is not None:
        raise Problem(
            409,
            "Esta confirmación quedó anulada: se pidió otro cambio después, o la solicitud cambió o pasó a "
            "revisión del INE. Use el código del mensaje más reciente o pida el cambio de nuevo.",
            slug="confirmacion-anulada",
        )
    if cambio.intentos >= MAX_INTENTOS:
        raise Problem(
            409,
            f"Se agotaron los {MAX_INTENTOS} intentos: esta confirmación quedó anulada. Pida el cambio de "
            "nuevo para recibir otro código.",
            slug="confirmacion-bloqueada",
        )
    if ahora >= cambio.expira_at:
        raise Problem(
            409,
            f"El código venció (vale {int(CODIGO_VIGENCIA.total_seconds() // 60)} minutos). Pida el cambio "
            "de nuevo para recibir otro código.",
            slug="confirmacion-vencida",
        )


def _vigente(ahora: dt.datetime) -> list[Any]:
    return [
        CambioPendiente.usado_at.is_(None),
        CambioPendiente.anulado_at.is_(None),
        CambioPendiente.intentos < MAX_INTENTOS,
        CambioPendiente.expira_at > ahora,
    ]


async def _releer(session: AsyncSession, cambio_id: int) -> CambioPendiente:
    query = select(CambioPendiente).where(CambioPendiente.id == cambio_id)
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one()


async def confirmar_cambio(
    session: AsyncSession, folio: str, datos: ConfirmacionIn, proceso: Proceso, ahora: dt.datetime
) -> Solicitud:
    """Apply a pending change with the code sent to the contact on file: once, within 10 minutes, at most 5
    wrong tries. Race-free: the attempt and the use are conditional UPDATEs of the pending change's row (of
    many simultaneous confirmations one applies; of many wrong codes exactly ``MAX_INTENTOS`` count). A wrong
    code raises ``RechazoConEfecto``: the caller commits the counted try and answers its problem."""
    solicitud = await obtener(session, folio)
    cambio = (
        await session.execute(
            select(CambioPendiente).where(
                CambioPendiente.confirmacion == datos.confirmacion,
                CambioPendiente.solicitud_id == solicitud.id,
            )
        )
    ).scalar_one_or_none()
    if cambio is None:
        raise Problem(
            404,
            "No hay ningún cambio por confirmar con ese identificador para esta solicitud.",
            errors=[
                _error("confirmacion", "Use el valor `confirmacion` de la respuesta a su pedido de cambio.")
            ],
        )
    _exigir_vigente(cambio, ahora)
    if not hmac.compare_digest(_hash_codigo(cambio.sal, datos.codigo), cambio.codigo_hash):
        intentos = (
            await session.execute(
                update(CambioPendiente)
                .where(CambioPendiente.id == cambio.id, *_vigente(ahora))
                .values(intentos=CambioPendiente.intentos + 1)
                .returning(CambioPendiente.intentos)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if intentos is None:  # used, voided or blocked meanwhile
            _exigir_vigente(await _releer(session, cambio.id), ahora)
            raise Problem(409, "Esta confirmación ya no es válida.", slug="confirmacion-anulada")
        restantes = MAX_INTENTOS - intentos
        await _auditar(session, folio, None, "codigo_incorrecto", ahora, confirmacion=cambio.confirmacion)
        if restantes > 0:
            raise RechazoConEfecto(
                Problem(
                    422,
                    f"El código no es correcto. Le quedan {restantes} intento(s).",
                    slug="codigo-incorrecto",
                    errors=[_error("codigo", f"Código incorrecto; le quedan {restantes} intento(s).")],
                    intentos_restantes=restantes,
                )
            )
        raise RechazoConEfecto(
            Problem(
                409,
                f"El código no es correcto y se agotaron los {MAX_INTENTOS} intentos: esta confirmación "
                "quedó anulada y no se cambió nada. Pida el cambio de nuevo para recibir otro código.",
                slug="confirmacion-bloqueada",
                intentos_restantes=0,
            )
        )
    usado = await session.execute(
        update(CambioPendiente)
        .where(CambioPendiente.id == cambio.id, *_vigente(ahora))
        .values(usado_at=ahora)
        .execution_options(synchronize_session=False)
    )
    if usado.rowcount != 1:  # type: ignore[attr-defined]
        _exigir_vigente(await _releer(session, cambio.id), ahora)
        raise Problem(409, "Esta confirmación ya no es válida.", slug="confirmacion-anulada")
    # Fresh and locked: the state and the list may have changed since the change was asked for. A refusal
    # here rolls the use back (the code stays valid until it expires).
    solicitud = await obtener(session, folio, para_actualizar=True)
    nuevos: dict[str, Any] = json.loads(cambio.cambio)
    await _validar_cambio(session, solicitud, cambio.tipo, nuevos, proceso, ahora)
    anterior = {"email": solicitud.email, "telefono": solicitud.telefono}
    anterior_modalidad = solicitud.modalidad
    cambiados = _aplicar(solicitud, nuevos)
    if cambio.tipo == CORRECCION:
        await _volver_a_revision(session, solicitud, nuevos, ahora)
    else:
        await _publicar_modalidad(session, solicitud, anterior_modalidad, ahora)
    await _auditar(
        session,
        folio,
        None,
        "cambio_confirmado",
        ahora,
        tipo=cambio.tipo,
        campos=_campos(cambiados),
        canal=cambio.canal,
        confirmacion=cambio.confirmacion,
    )
    await _anular_pendientes(session, solicitud.id, ahora, salvo=cambio.id)
    aviso = avisos.cambio_aplicado(anterior, solicitud.referencia, proceso, cambiados or nuevos, ahora)
    await encolar(session, Notificacion, [aviso], ahora)
    return solicitud


def _aplicar(solicitud: Solicitud, nuevos: dict[str, Any]) -> dict[str, Any]:
    """Set the new values; returns those that differ from before."""
    cambiados: dict[str, Any] = {}
    for campo, valor in nuevos.items():
        if getattr(solicitud, campo) != valor:
            cambiados[campo] = valor
        setattr(solicitud, campo, valor)
    return cambiados


async def _volver_a_revision(
    session: AsyncSession, solicitud: Solicitud, nuevos: dict[str, Any], ahora: dt.datetime
) -> None:
    """A correction sends the application back to review (recibida)."""
    solicitud.estado = Estado.RECIBIDA.value
    solicitud.motivos = []
    solicitud.plazo_aclaracion = None
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_CORREGIDA, ahora)
    await _auditar(session, solicitud.folio, None, "correccion", ahora, campos=_campos(nuevos))


async def _publicar_modalidad(
    session: AsyncSession, solicitud: Solicitud, anterior_modalidad: str, ahora: dt.datetime
) -> None:
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_MODALIDAD_CAMBIADA, ahora)
    await _auditar(
        session,
        solicitud.folio,
        None,
        "cambio_modalidad",
        ahora,
        anterior=anterior_modalidad,
        nueva=solicitud.modalidad,
    )


async def sin_acceso(
    session: AsyncSession, folio: str, datos: SinAcceso, proceso: Proceso, ahora: dt.datetime
) -> Solicitud:
    """The applicant lost the contact on file, so no code can confirm a change: the application goes to INE
    review (en_aclaración, motivo ``contacto_inaccesible``) and nothing changes; the contact on file is told.
    Saying it again changes nothing and sends nothing."""
    solicitud = await _para_cambio(session, folio, proceso, "sin_acceso", "pasar a revisión del INE")
    if solicitud.estado == Estado.EN_ACLARACION.value and "contacto_inaccesible" in solicitud.motivos:
        return solicitud
    solicitud.estado = Estado.EN_ACLARACION.value
    solicitud.motivos = list(dict.fromkeys([*solicitud.motivos, "contacto_inaccesible"]))
    plazo = ahora + dt.timedelta(days=proceso.calendario.aclaracion_dias)
    if solicitud.plazo_aclaracion is None or solicitud.plazo_aclaracion < plazo:
        solicitud.plazo_aclaracion = plazo
    await _anular_pendientes(session, solicitud.id, ahora)
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_ACLARACION_SOLICITADA, ahora)
    await _auditar(
        session, folio, None, "sin_acceso", ahora, perdido=datos.perdido, motivos=solicitud.motivos
    )
    await encolar(
        session, Notificacion, [avisos.en_revision(solicitud, proceso, datos.perdido, ahora)], ahora
    )
    return solicitud


async def cambio_verificado(
    session: AsyncSession,
    folio: str,
    datos: CambioVerificado,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
) -> Solicitud:
    """INE applies a change after verifying the person by other means (they lost the contact on file): no
    code; the same data rules; audited with the operator; the contacts before and after are told. Clears
    ``contacto_inaccesible``; an application left in aclaración without motivos goes back to review."""
    solicitud = await _para_cambio(session, folio, proceso, "cambio_verificado", "cambiar los datos de")
    nuevos = _plano(datos.model_dump(exclude_unset=True, exclude={"verificacion"}, mode="json"))
    if not nuevos:
        raise Problem(422, "Envíe al menos un dato a cambiar.", errors=[_error("cuerpo", "Sin cambios.")])
    if "modalidad" in nuevos and nuevos["modalidad"] is None:
        del nuevos["modalidad"]
    if nuevos.get("modalidad", solicitud.modalidad) != solicitud.modalidad:
        _modalidad_posible(proceso, nuevos["modalidad"], ahora)
    _validar_resultado(solicitud, nuevos, "El cambio deja incompletos los datos de la modalidad.")
    anterior = {"email": solicitud.email, "telefono": solicitud.telefono}
    anterior_modalidad = solicitud.modalidad
    cambiados = _aplicar(solicitud, nuevos)
    if "contacto_inaccesible" in solicitud.motivos:
        solicitud.motivos = [m for m in solicitud.motivos if m != "contacto_inaccesible"]
        if solicitud.estado == Estado.EN_ACLARACION.value and not solicitud.motivos:
            solicitud.estado = Estado.RECIBIDA.value
            solicitud.plazo_aclaracion = None
    evento = (
        eventos.SOLICITUD_MODALIDAD_CAMBIADA
        if solicitud.modalidad != anterior_modalidad
        else eventos.SOLICITUD_CORREGIDA
    )
    await _publicar_cambio(session, solicitud, evento, ahora)
    await _auditar(
        session,
        folio,
        operador,
        "cambio_verificado",
        ahora,
        campos=_campos(cambiados),
        verificacion=datos.verificacion,
        **(
            {"anterior": anterior_modalidad, "nueva": solicitud.modalidad} if "modalidad" in cambiados else {}
        ),
    )
    await _anular_pendientes(session, solicitud.id, ahora)
    descritos = cambiados or nuevos
    mensajes = [avisos.cambio_aplicado(anterior, solicitud.referencia, proceso, descritos, ahora, True)]
    nuevo_contacto = {
        c: v for c, v in (("email", solicitud.email), ("telefono", solicitud.telefono)) if v != anterior[c]
    }
    if nuevo_contacto:  # the verified person's new contact hears it too
        mensajes.append(
            avisos.cambio_aplicado(nuevo_contacto, solicitud.referencia, proceso, descritos, ahora, True)
        )
    await encolar(session, Notificacion, mensajes, ahora)
    return solicitud


# --- documents ----------------------------------------------------------------------------------------


def tipo_por_contenido(contenido: bytes) -> str | None:
    """The file's type by its first bytes, never by its name or declared type."""
    for firma, (tipo, estructura) in FIRMAS.items():
        if contenido.startswith(firma):
            return tipo if estructura(contenido) else None
    return None


async def guardar_documento(
    session: AsyncSession, folio: str, tipo: str, contenido: bytes, proceso: Proceso, ahora: dt.datetime
) -> Documento:
    if tipo not in TIPOS_DOCUMENTO:
        raise Problem(
            422,
            "Tipo de documento desconocido.",
            errors=[_error("tipo", f"Use uno de: {', '.join(TIPOS_DOCUMENTO)}.")],
        )
    if len(contenido) > MAX_DOCUMENTO:
        raise Problem(
            413,
            f"El archivo supera {MAX_DOCUMENTO // (1024 * 1024)} MB.",
            errors=[_error("archivo", "Demasiado grande.")],
        )
    content_type = tipo_por_contenido(contenido)
    if content_type is None:
        raise Problem(
            415,
            "El archivo no es JPEG, PNG ni PDF (se revisa su contenido, no su nombre).",
            errors=[_error("archivo", "Formato no admitido.")],
        )
    solicitud = await obtener(session, folio, para_actualizar=True)
    if Estado(solicitud.estado) not in {Estado.RECIBIDA, Estado.EN_ACLARACION, Estado.IMPROCEDENTE}:
        raise Problem(
            409,
            f"La solicitud está en estado {solicitud.estado}: ya no recibe documentos.",
            slug="transicion-invalida",
        )
    await _exigir_lista_abierta(session, proceso, solicitud)
    sha256 = hashlib.sha256(contenido).hexdigest()
    documento = await repository.documento(session, solicitud.id, tipo)
    if documento is None:
        documento = Documento(
            solicitud_id=solicitud.id,
            tipo=tipo,
            content_type=content_type,
            tamano=len(contenido),
            sha256=sha256,
            contenido=contenido,
            recibido_at=ahora,
        )
        session.add(documento)
    else:  # replaced during aclaración: the audit record keeps both hashes
        anterior = documento.sha256
        documento.content_type, documento.tamano, documento.sha256 = content_type, len(contenido), sha256
        documento.contenido, documento.recibido_at = contenido, ahora
        await _auditar(
            session, folio, None, "documento_reemplazado", ahora, tipo=tipo, sha256_anterior=anterior
        )
    await _auditar(session, folio, None, "documento", ahora, tipo=tipo, sha256=sha256, tamano=len(contenido))
    await session.flush()
    return documento


async def alertas(session: AsyncSession, solicitud: Solicitud) -> list[str]:
    avisos = []
    reutilizados = await repository.comprobante_reutilizado(session, solicitud.id)
    if reutilizados:
        avisos.append(
            f"comprobante_reutilizado: el mismo comprobante aparece en {reutilizados} solicitud(es) más"
        )
    return avisos


# --- party observations -------------------------------------------------------------------------------


async def observar(
    session: AsyncSession,
    entidad: str,
    referencia: str,
    descripcion: str,
    partido: Principal,
    proceso: Proceso,
    ahora: dt.datetime,
) -> Observacion:
    """A party points at one person of the list by the ``referencia`` it sees (it never sees folios)."""
    cal = proceso.calendario
    if not cal.observaciones_inicio <= ahora <= cal.observaciones_fin:
        inicio, fin = proceso.local(cal.observaciones_inicio), proceso.local(cal.observaciones_fin)
        raise Problem(
            409,
            f"Las observaciones se reciben del {inicio:%d/%m/%Y} al {fin:%d/%m/%Y} (hora del Centro).",
            slug="fuera-de-plazo",
        )
    solicitud = await repository.by_referencia(session, referencia)
    if (
        solicitud is None
        or solicitud.proceso != proceso.clave
        or solicitud.entidad != entidad
        or solicitud.estado not in repository.EN_LISTA
    ):
        raise Problem(
            422,
            "Esa referencia no está en la lista de esta entidad.",
            errors=[_error("referencia", "No pertenece a la lista de la entidad.")],
        )
    folio = solicitud.folio
    assert partido.partido is not None
    observacion = Observacion(
        entidad=entidad,
        partido=partido.partido,
        referencia=referencia,
        folio=folio,
        descripcion=descripcion,
        creada_por=partido.sub,
        creada_at=ahora,
    )
    session.add(observacion)
    await session.flush()
    await _auditar(
        session, folio, partido, "observacion", ahora, observacion=observacion.id, partido=partido.partido
    )
    return observacion


async def resolver_observacion(
    session: AsyncSession, observacion_id: int, datos: Resolucion, operador: Principal, ahora: dt.datetime
) -> Observacion:
    observacion = await session.get(Observacion, observacion_id, with_for_update=True)
    if observacion is None:
        raise Problem(404, "No existe esa observación.")
    if observacion.estado != "pendiente":
        raise Problem(409, f"La observación ya fue resuelta ({observacion.estado}).", slug="ya-resuelta")
    observacion.estado, observacion.respuesta = datos.resultado, datos.respuesta
    observacion.resuelta_por, observacion.resuelta_at = operador.sub, ahora
    await _auditar(
        session,
        observacion.folio,
        operador,
        "observacion_resuelta",
        ahora,
        observacion=observacion.id,
        resultado=datos.resultado,
    )
    return observacion


# --- closing the LNERE --------------------------------------------------------------------------------


async def cerrar_lnere(
    session: AsyncSession, entidad: str, proceso: Proceso, admin: Principal, ahora: dt.datetime
) -> tuple[CierreLnere, int]:
    """Freeze the entidad's list: procedentes become inscritas, numbered in order of receipt, and each
    consumer gets what it needs. Closing again returns the same close and changes nothing."""
    if entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")
    if ahora < proceso.calendario.registro_fin:
        fin = proceso.local(proceso.calendario.registro_fin)
        raise Problem(
            409,
            f"El periodo de solicitudes sigue abierto hasta el {fin:%d/%m/%Y %H:%M} (hora del "
            "Centro); la LNERE se cierra después.",
            slug="periodo-abierto",
        )
    nuevo = await insert_if_absent(
        session,
        CierreLnere,
        {
            "proceso": proceso.clave,
            "entidad": entidad,
            "total": 0,
            "postal": 0,
            "electronica": 0,
            "cerrada_por": admin.sub,
            "cerrada_at": ahora,
        },
        conflict=["proceso", "entidad"],
    )
    cierre = await repository.cierre(session, proceso.clave, entidad)
    assert cierre is not None
    pendientes = await repository.contar_pendientes(session, proceso.clave, entidad)
    if not nuevo:
        return cierre, pendientes

    inscritas = await repository.procedentes(session, proceso.clave, entidad)
    por_pais: dict[str, Counter[str]] = defaultdict(Counter)
    mensajes: list[Aviso] = []
    for numero, s in enumerate(inscritas, start=1):
        s.numero_lnere, s.estado, s.version, s.actualizada_at = (
            numero,
            Estado.INSCRITA.value,
            s.version + 1,
            ahora,
        )
        por_pais[s.pais][s.modalidad] += 1
        mensajes.append(avisos.inscripcion(s, proceso))
        aggregate = f"{entidad}-{numero:07d}"
        nombre = {
            "nombre": s.nombre,
            "apellido_paterno": s.apellido_paterno,
            "apellido_materno": s.apellido_materno,
        }
        if s.modalidad == "postal":
            assert s.calle_numero and s.ciudad and s.codigo_postal
            data: BaseModel = eventos.InscritoPostal(
                entidad=entidad,
                numero=numero,
                folio=s.folio,
                clave_elector=s.clave_elector,
                **nombre,
                domicilio=eventos.DomicilioPostal(
                    calle_numero=s.calle_numero,
                    ciudad=s.ciudad,
                    region=s.region,
                    codigo_postal=s.codigo_postal,
                    pais=s.pais,
                ),
                email=s.email,
                telefono=s.telefono,
            )
            await stage(
                session,
                Outbox,
                REGISTRO_LNERE_POSTAL,
                Envelope.new(
                    event_type=eventos.LNERE_POSTAL_INSCRITO,
                    source="registro",
                    aggregate_id=aggregate,
                    data=data,
                ),
            )
        else:
            assert s.email and s.telefono
            data = eventos.InscritoElectronica(
                entidad=entidad, numero=numero, **nombre, email=s.email, telefono=s.telefono
            )
            await stage(
                session,
                Outbox,
                REGISTRO_LNERE_ELECTRONICA,
                Envelope.new(
                    event_type=eventos.LNERE_ELECTRONICA_INSCRITO,
                    source="registro",
                    aggregate_id=aggregate,
                    data=data,
                ),
            )
    postal = sum(c["postal"] for c in por_pais.values())
    electronica = sum(c["electronica"] for c in por_pais.values())
    cierre.total, cierre.postal, cierre.electronica = len(inscritas), postal, electronica
    await stage(
        session,
        Outbox,
        REGISTRO_LNERE,
        Envelope.new(
            event_type=eventos.LNERE_CERRADA,
            source="registro",
            aggregate_id=f"{proceso.clave}-{entidad}",
            data=eventos.LnereCerrada(
                entidad=entidad,
                total=len(inscritas),
                postal=postal,
                electronica=electronica,
                por_pais={p: dict(c) for p, c in sorted(por_pais.items())},
                cerrada_at=ahora,
            ),
        ),
    )
    await _auditar(
        session,
        None,
        admin,
        "cierre_lnere",
        ahora,
        entidad=entidad,
        total=len(inscritas),
        postal=postal,
        electronica=electronica,
        pendientes=pendientes,
    )
    await encolar(session, Notificacion, mensajes, ahora)  # every inscription notice in one insert
    await session.flush()
    return cierre, pendientes


# --- public figures -----------------------------------------------------------------------------------


async def estadisticas(session: AsyncSession, proceso: Proceso, minimo: int = 5) -> dict[str, Any]:
    jornada = proceso.local(proceso.calendario.jornada).date()
    dims = ("entidad", "pais", "modalidad", "estado", "sexo", "edad", "dia")
    solicitudes: dict[str, Counter[str]] = {d: Counter() for d in dims}
    lnere: dict[str, Counter[str]] = {d: Counter() for d in dims if d != "estado"}
    total = inscritas = 0
    async for fila in repository.filas_estadisticas(session, proceso.clave):
        valores = {
            "entidad": fila.entidad,
            "pais": fila.pais,
            "modalidad": fila.modalidad,
            "estado": fila.estado,
            "sexo": fila.sexo,
            "edad": domain.rango_edad(domain.edad(fila.fecha_nacimiento, jornada)),
            "dia": proceso.local(fila.recibida_at).date().isoformat(),
        }
        total += 1
        for d in dims:
            solicitudes[d][valores[d]] += 1
        if fila.estado == Estado.INSCRITA.value:
            inscritas += 1
            for d in lnere:
                lnere[d][valores[d]] += 1

    def bloque(total: int, conteos: dict[str, Counter[str]]) -> dict[str, Any]:
        out: dict[str, Any] = {"total": total if total == 0 or total >= minimo else None}
        for d, c in conteos.items():
            out[f"por_{d}"] = domain.suprimir_celdas(dict(c), minimo)
        return out

    return {
        "proceso": proceso.clave,
        "celda_minima": minimo,
        "solicitudes": bloque(total, solicitudes),
        "lnere": bloque(inscritas, lnere),
    }


# --- bulk load (INETEL) -------------------------------------------------------------------------------

COLUMNAS = (
    "clave_elector",
    "nombre",
    "apellido_paterno",
    "apellido_materno",
    "fecha_nacimiento",
    "sexo",
    "entidad",
    "pais",
    "calle_numero",
    "ciudad",
    "region",
    "codigo_postal",
    "email",
    "telefono",
    "modalidad",
)


async def cargar_lote(
    session: AsyncSession,
    contenido: bytes,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
    parcial: bool,
) -> ReporteLote:
    """Validate every row; load in one transaction. Strict (default): any rejected row loads nothing."""
    try:
        texto = contenido.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(
            422, "El archivo no está en UTF-8.", errors=[_error("archivo", "Codificación inválida.")]
        ) from exc
    lector = csv.DictReader(io.StringIO(texto))
    faltantes = [c for c in COLUMNAS if c not in (lector.fieldnames or [])]
    if faltantes:
        raise Problem(
            422,
            f"Faltan columnas en la cabecera: {', '.join(faltantes)}.",
            errors=[_error("archivo", f"Columnas esperadas: {','.join(COLUMNAS)}")],
        )
    rechazadas: list[FilaRechazada] = []
    validas: list[tuple[int, SolicitudIn]] = []
    vistas: dict[str, int] = {}
    recibidas = 0
    for fila, registro in enumerate(lector, start=2):
        recibidas += 1
        clave = (registro.get("clave_elector") or "").strip().upper() or None
        datos = {k: (v.strip() if isinstance(v, str) else v) for k, v in registro.items() if k in COLUMNAS}
        cuerpo: dict[str, Any] = {
            k: v
            for k, v in datos.items()
            if k not in ("calle_numero", "ciudad", "region", "codigo_postal") and v != ""
        }
        cuerpo["apellido_materno"] = datos.get("apellido_materno") or ""
        cuerpo["domicilio"] = {
            k: datos.get(k) or None for k in ("calle_numero", "ciudad", "region", "codigo_postal")
        }
        nulos = [k for k, v in datos.items() if isinstance(v, str) and "\x00" in v]
        if nulos:  # as on the JSON route (problems.sin_caracter_nulo): no text of the platform holds U+0000
            errores_nulo = [_error(k, "No se admite el carácter nulo (U+0000).") for k in nulos]
            rechazadas.append(FilaRechazada(fila=fila, clave_elector=None, errores=errores_nulo))
            continue
        try:
            solicitud = SolicitudIn.model_validate(cuerpo)
        except ValidationError as exc:
            rechazadas.append(FilaRechazada(fila=fila, clave_elector=clave, errores=validation_errors(exc)))
            continue
        errores = errores_solicitud(solicitud, proceso)
        if solicitud.clave_elector in vistas:
            errores.append(
                _error("clave_elector", f"Repetida en el archivo (fila {vistas[solicitud.clave_elector]}).")
            )
        if errores:
            rechazadas.append(FilaRechazada(fila=fila, clave_elector=clave, errores=errores))
            continue
        vistas[solicitud.clave_elector] = fila
        validas.append((fila, solicitud))

    cargadas = 0
    recibos: list[Aviso] = []
    for fila, solicitud in validas:
        try:
            # Rows are validated already: what can still fail here (duplicate, out of window) is refused
            # before writing, so the transaction stays whole.
            nueva = await solicitar(
                session, solicitud, proceso, ahora, canal="inetel", actor=operador, avisar=False
            )
            recibos.append(avisos.recibida(nueva, proceso))
            cargadas += 1
        except SolicitudDuplicada as duplicada:
            # Operators may see folios (the person calls INETEL for it); nothing is re-sent to the person.
            existente = duplicada.existente
            errores = [
                _error(
                    "clave_elector",
                    "Ya existe una solicitud con esta clave de elector en este proceso. "
                    f"Folio: {existente.folio} (estado {existente.estado}).",
                )
            ]
            rechazadas.append(
                FilaRechazada(fila=fila, clave_elector=solicitud.clave_elector, errores=errores)
            )
        except Problem as problem:
            errores = problem.errors or [_error("solicitud", problem.detail)]
            rechazadas.append(
                FilaRechazada(fila=fila, clave_elector=solicitud.clave_elector, errores=errores)
            )
    rechazadas.sort(key=lambda r: r.fila)
    aplicado = parcial or not rechazadas
    if not aplicado:
        # Strict: nothing half-loaded. Raising rolls back the caller's transaction.
        reporte = ReporteLote(recibidas=recibidas, cargadas=0, rechazadas=rechazadas, aplicado=False)
        raise Problem(
            422,
            f"{len(rechazadas)} fila(s) rechazada(s); no se cargó ninguna. Corrija el archivo o "
            "use ?parcial=true para cargar solo las válidas.",
            slug="lote-rechazado",
            reporte=reporte.model_dump(mode="json"),
        )
    await _auditar(session, None, operador, "lote", ahora, cargadas=cargadas, rechazadas=len(rechazadas))
    await encolar(session, Notificacion, recibos, ahora)  # each receipt with its folio, in one insert
    return ReporteLote(recibidas=recibidas, cargadas=cargadas, rechazadas=rechazadas, aplicado=True)
