from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.electronico.config import SERVICIO
from shared.auditoria import AuditoriaMixin
from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import Emisor, OutboxMixin
from shared.datos_personales import Cifrado
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


class Eleccion(Base):
    """One Belenios election: an office of an entidad (or a drill). Its uuid exists before the credentials
    (they are derived from it); election.json is written at the opening, once the key ceremony is done."""

    __tablename__ = "elecciones"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2), index=True)
    cargo: Mapped[str] = mapped_column(String(64))
    simulacro: Mapped[bool] = mapped_column(Boolean, default=False)
    # Real elections: one per (entidad, cargo); drills take a unique key of their own.
    clave: Mapped[str] = mapped_column(String(80), unique=True)
    nombre: Mapped[str] = mapped_column(String(200))
    estado: Mapped[str] = mapped_column(
        String(16), default="preparacion", comment="preparacion, abierta, sellada"
    )
    umbral: Mapped[int] = mapped_column(Integer)
    custodios: Mapped[int] = mapped_column(Integer)
    inicio: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    fin: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    opciones: Mapped[list[str]] = mapped_column(
        JSON, comment="Claves de las opciones, en el orden de la boleta"
    )
    eleccion_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    custodios_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    credenciales_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    lista_credenciales: Mapped[dict[str, object] | None] = mapped_column(
        JSON, nullable=True, comment="Lista firmada por la autoridad de credenciales"
    )
    marca: Mapped[int | None] = mapped_column(
        Integer, nullable=True, comment="Fecha del archivo .bel (epoch)"
    )
    acta_apertura: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    sello: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recuento: Mapped[str | None] = mapped_column(Text, nullable=True, comment="EncryptedTally al sellar")
    recuento_dimensionado: Mapped[str | None] = mapped_column(Text, nullable=True)
    resultado: Mapped[str | None] = mapped_column(Text, nullable=True, comment="Result (de computo)")
    abierta_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sellada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The public record is stored once at the seal (pieces in TrozoArchivo) and grows once, with the result.
    archivo_tamano: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True, comment="Bytes del archivo .bel guardado (desde el sello)"
    )
    archivo_etag: Mapped[str | None] = mapped_column(
        String(64), nullable=True, comment="Hash del último evento del archivo .bel guardado (su ETag)"
    )


