from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import OutboxMixin
from shared.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class ConteoSolicitudes(Base):
    """Projection: applications received per entidad and modality (from registro's events only)."""

    __tablename__ = "conteo_solicitudes"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    modalidad: Mapped[str] = mapped_column(String(16), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)


PROJECTIONS: list[type[Base]] = [ConteoSolicitudes]
