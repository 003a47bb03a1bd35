from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.postal.config import SERVICIO
from shared.auditoria import AuditoriaMixin
from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import Emisor, OutboxMixin
from shared.datos_personales import Cifrado, IndiceCiego
from shared.db import UTCDateTime, new_metadata, utcnow
from shared.notificaciones import NotificacionMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


# Every event of the service: ``await emisor.emitir(session, topic, event_type=…, aggregate_id=…, data=…)``.
emisor = Emisor(SERVICIO, Outbox)


class Bitacora(AuditoriaMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Notificacion(NotificacionMixin, Base):
    # Contact and text (a secret until the gateway takes it) are encrypted at rest: see the mixin.
    pass


class Paquete(Base):
    """One Paquete Electoral Postal (PEP) per postal voter: integrated when registro closes the list."""

    __tablename__ = "paquetes"
    __table_args__ = (
        UniqueConstraint("entidad", "numero"),
        UniqueConstraint("clave_elector_indice"),
        UniqueConstraint("transportista", "guia"),
        Index("ix_paquetes_entidad_estado", "entidad", "estado"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2))
    numero: Mapped[int] = mapped_column(comment="Número en la LNERE de la entidad")
    folio: Mapped[str] = mapped_column(String(32), unique=True)
    # Personal data: encrypted at rest (shared/datos_personales.py); the SPV scan finds the package by the
    # blind index of the clave de elector.
    clave_elector: Mapped[str] = mapped_column(Cifrado())
    clave_elector_indice: Mapped[str] = mapped_column(
        IndiceCiego("clave_elector"), comment="HMAC-SHA256 de la clave de elector (escaneo del sobre)"
    )
    nombre: Mapped[str] = mapped_column(Cifrado())
    calle_numero: Mapped[str] = mapped_column(Cifrado())
    ciudad: Mapped[str] = mapped_column(Cifrado())
    region: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    codigo_postal: Mapped[str] = mapped_column(Cifrado())
    pais: Mapped[str] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    telefono: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    boletas: Mapped[list[str]] = mapped_column(JSON, comment="Un cargo por boleta")
    sobres_voto: Mapped[int]
    lote: Mapped[int] = mapped_column(comment="Lote de envío dentro de la entidad")
    estado: Mapped[str] = mapped_column(String(16), default="integrado")
    estado_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, comment="Hora del transportista del último estado"
    )
    transportista: Mapped[str | None] = mapped_column(String(32), nullable=True)
    guia: Mapped[str | None] = mapped_column(String(64), nullable=True)
    envios: Mapped[int] = mapped_column(default=0)
    voto_recibido_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    aviso_retraso_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(default=1)
    integrado_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enviado_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EventoTransportista(Base):
    """Every carrier report, once (its own id): a retry or a duplicate changes nothing."""

    __tablename__ = "eventos_transportista"
    # «Mi paquete» reads the events of one tracking number (services/postal/paginas).
    __table_args__ = (Index("ix_eventos_transportista_guia", "transportista", "guia"),)

    transportista: Mapped[str] = mapped_column(String(32), primary_key=True)
    evento_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    guia: Mapped[str] = mapped_column(String(64))
    estado: Mapped[str] = mapped_column(String(16))
    ocurrido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resultado: Mapped[str] = mapped_column(String(16), comment="aplicado, ignorado (no avanza) o sin_paquete")
    recibido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detalle: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Sobre(Base):
    """A Sobre-Postal-Voto received at INE, scanned by its barcode (the clave de elector)."""

    __tablename__ = "sobres"

    id: Mapped[int] = mapped_column(primary_key=True)
    clave_elector: Mapped[str] = mapped_column(Cifrado())
    paquete_id: Mapped[int | None] = mapped_column(ForeignKey("paquetes.id"), nullable=True, index=True)
    entidad: Mapped[str | None] = mapped_column(String(2), nullable=True)
    clasificacion: Mapped[str] = mapped_column(String(16))
    recibido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    operador: Mapped[str] = mapped_column(String(200))
    mesa: Mapped[int | None] = mapped_column(nullable=True)
    acta_destruccion_id: Mapped[int | None] = mapped_column(
        ForeignKey("actas_destruccion.id"),
        nullable=True,
        index=True,
        comment="Extemporáneo: el acta que lo destruyó",
    )


class ActaDestruccion(Base):
    """The destruction, unopened, of an entidad's late envelopes before party representatives (LGIPE 345.2):
    who attended, where and when, and how many envelopes; each envelope points at its act."""

    __tablename__ = "actas_destruccion"

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    lugar: Mapped[str] = mapped_column(String(200))
    celebrada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    asistentes: Mapped[list[dict[str, str]]] = mapped_column(JSON, comment="[{nombre, cargo}]")
    sobres: Mapped[int] = mapped_column(default=0)
    registrada_por: Mapped[str] = mapped_column(String(200))


class CandidaturasBoleta(Base):
    """A ballot's candidacies as ``ine-admin`` approved them in electronico (its event): the names the paper
    ballot prints beside each party, in ballot order. ``ambito``: the entidad, or «nacional» (Presidencia)."""

    __tablename__ = "candidaturas_boleta"

    ambito: Mapped[str] = mapped_column(String(8), primary_key=True)
    cargo: Mapped[str] = mapped_column(String(64), primary_key=True)
    huella: Mapped[str] = mapped_column(String(64))
    lista: Mapped[list[dict[str, Any]]] = mapped_column(JSON, comment="[{nombre, partidos}] en orden")
