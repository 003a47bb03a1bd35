"""registro use cases: (session, input) -> result. Stage events and audit records; never commit."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import domain, repository
from services.registro.domain import Estado
from services.registro.models import Auditoria, CierreLnere, Documento, Observacion, Outbox, Solicitud
from services.registro.schemas import (
    Baja,
    CambioModalidad,
    Correccion,
    Dictamen,
    DictamenDeFolio,
    FilaRechazada,
    ReporteDictamenes,
    ReporteLote,
    Resolucion,
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
from shared.problems import Problem, validation_errors
from shared.proceso import Proceso

# Crockford base32 without look-alikes: readable over the phone.
_ALFABETO = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
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


def nuevo_folio() -> str:
    """Unguessable: 100 random bits."""
    cuerpo = "".join(secrets.choice(_ALFABETO) for _ in range(20))
    return f"VMRE-{cuerpo[:5]}-{cuerpo[5:10]}-{cuerpo[10:15]}-{cuerpo[15:]}"


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
) -> Solicitud:
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
        raise Problem(
            409,
            "Ya existe una solicitud con esta clave de elector en este proceso; consulte su folio.",
            slug="solicitud-duplicada",
            folio=existente.folio,
            estado=existente.estado,
        )
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
    return solicitud


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
    return solicitud


async def corregir(
    session: AsyncSession, folio: str, datos: Correccion, proceso: Proceso, ahora: dt.datetime
) -> Solicitud:
    """The citizen corrects within the deadline; the application goes back to review (recibida)."""
    solicitud = await _para_cambio(session, folio, proceso, "correccion", "corregir")
    if solicitud.plazo_aclaracion is None or ahora >= solicitud.plazo_aclaracion:
        limite = proceso.local(solicitud.plazo_aclaracion) if solicitud.plazo_aclaracion else None
        raise Problem(
            409,
            "El plazo para corregir esta solicitud ya venció"
            + (f" ({limite:%d/%m/%Y %H:%M}, hora del Centro)." if limite else "."),
            slug="plazo-vencido",
        )
    cambios = datos.model_dump(exclude_unset=True)
    if not cambios:
        raise Problem(422, "Envíe al menos un dato a corregir.", errors=[_error("cuerpo", "Sin cambios.")])
    domicilio = cambios.pop("domicilio", None)
    for campo, valor in cambios.items():
        setattr(solicitud, campo, str(valor) if campo == "email" and valor else valor)
    if domicilio is not None:
        for campo, valor in domicilio.items():
            setattr(solicitud, campo, valor)
    errores = errores_modalidad(
        solicitud.modalidad, _domicilio(solicitud), solicitud.email, solicitud.telefono
    )
    if errores:
        raise Problem(422, "La corrección deja incompletos los datos de su modalidad.", errors=errores)
    solicitud.estado = Estado.RECIBIDA.value
    solicitud.motivos = []
    solicitud.plazo_aclaracion = None
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_CORREGIDA, ahora)
    await _auditar(
        session,
        folio,
        None,
        "correccion",
        ahora,
        campos=sorted([*cambios, *(["domicilio"] if domicilio else [])]),
    )
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


async def cambiar_modalidad(
    session: AsyncSession, folio: str, datos: CambioModalidad, proceso: Proceso, ahora: dt.datetime
) -> Solicitud:
    solicitud = await _para_cambio(session, folio, proceso, "cambio_modalidad", "cambiar la modalidad de")
    if ahora >= proceso.calendario.cierre_lnere:
        raise Problem(
            409, "El cambio de modalidad solo procede antes del corte de la LNERE.", slug="plazo-vencido"
        )
    if datos.modalidad not in proceso.modalidades:
        raise Problem(
            422, "Modalidad no disponible en este proceso.", errors=[_error("modalidad", "No disponible.")]
        )
    if datos.domicilio is not None:
        for campo, valor in datos.domicilio.model_dump(exclude_unset=True).items():
            setattr(solicitud, campo, valor)
    if datos.email is not None:
        solicitud.email = str(datos.email)
    if datos.telefono is not None:
        solicitud.telefono = datos.telefono
    errores = errores_modalidad(datos.modalidad, _domicilio(solicitud), solicitud.email, solicitud.telefono)
    if errores:
        raise Problem(422, "Faltan datos para la nueva modalidad.", errors=errores)
    anterior, solicitud.modalidad = solicitud.modalidad, datos.modalidad
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_MODALIDAD_CAMBIADA, ahora)
    await _auditar(session, folio, None, "cambio_modalidad", ahora, anterior=anterior, nueva=datos.modalidad)
    return solicitud


def _domicilio(solicitud: Solicitud) -> dict[str, Any]:
    return {
        "calle_numero": solicitud.calle_numero,
        "ciudad": solicitud.ciudad,
        "region": solicitud.region,
        "codigo_postal": solicitud.codigo_postal,
    }


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
    folio: str,
    descripcion: str,
    partido: Principal,
    proceso: Proceso,
    ahora: dt.datetime,
) -> Observacion:
    cal = proceso.calendario
    if not cal.observaciones_inicio <= ahora <= cal.observaciones_fin:
        inicio, fin = proceso.local(cal.observaciones_inicio), proceso.local(cal.observaciones_fin)
        raise Problem(
            409,
            f"Las observaciones se reciben del {inicio:%d/%m/%Y} al {fin:%d/%m/%Y} (hora del Centro).",
            slug="fuera-de-plazo",
        )
    solicitud = await repository.by_folio(session, folio)
    if solicitud is None or solicitud.entidad != entidad:
        raise Problem(
            422,
            "Ese folio no está en la lista de esta entidad.",
            errors=[_error("folio", "No pertenece a la lista de la entidad.")],
        )
    assert partido.partido is not None
    observacion = Observacion(
        entidad=entidad,
        partido=partido.partido,
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
    for numero, s in enumerate(inscritas, start=1):
        s.numero_lnere, s.estado, s.version, s.actualizada_at = (
            numero,
            Estado.INSCRITA.value,
            s.version + 1,
            ahora,
        )
        por_pais[s.pais][s.modalidad] += 1
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
    for fila, solicitud in validas:
        try:
            # Rows are validated already: what can still fail here (duplicate, out of window) is refused
            # before writing, so the transaction stays whole.
            await solicitar(session, solicitud, proceso, ahora, canal="inetel", actor=operador)
            cargadas += 1
        except Problem as problem:
            errores = problem.errors or [
                _error(
                    "clave_elector" if problem.status == 409 else "solicitud",
                    problem.detail
                    + (f" Folio: {problem.extra['folio']}." if "folio" in problem.extra else ""),
                )
            ]
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
    return ReporteLote(recibidas=recibidas, cargadas=cargadas, rechazadas=rechazadas, aplicado=True)
