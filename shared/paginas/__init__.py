"""The platform's HTML pages: the headers every page sends, and the kit of the pages people fill in
(registration, my application, my package, check my vote).

The pages load only their own scripts and styles (no inline code, no third party): the policy allows nothing
else, no page can be framed (clickjacking of the booth), and no URL — a folio or a tracker in a query — leaks
to another site through the Referer.

Pages people fill in are rendered on the server (Jinja2): a form and its errors work without JavaScript,
which only improves them. Their texts live in message catalogs (``textos/es.toml``, ``textos/en.toml``: this
package's for the frame of every page, each service's for its own pages), never in code. The language comes
from ``?lang=`` (and is then remembered in a cookie), else from that cookie, else from the browser's
``Accept-Language``; Spanish by default."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import FormData

from shared.proceso import Proceso
from shared.settings import SERVICES

POLITICA = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

CABECERAS: dict[str, str] = {
    "Content-Security-Policy": POLITICA,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # older browsers that ignore frame-ancestors
}

AQUI = Path(__file__).resolve().parent
IDIOMAS = ("es", "en")
COOKIE_IDIOMA = "vmre_idioma"
# Where each service with pages serves this package's style sheet and script (``montar_comun``).
COMUN = "/comun"
NULO = "\x00"


def _catalogo(directorio: Path, idioma: str) -> dict[str, str]:
    archivo = directorio / f"{idioma}.toml"
    if not archivo.exists():
        return {}
    return _aplanar(tomllib.loads(archivo.read_text(encoding="utf-8")))


def _aplanar(tabla: Mapping[str, Any], prefijo: str = "") -> dict[str, str]:
    """``[registro] titulo = "…"`` → ``{"registro.titulo": "…"}``."""
    plano: dict[str, str] = {}
    for clave, valor in tabla.items():
        if isinstance(valor, Mapping):
            plano.update(_aplanar(valor, f"{prefijo}{clave}."))
        else:
            plano[f"{prefijo}{clave}"] = str(valor)
    return plano


def idioma_de(request: Request) -> str:
    """``?lang=``, else the cookie, else the first language of ``Accept-Language`` we have; else Spanish."""
    pedido = request.query_params.get("lang", "")
    if pedido in IDIOMAS:
        return pedido
    recordado = request.cookies.get(COOKIE_IDIOMA, "")
    if recordado in IDIOMAS:
        return recordado
    for parte in request.headers.get("accept-language", "").split(","):
        codigo = parte.split(";")[0].strip().lower()[:2]
        if codigo in IDIOMAS:
            return codigo
    return IDIOMAS[0]


def fecha(instante: dt.datetime, proceso: Proceso, idioma: str, *, segundos: bool = False) -> str:
    """An instant as people read it: in the process time zone (Centro), the date in their language
    (CLDR, through babel)."""
    local = proceso.local(instante)
    return (
        f"{format_date(local.date(), 'long', locale=idioma)}, {local:%H:%M:%S}"
        if segundos
        else (f"{format_date(local.date(), 'long', locale=idioma)}, {local:%H:%M}")
    )


def leer_campos(form: FormData, campos: Iterable[str]) -> dict[str, str]:
    """The text fields ``campos`` of a posted form, trimmed, without the NUL character (U+0000): nobody types
    it, and PostgreSQL can neither store nor compare it (without this, a 500 on one database and not on the
    other). A field that is a file, or absent, reads as empty."""
    return {c: v.replace(NULO, "").strip() if isinstance(v := form.get(c, ""), str) else "" for c in campos}


def _ruta_idioma(request: Request) -> str:
    """Where the language switch leads: this page, or for a page that answered a form (a POST) the start of
    its flow (``/inscripcion/revisar`` → ``/inscripcion``), which a plain link can open."""
    if request.method in ("GET", "HEAD"):
        return request.url.path
    return "/" + request.url.path.strip("/").split("/")[0]


class Textos:
    """One language's catalog, with Spanish under it (a key missing in English shows the Spanish text)."""

    def __init__(self, idioma: str, catalogos: dict[str, dict[str, str]]) -> None:
        self.idioma = idioma
        self._textos = {**catalogos[IDIOMAS[0]], **catalogos.get(idioma, {})}

    def __call__(self, clave: str, **valores: Any) -> str:
        texto = self._textos.get(clave)
        if texto is None:
            raise KeyError(f"texto sin catálogo: {clave}")
        return texto.format(**valores) if valores else texto

    def hay(self, clave: str) -> bool:
        return clave in self._textos


