"""Messages to citizens (email over SMTP, SMS over a provider's HTTP API) through a notification outbox.

- A service stages each message with ``encolar`` in the same transaction as the change that causes it.
- A sender (``Notificador``, one per service, running where the service's outbox relay runs) hands each
  message to its gateway: SMTP with ``aiosmtplib`` (STARTTLS/TLS, auth) and Twilio's Messages REST API
  with httpx.
- Each message goes to its gateway **at most once**: it is claimed (``enviando``, committed) before the
  gateway sees it and settled after the gateway's answer. A gateway that is down or answers "try later" never
  accepted it: the message goes back to ``pendiente`` with a growing wait. A gateway that refuses it for good
  leaves it ``fallida`` with the reason. A sender that died between the claim and the answer leaves it
  ``incierta`` (the gateway may or may not have it): never re-sent by itself; ``vmre avisos reenviar`` does
  it on a person's decision (same Message-ID). Every outcome is counted in ``/metrics``.
- A message that carries a secret (access key, voting credential, a login or confirmation code) has
  ``secreto``: its text is stored encrypted (as every text is: the service's personal-data keys) only until
  the gateway accepts it or it fails for good, then erased.
- Locally the gateways are the local mailbox (``vmre/buzon.py``: an SMTP server and an SMS endpoint of the
  same contract, started by ``vmre run``); production refuses to start with it (``AjustesAvisos``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import ipaddress
import logging
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Literal, Protocol

import aiosmtplib
import httpx
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings
from sqlalchemy import Boolean, Integer, String, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.datos_personales import Cifrado
from shared.db import UTCDateTime, insertar, utcnow
from shared.rondas import repetir

log = logging.getLogger(__name__)

# States of a message.
PENDIENTE, ENVIANDO, ENVIADA, FALLIDA, INCIERTA = "pendiente", "enviando", "enviada", "fallida", "incierta"
ESTADOS = (PENDIENTE, ENVIANDO, ENVIADA, FALLIDA, INCIERTA)
BORRADO = None  # the text of a secret message once settled

# Subjects of the e-mails, by template (a template without one gets the generic subject).
ASUNTOS: dict[str, str] = {
    "solicitud_recibida": "Su solicitud de inscripción a la LNERE: folio",
    "folio_reenviado": "Su folio de solicitud a la LNERE",
    "solicitud_dictaminada": "Resultado de la revisión de su solicitud a la LNERE",
    "aclaracion_solicitada": "Su solicitud a la LNERE necesita una aclaración",
    "inscripcion": "Usted quedó inscrito en la Lista Nominal de Electores Residentes en el Extranjero",
    "codigo_confirmacion": "Código para confirmar un cambio en su solicitud",
    "cambio_aplicado": "Se cambiaron datos de su solicitud a la LNERE",
    "cambio_en_revision": "Su solicitud a la LNERE pasó a revisión del INE",
    "acceso_voto": "Su cuenta para votar por internet",
    "credenciales_voto": "Su credencial para votar por internet",
    "paquete_enviado": "Su Paquete Electoral Postal va en camino",
    "paquete_retrasado": "Su Paquete Electoral Postal viene con retraso",
    "codigo_acceso": "Su código de acceso",
}
ASUNTO_GENERICO = "Aviso del Voto de las y los Mexicanos Residentes en el Extranjero"


class NotificacionMixin:
    """The notification outbox of a service (table ``notificaciones``)."""

    __tablename__ = "notificaciones"

    id: Mapped[int] = mapped_column(primary_key=True)
    canal: Mapped[str] = mapped_column(String(8))  # email | sms
    # Contact and text are personal data: Fernet tokens at rest (the service's keys).
    destino: Mapped[str] = mapped_column(Cifrado())
    plantilla: Mapped[str] = mapped_column(String(64))
    asunto: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mensaje: Mapped[str | None] = mapped_column(Cifrado(), nullable=True)
    secreto: Mapped[bool] = mapped_column(Boolean, default=False)
    referencia: Mapped[str] = mapped_column(String(64))
    estado: Mapped[str] = mapped_column(String(16), default=PENDIENTE)
    intentos: Mapped[int] = mapped_column(Integer, default=0)
    siguiente_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enviando_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The e-mail's Message-ID (made when claimed, kept for a deliberate re-send) or the provider's SMS id.
    id_externo: Mapped[str | None] = mapped_column(String(200), nullable=True)
    creada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enviada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        from sqlalchemy import Index

        return (
            Index(f"ix_{cls.__tablename__}_estado_siguiente", "estado", "siguiente_at", "id"),
            Index(f"ix_{cls.__tablename__}_referencia", "referencia"),  # a person's messages, on the record
        )


@dataclass(frozen=True, slots=True)
class Aviso:
    """One message to a citizen. ``canales``: ``"ambos"`` sends it by e-mail and by SMS where there is each
    address; ``"preferido"`` by e-mail if there is one, else by SMS."""

    email: str | None
    telefono: str | None
    plantilla: str
    mensaje: str
    referencia: str
    secreto: bool = False
    canales: Literal["ambos", "preferido"] = "ambos"
    asunto: str | None = None


def destinos(aviso: Aviso) -> list[tuple[str, str]]:
    """(canal, destino) of each copy of the message."""
    todos = [(c, d) for c, d in (("email", aviso.email), ("sms", aviso.telefono)) if d]
    return todos[:1] if aviso.canales == "preferido" else todos


async def encolar(
    session: AsyncSession, model: type[NotificacionMixin], avisos: Sequence[Aviso], ahora: dt.datetime
) -> None:
    """Stage the messages in the caller's transaction, in one insert."""
    filas = [
        {
            "canal": canal,
            "destino": destino,
            "plantilla": a.plantilla,
            "asunto": a.asunto or ASUNTOS.get(a.plantilla, ASUNTO_GENERICO),
            "mensaje": a.mensaje,
            "secreto": a.secreto,
            "referencia": a.referencia,
            "estado": PENDIENTE,
            "intentos": 0,
            "creada_at": ahora,
        }
        for a in avisos
        for canal, destino in destinos(a)
    ]
    if filas:
        await insertar(session, model, filas)


