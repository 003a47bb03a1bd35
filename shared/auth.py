"""Bearer JWTs with a role and, for ``opl``, the entidad it may see.

Locally tokens are signed (HS256) with the development secret and minted by ``vmre token``; in production
they come from an external identity provider and are verified against its JWKS (``VMRE_AUTH_JWKS_URL``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.claves import ENTIDAD_RE, SEDE_RE
from shared.problems import Problem
from shared.settings import AuthSettings


class Rol(StrEnum):
    INE_ADMIN = "ine-admin"
    INE_OPERADOR = "ine-operador"
    OPL = "opl"
    CUSTODIO = "custodio"
    AUDITOR = "auditor"
    PARTIDO = "partido"  # party representative (party claim: which party)


INE_ROLES = (Rol.INE_ADMIN, Rol.INE_OPERADOR, Rol.AUDITOR)


class Principal(BaseModel):
    sub: str
    rol: Rol
    entidad: str | None = None
    partido: str | None = None
    # The consular site of staff who work at one on election day (in-person voting, #27).
    sede: str | None = None

    def puede_ver_entidad(self, entidad: str) -> bool:
        return self.rol != Rol.OPL or self.entidad == entidad


def mint_token(
    settings: AuthSettings,
    rol: Rol,
    *,
    entidad: str | None = None,
    partido: str | None = None,
    sub: str | None = None,
    ttl: dt.timedelta = dt.timedelta(hours=12),
    sede: str | None = None,
) -> str:
    if rol == Rol.OPL and (entidad is None or not ENTIDAD_RE.match(entidad)):
        raise ValueError("un token opl requiere --entidad con la clave de dos dígitos (01..32)")
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, object] = {
        "sub": sub or f"{rol.value}-local",
        "rol": rol.value,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    if rol == Rol.PARTIDO and not partido:
        raise ValueError("un token partido requiere --partido con las siglas del partido (p. ej. PAN)")
    if entidad is not None:
        claims["entidad"] = entidad
    if partido is not None:
        claims["partido"] = partido
    if sede is not None:
        if not re.fullmatch(SEDE_RE, sede):
            raise ValueError("--sede es la clave de una sede del proceso (p. ej. los-angeles)")
        claims["sede"] = sede
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


class Authenticator:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None

    async def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key: Any = signing_key.key
                algorithms = [a for a in self.settings.algorithms if a != "HS256"]
            else:
                key = self.settings.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["exp", "sub", "rol"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("El token expiró; solicite uno nuevo.") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise _unauthorized("Token inválido.") from exc
        try:
            principal = Principal(
                sub=claims["sub"],
                rol=claims["rol"],
                entidad=claims.get("entidad"),
                partido=claims.get("partido"),
                sede=claims.get("sede"),
            )
        except ValueError as exc:
            raise _unauthorized("El token no trae un rol reconocido.") from exc
        if principal.rol == Rol.OPL and not (principal.entidad and ENTIDAD_RE.match(principal.entidad)):
            raise _unauthorized("Un token opl debe indicar su entidad.")
        if principal.rol == Rol.PARTIDO and not principal.partido:
            raise _unauthorized("Un token partido debe indicar su partido.")
        return principal


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="vmre"'})


bearer = HTTPBearer(auto_error=False, description="JWT con `rol` y, para `opl`, `entidad`.")


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Falta el encabezado Authorization: Bearer <token>.")
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.verify(credentials.credentials)
    request.state.principal = principal  # who, for the audit log (shared/auditoria.py)
    return principal


def require(*roles: Rol) -> Callable[..., Awaitable[Principal]]:
    """Dependency: an authenticated principal holding one of ``roles``."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.rol not in roles:
            permitidos = ", ".join(r.value for r in roles)
            raise Problem(
                403, f"El rol {principal.rol.value} no puede usar este recurso (permitidos: {permitidos})."
            )
        return principal

    return dependency


def check_entidad(principal: Principal, entidad: str) -> None:
    if not principal.puede_ver_entidad(entidad):
        raise Problem(403, f"Este token solo puede consultar la entidad {principal.entidad}.")
