"""The credential authority's own records: the internet voters it must serve, the elections it issues for,
and the public half of every credential. The private half is never stored (it travels once, in the voter's
message, erased once the gateway has it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.credenciales.config import SERVICIO
from shared.auditoria import AuditoriaMixin
from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import Emisor, OutboxMixin
from shared.datos_personales import Cifrado
from shared.db import UTCDateTime, new_metadata
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
    """The authority's own outbox of messages: each voter's private credentials."""


class Votante(Base):
    """A voter of the closed LNERE with a credential: by internet (contact, encrypted at rest: where its
    credentials go) or in person (its consular site: its credentials are sealed to the site's key). Or an
    outside tester of the drills (a negative number, shared/numeros.py): drill credentials only."""

    __tablename__ = "votantes"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Número en la LNERE de la entidad")
    email: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    telefono: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    sede: Mapped[str | None] = mapped_column(String(40), nullable=True, comment="voto presencial")
    recibido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Cierre(Base):
    """How many voters with a credential (internet and in person) each entidad's closed LNERE has: the list is
    signed when all have one."""

    __tablename__ = "cierres"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    electronica: Mapped[int] = mapped_column(Integer)
    presencial: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Eleccion(Base):
    """An election electronico prepared (real or drill): its uuid is part of every credential."""

    __tablename__ = "elecciones"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    cargo: Mapped[str] = mapped_column(String(64))
    nombre: Mapped[str] = mapped_column(String(200))
    simulacro: Mapped[bool] = mapped_column(Boolean, default=False)
    emitidas: Mapped[int] = mapped_column(Integer, default=0)
    probadores: Mapped[int] = mapped_column(
        Integer,
        default=0,
        server_default="0",
        comment="Simulacro: probadores de la entidad (fuera de la LNERE) que recibirán credencial",
    )
    lista: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True, comment="Lista firmada")
    firmada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Credencial(Base):
    """The public half of one voter's credential for one election."""

    __tablename__ = "credenciales"

    eleccion: Mapped[str] = mapped_column(String(32), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)
    publica: Mapped[str] = mapped_column(String(64), unique=True)
