from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.computo.config import SERVICIO
from shared.auditoria import AuditoriaMixin
from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import Emisor, OutboxMixin
from shared.db import UTCDateTime, new_metadata
from shared.webhooks import EntregaMixin, SuscripcionMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


# Every event of the service: ``await emisor.emitir(session, topic, event_type=…, aggregate_id=…, data=…)``.
emisor = Emisor(SERVICIO, Outbox)


class Bitacora(AuditoriaMixin, Base):
    pass


class Suscripcion(SuscripcionMixin, Base):
    """An OPL system's webhook endpoint for its entidad."""


class Entrega(EntregaMixin, Base):
    """One signed delivery to a subscription, with its attempts."""


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Mesa(Base):
    """A Mesa de Escrutinio y Cómputo. Postal MEC are numbered 1..n per entidad from postal's custody
    assignment (≤ 1,500 sobres each); the entidad's electronic MEC is number 0."""

    __tablename__ = "mesas"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)
    tipo: Mapped[str] = mapped_column(String(12), comment="postal o electronica")
    sobres: Mapped[int] = mapped_column(Integer, default=0, comment="Sobres en resguardo asignados (postal)")
    funcionarios: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    representantes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    instalada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Captura(Base):
    """One operator's capture of a mesa's acta. Two captures by different operators must agree."""

    __tablename__ = "capturas"
    __table_args__ = (UniqueConstraint("entidad", "mesa", "cargo", "operador"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2))
    mesa: Mapped[int] = mapped_column(Integer)
    cargo: Mapped[str] = mapped_column(String(64))
    operador: Mapped[str] = mapped_column(String(100))
    datos: Mapped[dict[str, Any]] = mapped_column(JSON, comment="votos por opción, total, sobres, incidentes")
    capturada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Acta(Base):
    """The acta of a mesa for an office: its state and, once validated or corrected, its official figures."""

    __tablename__ = "actas"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    mesa: Mapped[int] = mapped_column(Integer, primary_key=True)
    cargo: Mapped[str] = mapped_column(String(64), primary_key=True)
    estado: Mapped[str] = mapped_column(String(12), comment="capturada, validada, revision, corregida")
    datos: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    diferencias: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    actualizada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CorreccionActa(Base):
    """Every correction: who, when, why, and the figures before and after. Nothing is overwritten silently."""

    __tablename__ = "correcciones_acta"

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    mesa: Mapped[int] = mapped_column(Integer)
    cargo: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    quien: Mapped[str] = mapped_column(String(100))
    cuando: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    motivo: Mapped[str] = mapped_column(Text)
    antes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    despues: Mapped[dict[str, Any]] = mapped_column(JSON)


class CandidaturasBoleta(Base):
    """The approved candidacies of an office's ballot (electronico's opened election): their names go in
    the acta de cómputo."""

    __tablename__ = "candidaturas_boleta"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    cargo: Mapped[str] = mapped_column(String(64), primary_key=True)
    lista: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class EscrutinioElectronico(Base):
    """The electronic MEC's count of one election: the sealed box's encrypted tally (from electronico), the
    partial decryptions custodians deliver, and — with k of them, each proof checked — the result."""

    __tablename__ = "escrutinios_electronicos"

    eleccion: Mapped[str] = mapped_column(String(32), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    cargo: Mapped[str] = mapped_column(String(64))
    simulacro: Mapped[bool] = mapped_column(Boolean, default=False)
    boletas: Mapped[int] = mapped_column(Integer)
    presenciales: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="De las boletas, las de los módulos de las sedes"
    )
    sello: Mapped[str] = mapped_column(String(64))
    eleccion_json: Mapped[str] = mapped_column(Text)
    custodios_json: Mapped[str] = mapped_column(Text)
    recuento: Mapped[str] = mapped_column(Text)
    recuento_dimensionado: Mapped[str] = mapped_column(Text)
    resultado: Mapped[str | None] = mapped_column(Text, nullable=True)
    votos: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    publicado_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DescifradoParcial(Base):
    """A custodian's partial decryption (its proofs verified on arrival). One per custodian: a voided one is
    replaced when the custodian delivers again; the bitácora keeps the SHA-256 of each one voided."""

    __tablename__ = "descifrados_parciales"

    eleccion: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[int] = mapped_column(Integer, primary_key=True)
    texto: Mapped[str] = mapped_column(Text)
    custodio: Mapped[str] = mapped_column(String(100), comment="sub del token que lo entregó")
    recibido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    estado: Mapped[str] = mapped_column(
        String(12),
        default="valido",
        server_default="valido",
        comment="valido (se usa), cuarentena (su factor no combina con los demás) o anulado (por ine-admin)",
    )
    motivo: Mapped[str | None] = mapped_column(
        Text, nullable=True, comment="Por qué está en cuarentena o anulado"
    )
    cambio_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pruebas_fuertes: Mapped[str | None] = mapped_column(
        Text,
        nullable=True,
        comment="Pruebas fuertes del descifrado (JSON canónico: strong_decryption_proofs)",
    )


class Lnere(Base):
    """An entidad's closed list, by modality (from registro): the base of participation."""

    __tablename__ = "lnere"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    postal: Mapped[int] = mapped_column(Integer)
    electronica: Mapped[int] = mapped_column(Integer)
    presencial: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total: Mapped[int] = mapped_column(Integer)


class ActaComputo(Base):
    """The acta de cómputo de entidad for one office: signed, published once."""

    __tablename__ = "actas_computo"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    cargo: Mapped[str] = mapped_column(String(64), primary_key=True)
    documento: Mapped[dict[str, Any]] = mapped_column(JSON, comment="{acta, firma, clave_verificacion}")
    publicada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
