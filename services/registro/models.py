from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.registro.config import SERVICIO
from services.registro.domain import nueva_referencia
from shared.auditoria import AuditoriaMixin
from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import Emisor, OutboxMixin
from shared.datos_personales import Cifrado, CifradoBinario, IndiceCiego
from shared.db import UTCDateTime, new_metadata, utcnow
from shared.notificaciones import NotificacionMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    # The LNERE events carry names, addresses and contact (postal and electronico need them): encrypted here.
    payload: Mapped[str] = mapped_column(Cifrado())


# Every event of the service: ``await emisor.emitir(session, topic, event_type=…, aggregate_id=…, data=…)``.
emisor = Emisor(SERVICIO, Outbox)


class Bitacora(AuditoriaMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class Notificacion(NotificacionMixin, Base):
    """Messages to applicants (receipt with the folio, dictamen, aclaración, inscription, change codes and
    notices), staged with ``shared.notificaciones.encolar`` in the transaction that causes them."""


class Solicitud(Base):
    __tablename__ = "solicitudes"
    __table_args__ = (
        # One person per clave de elector in a process: the constraint settles concurrent duplicates (on the
        # blind index: the clave itself is encrypted).
        UniqueConstraint("proceso", "clave_elector_indice"),
        Index("ix_solicitudes_cola", "estado", "recibida_at", "id"),
        Index("ix_solicitudes_entidad_estado", "entidad", "estado"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The applicant's secret: only in the receipt, in messages to their own contact and to INE operators.
    folio: Mapped[str] = mapped_column(String(32), unique=True)
    # The opaque name of the person on the party review and in observations (never the folio).
    referencia: Mapped[str] = mapped_column(String(16), unique=True, default=nueva_referencia)
    proceso: Mapped[str] = mapped_column(String(32))
    # Personal data: encrypted at rest (shared/datos_personales.py). Birth date and sex stay in clear: the
    # public statistics count by age band and sex, and neither names anyone.
    clave_elector: Mapped[str] = mapped_column(Cifrado())
    clave_elector_indice: Mapped[str] = mapped_column(
        IndiceCiego("clave_elector"), comment="HMAC-SHA256 de la clave de elector: búsquedas y duplicados"
    )
    nombre: Mapped[str] = mapped_column(Cifrado())
    apellido_paterno: Mapped[str] = mapped_column(Cifrado())
    apellido_materno: Mapped[str] = mapped_column(Cifrado(), default="")
    fecha_nacimiento: Mapped[dt.date] = mapped_column(Date)
    sexo: Mapped[str] = mapped_column(String(1))
    entidad: Mapped[str] = mapped_column(String(2))
    pais: Mapped[str] = mapped_column(String(2))
    calle_numero: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    ciudad: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    region: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    codigo_postal: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    email: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    telefono: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    modalidad: Mapped[str] = mapped_column(String(16))
    sede: Mapped[str | None] = mapped_column(String(40), nullable=True, comment="voto presencial")
    canal: Mapped[str] = mapped_column(String(16), default="internet")
    estado: Mapped[str] = mapped_column(String(20), default="recibida")
    motivos: Mapped[list[str]] = mapped_column(JSON, default=list)
    plazo_aclaracion: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    numero_lnere: Mapped[int | None] = mapped_column(nullable=True)
    # The last time a duplicate application re-sent the folio to the contact on file (at most every 15 min).
    folio_reenviado_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(default=1)
    recibida_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actualizada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Documento(Base):
    """Credential images and proof of address, stored with their hash (reused proofs are flagged)."""

    __tablename__ = "documentos"
    __table_args__ = (UniqueConstraint("solicitud_id", "tipo"), Index("ix_documentos_sha256", "sha256"))

    id: Mapped[int] = mapped_column(primary_key=True)
    solicitud_id: Mapped[int] = mapped_column(ForeignKey("solicitudes.id", ondelete="CASCADE"))
    tipo: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(64))
    tamano: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    contenido: Mapped[bytes] = mapped_column(CifradoBinario())
    recibido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Historial(Base):
    """Who did what to which application, when (every state change): the application's own history, read
    by folio. Not the service's audit log: that is ``Bitacora`` (shared/auditoria.py, hash-chained), as in
    every service. The table keeps its old name, ``auditoria``."""

    __tablename__ = "auditoria"

    id: Mapped[int] = mapped_column(primary_key=True)
    folio: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    rol: Mapped[str] = mapped_column(String(32))
    accion: Mapped[str] = mapped_column(String(64))
    detalle: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Observacion(Base):
    """A party representative's observation on the list of an entidad, and its resolution."""

    __tablename__ = "observaciones"

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    partido: Mapped[str] = mapped_column(String(16))
    # The person observed: by the opaque referencia (what the party sees); the folio for INE operators.
    referencia: Mapped[str] = mapped_column(String(16))
    folio: Mapped[str] = mapped_column(String(32))
    descripcion: Mapped[str] = mapped_column(Text)
    estado: Mapped[str] = mapped_column(String(16), default="pendiente")
    respuesta: Mapped[str | None] = mapped_column(Text, nullable=True)
    creada_por: Mapped[str] = mapped_column(String(200))
    creada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resuelta_por: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resuelta_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CierreLnere(Base):
    """The closed list of an entidad: frozen once, numbered; closing again changes nothing."""

    __tablename__ = "cierres_lnere"

    proceso: Mapped[str] = mapped_column(String(32), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    total: Mapped[int]
    postal: Mapped[int]
    electronica: Mapped[int]
    presencial: Mapped[int] = mapped_column(default=0)
    cerrada_por: Mapped[str] = mapped_column(String(200))
    cerrada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BoletasSede(Base):
    """The extra ballots of a consular site on election day (#27): the cap comes from the process file, and
    the database refuses one more than it."""

    __tablename__ = "boletas_sede"
    __table_args__ = (CheckConstraint("entregadas <= tope", name="tope"),)

    proceso: Mapped[str] = mapped_column(String(32), primary_key=True)
    sede: Mapped[str] = mapped_column(String(40), primary_key=True)
    tope: Mapped[int]
    entregadas: Mapped[int] = mapped_column(default=0)


class BoletasSedeEntidad(Base):
    """A site's extra ballots of one entidad: each is bound to one of the site's reserve credentials for that
    entidad (``folio`` 1 … the process file's ``credenciales_adicionales``), so no more are handed."""

    __tablename__ = "boletas_sede_entidad"
    __table_args__ = (CheckConstraint("entregadas <= tope", name="tope"),)

    proceso: Mapped[str] = mapped_column(String(32), primary_key=True)
    sede: Mapped[str] = mapped_column(String(40), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    tope: Mapped[int]
    entregadas: Mapped[int] = mapped_column(default=0)


class BoletaAdicional(Base):
    """One extra ballot, handed at a site to a citizen with a valid voter ID who is not on the LNERE. Kept
    by clave de elector: the same person gets no second one, at this site or any other."""

    __tablename__ = "boletas_adicionales"
    __table_args__ = (UniqueConstraint("proceso", "clave_elector_indice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proceso: Mapped[str] = mapped_column(String(32))
    sede: Mapped[str] = mapped_column(String(40))
    entidad: Mapped[str] = mapped_column(String(2), comment="la de la credencial: da la boleta")
    folio: Mapped[int | None] = mapped_column(
        nullable=True, comment="Su credencial de reserva en la sede para la entidad (1, 2, …)"
    )
    clave_elector: Mapped[str] = mapped_column(Cifrado())
    clave_elector_indice: Mapped[str] = mapped_column(
        IndiceCiego("clave_elector"), comment="HMAC-SHA256 de la clave de elector: una boleta por persona"
    )
    entregada_por: Mapped[str] = mapped_column(String(200))
    entregada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Probador(Base):
    """An outside tester of the drills (#27: OPL staff, observers; 3,803 in 2021's fifth drill), from the
    list ``ine-admin`` uploads. Never on the LNERE: its number is negative (``-id``), it gets an account and
    drill credentials only, and is kept by e-mail (one account per person and process)."""

    __tablename__ = "probadores"
    __table_args__ = (UniqueConstraint("proceso", "email_indice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proceso: Mapped[str] = mapped_column(String(32))
    entidad: Mapped[str] = mapped_column(String(2), comment="la de los simulacros en que participa")
    nombre: Mapped[str] = mapped_column(Cifrado())
    email: Mapped[str] = mapped_column(Cifrado())
    email_indice: Mapped[str] = mapped_column(
        IndiceCiego("email"), comment="HMAC-SHA256 del correo: una cuenta de prueba por persona"
    )
    telefono: Mapped[str] = mapped_column(Cifrado())
    cargado_por: Mapped[str] = mapped_column(String(200))
    cargado_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CambioPendiente(Base):
    """A change to an application (correction, modality, contact, address) waiting for the applicant's
    confirmation: a one-time code went to the contact on file; the change applies only with that code."""

    __tablename__ = "cambios_pendientes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the applicant quotes with the code (opaque; the id is not shown).
    confirmacion: Mapped[str] = mapped_column(String(24), unique=True)
    solicitud_id: Mapped[int] = mapped_column(ForeignKey("solicitudes.id", ondelete="CASCADE"), index=True)
    tipo: Mapped[str] = mapped_column(String(16))  # correccion | modalidad | documento
    # The requested values (JSON: names, address, contact): personal data, encrypted.
    cambio: Mapped[str] = mapped_column(Cifrado())
    # HMAC-SHA256 of the code keyed with ``sal`` (random per row): the code itself is never stored.
    # Encrypted too: whoever reads the database without the service's keys cannot try the 10^6 codes.
    codigo_hash: Mapped[str] = mapped_column(Cifrado())
    sal: Mapped[str] = mapped_column(String(32))
    canal: Mapped[str] = mapped_column(String(8))  # where the code went: email | sms
    intentos: Mapped[int] = mapped_column(default=0)
    expira_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    usado_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Replaced by a newer request for the same application, or made moot by a change applied meanwhile.
    anulado_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    creado_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentoPendiente(Base):
    """A document sent after the application was reviewed (or replacing one already there), waiting for the
    code of its ``CambioPendiente``: it joins the expediente only once confirmed; then, or when the change is
    voided, this row is deleted."""

    __tablename__ = "documentos_pendientes"

    id: Mapped[int] = mapped_column(primary_key=True)
    cambio_id: Mapped[int] = mapped_column(
        ForeignKey("cambios_pendientes.id", ondelete="CASCADE"), unique=True
    )
    tipo: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(64))
    tamano: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    contenido: Mapped[bytes] = mapped_column(CifradoBinario())
