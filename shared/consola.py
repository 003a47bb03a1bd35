"""The staff console's sign-in, shared by every service that serves console screens.

OpenID Connect authorization code flow with PKCE (Authlib's httpx client) against the identity provider the
services already trust (``VMRE_CONSOLA_OIDC_URL``, its discovery document and JWKS); the ID token is verified
with PyJWT as the API's bearer tokens are (issuer, audience = this client, nonce, expiry) and its ``rol``
claim (``entidad`` for an OPL) decides what each screen shows, with the API's matrix.

Two cookies, both signed (HS256 with ``VMRE_CONSOLA_CLAVE_SESION``) and ``HttpOnly``/``Secure``:
- ``vmre_consola_ingreso`` (``SameSite=Lax``, 10 minutes, path ``/consola/``): state, nonce and PKCE verifier
  of one sign-in. Lax because the identity provider sends the browser back with a cross-site navigation.
- ``vmre_consola`` (``SameSite=Strict``): the session — who, which role, its CSRF token. The callback does not
  redirect: it answers a page that moves on by itself (a same-site navigation), so the Strict cookie is sent.

Every form carries the session's CSRF token (``csrf``); a POST without the right one changes nothing (403).

In local mode ``make run`` starts a local identity provider (vmre/identidad.py, the ``oidc-provider-mock``
package) with one user per role; ``VMRE_MODE=production`` refuses it (``VMRE_CONSOLA_PROVEEDOR_LOCAL``)."""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
import secrets
import time
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, SecretStr, model_validator

from shared.auth import Principal, Rol
from shared.claves import ENTIDAD_RE, SEDE_RE
from shared.settings import CLAVE_CONSOLA_DE_DESARROLLO, AjustesConsola

log = logging.getLogger(__name__)

RUTA = "/consola"
COOKIE_SESION = "vmre_consola"
COOKIE_INGRESO = "vmre_consola_ingreso"
INGRESO_VIGENCIA = 600
ALGORITMOS_ID_TOKEN = ["RS256", "ES256", "PS256", "EdDSA"]


class Sesion(BaseModel):
    """Who signed in (from the ID token) and the CSRF token of the session."""

    sub: str
    nombre: str
    rol: Rol
    entidad: str | None = None
    # Staff of a consular site (in-person voting, #27): the ``sede`` claim of an ine-operador.
    sede: str | None = None
    csrf: str
    exp: int

    @model_validator(mode="after")
    def _opl_con_entidad(self) -> Sesion:
        if self.rol == Rol.OPL and not (self.entidad and ENTIDAD_RE.match(self.entidad)):
            raise ValueError("un usuario opl necesita la entidad en su token")
        return self

    def principal(self) -> Principal:
        return Principal(sub=self.sub, rol=self.rol, entidad=self.entidad, sede=self.sede)


class SinSesion(Exception):
    """No valid session: the page sends the browser to sign in."""


def _firmar(clave: SecretStr, datos: dict[str, Any], segundos: float) -> str:
    ahora = int(time.time())
    return jwt.encode(
        {**datos, "iat": ahora, "exp": ahora + int(segundos)}, clave.get_secret_value(), "HS256"
    )


