"""The authorization matrix (shared/autorizacion.py) against the code: every route of every service, with
every kind of caller. Nothing reachable that the table does not grant (401 or 403, never 2xx/404/422 that
would show the route is usable), nothing granted refused with 401/403, and no route missing from either side.

Each service's app is built once (fresh SQLite database, no relay, no consumers, simulated clock so that
/v1/reloj exists) and called in-process, straight through ASGI: a raw call rather than httpx's ASGITransport
so that the Server-Sent Events route can be left after its first bytes."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import importlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from starlette.routing import Mount

from services.electronico.acceso import _sha
from services.electronico.models import Sesion, Votante
from services.postal.config import DEV_TRANSPORTISTAS
from shared import webhooks
from shared.autorizacion import Acceso, Quien, Ruta, matriz, render
from shared.reloj import RelojManual
from shared.settings import SERVICES, KafkaSettings
from tests.support.comun import Databases, serve
from tests.support.registro import PEL2021, centro

RAIZ = Path(__file__).resolve().parents[1]
DOCS = RAIZ / "docs" / "autorizacion.md"

PROPIA, OTRA = "09", "14"
TRANSPORTISTA = "mensajeria"
VALORES = {
    "entidad": PROPIA,
    "folio": "VMRE-99999-ZZZZZ-ZZZZZ-09ZZZ",
    "numero": "1",
    "mesa": "1",
    "cargo": "NOEXISTE",
    "uuid": "NoExisteEsta1234",
    "eleccion": "NoExisteEsta1234",
    "indice": "1",
    "paso": "1",
    "id": "999999",
    "acta": "999999",
    "observacion_id": "999999",
    "tipo": "credencial_frente",
    "serie": "solicitudes",
    "formato": "json",
    "transportista": TRANSPORTISTA,
    "archivo": "no-existe.txt",
    "ambito": PROPIA,
    "sede": "los-angeles",
}
# A minimal body; where the entidad a request is about travels in the body, it names entidad 09.
CUERPOS: dict[Ruta, dict[str, Any]] = {
    # A literal loopback address, accepted in local mode: a name would be resolved (DNS: no network in tests).
    ("POST", "/v1/webhooks"): {"url": "http://127.0.0.1:9/vmre", "entidad": PROPIA},
    ("PUT", "/v1/candidaturas/{ambito}/{cargo}"): {"candidaturas": []},
    ("POST", "/v1/candidaturas/{ambito}/{cargo}/aprobacion"): {"huella": "0" * 64},
}
ROLES_JWT: dict[Quien, tuple[str, str | None, str | None]] = {
    Quien.INE_OPERADOR: ("ine-operador", None, None),
    Quien.INE_ADMIN: ("ine-admin", None, None),
    Quien.OPL_PROPIA: ("opl", PROPIA, None),
    Quien.OPL_OTRA: ("opl", OTRA, None),
    Quien.CUSTODIO: ("custodio", None, None),
    Quien.AUDITOR: ("auditor", None, None),
    Quien.PARTIDO: ("partido", None, "PAN"),
}


# --- Routes of an app ---------------------------------------------------------------------------------------


def rutas_de(app: FastAPI) -> set[Ruta]:
    """Every (METHOD, path) the app answers: the published API plus what is left out of the schema (pages,
    docs, static mounts). FastAPI keeps included routers as ``_IncludedRouter``: walk their routes."""
    rutas: set[Ruta] = set()

    def visitar(candidatas: Any) -> None:
        for r in candidatas:
            if hasattr(r, "effective_candidates"):
                visitar(r.effective_candidates())
            elif isinstance(r, Mount):
                rutas.add(("GET", r.path + "/{archivo}"))
            else:
                rutas.update((m, r.path) for m in (r.methods or ()) if m not in ("HEAD", "OPTIONS"))

    visitar(app.routes)
    publicadas = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert publicadas <= rutas, publicadas - rutas  # the walk sees at least what the schema publishes
    return rutas


def parametros_de_consulta(app: FastAPI) -> dict[Ruta, list[str]]:
    return {
        (m.upper(), p): [x["name"] for x in op.get("parameters", []) if x["in"] == "query"]
        for p, ops in app.openapi()["paths"].items()
        for m, op in ops.items()
    }


# --- A raw ASGI call ----------------------------------------------------------------------------------------


@dataclass
class Respuesta:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    cuerpo: bytes = b""


async def llamar(
    app: FastAPI, metodo: str, ruta: str, consulta: dict[str, str], headers: dict[str, str], cuerpo: bytes
) -> Respuesta:
    inicio: dict[str, Any] = {}
    partes: list[bytes] = []
    empezo = asyncio.Event()
    pedido = False

    async def receive() -> dict[str, Any]:
        nonlocal pedido
        if not pedido:
            pedido = True
            return {"type": "http.request", "body": cuerpo, "more_body": False}
        await empezo.wait()  # the client leaves once the response started (ends an event stream)
        return {"type": "http.disconnect"}

    async def send(mensaje: MutableMapping[str, Any]) -> None:
        if mensaje["type"] == "http.response.start":
            inicio.update(mensaje)
            empezo.set()
        elif mensaje["type"] == "http.response.body":
            partes.append(mensaje.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": metodo,
        "scheme": "http",
        "path": ruta,
        "raw_path": ruta.encode(),
        "root_path": "",
        "query_string": urlencode(consulta).encode(),
        "headers": [(b"host", b"test"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=20)
    assert inicio, f"{metodo} {ruta}: sin respuesta"
    return Respuesta(
        inicio["status"],
        {k.decode().lower(): v.decode() for k, v in inicio.get("headers", [])},
        b"".join(partes),
    )


# --- Apps ---------------------------------------------------------------------------------------------------


async def construir(servicio: str, databases: Databases, kafka: KafkaSettings) -> FastAPI:
    config = importlib.import_module(f"services.{servicio}.config")
    main = importlib.import_module(f"services.{servicio}.main")
    extra: dict[str, Any] = {}
    if servicio == "tablero":
        extra["cache_segundos"] = 0
    settings = config.Settings(
        database_url=await databases.new(servicio),
        kafka=kafka,
        relay_enabled=False,
        consumers_enabled=False,
        reloj="simulado",
        **extra,
    )
    app: FastAPI = main.create_app(settings, reloj=RelojManual(centro(2021, 1, 15, 10, 0)), proceso=PEL2021)
    return app


async def sesiones_de_votante(app: FastAPI) -> Callable[[], Awaitable[str]]:
    """A fresh valid voter session per call (``DELETE /v1/acceso`` closes the one it is given)."""
    async with app.state.runtime.maker() as session, session.begin():
        v = Votante(entidad=PROPIA, numero=1, usuario="votante-prueba", email="v@example.org", telefono="+1")
        session.add(v)
        await session.flush()
        votante_id = v.id

    async def nueva() -> str:
        token = secrets.token_urlsafe(32)
        async with app.state.runtime.maker() as session, session.begin():
            expira = app.state.reloj.ahora() + dt.timedelta(minutes=30)
            session.add(Sesion(token_hash=_sha(token), votante_id=votante_id, expira_at=expira))
        return token

    return nueva


def firma(cuerpo: bytes, secreto: str, t: int | None = None) -> str:
    """A carrier's ``X-VMRE-Firma`` (``shared.webhooks``), made now unless ``t`` says when."""
    return webhooks.firmar(secreto, cuerpo, int(time.time()) if t is None else t)