def enmascarar(contacto: str) -> str:
    """``maria@example.com`` → ``m***@example.com``; ``+13105551234`` → ``+1******1234``."""
    if "@" in contacto:
        local, _, dominio = contacto.partition("@")
        return f"{local[:1]}***@{dominio}"
    return contacto[:2] + "*" * max(len(contacto) - 6, 3) + contacto[-4:]


# --- configuration ------------------------------------------------------------------------------------------

# The local mailbox (vmre/buzon.py) that `vmre run` starts in local mode: where local services deliver.
BUZON_SMTP = ("127.0.0.1", 1025)
BUZON_HTTP = ("127.0.0.1", 8025)


def buzon_local() -> tuple[tuple[str, int], tuple[str, int]]:
    """Addresses of the local mailbox: ``VMRE_BUZON_SMTP`` and ``VMRE_BUZON_HTTP`` (``host:port``)."""

    def leer(variable: str, defecto: tuple[str, int]) -> tuple[str, int]:
        valor = os.environ.get(variable)
        if not valor:
            return defecto
        host, _, puerto = valor.rpartition(":")
        return host or defecto[0], int(puerto)

    return leer("VMRE_BUZON_SMTP", BUZON_SMTP), leer("VMRE_BUZON_HTTP", BUZON_HTTP)