def _leer(clave: SecretStr, valor: str | None) -> dict[str, Any] | None:
    if not valor:
        return None
    try:
        datos: dict[str, Any] = jwt.decode(valor, clave.get_secret_value(), algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return datos


def _siguiente_seguro(siguiente: str | None, inicio: str) -> str:
    """Only a path of this host under /consola/ (never another host: no open redirect); else ``inicio``."""
    if not siguiente:
        return inicio
    partes = urlsplit(siguiente)
    if partes.scheme or partes.netloc or not partes.path.startswith(RUTA + "/") or "\\" in siguiente:
        return inicio
    return siguiente


class Consola:
    """The sign-in routes (``/consola/entrar``, ``/consola/autorizado``, ``/consola/salir``) and what each
    console screen asks of the request: ``sesion``, ``exigir``, ``revisar_csrf``."""

    def __init__(
        self, servicio: str, inicio: str, ajustes: AjustesConsola, mode: str = "local", url_publica: str = ""
    ) -> None:
        """The service's screens live under ``/consola/<servicio>`` (one public host: a prefix per service);
        ``inicio`` is the screen a sign-in leads to when it was not asked for another."""
        self.ruta = f"{RUTA}/{servicio}"
        self.inicio = inicio
        self.ajustes = ajustes
        self.url_publica = url_publica.rstrip("/")
        # In production a console whose cookies would be signed with the development key (known to anyone
        # who read this code) does not open: every screen answers 503 until the Secret is set.
        self.sin_configurar = (
            "VMRE_CONSOLA_CLAVE_SESION"
            if mode != "local" and ajustes.clave_sesion.get_secret_value() == CLAVE_CONSOLA_DE_DESARROLLO
            else ("VMRE_CONSOLA_OIDC_URL" if not ajustes.oidc_url else None)
        )
        self._metadatos: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKSet | None = None
        self.router = APIRouter(include_in_schema=False)
        self.router.add_api_route(self.ruta + "/entrar", self.entrar, methods=["GET"])
        self.router.add_api_route(self.ruta + "/autorizado", self.autorizado, methods=["GET"])
        self.router.add_api_route(self.ruta + "/salir", self.salir, methods=["POST"])

    # --- the identity provider ------------------------------------------------------------------------------

    async def _descubrir(self) -> dict[str, Any]:
        if self._metadatos is None:
            if not self.ajustes.oidc_url:
                raise SinProveedor
            async with httpx.AsyncClient(timeout=10) as cliente:
                r = await cliente.get(self.ajustes.oidc_url.rstrip("/") + "/.well-known/openid-configuration")
                r.raise_for_status()
                metadatos: dict[str, Any] = r.json()
            self._jwks = await self._leer_jwks(metadatos)
            self._metadatos = metadatos
        return self._metadatos

    @staticmethod
    async def _leer_jwks(metadatos: dict[str, Any]) -> jwt.PyJWKSet:
        async with httpx.AsyncClient(timeout=10) as cliente:
            r = await cliente.get(metadatos["jwks_uri"])
            r.raise_for_status()
        return jwt.PyJWKSet.from_dict(r.json())

    def _base(self, request: Request) -> str:
        return self.url_publica or str(request.base_url).rstrip("/")

    def _cookie(
        self, respuesta: Response, nombre: str, valor: str, segundos: int, samesite: Literal["lax", "strict"]
    ) -> None:
        ruta = self.ruta + "/" if nombre == COOKIE_INGRESO else "/"
        respuesta.set_cookie(
            nombre,
            valor,
            max_age=segundos,
            httponly=True,
            secure=True,
            samesite=samesite,
            path=ruta,
        )

    # --- the routes -----------------------------------------------------------------------------------------

    async def entrar(self, request: Request, siguiente: str | None = None) -> Response:
        """Off to the identity provider with a fresh state, nonce and PKCE verifier."""
        if self.sin_configurar:
            return _aviso(
                503, f"La consola no está configurada en este servidor: falta {self.sin_configurar}."
            )
        try:
            metadatos = await self._descubrir()
        except (SinProveedor, httpx.HTTPError, KeyError, ValueError):
            log.warning("consola: el proveedor de identidad no responde", exc_info=True)
            return _aviso(503, "El proveedor de identidad no responde. Intente de nuevo en un momento.")
        estado, nonce, verificador = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            metadatos["authorization_endpoint"],
            client_id=self.ajustes.cliente,
            response_type="code",
            redirect_uri=self._base(request) + self.ruta + "/autorizado",
            scope="openid profile",
            state=estado,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verificador),
            code_challenge_method="S256",
        )
        respuesta = RedirectResponse(url, status_code=303)
        ingreso = {"estado": estado, "nonce": nonce, "verificador": verificador}
        ingreso["siguiente"] = _siguiente_seguro(siguiente, self.inicio)
        self._cookie(
            respuesta,
            COOKIE_INGRESO,
            _firmar(self.ajustes.clave_sesion, ingreso, INGRESO_VIGENCIA),
            INGRESO_VIGENCIA,
            "lax",
        )
        return respuesta

    async def autorizado(self, request: Request) -> Response:
        """The identity provider's answer: the code for tokens (with the verifier), the ID token checked, the
        session set. Any mismatch signs nobody in."""
        ingreso = _leer(self.ajustes.clave_sesion, request.cookies.get(COOKIE_INGRESO))
        estado = request.query_params.get("state", "")
        codigo = request.query_params.get("code")
        if ingreso is None or not hmac.compare_digest(str(ingreso.get("estado", "")), estado):
            return _aviso(
                400, "El ingreso venció o no empezó aquí. Vuelva a entrar.", entrar=self.ruta + "/entrar"
            )
        if request.query_params.get("error") or not codigo:
            return _aviso(
                403, "El proveedor de identidad no autorizó el ingreso.", entrar=self.ruta + "/entrar"
            )
        try:
            metadatos = await self._descubrir()
            async with httpx.AsyncClient(timeout=10) as cliente:
                r = await cliente.post(
                    metadatos["token_endpoint"],
                    data={
                        "grant_type": "authorization_code",
                        "code": codigo,
                        "redirect_uri": self._base(request) + self.ruta + "/autorizado",
                        "code_verifier": ingreso["verificador"],
                    },
                    auth=(self.ajustes.cliente, self.ajustes.secreto.get_secret_value()),
                    headers={"Accept": "application/json"},
                )
                r.raise_for_status()
                token = r.json()
            claims = await self._verificar_id_token(
                str(token.get("id_token", "")), metadatos, ingreso["nonce"]
            )
        except Exception as exc:  # a refusal of any kind: nobody signs in, the reason stays in the log
            log.warning("consola: ingreso rechazado", extra={"error": type(exc).__name__})
            return _aviso(
                403, "No se pudo confirmar su identidad. Vuelva a entrar.", entrar=self.ruta + "/entrar"
            )
        try:
            rol = Rol(str(claims.get("rol", "")))
        except ValueError:
            return _aviso(403, "Su cuenta no tiene un rol de la plataforma. Pídalo a su administrador.")
        if rol == Rol.OPL and not ENTIDAD_RE.match(str(claims.get("entidad", ""))):
            return _aviso(403, "Su cuenta de OPL no dice de qué entidad es. Pídalo a su administrador.")
        segundos = int(self.ajustes.duracion_horas * 3600)
        sede = str(claims.get("sede") or "")
        sesion = Sesion(
            sub=str(claims["sub"]),
            nombre=str(claims.get("name") or claims["sub"]),
            rol=rol,
            entidad=str(claims["entidad"]) if rol == Rol.OPL else None,
            sede=sede if rol == Rol.INE_OPERADOR and re.fullmatch(SEDE_RE, sede) else None,
            csrf=secrets.token_urlsafe(32),
            exp=int(time.time()) + segundos,
        )
        siguiente = _siguiente_seguro(str(ingreso.get("siguiente", "")), self.inicio)
        respuesta = _pagina(
            200,
            "Entrando…",
            f'<meta http-equiv="refresh" content="0;url={_escapar(siguiente)}">',
            f'<p>Entró como {_escapar(sesion.nombre)}. <a href="{_escapar(siguiente)}">Continuar</a></p>',
        )
        self._cookie(
            respuesta,
            COOKIE_SESION,
            _firmar(self.ajustes.clave_sesion, sesion.model_dump(mode="json", exclude={"exp"}), segundos),
            segundos,
            "strict",
        )
        respuesta.delete_cookie(COOKIE_INGRESO, path=self.ruta + "/")
        log.info("consola: ingreso", extra={"rol": rol.value})
        return respuesta

    async def _verificar_id_token(
        self, id_token: str, metadatos: dict[str, Any], nonce: str
    ) -> dict[str, Any]:
        """The ID token's claims, once its signature checks with one of the provider's keys (the one its
        ``kid`` names, or any when it names none). A token no cached key verifies may come after a key
        rotation: the key set is read again, once, before refusing."""
        try:
            claims = self._decodificar(id_token, metadatos)
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError):
            self._jwks = await self._leer_jwks(metadatos)
            claims = self._decodificar(id_token, metadatos)
        if not hmac.compare_digest(str(claims["nonce"]), nonce):
            raise jwt.InvalidTokenError("nonce distinto")
        return claims

    def _decodificar(self, id_token: str, metadatos: dict[str, Any]) -> dict[str, Any]:
        assert self._jwks is not None
        kid = jwt.get_unverified_header(id_token).get("kid")
        claves = [k for k in self._jwks.keys if kid is None or k.key_id == kid]
        if not claves:
            raise jwt.InvalidKeyError("el ID token nombra una clave que el proveedor no publica")
        for clave in claves[:-1]:
            with contextlib.suppress(jwt.InvalidSignatureError):
                return self._decodificar_con(id_token, clave, metadatos)
        return self._decodificar_con(id_token, claves[-1], metadatos)

    def _decodificar_con(self, id_token: str, clave: jwt.PyJWK, metadatos: dict[str, Any]) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            clave.key,
            algorithms=ALGORITMOS_ID_TOKEN,
            audience=self.ajustes.cliente,
            issuer=metadatos["issuer"],
            options={"require": ["exp", "iat", "sub", "nonce"]},
        )
        return claims

    async def salir(self, request: Request) -> Response:
        sesion = self.sesion(request, redirigir=False)
        form = await request.form()
        if sesion is not None:
            self.revisar_csrf(sesion, form.get("csrf"))
        respuesta = _pagina(
            200, "Salió", "", f'<p>Salió de la consola. <a href="{self.ruta}/entrar">Entrar</a></p>'
        )
        respuesta.delete_cookie(COOKIE_SESION, path="/")
        return respuesta

    # --- what a screen asks ---------------------------------------------------------------------------------

    def sesion(self, request: Request, *, redirigir: bool = True) -> Sesion | None:
        if self.sin_configurar:
            raise SinProveedor
        datos = _leer(self.ajustes.clave_sesion, request.cookies.get(COOKIE_SESION))
        try:
            sesion = Sesion.model_validate(datos) if datos else None
        except ValueError:
            sesion = None
        if sesion is None and redirigir:
            raise SinSesion
        return sesion

    def exigir(self, request: Request, *roles: Rol) -> Sesion:
        """The session, if its role may use this screen; else SinSesion (sign in) or Prohibido (403)."""
        sesion = self.sesion(request)
        assert sesion is not None
        if sesion.rol not in roles:
            raise Prohibido(sesion)
        request.state.principal = sesion.principal()  # who, for the audit log (shared/auditoria.py)
        return sesion

    async def formulario(
        self, request: Request, roles: tuple[Rol, ...], campos: tuple[str, ...]
    ) -> tuple[Sesion, dict[str, str]]:
        """A posted screen: its session (``exigir``), its CSRF token checked, and its text fields read."""
        from shared.paginas import leer_campos

        sesion = self.exigir(request, *roles)
        form = await request.form()
        self.revisar_csrf(sesion, form.get("csrf"))
        return sesion, leer_campos(form, campos)

    def revisar_csrf(self, sesion: Sesion, enviado: object) -> None:
        if not isinstance(enviado, str) or not hmac.compare_digest(enviado, sesion.csrf):
            raise Prohibido(sesion, "El formulario venció o no salió de esta consola: no se hizo nada.")

    def ir_a_entrar(self, request: Request) -> Response:
        siguiente = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{self.ruta}/entrar?{urlencode({'siguiente': siguiente})}", status_code=303)


