"""Voter access: first access (password + second factor), login with a 6-digit code, lockout, sessions.

Passwords: argon2id (argon2-cffi). Second factor: TOTP (pyotp, RFC 6238, checked against the wall clock the
voter's phone uses) or a code by SMS (through the notification outbox). Each function returns what happened
and leaves raising to the caller, so that a failed attempt is counted even though the request fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _votante(session: AsyncSession, usuario: str) -> Votante | None:
    return (await session.execute(select(Votante).where(Votante.usuario == usuario))).scalar_one_or_none()


@dataclass
class Alta:
    segundo_factor: str
    totp_uri: str | None = None
    qr_svg: str | None = None
    telefono: str | None = None


def _enmascarar(telefono: str) -> str:
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
    it set; anything else is refused as a used key."""
    v = await _votante(session, usuario)
    usada = Problem(
        401, "Usuario o clave de acceso incorrectos, o la clave ya fue usada.", slug="acceso-denegado"
    )
    if (
        v is None
        or v.clave_acceso_hash is None
        or not hmac.compare_digest(v.clave_acceso_hash, _sha(clave_acceso.strip().upper()))
    ):
        raise usada
    if v.password_hash is not None:
        if segundo_factor != v.segundo_factor or not await _password_ok(v, password, settings):
            raise usada
        return _alta(v, qr)
    v.password_hash = await asyncio.to_thread(hasher(settings).hash, password)
    v.segundo_factor = segundo_factor
    v.totp_secreto = pyotp.random_base32() if segundo_factor == "totp" else None
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
    v = await _votante(session, usuario)
    if v is None or v.segundo_factor != "sms":
        return credenciales_incorrectas()
    if v.bloqueado_hasta is not None and v.bloqueado_hasta > ahora:
        return bloqueado(v.bloqueado_hasta, ahora)
    if not await _password_ok(v, password, settings):
        return _fallo(v, ahora, settings)
    codigo = f"{secrets.randbelow(10**6):06d}"
    v.sms_codigo_hash = _sha(f"{v.usuario}|{codigo}")
    v.sms_expira_at = ahora + SMS_VIGENCIA
    mensaje = f"VMRE: su código de acceso es {codigo}. Vence en 5 minutos. No lo comparta."
    await encolar(
        session,
        Notificacion,
        [Aviso(None, v.telefono, "codigo_acceso", mensaje, v.usuario, secreto=True)],
        ahora,
    )
    return _enmascarar(v.telefono)


def _fallo(v: Votante, ahora: dt.datetime, settings: Settings) -> Problem:
    v.fallos += 1
    if v.fallos >= settings.intentos_maximos:
        v.fallos = 0
        v.bloqueado_hasta = ahora + dt.timedelta(minutes=settings.bloqueo_minutos)
        return bloqueado(v.bloqueado_hasta, ahora)
    return credenciales_incorrectas()


def _codigo_ok(v: Votante, codigo: str, ahora: dt.datetime) -> bool:
    if not (len(codigo) == 6 and codigo.isdigit()):
        return False
    if v.segundo_factor == "totp" and v.totp_secreto is not None:
        # The phone's clock, not the process calendar: TOTP is checked against real time (±30 s).
        if codigo == v.ultimo_codigo or not pyotp.TOTP(v.totp_secreto).verify(codigo, valid_window=1):
            return False
        v.ultimo_codigo = codigo  # a code works once
        return True
    if v.segundo_factor == "sms" and v.sms_codigo_hash is not None and v.sms_expira_at is not None:
        if ahora >= v.sms_expira_at or not hmac.compare_digest(
            v.sms_codigo_hash, _sha(f"{v.usuario}|{codigo}")
        ):
            return False
        v.sms_codigo_hash = None
        return True
    return False


async def ingresar(
    session: AsyncSession,
    usuario: str,
    password: str,
    codigo: str,
    ahora: dt.datetime,
    settings: Settings,
) -> tuple[str, dt.datetime] | Problem:
    """User + password + 6-digit code → a session token (only its hash is stored), or the failure."""
    v = await _votante(session, usuario)
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
    if not (await _password_ok(v, password, settings)) or not _codigo_ok(v, codigo.strip(), ahora):
        return _fallo(v, ahora, settings)
    v.fallos = 0
    v.clave_acceso_hash = None  # the first login ends the access key's life
    token = secrets.token_urlsafe(32)
    expira = ahora + dt.timedelta(minutes=settings.sesion_minutos)
    await session.execute(delete(Sesion).where(Sesion.votante_id == v.id, Sesion.expira_at <= ahora))
    session.add(Sesion(token_hash=_sha(token), votante_id=v.id, expira_at=expira))
    return token, expira


async def votante_de_sesion(session: AsyncSession, token: str, ahora: dt.datetime) -> Votante:
    s = await session.get(Sesion, _sha(token))
    if s is None or s.expira_at <= ahora:
        raise Problem(
            401,
            "Su sesión no existe o expiró: ingrese de nuevo.",
            slug="sesion-expirada",
            headers={"WWW-Authenticate": 'Bearer realm="votante"'},
        )
    v = await session.get(Votante, s.votante_id)
    assert v is not None
    return v


async def salir(session: AsyncSession, token: str) -> None:
    await session.execute(delete(Sesion).where(Sesion.token_hash == _sha(token)))
