"""tablero's console: the process overview behind the real OpenID Connect sign-in (the local identity provider
as a process), over HTTP. The overview asks REAL services on loopback ports (electronico with the elections
it prepares at start, computo with a sealed box of one of them, credenciales, tablero itself) and one address
where nothing listens; only ine-admin sees it; a bad ``VMRE_TABLERO_SERVICIOS_INTERNOS`` does not start.
The same page in Chromium: tests/tablero/test_consola_navegador.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import html as html_lib
import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.computo.config import Settings as AjustesComputo
from services.computo.main import create_app as crear_computo
from services.computo.models import DescifradoParcial, EscrutinioElectronico
from services.electronico import service as electronico_service
from services.tablero.config import Settings
from services.tablero.consola import calendario
from shared.cripto.custodios import Custodios, clave_simple
from shared.hijos import free_port
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases, en_http, serve
from tests.support.consola import Identidad, cabecera, ingresar
from tests.support.electronico import app_de_prueba as electronico_de_prueba
from tests.support.electronico import autoridad_de_prueba
from tests.support.registro import PEL2021, centro
from tests.support.tablero import app_de_prueba

PROCESO = "/consola/tablero/proceso"
# Between the start and the end of the PEP mailing (both in Centro daylight time in 2021).
AHORA = centro(2021, 4, 25, 12, 0)


@dataclass
class Panorama:
    app: FastAPI
    client: httpx.AsyncClient
    reloj: RelojManual
    elecciones: list[dict[str, Any]]
    sellada: str  # the election with a sealed box in computo: 1 of its 2 custodians' shares


async def _elecciones(electronico: FastAPI, base: str) -> list[dict[str, Any]]:
    """The elections electronico prepares for each entidad (its background task, not run without consumers:
    the same use case here) for 09 and 16, as its public list tells them."""
    for entidad in ("09", "16"):
        async with electronico.state.runtime.maker() as s, s.begin():
            await electronico_service.asegurar_elecciones(s, PEL2021, electronico.state.settings, entidad)
    async with httpx.AsyncClient(timeout=5) as cliente:
        elecciones: list[dict[str, Any]] = (await cliente.get(base + "/v1/elecciones")).json()
    assert {e["entidad"] for e in elecciones} == {"09", "16"}, elecciones
    return elecciones


async def _broker_caido(base: str) -> None:
    """Until computo's relay and consumer have tried the broker (and failed): what its /readyz then says."""
    async with httpx.AsyncClient(timeout=5) as cliente:
        for _ in range(200):
            checks = (await cliente.get(base + "/readyz")).json()["checks"]
            if checks["broker"]["error"] and all(c["error"] for c in checks["consumers"]):
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"computo no intentó el broker: {checks}")


async def _sellar_en_computo(computo: FastAPI, eleccion: dict[str, Any]) -> None:
    """computo's electronic MEC of ``eleccion`` as the sealed box leaves it (two custodians, both needed),
    with the first custodian's share received."""
    custodios = Custodios([clave_simple()[1], clave_simple()[1]])
    async with computo.state.runtime.maker() as s, s.begin():
        s.add(
            EscrutinioElectronico(
                eleccion=eleccion["uuid"],
                entidad=eleccion["entidad"],
                cargo=eleccion["cargo"],
                simulacro=False,
                boletas=3,
                sello="0" * 64,
                eleccion_json="{}",
                custodios_json=json.dumps(custodios.json()),
                recuento="[]",
                recuento_dimensionado="{}",
            )
        )
        s.add(
            DescifradoParcial(
                eleccion=eleccion["uuid"],
                owner=1,
                texto="{}",
                custodio="custodio-1",
                recibido_at=dt.datetime(2021, 6, 6, 23, tzinfo=dt.UTC),
            )
        )


