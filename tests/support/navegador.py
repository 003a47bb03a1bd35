"""A real browser for the pages people use: Debian's headless Chromium driven by Playwright, axe-core run
inside each page (serious or critical violations fail the test), screenshots under ``var/capturas/``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("VMRE_CHROMIUM", "/usr/bin/chromium"))
CAPTURAS = Path(os.environ.get("VMRE_CAPTURAS", "var/capturas"))
TELEFONO = {"width": 390, "height": 844}
ESCRITORIO = {"width": 1280, "height": 900}


@pytest.fixture
async def navegador() -> AsyncIterator[Any]:
    """Chromium, as the booth test starts it (no download: Debian's package, `make test` installs it)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"falta Chromium en {CHROMIUM}: `make test` lo instala (make chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def pagina_nueva(
    navegador: Any, tamano: dict[str, int] = TELEFONO, idioma: str = "es-MX"
) -> tuple[Any, list[str]]:
    """A page (a browser set to ``idioma``) and the list where every console error and refused request
    (policy violations) lands."""
    pagina = await navegador.new_page(viewport=tamano, locale=idioma)
    problemas: list[str] = []

    def consola(m: Any) -> None:
        # A refused form answers 422 on purpose: the status of a document is not a problem; the policy's
        # refusals ("Refused to …") and script errors are.
        if m.type == "error" and not m.text.startswith("Failed to load resource"):
            problemas.append(m.text)

    def respuesta(r: Any) -> None:
        if r.status >= 400 and r.request.resource_type != "document" and not r.url.endswith("/favicon.ico"):
            problemas.append(f"{r.status} {r.url}")

    pagina.on("console", consola)
    pagina.on("pageerror", lambda e: problemas.append(str(e)))
    pagina.on("response", respuesta)
    return pagina, problemas


async def accesible(pagina: Any, nombre: str) -> None:
    """axe-core (axe-playwright-python's bundled copy) on the page as it is now: no serious or critical
    violation; and a screenshot of it under var/capturas/<nombre>.png."""
    from axe_playwright_python.async_playwright import Axe

    resultado = await Axe().run(pagina)
    graves = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in resultado.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    CAPTURAS.mkdir(parents=True, exist_ok=True)
    await pagina.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)
    assert graves == [], f"{nombre}: " + "\n".join(graves)


async def ingresar_a_la_cabina(
    pagina: Any, base: str, usuario: str, clave_acceso: str, password: str
) -> None:
    """A voter's first access in the booth (their access key, a new password, the authenticator app's key
    read from the page) and the login with the app's code: the page ends on «Sus boletas»."""
    import pyotp

    await pagina.goto(f"{base}/cabina")
    await pagina.get_by_text("Primer acceso").click()
    await pagina.get_by_label("Usuario", exact=True).nth(1).fill(usuario)
    await pagina.get_by_label("Clave de acceso").fill(clave_acceso)
    await pagina.get_by_label("Nueva contraseña").fill(password)
    await pagina.get_by_role("button", name="Guardar").click()
    secreto = await pagina.locator("#clave-totp").inner_text()
    await pagina.locator("#password").fill(password)
    await pagina.locator("#codigo").fill(pyotp.TOTP(secreto).now())
    await pagina.get_by_role("button", name="Ingresar").click()
