"""registro · INE's review: dictamen (one or a batch), aclaración, baja."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import avisos, repository
from services.registro.domain import Estado
from services.registro.models import Notificacion, Outbox, Solicitud
from services.registro.schemas import Baja, Dictamen, DictamenDeFolio, ReporteDictamenes, SolicitudAclaracion
from services.registro.service.comun import (
    _al_historial,
    _cambio,
    _exigir_estado,
    _existente,
    _fila_historial,
    _lista_abierta,
    _para_cambio,
    _publicar_cambio,
)
from services.registro.service.validacion import _error
from shared.auth import Principal
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage_many
from shared.bus.topics import REGISTRO_SOLICITUD
from shared.events import registro as eventos
from shared.notificaciones import Aviso, encolar
from shared.problems import Problem
from shared.proceso import Proceso


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
    await _al_historial(
        session, folio, operador, "dictamen", ahora, resultado=dictamen.resultado, motivos=motivos
    )
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
    historial: list[dict[str, Any]] = []
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
        historial.append(
            _fila_historial(d.folio, operador, "dictamen", ahora, resultado=d.resultado, motivos=motivos)
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
        await repository.anotar_historial(session, historial)
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
    await _al_historial(session, folio, operador, "aclaracion_solicitada", ahora, motivos=solicitud.motivos)
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
    await _al_historial(session, folio, operador, "baja", ahora, motivo=datos.motivo)
    return solicitud