# --- The walk -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("servicio", SERVICES)
async def test_cada_ruta_con_cada_llamante_cumple_la_matriz(
    servicio: str,
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
) -> None:
    app = await construir(servicio, databases, offline_kafka)
    esperada = matriz(servicio)
    async with serve(app):
        rutas = rutas_de(app)
        assert not rutas - set(esperada), f"rutas que la matriz no lista: {sorted(rutas - set(esperada))}"
        assert not set(esperada) - rutas, (
            f"la matriz lista rutas que no existen: {sorted(set(esperada) - rutas)}"
        )
        consultas = parametros_de_consulta(app)
        if servicio == "electronico":
            sesion = await sesiones_de_votante(app)
        else:

            async def sesion() -> str:
                return secrets.token_urlsafe(32)

        jwts = {q: token(rol, entidad=e, partido=p) for q, (rol, e, p) in ROLES_JWT.items()}
        secreto = DEV_TRANSPORTISTAS[TRANSPORTISTA].get_secret_value()

        fallas: list[str] = []
        llamadas = 0
        # The console's screens answer a signed-in browser, not a bearer token: their roles, CSRF and sign-in
        # are attacked with real sessions in tests/<servicio>/test_consola.py.
        por_token = {k: r for k, r in esperada.items() if r.acceso != Acceso.CONSOLA}
        for (metodo, plantilla), regla in sorted(por_token.items()):
            ruta = plantilla.format(**VALORES)
            consulta = {"entidad": PROPIA} if "entidad" in consultas.get((metodo, plantilla), []) else {}
            cuerpo = b""
            tipo: dict[str, str] = {}
            if metodo in ("POST", "PUT", "PATCH"):
                cuerpo = json.dumps(CUERPOS.get((metodo, plantilla), {})).encode()
                tipo = {"content-type": "application/json"}
            for quien in Quien:
                if quien in jwts:
                    credenciales = jwts[quien]
                elif quien == Quien.VOTANTE:
                    credenciales = {"Authorization": f"Bearer {await sesion()}"}
                elif quien == Quien.TRANSPORTISTA:
                    credenciales = {webhooks.CABECERA_FIRMA: firma(cuerpo, secreto)}
                else:  # público, ciudadanía con su folio: no credentials
                    credenciales = {}
                r = await llamar(app, metodo, ruta, consulta, {**tipo, **credenciales}, cuerpo)
                llamadas += 1
                donde = f"{metodo} {plantilla} como {quien.value}: {r.status} {r.cuerpo[:160]!r}"
                if quien in regla.permitidos:
                    if r.status in (401, 403):
                        fallas.append(f"permitido pero rechazado — {donde}")
                elif r.status not in (401, 403):
                    fallas.append(f"NO permitido pero alcanzable — {donde}")
                elif r.headers.get("content-type") != "application/problem+json":
                    fallas.append(f"rechazo sin application/problem+json — {donde}")
        assert llamadas >= len(por_token) * len(Quien)
        assert not fallas, "\n".join(fallas)

        await _casos_propios(servicio, app, token, secreto)