def _es_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AjustesAvisos(BaseSettings):
    """The gateways of a service that writes to citizens (``VMRE_<SERVICIO>_SMTP_*``, ``…_SMS_*``).

    Local mode with nothing configured: the local mailbox (``vmre run`` starts it). Production refuses to
    start without a real gateway: an SMTP host with TLS and an SMS provider over HTTPS with its token."""

    smtp_host: str | None = Field(default=None, description="Servidor SMTP (local: el buzón local)")
    smtp_port: int | None = Field(default=None, gt=0, lt=65536, description="587 con STARTTLS, 465 con TLS")
    smtp_tls: Literal["starttls", "tls", "ninguno"] | None = None
    smtp_usuario: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(default=30.0, gt=0)
    remitente: str = Field(
        default="VMRE · INE <avisos@vmre.invalid>", description="From de los correos (nombre y dirección)"
    )
    # Twilio's Messages API: POST {sms_url}/2010-04-01/Accounts/{sms_cuenta}/Messages.json, Basic auth.
    sms_url: str | None = Field(default=None, description="Base del API del proveedor de SMS (Twilio)")
    sms_cuenta: str = Field(default="ACvmrelocal", description="Account SID del proveedor de SMS")
    sms_token: SecretStr | None = Field(default=None, description="Auth token del proveedor de SMS")
    sms_remitente: str = Field(default="+15005550006", description="Número (E.164) o MessagingServiceSid")
    sms_timeout: float = Field(default=15.0, gt=0)
    avisos_lote: int = Field(default=500, gt=0, description="Mensajes por vuelta del remitente")
    avisos_reclamo: int = Field(
        default=20, gt=0, description="Mensajes que el remitente toma a la vez (inciertos si cae a la mitad)"
    )

    @model_validator(mode="after")
    def _pasarelas(self) -> AjustesAvisos:
        servicio = getattr(self, "service", "servicio").upper()
        if getattr(self, "mode", "local") != "local":
            faltas = []
            if not self.smtp_host or _es_local(self.smtp_host):
                faltas.append(f"VMRE_{servicio}_SMTP_HOST (el servidor SMTP de la institución)")
            if self.smtp_tls == "ninguno":
                faltas.append(f"VMRE_{servicio}_SMTP_TLS=starttls o tls (nunca sin cifrar)")
            if not self.sms_url or not self.sms_url.startswith("https://"):
                faltas.append(f"VMRE_{servicio}_SMS_URL (https://api.twilio.com)")
            if self.sms_token is None or self.sms_cuenta == "ACvmrelocal":
                faltas.append(f"VMRE_{servicio}_SMS_CUENTA y VMRE_{servicio}_SMS_TOKEN")
            if faltas:
                raise ValueError(
                    "VMRE_MODE=production no entrega mensajes al buzón local: configure "
                    + "; ".join(faltas)
                    + "."
                )
        return self

    def smtp(self) -> tuple[str, int, str]:
        """(host, port, tls) of the SMTP gateway."""
        if self.smtp_host is None:
            (host, port), _ = buzon_local()
            return host, self.smtp_port or port, self.smtp_tls or "ninguno"
        tls = self.smtp_tls or "starttls"
        return self.smtp_host, self.smtp_port or (465 if tls == "tls" else 587), tls

    def sms_base(self) -> str:
        if self.sms_url is None:
            _, (host, port) = buzon_local()
            return f"http://{host}:{port}"
        return self.sms_url.rstrip("/")


# --- gateways -----------------------------------------------------------------------------------------------


class Rechazo(Exception):
    """The gateway refused the message for good (a bad address, a number that cannot receive SMS)."""


class Reintento(Exception):
    """The gateway did not take the message and said so (down, busy, 4xx SMTP, 5xx/429 HTTP): try later."""


class Incierto(Exception):
    """The message may or may not have reached the gateway (the connection broke after it was handed over)."""


def _html(texto: str) -> str:
    parrafos = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in texto.split("\n\n") if p.strip()
    )
    return (
        '<!doctype html><html lang="es"><body style="font-family: sans-serif; line-height: 1.5">'
        f'{parrafos}<hr><p style="color:#555; font-size: 90%">Instituto Nacional Electoral · Voto de las y '
        "los Mexicanos Residentes en el Extranjero. No responda a este correo.</p></body></html>"
    )


