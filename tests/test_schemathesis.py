"""Bad input, by a tool nobody here wrote: schemathesis generates requests from each service's published
OpenAPI (valid and invalid on purpose) and checks every answer: never a 500, every status documented for its
operation, the documented content type, and every 4xx/5xx an ``application/problem+json`` like the ones
``shared/problems.py`` writes.

Each service's app is built as in ``test_autorizacion.py`` (fresh, migrated database; no relay, no consumers;
simulated clock, so ``/v1/reloj`` is there too) and called in-process over ASGI by schemathesis' own client,
which runs the app's lifespan on its event-loop thread. Two passes per service:

- **with credentials**: each operation is called as someone the authorization matrix (``shared/autorizacion``)
  lets in — a JWT of an allowed role, a fresh voter session, or the carrier's HMAC signature of the very
  body sent — so the generated input gets past authentication and reaches the handler; path parameters are
  sometimes the ones of this process (entidad 09, the carrier ``mensajeria``) so that handlers go beyond 404;
- **without credentials**, and with whatever the generator puts in ``Authorization``.

Bounded and deterministic for CI: a fixed number of examples per operation, derandomized, no shrinking."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from services.computo.models import ProcessedEvent as ComputoProcessed
from services.electronico import service as electronico_service
from services.postal.config import DEV_TRANSPORTISTAS
from shared import problems, webhooks
from shared.autorizacion import Quien, matriz
from shared.bus.consumer import apply_once
from shared.settings import SERVICES, KafkaSettings
from tests import factories
from tests.support.computo import mesa_asignada
from tests.support.comun import Databases
from tests.support.registro import PEL2021
from tests.test_autorizacion import PROPIA, ROLES_JWT, TRANSPORTISTA, construir, sesiones_de_votante

# Examples per operation and pass: every operation of the five services in about 40 s per database.
CON_CREDENCIALES = 25
SIN_CREDENCIALES = 8

# Path parameters that exist in this process (PEL2021, local carriers): with them the handler runs past 404.
# ``conocidos`` adds what exists in the app's database (a folio, an election).
CONOCIDOS = {
    "entidad": PROPIA,
    "transportista": TRANSPORTISTA,
    "formato": "json",
    "serie": "solicitudes",
    "indice": 1,
    "paso": 1,
    "tipo": "credencial_frente",
}


async def elecciones_de_la_entidad(app: Any) -> None:
    """What electronico's background task does at startup (this app runs without it)."""
    async with app.state.runtime.maker() as session, session.begin():
        await electronico_service.asegurar_elecciones(session, app.state.proceso, app.state.settings, PROPIA)


async def mesa_de_la_entidad(app: Any) -> None:
    """Mesa 1 of entidad 09, as postal's assignment event leaves it in computo."""
    evento = mesa_asignada(PROPIA, 1, 10)
    manejador = app.state.handlers[evento.event_type]
    async with app.state.runtime.maker() as session, session.begin():
        await apply_once(session, ComputoProcessed, "computo.mesas", evento, manejador)


def conocidos(servicio: str, app: Any) -> dict[str, Any]:
    valores = dict(CONOCIDOS)
    with asgi.get_client(app) as client:
        if servicio == "registro":
            r = client.post("/v1/solicitudes", json=factories.solicitud(1))
            assert r.status_code == 201, r.text
            valores["folio"] = r.json()["folio"]
        if servicio == "electronico":
            asgi._get_portal().call(elecciones_de_la_entidad, app)
            r = client.get("/v1/elecciones")
            assert r.status_code == 200, r.text
            assert r.json(), r.text
            valores["uuid"] = r.json()[0]["uuid"]
        if servicio == "computo":
            asgi._get_portal().call(mesa_de_la_entidad, app)
            valores |= {"mesa": 1, "cargo": PEL2021.entidades[PROPIA].cargos[0].clave}
    return valores


# The caller to use when the matrix allows several: the broadest role first.
PREFERENCIA = [
    Quien.INE_ADMIN,
    Quien.INE_OPERADOR,
    Quien.OPL_PROPIA,
    Quien.PARTIDO,
    Quien.CUSTODIO,
    Quien.AUDITOR,
    Quien.OPL_OTRA,
]

CAMPOS_PROBLEMA = {"type": str, "title": str, "status": int, "detail": str, "instance": str}


def es_problema(ctx: Any, response: schemathesis.Response, case: schemathesis.Case[Any]) -> bool | None:  # noqa: ARG001 — schemathesis check signature
    """Every 4xx/5xx is RFC 9457 problem+json as shared/problems.py writes it: its fields, its status, the
    offending fields as ``errors`` [{campo, mensaje}]."""
    if response.status_code < 400:
        return None
    tipo = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert tipo == problems.PROBLEM_JSON, f"{response.status_code} con {tipo or 'sin content-type'}"
    cuerpo = json.loads(response.content)
    assert isinstance(cuerpo, dict), "el problema no es un objeto JSON"
    for campo, clase in CAMPOS_PROBLEMA.items():
        assert isinstance(cuerpo.get(campo), clase), f"problema sin `{campo}` ({clase.__name__})"
    assert cuerpo["status"] == response.status_code, "`status` distinto del de la respuesta"
    assert cuerpo["type"].startswith(problems.TYPE_BASE), f"`type` fuera de {problems.TYPE_BASE}"
    if "errors" in cuerpo:
        errores = cuerpo["errors"]
        assert isinstance(errores, list), "`errors` vacío o no es lista"
        assert errores, "`errors` vacío o no es lista"
        for e in errores:
            assert isinstance(e, dict), f"error sin `campo`: {e}"
            assert isinstance(e.get("campo"), str), f"error sin `campo`: {e}"
            assert isinstance(e.get("mensaje"), str), f"error sin `mensaje`: {e}"
            assert e["mensaje"], f"error sin `mensaje`: {e}"
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, es_problema]


