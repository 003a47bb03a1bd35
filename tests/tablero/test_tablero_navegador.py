"""The live dashboard in a real browser (Debian's headless Chromium, driven by Playwright) against the real
tablero: its projections fed by events, a new event **produced on the real broker** reaches the page over
Server-Sent Events and changes the number without reloading; the charts are drawn, labelled and mirrored in
accessible tables; the entidad selector works with the keyboard; screenshots in ``var/capturas/``."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from services.tablero.config import Settings
from services.tablero.main import create_app
from shared.bus import kafka
from shared.bus.envelope import Envelope
from shared.bus.topics import REGISTRO_SOLICITUD
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from shared.settings import KafkaSettings
from tests.support.comun import Databases, en_http
from tests.support.navegador import accesible
from tests.support.registro import PEF2024, PEL2021
from tests.support.tablero import deliver
from vmre.broker import LocalBroker

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
CHROMIUM = Path(os.environ.get("VMRE_CHROMIUM", "/usr/bin/chromium"))
CAPTURAS = Path(os.environ.get("VMRE_CAPTURAS", "var/capturas"))
T = dt.datetime(2021, 5, 23, 16, 30, tzinfo=dt.UTC)


def recibida(folio: str, entidad: str, pais: str, dia: int) -> Envelope:
    return Envelope.new(
        event_type=eventos_registro.SOLICITUD_RECIBIDA,
        source="registro",
        aggregate_id=folio,
        data=eventos_registro.SolicitudRecibida(
            folio=folio,
            entidad=entidad,
            modalidad="electronica" if dia % 2 else "postal",
            recibida_at=dt.datetime(2021, 1, 10 + dia, 18, tzinfo=dt.UTC),
            pais=pais,
        ),
    )


def historia() -> list[Envelope]:
    """A small process: 6 applications (09 and 14), the 09 list, packages, votes, the 09 acta de cómputo."""
    eventos = [
        recibida("F1", "09", "US", 0),
        recibida("F2", "09", "US", 1),
        recibida("F3", "09", "CA", 1),
        recibida("F4", "09", "US", 2),
        recibida("F5", "14", "US", 2),
        recibida("F6", "14", "ES", 3),
        Envelope.new(
            event_type=eventos_registro.LNERE_CERRADA,
            source="registro",
            aggregate_id="09",
            data=eventos_registro.LnereCerrada(
                entidad="09", total=4, postal=2, electronica=2, por_pais={}, cerrada_at=T
            ),
        ),
    ]
    for estado in ("integrado", "enviado", "entregado"):
        eventos.append(
            Envelope.new(
                event_type=eventos_postal.paquete_event_type(estado),
                source="postal",
                aggregate_id="09-0000001",
                data=eventos_postal.PaqueteActualizado(
                    entidad="09", numero=1, pais="US", estado=estado, lote=1, ocurrido_at=T
                ),
            )
        )
    eventos += [
        Envelope.new(
            event_type=eventos_postal.SOBRE_RECIBIDO,
            source="postal",
            aggregate_id="09-0000001",
            data=eventos_postal.SobreRecibido(
                entidad="09", numero=1, clasificacion="en_tiempo", recibido_at=T
            ),
        ),
        Envelope.new(
            event_type=eventos_postal.VOTO_REGISTRADO,
            source="postal",
            aggregate_id="09-0000001",
            data=eventos_postal.VotoRegistrado(entidad="09", numero=1, recibido_at=T),
        ),
        Envelope.new(
            event_type=eventos_electronico.VOTO_EMITIDO,
            source="electronico",
            aggregate_id="09-0000002",
            data=eventos_electronico.VotoEmitido(
                eleccion="E" * 14, entidad="09", numero=2, simulacro=False, emitido_at=T
            ),
        ),
        Envelope.new(
            event_type=eventos_computo.ACTA_PUBLICADA,
            source="computo",
            aggregate_id="09-diputacion_migrante",
            data=eventos_computo.ActaPublicada(
                entidad="09",
                cargo="diputacion_migrante",
                documento={
                    "acta": {
                        "participacion": "50.00",
                        "votos": {"postal": 1, "electronica": 1, "total": 2},
                        "distribucion": {"PAN": 1, "MORENA": 1},
                    },
                    "firma": "…",
                },
            ),
        ),
    ]
    return eventos


async def texto_oculto(pagina: Any, selector: str) -> str:
    """Text of an element whether or not its <details> is open."""
    return str(await pagina.locator(selector).evaluate("el => el.textContent"))


async def test_tablero_en_vivo_en_el_navegador(databases: Databases, e2e_broker: LocalBroker) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"falta Chromium en {CHROMIUM}: `make test` lo instala (make chromium)")
    from playwright.async_api import async_playwright

    CAPTURAS.mkdir(parents=True, exist_ok=True)
    # A broker of its own: on the session's broker the consumer group would also read other tests' events.
    kafka_settings = KafkaSettings(bootstrap_servers=e2e_broker.bootstrap)
    app = create_app(
        Settings(database_url=await databases.new("tablero"), kafka=kafka_settings, relay_enabled=False),
        proceso=PEL2021,
    )
    async with en_http(app) as base, async_playwright() as p:
        for e in historia():
            await deliver(app, e)
        navegador = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            errores: list[str] = []
            pagina = await navegador.new_page(viewport={"width": 390, "height": 844})  # a phone
            pagina.on("pageerror", lambda e: errores.append(str(e)))
            # A violation of the page's Content-Security-Policy is a console error: none may happen.
            pagina.on(
                "console", lambda m: errores.append(m.text) if "Content Security Policy" in m.text else None
            )
            await pagina.goto(base + "/")
            cifra = pagina.locator("#cifra-solicitudes")
            await cifra.filter(has_text="6").wait_for()
            assert await pagina.locator("#cifra-lnere").inner_text() == "4"
            assert await pagina.locator("#cifra-votos-postal").inner_text() == "1"
            assert await pagina.locator("#cifra-votos-electronica").inner_text() == "1"
            assert await pagina.locator("#cifra-participacion").inner_text() == "50.00 %"
            for nombre in ("entidades", "registro", "horas", "paises", "res-1"):
                caja = await pagina.locator(f"#grafica-{nombre}").bounding_box()
                assert caja, nombre
                assert caja["width"] > 0, nombre
                assert caja["height"] > 0, nombre
                assert await pagina.locator(f"#grafica-{nombre}").get_attribute("aria-label"), nombre
            assert await pagina.locator("#sedes").is_hidden()  # 2021: no in-person voting
            assert "Estados Unidos" in await texto_oculto(pagina, "#tabla-paises")
            assert "Canadá" in await texto_oculto(pagina, "#tabla-paises")
            # The registration curve and the return curve of postal votes share the days: 4 + 1.
            assert await pagina.locator("#tabla-registro tbody tr").count() == 5

            # An application is registered: its event, produced on the broker, reaches the open page.
            await pagina.evaluate("window.marcadorVMRE = 'misma página'")
            productor = kafka.make_producer(kafka_settings, "prueba-tablero")
            await productor.start()
            try:
                nueva = recibida("F7", "09", "US", 3)
                await productor.send_and_wait(
                    REGISTRO_SOLICITUD,
                    key=nueva.aggregate_id.encode(),
                    value=nueva.model_dump_json().encode(),
                    headers=[
                        ("event_type", nueva.event_type.encode()),
                        ("event_id", nueva.event_id.encode()),
                    ],
                )
            finally:
                await productor.stop()
            await cifra.filter(has_text="7").wait_for(timeout=90_000)  # the consumer group joins first
            assert await pagina.evaluate("window.marcadorVMRE") == "misma página"
            assert await pagina.evaluate("performance.getEntriesByType('navigation').length") == 1
            await pagina.screenshot(path=str(CAPTURAS / "tablero.png"), full_page=True)

            # The entidad selector with the keyboard only: Tab to it, then the arrow key (09 first).
            for _ in range(12):
                await pagina.keyboard.press("Tab")
                if await pagina.evaluate("document.activeElement.id") == "entidad":
                    break
            else:
                raise AssertionError("el selector de entidad no se alcanza con el tabulador")
            await pagina.keyboard.press("ArrowDown")
            await pagina.wait_for_url("**/?entidad=*")
            entidad = await pagina.locator("#entidad").input_value()
            esperado = {"09": "5", "03": "0"}.get(entidad)
            if esperado is not None:
                await cifra.filter(has_text=esperado).wait_for()
            assert await pagina.evaluate("window.marcadorVMRE") == "misma página"

            # Straight to one entidad by its URL, at desktop width: its own numbers only.
            escritorio = await navegador.new_page(viewport={"width": 1280, "height": 900})
            escritorio.on("pageerror", lambda e: errores.append(str(e)))
            escritorio.on(
                "console", lambda m: errores.append(m.text) if "Content Security Policy" in m.text else None
            )
            await escritorio.goto(base + "/?entidad=14")
            await escritorio.locator("#cifra-solicitudes").filter(has_text="2").wait_for()
            assert await escritorio.locator("#entidad").input_value() == "14"
            await escritorio.screenshot(path=str(CAPTURAS / "tablero-escritorio.png"), full_page=True)
            assert errores == []
        finally:
            await navegador.close()
    await asyncio.sleep(0)


async def test_el_voto_en_persona_de_cada_sede_en_el_navegador(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    """2024 (#27): the dashboard lists each consular site with its voters on the list and the extra ballots
    handed there, and the list's figure says how many vote in person."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"falta Chromium en {CHROMIUM}: `make test` lo instala (make chromium)")
    from playwright.async_api import async_playwright

    app = create_app(
        Settings(
            database_url=await databases.new("tablero"),
            kafka=offline_kafka,
            relay_enabled=False,
            consumers_enabled=False,
        ),
        proceso=PEF2024,
    )
    eventos = [
        Envelope.new(
            event_type=eventos_registro.LNERE_CERRADA,
            source="registro",
            aggregate_id="09",
            data=eventos_registro.LnereCerrada(
                entidad="09",
                total=5,
                postal=1,
                electronica=1,
                presencial=3,
                por_pais={"US": {"postal": 1, "electronica": 1, "presencial": 2}, "ES": {"presencial": 1}},
                por_sede={"los-angeles": 2, "madrid": 1},
                cerrada_at=T,
            ),
        ),
        *(
            Envelope.new(
                event_type=eventos_registro.BOLETA_ADICIONAL_ENTREGADA,
                source="registro",
                aggregate_id="chicago",
                data=eventos_registro.BoletaAdicionalEntregada(
                    sede="chicago", entidad="14", entregadas=n, tope=1500, entregada_at=T
                ),
            )
            for n in (1, 2)
        ),
        *(  # one person of Los Ángeles' list votes in its module: two offices, one person
            Envelope.new(
                event_type=eventos_electronico.VOTO_EMITIDO,
                source="electronico",
                aggregate_id="09-0000003",
                data=eventos_electronico.VotoEmitido(
                    eleccion=e * 14, entidad="09", numero=3, simulacro=False, emitido_at=T, sede="los-angeles"
                ),
            )
            for e in "PS"
        ),
    ]
    async with en_http(app) as base, async_playwright() as p:
        for e in eventos:
            await deliver(app, e)
        navegador = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            errores: list[str] = []
            pagina = await navegador.new_page(viewport={"width": 1280, "height": 900})
            pagina.on("pageerror", lambda e: errores.append(str(e)))
            await pagina.goto(base + "/")
            await pagina.locator("#cifra-lnere").filter(has_text="5").wait_for()
            assert "3 en persona" in await pagina.locator("#detalle-lnere").inner_text()
            await pagina.locator("#sedes").wait_for(state="visible")
            filas = await pagina.locator("#tabla-sedes tbody tr").all_inner_texts()
            assert [f.split("\t") for f in filas] == [
                ["Chicago (US)", "0", "0", "—", "2"],
                ["Los Ángeles (US)", "2", "1", "50.00 %", "0"],
                ["Madrid (ES)", "1", "0", "0.00 %", "0"],
            ]
            await pagina.locator("#sedes").screenshot(path=str(CAPTURAS / "tablero-sedes.png"))
            await accesible(pagina, "tablero-2024")  # axe-core: no serious or critical violation
            assert errores == []
        finally:
            await navegador.close()