@pytest.fixture
async def panorama(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon, identidad: Identidad
) -> AsyncIterator[Panorama]:
    electronico, reloj_e = await electronico_de_prueba(databases, offline_kafka, buzon)
    credenciales = await autoridad_de_prueba(databases, offline_kafka, buzon, reloj_e)
    # computo with its relay and consumers on, against a broker that is down: /readyz says so.
    computo = crear_computo(
        AjustesComputo(database_url=await databases.new("computo"), kafka=offline_kafka),
        reloj=RelojManual(AHORA),
        proceso=PEL2021,
    )
    puerto_tablero = free_port()
    internos = {
        "electronico": None,
        "computo": None,
        "credenciales": None,
        "tablero": f"http://127.0.0.1:{puerto_tablero}",
        "registro": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "postal": f"http://127.0.0.1:{free_port()}",  # nor there
    }
    async with AsyncExitStack() as pila:
        internos["electronico"] = await pila.enter_async_context(en_http(electronico))
        internos["computo"] = await pila.enter_async_context(en_http(computo))
        internos["credenciales"] = await pila.enter_async_context(en_http(credenciales))
        reloj = RelojManual(AHORA)
        app = await app_de_prueba(
            databases,
            offline_kafka,
            reloj=reloj,
            consola=identidad.ajustes(),
            servicios_internos=",".join(f"{s}={u}" for s, u in internos.items()),
        )
        await pila.enter_async_context(en_http(app, puerto=puerto_tablero, lifespan="off"))
        client = await pila.enter_async_context(serve(app))
        elecciones = await _elecciones(electronico, str(internos["electronico"]))
        await _broker_caido(str(internos["computo"]))
        sellada = next(e for e in elecciones if e["entidad"] == "09")
        await _sellar_en_computo(computo, sellada)
        yield Panorama(app, client, reloj, elecciones, sellada["uuid"])


def _texto(fragmento: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragmento)).split())