class PorCampo(dict[str, str]):
    """A form's values or errors by field: a field without one reads as empty (templates stay strict about
    everything else)."""

    def __missing__(self, clave: str) -> str:
        return ""


class Paginas:
    """A service's pages: its templates (over this package's ``base.html``) and its catalogs (over this
    package's), rendered with the page headers."""

    def __init__(self, directorio: Path) -> None:
        """``directorio`` holds ``plantillas/`` and ``textos/`` of the service."""
        self.entorno = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.FileSystemLoader(directorio / "plantillas"),
                    jinja2.FileSystemLoader(AQUI / "plantillas"),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.catalogos = {
            idioma: {**_catalogo(AQUI / "textos", idioma), **_catalogo(directorio / "textos", idioma)}
            for idioma in IDIOMAS
        }

    def textos(self, request: Request) -> Textos:
        return Textos(idioma_de(request), self.catalogos)

    def render(
        self, request: Request, plantilla: str, status_code: int = 200, **contexto: Any
    ) -> HTMLResponse:
        t = self.textos(request)
        settings = request.app.state.settings
        contexto.setdefault("enlaces", enlaces(settings.mode, settings.url_publica))
        contexto.setdefault("simulacro", settings.reloj == "simulado")
        for nombre in ("v", "errores"):
            if nombre in contexto:
                contexto[nombre] = PorCampo(contexto[nombre])
        html = self.entorno.get_template(plantilla).render(
            t=t,
            idioma=t.idioma,
            otro_idioma=IDIOMAS[1 - IDIOMAS.index(t.idioma)],
            ruta=_ruta_idioma(request),
            comun=COMUN,
            **contexto,
        )
        respuesta = HTMLResponse(
            html,
            status_code=status_code,
            headers={**CABECERAS, "Content-Language": t.idioma, "Cache-Control": "no-store"},
        )
        respuesta.headers["Vary"] = "Accept-Language, Cookie"
        if request.query_params.get("lang") in IDIOMAS:
            respuesta.set_cookie(
                COOKIE_IDIOMA, t.idioma, max_age=365 * 24 * 3600, httponly=True, samesite="lax", path="/"
            )
        return respuesta


def montar_comun(app: Any) -> None:
    """Serve this package's style sheet and script at ``/comun`` (same origin: the policy admits only it)."""
    app.mount(COMUN, StaticFiles(directory=AQUI / "estatico"), name="comun")


# The citizen's pages, by the service that serves them (the entry page, tablero's ``/``, links to each).
PAGINAS: dict[str, dict[str, str]] = {
    "inscripcion": {"servicio": "registro", "ruta": "/inscripcion"},
    "mi_solicitud": {"servicio": "registro", "ruta": "/mi-solicitud"},
    "mi_paquete": {"servicio": "postal", "ruta": "/mi-paquete"},
    "verificar": {"servicio": "electronico", "ruta": "/verificar"},
    "cabina": {"servicio": "electronico", "ruta": "/cabina"},
    "inicio": {"servicio": "tablero", "ruta": "/"},
    "turnos": {"servicio": "electronico", "ruta": "/consola/electronico/turnos"},  # a site's staff (#27)
}


def enlaces(mode: str, url_publica: str = "") -> dict[str, str]:
    """The address of each page. In Kubernetes one host serves every service by path (the gateway), so a
    page links to ``VMRE_URL_PUBLICA`` + its path (same host when empty). In local mode (``make run``)
    each service listens on its own port on 127.0.0.1: the link carries that port (``VMRE_<S>_PORT``)."""
    if mode != "local" or url_publica:
        base = url_publica.rstrip("/")
        return {nombre: base + p["ruta"] for nombre, p in PAGINAS.items()}
    puertos = {s: os.environ.get(f"VMRE_{s.upper()}_PORT", str(puerto)) for s, puerto in SERVICES.items()}
    return {nombre: f"http://127.0.0.1:{puertos[p['servicio']]}{p['ruta']}" for nombre, p in PAGINAS.items()}
