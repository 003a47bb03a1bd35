from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.auditoria import AuditoriaMixin
from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import OutboxMixin
from shared.db import UTCDateTime, new_metadata
from shared.webhooks import EntregaMixin, SuscripcionMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class Bitacora(AuditoriaMixin, Base):
    pass


class Suscripcion(SuscripcionMixin, Base):
    """An OPL system's endpoint: it is pushed each change of its entidad's figures."""


class Entrega(EntregaMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Conteo(Base):
    """Projection: counters by series, entidad and one dimension (``solicitudes``/``09``/``pais``/``US``).
    Built from events only; a replay from zero gives the same numbers."""

    __tablename__ = "conteos"

    serie: Mapped[str] = mapped_column(String(32), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    valor: Mapped[str] = mapped_column(String(40), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)


class VotoSede(Base):
    """Who voted in person at a consular site (by number on their entidad's list): a person counts once in
    the site's turnout however many ballots (offices) they cast."""

    __tablename__ = "votos_sede"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)
    sede: Mapped[str] = mapped_column(String(40))


class Solicitud(Base):
    """An application's current modality and state, so a later event moves it between counters.
    Version-guarded: an event older than what was applied (``aggregate_version``) changes nothing."""

    __tablename__ = "solicitudes"

    folio: Mapped[str] = mapped_column(String(40), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2))
    modalidad: Mapped[str] = mapped_column(String(16))
    estado: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)


class Paquete(Base):
    """The states a package has reached (for the funnel: each counts once per package)."""

    __tablename__ = "paquetes"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)
    estados: Mapped[list[str]] = mapped_column(JSON, default=list)


class Lnere(Base):
    __tablename__ = "lnere"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    postal: Mapped[int] = mapped_column(Integer)
    electronica: Mapped[int] = mapped_column(Integer)
    presencial: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    por_pais: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    por_sede: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    cerrada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Eleccion(Base):
    """Each internet election electronico prepares, drills included: when it opened and sealed, how many
    credentials and ballots. The drills and the voting stage of the closing report."""

    __tablename__ = "elecciones"

    eleccion: Mapped[str] = mapped_column(String(64), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2))
    cargo: Mapped[str] = mapped_column(String(64))
    nombre: Mapped[str] = mapped_column(String(200), default="")
    simulacro: Mapped[bool] = mapped_column(Boolean, default=False)
    credenciales: Mapped[int | None] = mapped_column(Integer, nullable=True)
    abierta_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sellada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    boletas: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Resultado(Base):
    """The published acta de cómputo of an office (from computo), as signed."""

    __tablename__ = "resultados"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    cargo: Mapped[str] = mapped_column(String(64), primary_key=True)
    documento: Mapped[dict[str, Any]] = mapped_column(JSON)


class Version(Base):
    """One row: how many events the read model has applied (live updates and ETags key on it)."""

    __tablename__ = "version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    valor: Mapped[int] = mapped_column(Integer, default=0)


class VersionEntidad(Base):
    """Events applied per entidad, and the last version pushed to the entidad's webhooks."""

    __tablename__ = "version_entidad"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    valor: Mapped[int] = mapped_column(Integer, default=0)
    notificada: Mapped[int] = mapped_column(Integer, default=0)


PROJECTIONS: list[type[Base]] = [
    Conteo, Solicitud, Paquete, Lnere, Eleccion, Resultado, Version, VersionEntidad
]  # fmt: skip