def fila(html: str, atributo: str, valor: str) -> str:
    """The text of the table row marked ``data-<atributo>="<valor>"``."""
    m = re.search(rf'<tr[^>]*data-{atributo}="{re.escape(valor)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"sin fila {atributo}={valor}"
    return _texto(m.group(1))


async def test_la_administradora_ve_calendario_elecciones_y_servicios(panorama: Panorama) -> None:
    # Without a session: to the sign-in, remembering where it was going; the console's start leads here.
    r = await panorama.client.get(PROCESO)
    assert r.status_code == 303
    assert r.headers["location"] == "/consola/tablero/entrar?siguiente=%2Fconsola%2Ftablero%2Fproceso"
    r = await panorama.client.get("/consola/tablero/")
    assert (r.status_code, r.headers["location"]) == (303, PROCESO)
    sesion, vuelta = await ingresar(panorama.client, "tablero", "administradora")
    assert vuelta.status_code == 200, vuelta.text
    assert f'content="0;url={PROCESO}"' in vuelta.text  # the console's own start

    r = await panorama.client.get(PROCESO, headers=cabecera(sesion))
    assert r.status_code == 200, r.text
    html = r.text
    assert "Administradora del INE (local) · ine-admin" in html
    # The calendar: every milestone, in order, in Centro time; the current stage by the service's clock.
    hitos = re.findall(r'data-hito="([a-z_]+)"', html)
    cal = PEL2021.calendario
    assert hitos == sorted(
        (c for c in type(cal).model_fields if isinstance(getattr(cal, c), dt.datetime)),
        key=lambda c: getattr(cal, c),
    )
    assert len(hitos) == 11
    assert hitos[0] == "registro_inicio"
    assert hitos[-1] == "voto_electronico_fin"
    assert re.findall(r'data-hito="([a-z_]+)" aria-current="step"', html) == ["envio_pep_inicio"]
    assert (
        fila(html, "hito", "envio_pep_inicio")
        == "Inicio del envío de paquetes (PEP) 2021-04-21 00:00 etapa actual"
    )
    assert fila(html, "hito", "envio_pep_fin") == "Fin del envío de paquetes (PEP) 2021-05-10 23:59 siguiente"
    assert fila(html, "hito", "cierre_lnere").endswith("pasó")
    assert fila(html, "hito", "jornada").endswith("por venir")
    assert "Siguiente: Fin del envío de paquetes (PEP), en 15 d 11 h 59 min." in _texto(html)
    # The clock moves: so does the current stage.
    panorama.reloj.ajustar(centro(2021, 6, 6, 9, 0))
    otra = (await panorama.client.get(PROCESO, headers=cabecera(sesion))).text
    assert re.findall(r'data-hito="([a-z_]+)" aria-current="step"', otra) == ["jornada"]
    assert "Siguiente: Fin del voto por internet, en 9 h 0 min." in _texto(otra)

    # Each election as electronico tells it; computo's decryption progress for the sealed one.
    assert panorama.elecciones
    for e in panorama.elecciones:
        texto = fila(html, "eleccion", e["uuid"])
        assert texto.startswith(e["entidad"] + " " + e["nombre"])
        assert "en preparación (ceremonia de claves)" in texto
        if e["uuid"] == panorama.sellada:
            assert texto.endswith("1 de 2 descifrados necesarios (2 custodios)")
        else:
            assert texto.endswith("Sin urna sellada aún")

    # Each of the six services' /readyz: the live ones' database ok, the dead ones «no responde».
    for servicio in ("credenciales", "tablero"):
        assert fila(html, "servicio", servicio) == f"{servicio} ok 0 sin relay sin consumidores"
    # electronico's outbox holds the two elections' «preparada» events (no relay publishes them).
    assert fila(html, "servicio", "electronico") == "electronico ok 2 sin relay sin consumidores"
    # computo's broker is down: its relay's and its consumer's errors, said, not hidden.
    assert re.fullmatch(
        r"computo ok 0 falla: KafkaConnectionError: .+ computo\.mesas: KafkaConnectionError: .+",
        fila(html, "servicio", "computo"),
    ), fila(html, "servicio", "computo")
    for servicio in ("registro", "postal"):
        assert fila(html, "servicio", servicio) == f"{servicio} no responde"
    assert "docs/operacion.md#fiabilidad-las-fallas-que-sobrevive" in html


async def test_electronico_y_computo_caidos_no_dan_500(panorama: Panorama) -> None:
    sesion, _ = await ingresar(panorama.client, "tablero", "administradora")
    app = panorama.app
    muerto = f"http://127.0.0.1:{free_port()}"
    ajustes = app.state.settings.model_copy(
        update={"servicios_internos": f"electronico={muerto},computo={muerto}"}
    )
    app.state.settings = ajustes
    r = await panorama.client.get(PROCESO, headers=cabecera(sesion))
    assert r.status_code == 200, r.text
    assert "electronico: no responde" in _texto(r.text)
    assert fila(r.text, "servicio", "computo") == "computo no responde"


async def test_solo_ine_admin(panorama: Panorama) -> None:
    for sub, rol in (("operadora", "ine-operador"), ("auditora", "auditor")):
        sesion, _ = await ingresar(panorama.client, "tablero", sub)
        r = await panorama.client.get(PROCESO, headers=cabecera(sesion))
        assert r.status_code == 403, r.text
        assert f"Su rol ({rol}) no usa esta pantalla." in r.text
        assert 'data-hito="' not in r.text
    # A forged session cookie: no session, to the sign-in.
    r = await panorama.client.get(PROCESO, headers=cabecera({"vmre_consola": "no.es.firma"}))
    assert r.status_code == 303
    assert r.headers["location"].startswith("/consola/tablero/entrar")


@pytest.mark.parametrize(
    ("valor", "mensaje"),
    [
        ("registro=ftp://x", "debe ser http:// o https://"),
        ("registro=http://", "debe ser http:// o https://"),
        ("boveda=http://127.0.0.1:9", "no es «servicio=URL» de un servicio conocido"),
        ("registro", "no es «servicio=URL» de un servicio conocido"),
        ("postal=http://a:1,postal=http://b:2", "postal aparece dos veces"),
    ],
)
def test_servicios_internos_invalidos(valor: str, mensaje: str) -> None:
    with pytest.raises(ValueError, match=mensaje):
        Settings(servicios_internos=valor)


def test_servicios_internos_por_omision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMRE_POSTAL_PORT", "9102")
    local = Settings(servicios_internos="computo=https://computo.interno:8443/").servicios()
    assert local == {
        "tablero": "http://127.0.0.1:8000",
        "registro": "http://127.0.0.1:8001",
        "postal": "http://127.0.0.1:9102",
        "electronico": "http://127.0.0.1:8003",
        "computo": "https://computo.interno:8443",
        "credenciales": "http://127.0.0.1:8005",
    }
    produccion = Settings.model_construct(mode="production", servicios_internos="").servicios()
    assert produccion == {
        "tablero": "http://tablero:8000",
        "registro": "http://registro:8001",
        "postal": "http://postal:8002",
        "electronico": "http://electronico:8003",
        "computo": "http://computo:8004",
        "credenciales": "http://credenciales:8005",
    }


def test_el_calendario_antes_y_despues_del_proceso() -> None:
    antes = calendario(PEL2021, centro(2020, 8, 31, 23, 0))
    assert antes.actual is None
    assert antes.siguiente is not None
    assert antes.siguiente.campo == "registro_inicio"
    assert antes.falta == "1 h 0 min"
    assert {h.estado for h in antes.hitos} == {"siguiente", "futuro"}
    despues = calendario(PEL2021, centro(2021, 6, 7))
    assert despues.actual is not None
    assert despues.actual.campo == "voto_electronico_fin"
    assert despues.siguiente is None
    assert despues.falta is None
    assert [h.estado for h in despues.hitos] == ["pasado"] * 10 + ["actual"]
