"""«My package» in a real browser (Chromium, through Playwright): a package sent, tracked by the carrier and
whose envelope arrived on time; another delivered and waiting for the envelope (the deadline in the
browser's own time zone, the countdown); another on its way too long (the delay warning); an unknown folio
with its error next to the field. axe-core on every page (no serious or critical violation), in Spanish and
English, on a phone and on a desktop; screenshots in var/capturas/mi-paquete*.png."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from shared.reloj import RelojSistema
from tests.postal.test_paginas import enviar, folio, reportar, sobre
from tests.support.comun import en_http
from tests.support.navegador import ESCRITORIO, TELEFONO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.postal import Postal, inscrito
from tests.support.registro import centro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]


async def _consultar(pagina: Any, base: str, numero_o_folio: int | str, espera: str) -> None:
    await pagina.goto(f"{base}/mi-paquete")
    await pagina.fill("#folio", folio(numero_o_folio) if isinstance(numero_o_folio, int) else numero_o_folio)
    await pagina.click("button[type=submit]")
    await pagina.wait_for_selector(f"text={espera}")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_mi_paquete_en_el_navegador(
    postal: Postal,
    navegador: Any,  # noqa: F811
    token: Callable[..., dict[str, str]],
) -> None:
    # 1 delivered and voted on time; 2 delivered, envelope still to come; 3 on its way for 15 days.
    await postal.entregar(*(inscrito(n) for n in (1, 2, 3)))
    await enviar(postal, token, 1, 2, 3)
    postal.reloj.ajustar(centro(2021, 4, 28, 9, 0))
    await reportar(
        postal,
        1,
        ("a1", "en_transito", centro(2021, 4, 22, 8, 30)),
        ("a2", "en_transito", centro(2021, 4, 24, 18, 0)),
        ("a3", "entregado", centro(2021, 4, 27, 12, 15)),
    )
    await reportar(postal, 2, ("b1", "en_transito", centro(2021, 4, 23, 7, 0)))
    await reportar(postal, 2, ("b2", "entregado", centro(2021, 4, 26, 16, 45)))
    postal.reloj.ajustar(centro(2021, 5, 5, 11, 0))
    assert (await sobre(postal, token, 1))["clasificacion"] == "en_tiempo"

    async with en_http(postal.app, lifespan="off") as base:
        pagina, problemas = await pagina_nueva(navegador)
        await pagina.goto(f"{base}/mi-paquete")
        await accesible(pagina, "mi-paquete")

        # An unknown folio: the error next to the field, the list of errors focused for a screen reader.
        await pagina.fill("#folio", "VMRE-00000-NOEXI-STEEE-09XXX")
        await pagina.click("button[type=submit]")
        error = pagina.locator("#folio-error")
        await error.wait_for()
        assert "No hay un paquete con ese folio" in await error.inner_text()
        assert await pagina.get_attribute("#folio", "aria-invalid") == "true"
        assert await pagina.evaluate("document.activeElement.id") == "errores"
        await accesible(pagina, "mi-paquete-error")

        # The envelope arrived on time: the timeline ends with it; nothing to count down.
        await _consultar(pagina, base, 1, "Su paquete fue entregado")
        texto = await pagina.inner_text("main")
        assert "a tiempo: su voto cuenta" in texto
        assert "G090000001" in texto
        pasos = await pagina.locator("ol.linea li").all_inner_texts()
        assert len(pasos) == 6, pasos
        assert pasos[-1].startswith("Su sobre llegó al INE, a tiempo")
        assert await pagina.locator("#cuenta").count() == 0
        for dato in ("María", "Main St", "Los Angeles", "p1@example.com"):
            assert dato not in texto
        await accesible(pagina, "mi-paquete-recibido")

        # Delivered, no envelope yet: the deadline in Centro time (the server's) and in the browser's own
        # (the script's), here Los Angeles; the figure left, counted on the platform's clock (a test's clock
        # is not the browser's: the script keeps the server's figure).
        cdp = await pagina.context.new_cdp_session(pagina)
        await cdp.send("Emulation.setTimezoneOverride", {"timezoneId": "America/Los_Angeles"})
        await _consultar(pagina, base, 2, "Su paquete fue entregado")
        texto = await pagina.inner_text("main")
        assert "5 de junio de 2021, 08:00 (hora del Centro de México)" in texto
        local = await pagina.inner_text("#cuenta-local")
        assert "5 de junio de 2021" in local, local
        assert "6:00" in local, local
        assert "Centro" not in local, local
        assert await pagina.inner_text("#cuenta") == "30 días, 21 h, 0 min"
        await accesible(pagina, "mi-paquete-plazo")

        # On its way for 15 days: the warning that it may arrive late.
        await _consultar(pagina, base, 3, "Su paquete salió hacia su domicilio")
        assert "Su paquete podría llegar tarde" in await pagina.inner_text("main")
        await accesible(pagina, "mi-paquete-retraso")

        # English and Spanish, phone and desktop: the form and a package.
        for tamano, idioma in ((ESCRITORIO, "en"), (TELEFONO, "en"), (ESCRITORIO, "es")):
            nombre = f"mi-paquete-{idioma}-{'escritorio' if tamano is ESCRITORIO else 'telefono'}"
            otra, problemas_otra = await pagina_nueva(navegador, tamano)
            await otra.goto(f"{base}/mi-paquete?lang={idioma}")
            await otra.wait_for_selector("text=My ballot package" if idioma == "en" else "text=Mi paquete")
            await accesible(otra, nombre)
            espera = "Your package was delivered" if idioma == "en" else "Su paquete fue entregado"
            await otra.fill("#folio", folio(1))
            await otra.click("button[type=submit]")
            await otra.wait_for_selector(f"text={espera}")
            await accesible(otra, f"{nombre}-recibido")
            assert problemas_otra == []

        # On the system's clock (as in production), the browser counts down on its own, in English.
        postal.app.state.reloj = RelojSistema()
        limite = dt.datetime.now(dt.UTC) + dt.timedelta(days=3, hours=2)
        calendario = postal.proceso.calendario.model_copy(update={"recepcion_spv_limite": limite})
        postal.app.state.proceso = postal.proceso.model_copy(update={"calendario": calendario})
        vivo, problemas_vivo = await pagina_nueva(navegador, ESCRITORIO)
        await vivo.goto(f"{base}/mi-paquete?lang=en")
        await vivo.fill("#folio", folio(2))
        await vivo.click("button[type=submit]")
        await vivo.wait_for_selector("text=Your package was delivered")
        cuenta = await vivo.get_attribute("#cuenta", "data-formato")
        assert cuenta == "{d} days, {h} h, {m} min"
        assert re.fullmatch(r"3 days, [12] h, \d{1,2} min", await vivo.inner_text("#cuenta"))
        await accesible(vivo, "mi-paquete-en-escritorio-cuenta")
        assert problemas == problemas_vivo == []  # no script error, nothing the policy refused
