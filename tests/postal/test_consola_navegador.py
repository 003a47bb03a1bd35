"""The reception desk in real Chromium, signed in through the local identity provider's own page (the full
redirect flow: console → provider → console), at a desk's 1280 px and on a tablet; a scanner types the clave
and Enter; axe-core on the screen; screenshots under var/capturas/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.settings import KafkaSettings
from tests.factories import clave
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