class Votante(Base):
    """A voter's account: by internet (access key, password, second factor; the access key only hashed), or
    in person at a consular site (``sede``: no login of its own; the site's staff open a kiosk turn for it).
    The private credential is never stored (an in-person voter's only sealed to its site's key)."""

    __tablename__ = "votantes"
    __table_args__ = (UniqueConstraint("entidad", "numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entidad: Mapped[str] = mapped_column(String(2))
    numero: Mapped[int] = mapped_column(Integer, comment="Número en la LNERE de la entidad")
    usuario: Mapped[str] = mapped_column(String(32), unique=True)
    # Contact and the TOTP secret: encrypted at rest (shared/datos_personales.py). Login is by usuario.
    email: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    telefono: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    sede: Mapped[str | None] = mapped_column(String(40), nullable=True, comment="voto presencial")
    clave_acceso_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    segundo_factor: Mapped[str | None] = mapped_column(String(8), nullable=True, comment="totp o sms")
    totp_secreto: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    sms_codigo_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sms_expira_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Anti-replay: the time step of the last accepted TOTP code; one of that step or earlier is refused.
    ultimo_codigo: Mapped[int | None] = mapped_column(
        Integer, nullable=True, comment="Paso TOTP (hora Unix // 30) del último código aceptado"
    )
    fallos: Mapped[int] = mapped_column(Integer, default=0)
    bloqueado_hasta: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    creado_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Credencial(Base):
    """The public half of a voter's credential for one election, as the credential authority issued it (the
    private half went from the authority to the voter; electronico never sees it). Bound to the voter by the
    number on the entidad's LNERE: one credential per voter and election."""

    __tablename__ = "credenciales"

    eleccion: Mapped[str] = mapped_column(ForeignKey("elecciones.uuid"), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True, comment="Número en la LNERE de la entidad")
    publica: Mapped[str] = mapped_column(String(64), unique=True)
    sellada: Mapped[str | None] = mapped_column(
        Text, nullable=True, comment="Voto presencial: la privada, sellada a la clave de la sede"
    )


class Turno(Base):
    """A kiosk turn at a consular site: the site's staff open it for an in-person voter after checking their
    ID; the kiosk redeems its one-time code (kept only hashed) for a voting session, once, before it
    expires."""

    __tablename__ = "turnos"

    codigo_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    votante_id: Mapped[int] = mapped_column(ForeignKey("votantes.id"), unique=True)
    sede: Mapped[str] = mapped_column(String(40))
    abierto_por: Mapped[str] = mapped_column(String(200), comment="sub del personal de la sede")
    expira_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Sesion(Base):
    __tablename__ = "sesiones"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    votante_id: Mapped[int] = mapped_column(ForeignKey("votantes.id"), index=True)
    expira_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    creada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Boleta(Base):
    """An accepted ballot, in ballot-box order. One per voter and election: the database enforces it."""

    __tablename__ = "boletas"
    __table_args__ = (UniqueConstraint("eleccion", "votante_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    eleccion: Mapped[str] = mapped_column(ForeignKey("elecciones.uuid"), index=True)
    votante_id: Mapped[int] = mapped_column(ForeignKey("votantes.id"))
    texto: Mapped[str] = mapped_column(Text)
    rastreador: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    emitida_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sesion_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, comment="Inicio de la sesión que la emitió: el tiempo para votar"
    )


class ErrorSimulacro(Base):
    """A drill's refused ballots by reason and hour (#27: the drill report's «errors seen»). Counts only."""

    __tablename__ = "errores_simulacro"

    eleccion: Mapped[str] = mapped_column(ForeignKey("elecciones.uuid"), primary_key=True)
    motivo: Mapped[str] = mapped_column(String(40), primary_key=True, comment="El tipo del problema")
    hora: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    veces: Mapped[int] = mapped_column(Integer, default=0)


class VotoPostal(Base):
    """Postal «votó» marks (from postal's events): such a voter may not vote by internet."""

    __tablename__ = "votos_postales"

    entidad: Mapped[str] = mapped_column(String(2), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)


class MensajeCeremonia(Base):
    """A custodian's public message in the key ceremony, relayed as received (paso 1, 2 or 3)."""

    __tablename__ = "ceremonia"

    eleccion: Mapped[str] = mapped_column(ForeignKey("elecciones.uuid"), primary_key=True)
    indice: Mapped[int] = mapped_column(Integer, primary_key=True)
    paso: Mapped[int] = mapped_column(Integer, primary_key=True)
    custodio: Mapped[str] = mapped_column(String(100), comment="sub del token que lo envió")
    contenido: Mapped[str] = mapped_column(Text)
    recibido_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Descifrado(Base):
    """A custodian's partial decryption, checked by computo and again here, for the public record."""

    __tablename__ = "descifrados"

    eleccion: Mapped[str] = mapped_column(ForeignKey("elecciones.uuid"), primary_key=True)
    owner: Mapped[int] = mapped_column(Integer, primary_key=True)
    posicion: Mapped[int] = mapped_column(Integer, comment="Orden en el archivo")
    texto: Mapped[str] = mapped_column(Text)
    pruebas_fuertes: Mapped[str | None] = mapped_column(
        Text,
        nullable=True,
        comment="Pruebas fuertes del descifrado (JSON canónico: strong_decryption_proofs)",
    )


class TrozoArchivo(Base):
    """A piece of an election's stored Belenios record (``archivo.bel``), from the seal on: the record is
    built once, stored here and served in pieces (Range), never rebuilt per request. Append-only: the result
    adds the last events in more pieces, and the bytes already stored never change."""

    __tablename__ = "archivo_trozos"

    eleccion: Mapped[str] = mapped_column(ForeignKey("elecciones.uuid"), primary_key=True)
    posicion: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, comment="Byte del archivo donde empieza"
    )
    datos: Mapped[bytes] = mapped_column(LargeBinary)


class Candidaturas(Base):
    """The candidacies of one office's ballot: loaded by the entidad's OPL (by ``ine-admin`` for a national
    office, ``ambito`` «nacional»), approved by ``ine-admin`` for exactly the version it reviewed
    (``huella``); from then on the ballot is locked and its fingerprint enters each election's setup."""

    __tablename__ = "candidaturas"

    ambito: Mapped[str] = mapped_column(String(8), primary_key=True)  # "01".."32" or "nacional"
    cargo: Mapped[str] = mapped_column(String(64), primary_key=True)
    lista: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    huella: Mapped[str] = mapped_column(String(64))
    capturada_por: Mapped[str] = mapped_column(String(200))
    capturada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    aprobada_por: Mapped[str | None] = mapped_column(String(200), default=None)
    aprobada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