def correo(remitente: str, destino: str, asunto: str, texto: str, message_id: str) -> bytes:
    """The e-mail as sent: multipart/alternative, plain text and HTML in Spanish (UTF-8), with its
    Message-ID. Built with the ``compat32`` MIME classes: the default policy costs ~2 ms a message."""
    m = MIMEMultipart("alternative")
    m["From"] = remitente
    m["To"] = destino
    m["Subject"] = Header(asunto, "utf-8", header_name="Subject")  # type: ignore[assignment]  # folded right
    m["Message-ID"] = message_id
    m["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    m["Content-Language"] = "es"
    pie = "\n\n--\nInstituto Nacional Electoral · VMRE. No responda a este correo.\n"
    m.attach(MIMEText(texto + pie, "plain", "utf-8"))
    m.attach(MIMEText(_html(texto), "html", "utf-8"))
    return m.as_bytes()


class Pasarela(Protocol):
    async def __aenter__(self) -> Pasarela: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def enviar(self, destino: str, asunto: str, texto: str, id_externo: str) -> str | None: ...


class PasarelaSMTP:
    """One SMTP connection for a round of messages (STARTTLS or TLS and AUTH when configured)."""

    def __init__(self, ajustes: AjustesAvisos) -> None:
        self.ajustes = ajustes
        self.host, self.port, self.tls = ajustes.smtp()
        self.remitente = parseaddr(ajustes.remitente)[1]  # the envelope sender (MAIL FROM)
        self.cliente: aiosmtplib.SMTP | None = None

    async def _conectar(self) -> aiosmtplib.SMTP:
        a = self.ajustes
        cliente = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            tls_context=ssl.create_default_context() if self.tls != "ninguno" else None,
            username=a.smtp_usuario,
            password=a.smtp_password.get_secret_value() if a.smtp_password else None,
            timeout=a.smtp_timeout,
        )
        try:
            await cliente.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Reintento(f"sin conexión con el servidor SMTP {self.host}:{self.port}: {exc}") from exc
        return cliente

    async def __aenter__(self) -> PasarelaSMTP:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.cliente is not None and self.cliente.is_connected:
            try:
                await self.cliente.quit()
            except (aiosmtplib.SMTPException, OSError):
                self.cliente.close()

    async def enviar(self, destino: str, asunto: str, texto: str, id_externo: str) -> str | None:
        if self.cliente is None or not self.cliente.is_connected:
            self.cliente = await self._conectar()
        mensaje = correo(self.ajustes.remitente, destino, asunto, texto, id_externo)
        try:
            errores, _ = await self.cliente.sendmail(self.remitente, [destino], mensaje)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codigos = [r.code for r in exc.recipients]
            if all(500 <= c < 600 for c in codigos):
                raise Rechazo(f"el servidor SMTP rechazó el destinatario ({codigos[0]})") from exc
            raise Reintento(f"el servidor SMTP difirió el destinatario ({codigos[0]})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            self.cliente.close()
            if 400 <= exc.code < 500:
                raise Reintento(f"el servidor SMTP pidió reintentar ({exc.code})") from exc
            raise Rechazo(f"el servidor SMTP rechazó el mensaje ({exc.code} {exc.message[:200]})") from exc
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            # Handed over, no answer: the server may have it. Never sent again by itself.
            self.cliente.close()
            raise Incierto(f"la conexión SMTP se cortó durante el envío: {type(exc).__name__}") from exc
        except aiosmtplib.SMTPException as exc:
            self.cliente.close()
            raise Reintento(f"error SMTP antes de entregar: {exc}") from exc
        if errores:
            raise Rechazo(f"el servidor SMTP rechazó el destinatario: {next(iter(errores.values()))}")
        return id_externo


class PasarelaSMS:
    """Twilio's Messages API (``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded ``To``,
    ``From`` or ``MessagingServiceSid``, ``Body``; HTTP Basic with the Account SID and the auth token). A 201
    answer carries the message's ``sid``."""

    def __init__(self, ajustes: AjustesAvisos) -> None:
        self.ajustes = ajustes
        self.url = f"{ajustes.sms_base()}/2010-04-01/Accounts/{ajustes.sms_cuenta}/Messages.json"
        token = ajustes.sms_token.get_secret_value() if ajustes.sms_token else "local"
        self.cliente = httpx.AsyncClient(
            auth=(ajustes.sms_cuenta, token), timeout=ajustes.sms_timeout, follow_redirects=False
        )

    async def __aenter__(self) -> PasarelaSMS:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cliente.aclose()

    async def enviar(self, destino: str, asunto: str, texto: str, id_externo: str) -> str | None:  # noqa: ARG002 — common gateway signature
        remitente = self.ajustes.sms_remitente
        campo = "MessagingServiceSid" if remitente.startswith("MG") else "From"
        try:
            r = await self.cliente.post(self.url, data={"To": destino, campo: remitente, "Body": texto})
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Reintento(f"sin conexión con el proveedor de SMS: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise Incierto(
                f"la petición al proveedor de SMS no tuvo respuesta: {type(exc).__name__}"
            ) from exc
        if r.status_code in (200, 201):
            try:
                sid = r.json().get("sid")
            except ValueError:
                sid = None
            return str(sid)[:200] if sid else None
        detalle = r.text[:200]
        if r.status_code == 429 or r.status_code >= 500 or r.status_code in (401, 403):
            # Busy, down or misconfigured credentials: nothing was accepted; try later (and say so loudly).
            raise Reintento(f"el proveedor de SMS respondió {r.status_code}: {detalle}")
        raise Rechazo(f"el proveedor de SMS rechazó el mensaje ({r.status_code}): {detalle}")


# --- the sender ---------------------------------------------------------------------------------------------


def espera(intentos: int) -> dt.timedelta:
    """Wait before the next try: 5 s, 10 s, 20 s … up to 30 minutes."""
    return dt.timedelta(seconds=min(5 * 2 ** max(intentos - 1, 0), 1800))


class Notificador:
    """Delivers a service's notification outbox. ``enviar_pendientes`` does one round; ``run`` loops."""

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        model: type[NotificacionMixin],
        ajustes: AjustesAvisos,
        metrics: Any = None,
        poll_interval: float = 1.0,
        plazo_envio: dt.timedelta = dt.timedelta(minutes=2),
    ) -> None:
        self.maker, self.model, self.ajustes = maker, model, ajustes
        self.poll_interval, self.plazo_envio = poll_interval, plazo_envio
        self.metrics = metrics
        self.dominio = (ajustes.remitente.rpartition("@")[2].rstrip(">") or "vmre.invalid").strip()

    def _contar(self, canal: str, resultado: str) -> None:
        if self.metrics is not None:
            self.metrics.avisos.labels(canal=canal, resultado=resultado).inc()

    async def _inciertas(self, session: AsyncSession, ahora: dt.datetime) -> None:
        """A claim older than any send can take: its sender died after handing it over (or before)."""
        m = self.model
        viejas = (
            await session.execute(
                update(m)
                .where(m.estado == ENVIANDO, m.enviando_at < ahora - self.plazo_envio)
                .values(
                    estado=INCIERTA,
                    error="el remitente se detuvo durante el envío: la pasarela pudo haberlo recibido o no",
                )
                .returning(m.canal)
            )
        ).all()
        for (canal,) in viejas:
            self._contar(canal, INCIERTA)

    async def _pendientes(self, canal: str, ahora: dt.datetime) -> list[int]:
        m = self.model
        async with self.maker() as session, session.begin():
            await self._inciertas(session, ahora)
            return list(
                (
                    await session.execute(
                        select(m.id)
                        .where(
                            m.estado == PENDIENTE,
                            m.canal == canal,
                            or_(m.siguiente_at.is_(None), m.siguiente_at <= ahora),
                        )
                        .order_by(m.id)
                        .limit(self.ajustes.avisos_lote)
                    )
                ).scalars()
            )

    async def _reclamar(self, ids: list[int]) -> list[NotificacionMixin]:
        """Take a handful of messages for this sender, only those still pending (another sender may have
        some), in one transaction: from here until settled they are ``enviando``."""
        m = self.model
        async with self.maker() as session, session.begin():
            reclamados = list(
                (
                    await session.execute(
                        update(m)
                        .where(m.id.in_(ids), m.estado == PENDIENTE)
                        .values(estado=ENVIANDO, enviando_at=utcnow(), intentos=m.intentos + 1)
                        .returning(m.id)
                    )
                ).scalars()
            )
            if not reclamados:
                return []
            filas = list(
                (await session.execute(select(m).where(m.id.in_(reclamados)).order_by(m.id))).scalars()
            )
            for fila in filas:
                if fila.id_externo is None and fila.canal == "email":
                    fila.id_externo = make_msgid(idstring=f"{fila.plantilla}.{fila.id}", domain=self.dominio)
        return filas

    async def _asentar(self, resultados: list[dict[str, Any]]) -> None:
        if resultados:
            async with self.maker() as session, session.begin():
                await session.execute(update(self.model), resultados)

    def _resultado(
        self, fila: NotificacionMixin, exc: Exception | None, externo: str | None
    ) -> dict[str, Any]:
        ahora = utcnow()
        if exc is None:
            self._contar(fila.canal, ENVIADA)
            valores: dict[str, Any] = {"estado": ENVIADA, "enviada_at": ahora, "error": None}
            if externo:
                valores["id_externo"] = externo
        elif isinstance(exc, Reintento):
            # Never given up on: a gateway that is down is not a refusal (a voting credential must not be
            # lost to an outage). The wait grows to 30 minutes; the count and the backlog show in /metrics.
            self._contar(fila.canal, "reintento")
            valores = {"estado": PENDIENTE, "siguiente_at": ahora + espera(fila.intentos), "error": str(exc)}
        else:
            estado = INCIERTA if isinstance(exc, Incierto) else FALLIDA
            self._contar(fila.canal, estado)
            valores = {"estado": estado, "error": str(exc)[:500]}
        if fila.secreto and valores["estado"] in (ENVIADA, FALLIDA):
            valores["mensaje"] = BORRADO  # the secret lived only until the gateway had it (or never will)
        return {"id": fila.id, **valores}

    def pasarela(self, canal: str) -> Pasarela:
        return PasarelaSMTP(self.ajustes) if canal == "email" else PasarelaSMS(self.ajustes)

    async def enviar_pendientes(self) -> int:
        """One round over every due message: claimed by handfuls (``avisos_reclamo``) before the gateway
        sees them, handed over one by one on one connection, settled together. Returns how many the gateways
        took. A crash between the claim and the settlement leaves that handful ``incierta``: never re-sent by
        itself."""
        entregadas = 0
        for canal in ("email", "sms"):
            ids = await self._pendientes(canal, utcnow())
            if not ids:
                continue
            async with self.pasarela(canal) as pasarela:
                for inicio in range(0, len(ids), self.ajustes.avisos_reclamo):
                    filas = await self._reclamar(ids[inicio : inicio + self.ajustes.avisos_reclamo])
                    resultados: list[dict[str, Any]] = []
                    caida: Reintento | None = None
                    for fila in filas:
                        if caida is not None:
                            # Never handed over: the gateway is down or busy; it waits its turn with the rest.
                            resultados.append(
                                {"id": fila.id, "estado": PENDIENTE, "intentos": fila.intentos - 1,
                                 "siguiente_at": utcnow() + espera(1)}
                            )  # fmt: skip
                            continue
                        exc: Exception | None = None
                        externo = None
                        try:
                            externo = await pasarela.enviar(
                                fila.destino,
                                fila.asunto or ASUNTO_GENERICO,
                                fila.mensaje or "",
                                fila.id_externo or "",
                            )
                            entregadas += 1
                        except (Rechazo, Reintento, Incierto) as e:
                            exc = e
                            if isinstance(e, Reintento):
                                caida = e
                        resultados.append(self._resultado(fila, exc, externo))
                    await self._asentar(resultados)
                    if caida is not None:
                        await self._posponer(ids[inicio + self.ajustes.avisos_reclamo :])
                        break
        return entregadas

    async def _posponer(self, ids: list[int]) -> None:
        if ids:
            async with self.maker() as session, session.begin():
                await session.execute(
                    update(self.model)
                    .where(self.model.id.in_(ids), self.model.estado == PENDIENTE)
                    .values(siguiente_at=utcnow() + espera(1))
                )

    async def run(self) -> None:
        medida = 0.0

        async def ronda() -> bool:
            nonlocal medida
            entregadas = await self.enviar_pendientes()
            if asyncio.get_running_loop().time() - medida > 15:
                await self.medir()
                medida = asyncio.get_running_loop().time()
            return entregadas >= self.ajustes.avisos_lote  # a full batch: more may be waiting

        await repetir(ronda, self.poll_interval, log=log, aviso="avisos: error del remitente, se reintenta")

    async def medir(self) -> dict[str, int]:
        """Messages by state (``vmre_avisos_por_estado``)."""
        async with self.maker() as session:
            filas = await session.execute(select(self.model.estado, func.count()).group_by(self.model.estado))
            conteos: dict[str, int] = {str(estado): int(n) for estado, n in filas.all()}
        if self.metrics is not None:
            for estado in ESTADOS:
                self.metrics.avisos_por_estado.labels(estado=estado).set(conteos.get(estado, 0))
        return {e: conteos.get(e, 0) for e in ESTADOS}


