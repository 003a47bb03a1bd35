"""Event handlers: projections from events only. Each runs inside the consumer's transaction, once per event
(the inbox dedupes), and bumps the read model's version so live views and ETags notice.

Nothing is registered at import: the first ``sumar`` or ``_version`` of a session attaches ``_al_confirmar``
and ``_al_deshacer`` to that session alone (not to SQLAlchemy's process-wide ``Session`` class)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.tablero import repository
from services.tablero.models import VotoSede
from shared.bus.consumer import Handler
from shared.bus.envelope import Envelope
from shared.db import insert_if_absent
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from shared.proceso import Proceso

_CONTEOS = "tablero.conteos"
_VERSIONES = "tablero.versiones"
_ESCUCHANDO = "tablero.escuchando"


def _pendientes(session: AsyncSession) -> dict[str, Any]:
    """The session's ``info``, with this module's commit and rollback listeners attached to it (once)."""
    info = session.info
    if _ESCUCHANDO not in info:
        info[_ESCUCHANDO] = True
        event.listen(session.sync_session, "before_commit", _al_confirmar)
        event.listen(session.sync_session, "after_rollback", _al_deshacer)
    return info


async def sumar(
    session: AsyncSession, serie: str, entidad: str, dimension: str, valor: str, delta: int = 1
) -> None:
    """Add to a counter. The counts of one transaction add up in memory and reach the table once per key when
    it commits (``_al_confirmar``): a batch of 100 applications is ~20 upserts, not 500."""
    conteos: Counter[tuple[str, str, str, str]] = _pendientes(session).setdefault(_CONTEOS, Counter())
    conteos[(serie, entidad, dimension, valor)] += delta


async def _version(session: AsyncSession, entidad: str | None = None) -> None:
    """Bump the read model's version (and the entidad's, for its webhooks) once per transaction."""
    versiones: set[str | None] = _pendientes(session).setdefault(_VERSIONES, set())
    versiones.add(entidad)


def _al_confirmar(session: Session) -> None:
    """Write what ``sumar`` and ``_version`` gathered, inside the committing transaction."""
    conteos = session.info.pop(_CONTEOS, None)
    versiones = session.info.pop(_VERSIONES, None)
    if not conteos and not versiones:
        return
    repository.escribir_pendientes(session, conteos or {}, versiones or set())


def _al_deshacer(session: Session) -> None:
    session.info.pop(_CONTEOS, None)
    session.info.pop(_VERSIONES, None)


def build(proceso: Proceso) -> dict[str, Handler]:
    def dia(instante: dt.datetime) -> str:
        return proceso.local(instante).date().isoformat()

    def hora(instante: dt.datetime) -> str:
        return proceso.local(instante).replace(minute=0, second=0, microsecond=0).isoformat()

    async def solicitud_recibida(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_registro.SolicitudRecibida.model_validate(envelope.data)
        nueva = await repository.insertar_solicitud(
            session,
            {
                "folio": d.folio,
                "entidad": d.entidad,
                "modalidad": d.modalidad,
                "estado": "recibida",
                "version": envelope.aggregate_version,
            },
        )
        if nueva:
            for dimension, valor in (
                ("total", ""),
                ("modalidad", d.modalidad),
                ("estado", "recibida"),
                ("pais", d.pais or "??"),
                ("dia", dia(d.recibida_at)),
            ):
                await sumar(session, "solicitudes", d.entidad, dimension, valor)
        await _version(session, d.entidad)

    async def solicitud_actualizada(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_registro.SolicitudActualizada.model_validate(envelope.data)
        s = await repository.solicitud(session, d.folio)
        if s is None or envelope.aggregate_version <= s.version:
            return  # its reception not seen yet, or an older state: the newer one already counts
        if s.modalidad != d.modalidad:
            await sumar(session, "solicitudes", s.entidad, "modalidad", s.modalidad, -1)
            await sumar(session, "solicitudes", s.entidad, "modalidad", d.modalidad)
        if s.estado != d.estado:
            await sumar(session, "solicitudes", s.entidad, "estado", s.estado, -1)
            await sumar(session, "solicitudes", s.entidad, "estado", d.estado)
        s.modalidad, s.estado, s.version = d.modalidad, d.estado, envelope.aggregate_version
        await _version(session, s.entidad)

    async def lnere_cerrada(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_registro.LnereCerrada.model_validate(envelope.data)
        valores = {
            "total": d.total,
            "postal": d.postal,
            "electronica": d.electronica,
            "presencial": d.presencial,
            "por_pais": d.por_pais,
            "por_sede": d.por_sede,
            "cerrada_at": d.cerrada_at,
        }
        await repository.guardar_lnere(session, d.entidad, valores)
        await _version(session, d.entidad)

    async def boleta_adicional(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_registro.BoletaAdicionalEntregada.model_validate(envelope.data)
        await sumar(session, "boletas_adicionales", d.entidad, "sede", d.sede)
        await _version(session, d.entidad)

    async def paquete(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_postal.PaqueteActualizado.model_validate(envelope.data)
        p = await repository.paquete(session, d.entidad, d.numero)
        if d.estado not in p.estados:
            p.estados = [*p.estados, d.estado]
            await sumar(session, "paquetes", d.entidad, "estado", d.estado)
            await sumar(session, "paquetes", d.entidad, f"dia_{d.estado}"[:16], dia(d.ocurrido_at))
        await _version(session, d.entidad)

    async def sobre(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_postal.SobreRecibido.model_validate(envelope.data)
        await sumar(session, "sobres", d.entidad or "00", "clasificacion", d.clasificacion)
        await sumar(session, "sobres", d.entidad or "00", "dia", dia(d.recibido_at))
        await _version(session, d.entidad)

    async def destruidos(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_postal.SobresDestruidos.model_validate(envelope.data)
        await sumar(session, "sobres", d.entidad, "destruccion", "sobres", d.sobres)
        await sumar(session, "sobres", d.entidad, "destruccion", "actas")
        await sumar(session, "sobres", d.entidad, "dia_destruccion", dia(d.celebrada_at))
        await _version(session, d.entidad)

    async def voto_postal(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_postal.VotoRegistrado.model_validate(envelope.data)
        await sumar(session, "votos", d.entidad, "modalidad", "postal")
        await _version(session, d.entidad)

    async def voto_electronico(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_electronico.VotoEmitido.model_validate(envelope.data)
        if d.simulacro:
            # Drills never reach the public figures: only their participation, for the closing report.
            await sumar(session, "simulacros", d.entidad, "eleccion", d.eleccion)
            await _version(session, d.entidad)
            return
        await sumar(session, "votos", d.entidad, "modalidad", "electronica")
        await sumar(session, "votos_electronica", d.entidad, "hora", hora(d.emitido_at))
        # The site's turnout is of its list: an extra ballot's voter (a negative number, not on the LNERE)
        # is counted as handed, in boletas_adicionales.
        if (
            d.sede is not None
            and d.numero > 0
            and await insert_if_absent(
                session,
                VotoSede,
                {"entidad": d.entidad, "numero": d.numero, "sede": d.sede},
                ["entidad", "numero"],
            )
        ):  # the site's turnout: people, once each (their first ballot there)
            await sumar(session, "votos_sede", d.entidad, "sede", d.sede)
        await _version(session, d.entidad)

    async def eleccion_preparada(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_electronico.EleccionPreparada.model_validate(envelope.data)
        e = await repository.eleccion(session, d.eleccion, d.entidad, d.cargo, d.simulacro)
        e.nombre = d.nombre[:200]
        await _version(session, d.entidad)

    async def eleccion_abierta(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_electronico.EleccionAbierta.model_validate(envelope.data)
        e = await repository.eleccion(session, d.eleccion, d.entidad, d.cargo, d.simulacro)
        abierta = d.acta.get("abierta_at")
        e.abierta_at = (
            dt.datetime.fromisoformat(abierta) if isinstance(abierta, str) else envelope.occurred_at
        )
        credenciales = d.acta.get("credenciales")
        e.credenciales = credenciales if isinstance(credenciales, int) else None
        await _version(session, d.entidad)

    async def urna_sellada(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_electronico.UrnaSellada.model_validate(envelope.data)
        e = await repository.eleccion(session, d.eleccion, d.entidad, d.cargo, d.simulacro)
        e.sellada_at, e.boletas = d.sellada_at, d.boletas
        await _version(session, d.entidad)

    async def acta(session: AsyncSession, envelope: Envelope) -> None:
        d = eventos_computo.ActaPublicada.model_validate(envelope.data)
        await repository.guardar_resultado(session, d.entidad, d.cargo, d.documento)
        await _version(session, d.entidad)

    actualizada = [
        eventos_registro.SOLICITUD_DICTAMINADA,
        eventos_registro.SOLICITUD_ACLARACION_SOLICITADA,
        eventos_registro.SOLICITUD_CORREGIDA,
        eventos_registro.SOLICITUD_DADA_DE_BAJA,
        eventos_registro.SOLICITUD_MODALIDAD_CAMBIADA,
    ]
    # postal's package states (services/postal/domain.py EstadoPaquete): the contract of its events.
    paquetes = ["integrado", "enviado", "en_transito", "entregado", "no_entregado", "devuelto", "destruido"]
    return {
        eventos_registro.SOLICITUD_RECIBIDA: solicitud_recibida,
        **dict.fromkeys(actualizada, solicitud_actualizada),
        eventos_registro.LNERE_CERRADA: lnere_cerrada,
        eventos_registro.BOLETA_ADICIONAL_ENTREGADA: boleta_adicional,
        **{eventos_postal.paquete_event_type(e): paquete for e in paquetes},
        eventos_postal.SOBRE_RECIBIDO: sobre,
        eventos_postal.SOBRES_DESTRUIDOS: destruidos,
        eventos_postal.VOTO_REGISTRADO: voto_postal,
        eventos_electronico.VOTO_EMITIDO: voto_electronico,
        eventos_electronico.ELECCION_PREPARADA: eleccion_preparada,
        eventos_electronico.ELECCION_ABIERTA: eleccion_abierta,
        eventos_electronico.URNA_SELLADA: urna_sellada,
        eventos_computo.ACTA_PUBLICADA: acta,
    }