class SinProveedor(Exception):
    """No identity provider configured (VMRE_CONSOLA_OIDC_URL)."""


class Prohibido(Exception):
    def __init__(self, sesion: Sesion, detalle: str | None = None) -> None:
        self.sesion = sesion
        self.detalle = detalle or f"Su rol ({sesion.rol.value}) no usa esta pantalla."


def _escapar(texto: str) -> str:
    return texto.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _pagina(status: int, titulo: str, cabeza: str, cuerpo: str) -> HTMLResponse:
    from shared.paginas import CABECERAS

    html = (
        f'<!doctype html><html lang="es"><head><meta charset="utf-8"><title>{_escapar(titulo)} · consola VMRE'
        f'</title><meta name="viewport" content="width=device-width, initial-scale=1">{cabeza}'
        f'<link rel="stylesheet" href="/comun/vmre.css"></head><body><main id="principal">'
        f"<h1>{_escapar(titulo)}</h1>{cuerpo}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={**CABECERAS, "Cache-Control": "no-store"})


def _aviso(status: int, texto: str, *, entrar: str = "") -> HTMLResponse:
    enlace = f' <a href="{entrar}">Entrar de nuevo</a>' if entrar else ""
    return _pagina(status, "Consola del INE", "", f'<p role="alert">{_escapar(texto)}{enlace}</p>')


def consola_de(request: Request) -> Consola:
    """The console ``montar_consola`` mounted on the request's app."""
    consola: Consola = request.app.state.consola
    return consola


def montar_consola(app: Any, consola: Consola) -> None:
    """The sign-in routes and what a screen's refusals become: sign in (303), 403 or 503, as pages."""
    app.state.consola = consola
    app.include_router(consola.router)

    async def sin_sesion(request: Request, _exc: Exception) -> Response:
        return consola.ir_a_entrar(request)

    async def prohibido(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Prohibido)
        return _aviso(403, exc.detalle)

    async def sin_proveedor(_request: Request, _exc: Exception) -> Response:
        return _aviso(
            503, f"La consola no está configurada en este servidor: falta {consola.sin_configurar}."
        )

    app.add_exception_handler(SinSesion, sin_sesion)
    app.add_exception_handler(Prohibido, prohibido)
    app.add_exception_handler(SinProveedor, sin_proveedor)