async def reenviar_inciertas(session: AsyncSession, model: type[NotificacionMixin]) -> int:
    """A person's decision: send the uncertain messages again (same Message-ID: a mailbox can drop a copy)."""
    r = await session.execute(
        update(model)
        .where(model.estado == INCIERTA, model.mensaje.is_not(None))
        .values(estado=PENDIENTE, siguiente_at=None)
        .returning(model.id)
    )
    return len(r.all())


# --- migrations ---------------------------------------------------------------------------------------------


def migrar_bandeja(op: Any, subir: bool) -> None:
    """Alembic step shared by postal and electronico (their 0005): from the delivered-or-not outbox to the
    one with states, tries and the gateway's id. Existing rows keep their outcome (enviada or pendiente)."""
    import sqlalchemy as sa

    from shared.db import UTCDateTime as _UTC

    tabla = sa.table(
        "notificaciones", sa.column("estado", sa.String), sa.column("enviada_at", _UTC()), sa.column("id")
    )
    if subir:
        with op.batch_alter_table("notificaciones", schema=None) as b:
            b.add_column(sa.Column("asunto", sa.String(length=200), nullable=True))
            b.add_column(sa.Column("secreto", sa.Boolean(), nullable=False, server_default=sa.false()))
            b.add_column(sa.Column("estado", sa.String(length=16), nullable=False, server_default=PENDIENTE))
            b.add_column(sa.Column("intentos", sa.Integer(), nullable=False, server_default="0"))
            b.add_column(sa.Column("siguiente_at", _UTC(), nullable=True))
            b.add_column(sa.Column("enviando_at", _UTC(), nullable=True))
            b.add_column(sa.Column("error", sa.String(length=500), nullable=True))
            b.add_column(sa.Column("id_externo", sa.String(length=200), nullable=True))
            b.alter_column("mensaje", existing_type=sa.Text(), nullable=True)
            b.drop_index(b.f("ix_notificaciones_enviada_at"))
            b.create_index(
                "ix_notificaciones_estado_siguiente", ["estado", "siguiente_at", "id"], unique=False
            )
            b.create_index("ix_notificaciones_referencia", ["referencia"], unique=False)
        op.execute(tabla.update().where(tabla.c.enviada_at.is_not(None)).values(estado=ENVIADA))
        with op.batch_alter_table("notificaciones", schema=None) as b:
            for columna in ("secreto", "estado", "intentos"):
                b.alter_column(columna, server_default=None)
    else:
        with op.batch_alter_table("notificaciones", schema=None) as b:
            b.drop_index("ix_notificaciones_referencia")
            b.drop_index("ix_notificaciones_estado_siguiente")
            b.create_index(b.f("ix_notificaciones_enviada_at"), ["enviada_at"], unique=False)
            for columna in ("id_externo", "error", "enviando_at", "siguiente_at", "intentos", "estado"):
                b.drop_column(columna)
            b.drop_column("secreto")
            b.drop_column("asunto")
