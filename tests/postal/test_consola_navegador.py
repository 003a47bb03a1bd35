"""The reception desk in real Chromium, signed in through the local identity provider's own page (the full
redirect flow: console → provider → console), at a desk's 1280 px and on a tablet; a scanner types the clave
and Enter; axe-core on the screen; screenshots under var/capturas/. And the late envelopes' screen: the
administrator records, from the keyboard, the act destroying them."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from shared.settings import KafkaSettings
from tests.factories import clave
from tests.postal.test_extemporaneos import _tardios
from tests.support.comun import Buzon, Databases, en_http
from tests.support.consola import Identidad
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.postal import Postal, app_con_consola, inscrito
from tests.support.registro import PEL2021

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
TABLETA = {"width": 820, "height": 1180}


@pytest.fixture
async def desk(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon, identidad: Identidad
) -> AsyncIterator[tuple[str, Postal]]:
    app, reloj, settings = await app_con_consola(databases, offline_kafka, buzon, identidad.ajustes())
    async with en_http(app) as base:
        yield base, Postal(app, None, reloj, PEL2021, buzon, settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("tamano", [ESCRITORIO, TABLETA], ids=["escritorio", "tableta"])
async def test_recepcion_de_sobres_en_el_navegador(
    desk: tuple[str, Postal],
    navegador: Any,  # noqa: F811
    tamano: dict[str, int],
) -> None:
    base, postal = desk
    await postal.entregar(inscrito(1))
    pagina, problemas = await pagina_nueva(navegador, tamano)
    await pagina.goto(base + "/consola/postal/sobres")
    # The provider's own page: pick the local operator.
    await pagina.get_by_role("button", name="operadora").click()
    await pagina.wait_for_url(base + "/consola/postal/sobres")
    assert "Operadora del INE (local)" in await pagina.locator("header").inner_text()
    campo = pagina.locator("#clave_elector")
    assert await pagina.evaluate("document.activeElement.id") == "clave_elector"
    # A barcode scanner: the characters, then Enter.
    await pagina.keyboard.type(clave(1))
    await pagina.keyboard.press("Enter")
    await pagina.locator("#resultado").filter(has_text="EN TIEMPO").wait_for()
    assert await pagina.evaluate("document.activeElement.id") == "clave_elector"
    assert await pagina.locator("#conteo-en_tiempo strong").inner_text() == "1"
    await campo.fill(clave(1))
    await pagina.keyboard.press("Enter")
    await pagina.locator("#resultado").filter(has_text="DUPLICADO").wait_for()
    assert await pagina.locator("#conteo-duplicado strong").inner_text() == "1"
    assert await pagina.locator("#conteo-en_tiempo strong").inner_text() == "1"
    await accesible(pagina, f"consola-sobres-{'escritorio' if tamano == ESCRITORIO else 'tableta'}")
    # Signing out ends the session: the desk asks to sign in again.
    await pagina.get_by_role("button", name="Salir").click()
    await pagina.goto(base + "/consola/postal/sobres")
    assert "/oauth2/authorize" in pagina.url
    assert problemas == []


async def test_acta_de_destruccion_de_extemporaneos_en_el_navegador(
    desk: tuple[str, Postal],
    navegador: Any,  # noqa: F811
    token: Callable[..., dict[str, str]],
) -> None:
    base, postal = desk
    async with httpx.AsyncClient(base_url=base) as cliente:
        await _tardios(dataclasses.replace(postal, client=cliente), token)  # 09: two late envelopes
    pagina, problemas = await pagina_nueva(navegador, ESCRITORIO)
    pantalla = base + "/consola/postal/extemporaneos?entidad=09"
    await pagina.goto(pantalla)
    await pagina.get_by_role("button", name="administradora").click()
    await pagina.wait_for_url(pantalla)
    assert await pagina.locator("#pendientes strong").inner_text() == "2"
    assert await pagina.locator("#remitentes tbody tr").count() == 2
    assert "María Núñez Peña" in await pagina.locator("#remitentes").inner_text()
    # The form from the keyboard: the place, then Tab from field to field through two attendees.
    await pagina.get_by_label("Lugar").focus()
    await pagina.keyboard.type("Local Único, Ciudad de México")
    for texto in ("Ana Torres Vega", "Vocal Ejecutiva del INE", "Juan Pérez Gómez", "Representante del PAN"):
        await pagina.keyboard.press("Tab")
        await pagina.keyboard.type(texto)
    assert await pagina.evaluate("document.activeElement.id") == "cargo_2"
    await pagina.keyboard.press("Enter")
    await pagina.locator("#aviso").filter(has_text="registrada: 2 sobres destruidos").wait_for()
    assert await pagina.locator("#pendientes strong").inner_text() == "0"
    enlace = pagina.locator("#tabla-actas a[id^=pdf-]")
    assert await enlace.count() == 1
    assert "(PDF)" in await enlace.inner_text()
    r = await pagina.request.get(base + str(await enlace.get_attribute("href")))
    assert r.status == 200
    assert (await r.body()).startswith(b"%PDF")
    await accesible(pagina, "consola-extemporaneos-escritorio")
    assert problemas == []