class FirmaTransportista(requests.auth.AuthBase):
    """``X-VMRE-Firma: t=…,v1=<HMAC>`` (``shared.webhooks``) of the exact bytes sent, as a carrier signs."""

    def __init__(self, secreto: str) -> None:
        self.secreto = secreto

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        cuerpo = r.body or b""
        if isinstance(cuerpo, str):
            cuerpo = cuerpo.encode()
        assert isinstance(cuerpo, bytes)
        r.headers[webhooks.CABECERA_FIRMA] = webhooks.firmar(self.secreto, cuerpo, int(time.time()))
        return r


def configuracion(con_credenciales: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "request-timeout": 20,
            "generation": {
                "deterministic": True,
                "no-shrink": True,
                # Without credentials, let the generator fill Authorization (garbage tokens must be 401).
                "with-security-parameters": not con_credenciales,
            },
        }
    )


def fuzz(
    servicio: str,
    app: Any,
    credencial: Callable[[Quien], dict[str, Any]],
    con_credenciales: bool,
    existentes: dict[str, Any],
) -> list[str]:
    """Runs every operation of the app; returns one line per operation that failed a check (sync: runs in
    a worker thread while schemathesis drives the app on its own event loop)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=configuracion(con_credenciales))
    reglas = matriz(servicio)
    fallas: list[str] = []
    ejemplos = CON_CREDENCIALES if con_credenciales else SIN_CREDENCIALES
    for resultado in schema.get_all_operations():
        if isinstance(resultado, Err):
            fallas.append(f"esquema inválido: {resultado.err()}")
            continue
        operation = resultado.ok()
        regla = reglas[(operation.method.upper(), operation.path)]
        quien = Quien.PUBLICO
        if con_credenciales and Quien.PUBLICO not in regla.permitidos:
            quien = next(
                q for q in [Quien.VOTANTE, Quien.TRANSPORTISTA, *PREFERENCIA] if q in regla.permitidos
            )
        estrategias = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        fijos = {p.name: existentes[p.name] for p in operation.path_parameters if p.name in existentes}
        if fijos:
            estrategias.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fijos))
        vistos: Counter[int] = Counter()
        try:
            probar(app, st.one_of(estrategias), ejemplos, functools.partial(credencial, quien), vistos)()
        except FailureGroup as exc:
            fallas.append(f"{operation.label} ({quien.value}):\n{exc}")
        except Exception as exc:  # raised by the app itself: the client sees a 500
            notas = "\n".join(getattr(exc, "__notes__", []))
            fallas.append(f"{operation.label} ({quien.value}): {type(exc).__name__}: {exc}\n{notas}")
        if quien != Quien.PUBLICO and not set(vistos) - {401, 403}:
            fallas.append(f"{operation.label} ({quien.value}): nunca pasó la autenticación {dict(vistos)}")
    return fallas


def probar(
    app: Any,
    casos: st.SearchStrategy[schemathesis.Case[Any]],
    ejemplos: int,
    credencial: Callable[[], dict[str, Any]],
    vistos: Counter[int],
) -> Callable[[], None]:
    @hypothesis.settings(
        max_examples=ejemplos,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=casos)
    def una(case: schemathesis.Case[Any]) -> None:
        kwargs = credencial()
        headers = kwargs.pop("headers", {})
        # The SSE stream never ends: its first event is enough (the client given here, not the config, says).
        with asgi.get_client(app, max_stream_events=1) as client:
            response = case.call(session=client, headers=headers, **kwargs)
        vistos[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs=kwargs)

    return una


@pytest.mark.slow
@pytest.mark.parametrize("con_credenciales", [True, False], ids=["con-credenciales", "sin-credenciales"])
@pytest.mark.parametrize("servicio", SERVICES)
async def test_schemathesis_sin_500_ni_errores_fuera_de_contrato(
    servicio: str,
    con_credenciales: bool,
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The voter login limit per address (30 a minute) would answer 429 to most of the fuzzer's calls.
    monkeypatch.setenv("VMRE_ELECTRONICO_LIMITE_POR_MINUTO", "100000000")
    app: Any = await construir(servicio, databases, offline_kafka)
    jwts = {q: token(rol, entidad=e, partido=p) for q, (rol, e, p) in ROLES_JWT.items()}
    firma = FirmaTransportista(DEV_TRANSPORTISTAS[TRANSPORTISTA].get_secret_value())

    def correr() -> list[str]:
        # schemathesis runs the app (its lifespan: engine, runtime) on its own event-loop thread; what the
        # test writes to the database (seeds, voter sessions) runs on that loop too, through its portal.
        portal = asgi._get_portal()
        with asgi.get_client(app):
            try:
                sesiones = portal.call(sesiones_de_votante, app) if servicio == "electronico" else None

                def credencial(quien: Quien) -> dict[str, Any]:
                    if quien in jwts:
                        return {"headers": dict(jwts[quien])}
                    if quien == Quien.VOTANTE:
                        # A fresh session per request: DELETE /v1/acceso closes the one it is given.
                        assert sesiones is not None
                        return {"headers": {"Authorization": f"Bearer {portal.call(sesiones)}"}}
                    if quien == Quien.TRANSPORTISTA:
                        return {"auth": firma}
                    return {}

                return fuzz(servicio, app, credencial, con_credenciales, conocidos(servicio, app))
            finally:
                asgi.shutdown_lifespans()  # dispose of the engine before the database is dropped

    fallas = await asyncio.to_thread(correr)
    assert not fallas, f"{len(fallas)} operaciones fallan:\n\n" + "\n\n".join(fallas)
