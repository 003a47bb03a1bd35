"""The process overview in real Chromium at a desk's 1280 px, signed in through the local identity provider's
own page (console → provider → console); electronico live with its elections, the other services where
nothing listens; axe-core on the page; a screenshot under var/capturas/. The closing report («informe final»)
too, fed with the events of tests/tablero/test_informe.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from services.electronico import service as electronico_service
from shared.hijos import free_port
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases, en_http
from tests.support.consola import Identidad
from tests.support.electronico import app_de_prueba as electronico_de_prueba
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.registro import PEL2021, centro
from tests.support.tablero import app_de_prueba, deliver
from tests.tablero.test_informe import T, _eventos

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
PROCESO = "/consola/tablero/proceso"
INFORME = "/consola/tablero/informe"


@pytest.fixture
async def overview(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon, identidad: Identidad
) -> AsyncIterator[tuple[str, FastAPI]]:
    electronico, _ = await electronico_de_prueba(databases, offline_kafka, buzon)
    async with en_http(electronico) as base_electronico:
        async with electronico.state.runtime.maker() as s, s.begin():
            await electronico_service.asegurar_elecciones(s, PEL2021, electronico.state.settings, "09")
        puerto = free_port()
        internos = {
            s: f"http://127.0.0.1:{free_port()}" for s in ("registro", "postal", "computo", "credenciales")
        }
        internos |= {"electronico": base_electronico, "tablero": f"http://127.0.0.1:{puerto}"}
        app = await app_de_prueba(
            databases,
            offline_kafka,
            reloj=RelojManual(centro(2021, 5, 25, 10, 0)),
            consola=identidad.ajustes(),
            servicios_internos=",".join(f"{s}={u}" for s, u in internos.items()),
        )
        async with en_http(app, puerto=puerto) as base:
            yield base, app


async def test_panorama_del_proceso_en_el_navegador(
    overview: tuple[str, FastAPI],
    navegador: Any,  # noqa: F811
) -> None:
    base, _ = overview
    pagina, problemas = await pagina_nueva(navegador, ESCRITORIO)
    await pagina.goto(base + PROCESO)
    # The provider's own page: pick the local administrator.
    await pagina.get_by_role("button", name="administradora").click()
    await pagina.wait_for_url(base + PROCESO)
    assert "Administradora del INE (local)" in await pagina.locator("header").inner_text()
    assert await pagina.get_by_role("heading", level=1).inner_text() == "Panorama del proceso"
    # Internet voting is open on 25 May 2021: its start is the current stage, the seal of the box next.
    actual = pagina.locator('tr[aria-current="step"]')
    assert await actual.count() == 1
    assert await actual.get_attribute("data-hito") == "voto_electronico_inicio"
    assert "Siguiente: Límite de recepción de sobres (SPV)" in await pagina.locator("#siguiente").inner_text()
    eleccion = pagina.locator("tr[data-eleccion]")
    assert await eleccion.count() == 1
    texto = await eleccion.inner_text()
    assert "en preparación (ceremonia de claves)" in texto
    assert "computo: no responde" in texto
    assert "no responde" in await pagina.locator('tr[data-servicio="registro"]').inner_text()
    assert "ok" in await pagina.locator('tr[data-servicio="tablero"] td.base-datos').inner_text()
    await accesible(pagina, "consola-panorama-escritorio")
    assert problemas == []


@pytest.fixture
async def con_informe(
    databases: Databases, offline_kafka: KafkaSettings, identidad: Identidad
) -> AsyncIterator[str]:
    app = await app_de_prueba(databases, offline_kafka, reloj=RelojManual(T), consola=identidad.ajustes())
    async with en_http(app) as base:
        for evento in _eventos():
            assert await deliver(app, evento)
        yield base


async def test_informe_final_en_el_navegador(
    con_informe: str,
    navegador: Any,  # noqa: F811
) -> None:
    base = con_informe
    pagina, problemas = await pagina_nueva(navegador, ESCRITORIO)
    await pagina.goto(base + INFORME)
    await pagina.get_by_role("button", name="administradora").click()
    await pagina.wait_for_url(base + INFORME)
    assert await pagina.get_by_role("heading", level=1).inner_text() == "Informe final del proceso"
    # 09's row: the acta's figures, visible.
    fila = pagina.locator('tr[data-entidad="09"]')
    await fila.get_by_text("75.00 %").wait_for(state="visible")
    assert "acta de cómputo" in await fila.inner_text()
    assert await pagina.locator("#participacion-total").inner_text() == "75.00 %"
    await accesible(pagina, "consola-informe")
    # With the keyboard: the scope form leads to 09's report, whose PDF link keeps the scope.
    await pagina.get_by_label("Entidad", exact=True).select_option("09")
    await pagina.get_by_role("button", name="Ver informe").focus()
    await pagina.keyboard.press("Enter")
    await pagina.wait_for_url(base + INFORME + "?entidad=09")
    assert await pagina.locator("tr[data-entidad]").count() == 1
    assert await pagina.locator("#enlace-pdf").get_attribute("href") == INFORME + ".pdf?entidad=09"
    assert problemas == []
