from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import OutboxMixin
from shared.db import UTCDateTime, new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Solicitud(Base):
    __tablename__ = "solicitudes"

    id: Mapped[int] = mapped_column(primary_key=True)
    folio: Mapped[str] = mapped_column(String(32), unique=True)
    # One person per clave de elector in a process: the unique constraint settles concurrent duplicates.
    clave_elector: Mapped[str] = mapped_column(String(18), unique=True)
    entidad: Mapped[str] = mapped_column(String(2))
    modalidad: Mapped[str] = mapped_column(String(16))
    estado: Mapped[str] = mapped_column(String(20), default="recibida")
    version: Mapped[int] = mapped_column(default=1)
    recibida_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
