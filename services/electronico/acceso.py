"""Voter access: first access (password + second factor), login with a 6-digit code, lockout, sessions.

Passwords: argon2id (argon2-cffi). Second factor: TOTP (pyotp, RFC 6238, checked against the wall clock the
voter's phone uses) or a code by SMS (through the notification outbox). Each function returns what happened
and leaves raising to the caller, so that a failed attempt is counted even though the request fails.

Parallel requests for one account (concurrent transactions on PostgreSQL under READ COMMITTED) never decide
on a value read before: every change to the account's state is one conditional ``UPDATE … RETURNING`` of its
row (``_si_aun``), whose condition the database checks again on the row as another transaction left it. So
failures are counted once each and stop at the lockout, a code opens one session, and the first access sets
one password. No row lock is held while argon2 runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import ColumnElement, and_
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository
from services.electronico.config import Settings
from services.electronico.models import Notificacion, Sesion, Votante
from shared.limites import LimitePorCliente
from shared.notificaciones import Aviso, encolar
from shared.problems import Problem

EMISOR = "VMRE INE"
SMS_VIGENCIA = dt.timedelta(minutes=5)


@functools.cache
def _hasher(tiempo: int, memoria_kib: int, paralelismo: int) -> PasswordHasher:
    return PasswordHasher(time_cost=tiempo, memory_cost=memoria_kib, parallelism=paralelismo)


def hasher(settings: Settings) -> PasswordHasher:
    """argon2id with the configured cost (defaults: argon2-cffi's, RFC 9106 low-memory profile)."""
    return _hasher(settings.argon2_tiempo, settings.argon2_memoria_kib, settings.argon2_paralelismo)


def _sha(texto: str) -> str:
    return hashlib.sha256(texto.encode()).hexdigest()


def credenciales_incorrectas() -> Problem:
    # One message for an unknown user, a wrong password or a wrong code: nothing to enumerate.
    return Problem(401, "Usuario, contraseña o código incorrectos.", slug="acceso-denegado")


def bloqueado(hasta: dt.datetime, ahora: dt.datetime) -> Problem:
    segundos = max(1, int((hasta - ahora).total_seconds()))
    return Problem(
        429,
        f"Cuenta bloqueada por intentos fallidos: intente de nuevo en {max(1, segundos // 60)} minutos.",
        slug="cuenta-bloqueada",
        headers={"Retry-After": str(segundos)},
    )


class LimiteDeSolicitudes(LimitePorCliente):
    """Access attempts per client (shared/limites.py: sliding window, in memory, per process)."""

    def revisar(
        self,
        cliente: str,
        detalle: str = "Demasiadas solicitudes de acceso desde su conexión: espere un momento.",
        slug: str = "demasiadas-solicitudes",
    ) -> None:
        super().revisar(cliente, detalle, slug)


async def _si_aun(session: AsyncSession, v: Votante, condicion: ColumnElement[bool], **valores: Any) -> bool:
    """Set ``valores`` on the voter's row only if ``condicion`` still holds there, in one statement: whether
    it did. Of parallel requests, those that find the condition made false by another one change nothing
    (PostgreSQL waits for the other transaction and checks again; SQLite runs one writer at a time). The
    ORM object ``v`` is left as it was read."""
    return await repository.actualizar_votante_si(session, v.id, condicion, **valores)


@dataclass
class Alta:
    segundo_factor: str
    totp_uri: str | None = None
    qr_svg: str | None = None
    telefono: str | None = None


def _enmascarar(telefono: str | None) -> str:
    telefono = telefono or ""  # in person: no phone (and no login to reach here)
    return "•" * max(0, len(telefono) - 4) + telefono[-4:]


async def primer_acceso(
    session: AsyncSession,
    usuario: str,
    clave_acceso: str,
    password: str,
    segundo_factor: str,
    settings: Settings,
    qr: bool = True,
) -> Alta:
    """Set the password and enrol the second factor. The access key works until the first login: before it,
    the same request again (a retry whose answer was lost) gets the same answer, if it brings the password
    it set; anything else is refused as a used key. Of the same key sent at once, the first to store its
    password wins; the others are answered as retries of it."""
    v = await repository.votante_por_usuario(session, usuario)
    usada = Problem(
        401, "Usuario o clave de acceso incorrectos, o la clave ya fue usada.", slug="acceso-denegado"
    )
    if (
        v is None
        or v.clave_acceso_hash is None
        or not hmac.compare_digest(v.clave_acceso_hash, _sha(clave_acceso.strip().upper()))
    ):
        raise usada
    if v.password_hash is None:
        nuevo = await asyncio.to_thread(hasher(settings).hash, password)
        await _si_aun(
            session,
            v,
            repository.sin_password(),
            password_hash=nuevo,
            segundo_factor=segundo_factor,
            totp_secreto=pyotp.random_base32() if segundo_factor == "totp" else None,
        )
        await session.refresh(v)  # what is stored now: this request's, or that of a parallel one
        if v.password_hash == nuevo:
            return _alta(v, qr)
    if segundo_factor != v.segundo_factor or not await _password_ok(v, password, settings):
        raise usada
    return _alta(v, qr)


def _alta(v: Votante, qr: bool) -> Alta:
    if v.segundo_factor == "totp":
        assert v.totp_secreto is not None
        uri = pyotp.TOTP(v.totp_secreto).provisioning_uri(name=v.usuario, issuer_name=EMISOR)
        # Drawing the QR is most of this request's work: only when the person will scan it.
        svg = (
            segno.make(uri, error="m").svg_inline(scale=4, title="Código QR para su aplicación autenticadora")
            if qr
            else None
        )
        return Alta("totp", totp_uri=uri, qr_svg=svg)
    return Alta("sms", telefono=_enmascarar(v.telefono))


async def _password_ok(v: Votante, password: str, settings: Settings) -> bool:
    if v.password_hash is None:
        return False
    try:
        return await asyncio.to_thread(hasher(settings).verify, v.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        return False


async def enviar_codigo_sms(
    session: AsyncSession, usuario: str, password: str, ahora: dt.datetime, settings: Settings
) -> str | Problem:
    """Step one of an SMS login: the password is right → a 6-digit code goes to the phone."""
    v = await repository.votante_por_usuario(session, usuario)
    if v is None or v.segundo_factor != "sms":
        return credenciales_incorrectas()
    if v.bloqueado_hasta is not None and v.bloqueado_hasta > ahora:
        return bloqueado(v.bloqueado_hasta, ahora)
    if not await _password_ok(v, password, settings):
        return await _fallo(session, v, ahora, settings)
    codigo = f"{secrets.randbelow(10**6):06d}"
    # One pending code per voter: the newer one replaces (voids) any older one. Not if the account was
    # locked meanwhile by parallel failures.
    nuevo = {"sms_codigo_hash": _sha(f"{v.usuario}|{codigo}"), "sms_expira_at": ahora + SMS_VIGENCIA}
    if not await _si_aun(session, v, repository.libre(ahora), **nuevo):
        return await _bloqueo(session, v, ahora)
    mensaje = f"VMRE: su código de acceso es {codigo}. Vence en 5 minutos. No lo comparta."
    await encolar(
        session,
        Notificacion,
        [Aviso(None, v.telefono, "codigo_acceso", mensaje, v.usuario, secreto=True)],
        ahora,
    )
    return _enmascarar(v.telefono)


async def _fallo(session: AsyncSession, v: Votante, ahora: dt.datetime, settings: Settings) -> Problem:
    """Count a failed attempt in one statement: parallel failures each count once, the one that reaches
    ``intentos_maximos`` locks the account, and those after it find it locked and count nothing."""
    contado, hasta = await repository.contar_fallo(
        session,
        v.id,
        ahora,
        settings.intentos_maximos,
        ahora + dt.timedelta(minutes=settings.bloqueo_minutos),
    )
    if not contado or (hasta is not None and hasta > ahora):
        return await _bloqueo(session, v, ahora)
    return credenciales_incorrectas()


async def _bloqueo(session: AsyncSession, v: Votante, ahora: dt.datetime) -> Problem:
    """The lockout as it is now (set by this request or by a parallel one)."""
    hasta = await repository.bloqueado_hasta(session, v.id)
    return bloqueado(hasta, ahora) if hasta is not None and hasta > ahora else credenciales_incorrectas()


def _paso_totp(secreto: str, codigo: str) -> int | None:
    """The time step (Unix time // 30) whose TOTP code this is, if it is one of the window's three (±30 s).
    The phone's clock, not the process calendar: TOTP is checked against real time."""
    totp = pyotp.TOTP(secreto)
    ahora = int(time.time()) // totp.interval
    for paso in (ahora - 1, ahora, ahora + 1):
        if hmac.compare_digest(totp.generate_otp(paso), codigo):
            return paso
    return None


async def _entrar(session: AsyncSession, v: Votante, codigo: str, ahora: dt.datetime) -> bool:
    """Use the 6-digit code, reset the failures and end the access key's life (the first login does), in
    one conditional UPDATE: only while the code is unused and the account not locked, so that of parallel
    logins with one code exactly one gets in.

    TOTP: the code's time step must come after that of the last accepted code, which is stored: a code
    never works twice, nor does an older one of the window once a newer one was used. SMS: the one pending
    code (a newer one replaced any older), before it expires; used, it is gone."""
    if not (len(codigo) == 6 and codigo.isdigit()):
        return False
    valores: dict[str, Any] = {"fallos": 0, "clave_acceso_hash": None}
    if v.segundo_factor == "totp" and v.totp_secreto is not None:
        paso = _paso_totp(v.totp_secreto, codigo)
        if paso is None:
            return False
        sin_usar = repository.codigo_totp_sin_usar(paso)
        valores["ultimo_codigo"] = paso
    elif v.segundo_factor == "sms":
        sin_usar = repository.codigo_sms_vigente(_sha(f"{v.usuario}|{codigo}"), ahora)
        valores.update(sms_codigo_hash=None, sms_expira_at=None)
    else:
        return False
    return await _si_aun(session, v, and_(sin_usar, repository.libre(ahora)), **valores)


async def ingresar(
    session: AsyncSession,
    usuario: str,
    password: str,
    codigo: str,
    ahora: dt.datetime,
    settings: Settings,
) -> tuple[str, dt.datetime] | Problem:
    """User + password + 6-digit code → a session token (only its hash is stored), or the failure."""
    v = await repository.votante_por_usuario(session, usuario)
    if v is None:
        return credenciales_incorrectas()
    if v.bloqueado_hasta is not None and v.bloqueado_hasta > ahora:
        return bloqueado(v.bloqueado_hasta, ahora)
    if v.password_hash is None:
        return Problem(
            409,
            "Primero complete su primer acceso con la clave que recibió por correo.",
            slug="sin-primer-acceso",
        )
    if not (await _password_ok(v, password, settings)) or not await _entrar(
        session, v, codigo.strip(), ahora
    ):
        return await _fallo(session, v, ahora, settings)
    token = secrets.token_urlsafe(32)
    expira = ahora + dt.timedelta(minutes=settings.sesion_minutos)
    await repository.borrar_sesiones_vencidas(session, v.id, ahora)
    session.add(Sesion(token_hash=_sha(token), votante_id=v.id, expira_at=expira, creada_at=ahora))
    return token, expira


async def votante_de_sesion(
    session: AsyncSession, token: str, ahora: dt.datetime
) -> tuple[Votante, dt.datetime | None]:
    """The session's voter, and when the session began (a drill's report: the time to vote)."""
    s = await repository.sesion(session, _sha(token))
    if s is None or s.expira_at <= ahora:
        raise Problem(
            401,
            "Su sesión no existe o expiró: ingrese de nuevo.",
            slug="sesion-expirada",
            headers={"WWW-Authenticate": 'Bearer realm="votante"'},
        )
    v = await repository.votante(session, s.votante_id)
    assert v is not None
    return v, s.creada_at


async def salir(session: AsyncSession, token: str) -> None:
    await repository.borrar_sesion(session, _sha(token))
