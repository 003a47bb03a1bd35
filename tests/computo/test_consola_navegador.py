"""The capture of a MEC acta in real Chromium, signed in through the local identity provider's own page (the
full redirect flow: console → provider → console), at a desk's 1280 px: the figures typed with the keyboard
alone, option after option in ballot order (Tab), Enter to save; then a second capture that differs and the
differences on the screen. axe-core on each screen; screenshots under var/capturas/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.computo.models import Acta
from shared.proceso import opciones
from shared.settings import KafkaSettings
from tests.support.computo import Computo, acta, app_de_prueba, mesa_asignada
from tests.support.comun import Databases, en_http
from tests.support.consola import Identidad
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.registro import PEL2021

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
CARGO = PEL2021.entidades["09"].cargos[0].clave
VOTOS = {"PAN": 5, "PRI": 2, "MORENA": 3, "PAN+PRI": 1, "nulos": 1}  # 12 sobres


@pytest.fixture
async def mesa(
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    identidad: Identidad,
) -> AsyncIterator[tuple[str, Computo]]:
    app, reloj = await app_de_prueba(databases, offline_kafka, consola=identidad.ajustes())
    async with en_http(app) as base:
        yield base, Computo(app, None, reloj, PEL2021, token)  # type: ignore[arg-type]


async def test_captura_de_un_acta_con_el_teclado(
    mesa: tuple[str, Computo],
    navegador: Any,  # noqa: F811
) -> None:
    base, c = mesa
    await c.entregar(mesa_asignada("09", 1, 12))
    pagina, problemas = await pagina_nueva(navegador, ESCRITORIO)
    await pagina.goto(base + "/consola/computo/mesas/09/1")
    # The provider's own page: pick the local operator.
    await pagina.get_by_role("button", name="operadora").click()
    await pagina.wait_for_url(base + "/consola/computo/mesas/09/1")
    assert "Operadora del INE (local)" in await pagina.locator("header").inner_text()

    # The keyboard alone: the first option, then each of the ballot's options in its order with Tab.
    await pagina.locator(f"#captura-{CARGO}-voto_PAN").focus()
    for opcion in opciones(PEL2021.entidades["09"]):
        assert await pagina.evaluate("document.activeElement.name") == f"voto_{opcion}"
        await pagina.keyboard.type(str(VOTOS.get(opcion, 0)))
        await pagina.keyboard.press("Tab")
    assert await pagina.evaluate("document.activeElement.name") == "total"
    await pagina.keyboard.type("12")
    await pagina.keyboard.press("Tab")
    assert await pagina.evaluate("document.activeElement.name") == "sobres_recibidos"
    await pagina.keyboard.type("12")
    await pagina.keyboard.press("Enter")
    await pagina.locator("#aviso").filter(has_text="Falta la segunda captura").wait_for()
    assert await pagina.locator(f"#estado-{CARGO}").inner_text() == "Una captura"
    async with c.app.state.runtime.maker() as s:
        guardada = await s.get(Acta, ("09", 1, CARGO))
    assert guardada is not None
    assert guardada.estado == "capturada"
    await accesible(pagina, "consola-acta-captura-escritorio")

    # A second capture that differs (another operator, through the API): the differences, field by field.
    otra = acta(total_por=VOTOS | {"PAN": 4, "PRD": 1})
    async with httpx.AsyncClient(base_url=base) as api:
        r = await api.post("/v1/mesas/09/1/actas", json=otra, headers=c.token("ine-operador", sub="op-2"))
    assert r.json()["estado"] == "revision"
    await pagina.reload()
    tabla = pagina.locator(f"#diferencias-{CARGO}")
    assert await tabla.locator("tbody tr").all_inner_texts() == [
        "Votos: PAN\t5\t4",
        "Votos: PRD\t0\t1",
    ]
    assert "revisión" in await pagina.locator(f"#estado-{CARGO}").inner_text()
    await accesible(pagina, "consola-acta-diferencias-escritorio")
    assert problemas == []