async def _casos_propios(
    servicio: str, app: FastAPI, token: Callable[..., dict[str, str]], secreto: str
) -> None:
    """What the walk cannot show with a single caller of each kind: forged credentials, entidades outside
    the process."""

    async def pedir(metodo: str, ruta: str, headers: dict[str, str], cuerpo: bytes = b"", **q: str) -> int:
        return (await llamar(app, metodo, ruta, q, headers, cuerpo)).status

    if servicio == "electronico":
        for credencial in (
            "Bearer " + secrets.token_urlsafe(32),  # a session that does not exist
            token("ine-admin")["Authorization"],  # a staff JWT is no voter session
            "Basic dm90YW50ZTpjbGF2ZQ==",
        ):
            for metodo, ruta in (("GET", "/v1/votante"), ("POST", "/v1/elecciones/NoExisteEsta1234/boletas")):
                h = {"Authorization": credencial, "content-type": "application/json"}
                assert await pedir(metodo, ruta, h, b"{}") == 401, (metodo, ruta, credencial[:12])
        # An expired session.
        sesion = await sesiones_de_votante_expirada(app)
        assert await pedir("GET", "/v1/votante", {"Authorization": f"Bearer {sesion}"}) == 401

    if servicio == "postal":
        ruta = f"/v1/transportistas/{TRANSPORTISTA}/eventos"
        cuerpo = b"{}"
        json_ = {"content-type": "application/json"}
        vieja = "sha256=" + hmac.new(secreto.encode(), cuerpo, hashlib.sha256).hexdigest()  # the old scheme
        for mala in (
            "",
            vieja,
            "t=1,v1=" + "0" * 64,
            firma(cuerpo, "otro-secreto"),
            firma(b"[]", secreto),
            firma(cuerpo, secreto, t=int(time.time()) - 301),  # replayed after 5 minutes
        ):
            assert await pedir("POST", ruta, {**json_, webhooks.CABECERA_FIRMA: mala}, cuerpo) == 401, mala
        assert await pedir("POST", ruta, {**json_, "X-Firma": vieja}, cuerpo) == 401
        # A staff JWT is no carrier signature.
        assert await pedir("POST", ruta, {**json_, **token("ine-admin")}, cuerpo) == 401
        # The right signature: past authentication (the body is then invalid).
        assert (
            await pedir("POST", ruta, {**json_, webhooks.CABECERA_FIRMA: firma(cuerpo, secreto)}, cuerpo)
            == 422
        )

    if servicio in ("computo", "tablero", "postal"):
        # An opl token of another entidad is refused before anything about the resource is looked up:
        # also for an entidad outside the process, or a cargo that does not exist.
        fuera = next(f"{n:02d}" for n in range(1, 33) if f"{n:02d}" not in PEL2021.entidades)
        opl = token("opl", OTRA)
        por_servicio: dict[str, list[tuple[str, dict[str, str]]]] = {
            "computo": [("/v1/computos/{e}", {}), ("/v1/computos/{e}/acta.csv", {"cargo": "NOEXISTE"})],
            "tablero": [("/v1/entidades/{e}/cifras", {}), ("/v1/entidades/{e}/series/nada", {})],
            "postal": [("/v1/en-transito", {"entidad": "{e}"})],
        }
        rutas = por_servicio[servicio]
        for plantilla, q in rutas:
            for e in (PROPIA, fuera):
                consulta = {k: v.format(e=e) for k, v in q.items()}
                assert await pedir("GET", plantilla.format(e=e), opl, b"", **consulta) == 403, (plantilla, e)


async def sesiones_de_votante_expirada(app: FastAPI) -> str:
    token = secrets.token_urlsafe(32)
    async with app.state.runtime.maker() as session, session.begin():
        v = Votante(
            entidad=PROPIA, numero=2, usuario="votante-expirado", email="e@example.org", telefono="+1"
        )
        session.add(v)
        await session.flush()
        expira = app.state.reloj.ahora() - dt.timedelta(seconds=1)
        session.add(Sesion(token_hash=_sha(token), votante_id=v.id, expira_at=expira))
    return token


# --- The table and its rendering ----------------------------------------------------------------------------


def test_la_matriz_cubre_cada_servicio_y_cada_llamante() -> None:
    for servicio in SERVICES:
        m = matriz(servicio)
        assert ("GET", "/healthz") in m
        assert ("GET", "/v1/auditoria") in m
    # Every kind of caller is granted something somewhere beyond the public routes.
    restringidas = [r for s in SERVICES for r in matriz(s).values() if Quien.PUBLICO not in r.permitidos]
    assert {q for r in restringidas for q in r.permitidos} == set(Quien) - {
        Quien.PUBLICO,
        Quien.CIUDADANO_FOLIO,
    }


def test_la_documentacion_es_la_matriz() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/autorizacion.md no coincide con shared/autorizacion.py: "
        "ejecute `python -m shared.autorizacion > docs/autorizacion.md`"
    )
