"""The review desk in real Chromium at a desk's 1280 px, signed in through the local identity provider's own
page (the full redirect flow: console → provider → console): the queue, an expediente with its documents,
decisions with the keyboard alone (Tab and Enter; Alt+P and Alt+S are the accesskeys); axe-core on the
queue and on the expediente; screenshots under var/capturas/."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.registro.config import Settings
from services.registro.main import create_app
from services.registro.models import Historial
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Databases, en_http
from tests.support.consola import Identidad
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.registro import PEL2021, Registro, centro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
PDF = b"%PDF-1.4\n" + b"1 0 obj\n" * 20


def png(ancho: int = 8, alto: int = 5) -> bytes:
    """A real (grey) PNG: the expediente shows it with <img>."""

    def trozo(tipo: bytes, datos: bytes) -> bytes:
        return struct.pack(">I", len(datos)) + tipo + datos + struct.pack(">I", zlib.crc32(tipo + datos))

    filas = b"".join(b"\x00" + b"\x80" * ancho for _ in range(alto))
    cabecera = struct.pack(">IIBBBBB", ancho, alto, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + trozo(b"IHDR", cabecera)
        + trozo(b"IDAT", zlib.compress(filas))
        + trozo(b"IEND", b"")
    )


async def tabular_hasta(pagina: Any, ident: str, maximo: int = 25) -> int:
    """Tab from the top of the page until ``ident`` has the focus: how many stops it took."""
    await pagina.evaluate("document.activeElement && document.activeElement.blur()")
    for paso in range(1, maximo + 1):
        await pagina.keyboard.press("Tab")
        if await pagina.evaluate("document.activeElement.id") == ident:
            return paso
    raise AssertionError(f"{ident} no se alcanza con {maximo} tabulaciones")


@pytest.fixture
async def mesa(
    databases: Databases, offline_kafka: KafkaSettings, identidad: Identidad
) -> AsyncIterator[tuple[str, Registro]]:
    reloj = RelojManual(centro(2021, 1, 15, 10, 0))
    settings = Settings(
        database_url=await databases.new("registro"),
        kafka=offline_kafka,
        relay_enabled=False,
        consola=identidad.ajustes(),
    )
    app = create_app(settings, reloj=reloj, proceso=PEL2021)
    async with en_http(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield base, Registro(app, client, reloj, PEL2021)


async def test_revision_con_el_teclado_en_el_navegador(
    mesa: tuple[str, Registro],
    navegador: Any,  # noqa: F811
) -> None:
    base, registro = mesa
    folios = []
    for n in (1, 2, 3):
        r = await registro.client.post("/v1/solicitudes", json=solicitud(n))
        assert r.status_code == 201, r.text
        folios.append(r.json()["folio"])
    for tipo, contenido, nombre in (
        ("credencial_frente", png(), "frente.png"),
        ("credencial_reverso", png(6, 4), "reverso.png"),
        ("comprobante_domicilio", PDF, "recibo.pdf"),
    ):
        r = await registro.client.post(
            f"/v1/solicitudes/{folios[0]}/documentos",
            data={"tipo": tipo},
            files={"archivo": (nombre, contenido)},
        )
        assert r.status_code == 201, r.text

    pagina, problemas = await pagina_nueva(navegador, ESCRITORIO)
    await pagina.goto(base + "/consola/registro/cola")
    # The provider's own page: pick the local operator.
    await pagina.get_by_role("button", name="operadora").click()
    await pagina.wait_for_url(base + "/consola/registro/cola")
    assert "Operadora del INE (local)" in await pagina.locator("header").inner_text()
    assert "3 en esta página de 3" in await pagina.locator("#cuenta").inner_text()
    await accesible(pagina, "consola-cola-escritorio")

    # The first in the queue: its expediente, the documents beside the data.
    await pagina.get_by_role("link", name=folios[0]).click()
    await pagina.wait_for_url(base + f"/consola/registro/solicitudes/{folios[0]}")
    frente = pagina.get_by_role("img", name="Credencial para votar: frente")
    assert await frente.evaluate("i => i.complete && i.naturalWidth") == 8  # the bytes, served to the session
    assert await pagina.get_by_role("link", name="Comprobante de domicilio (PDF, 1 KB)").count() == 1
    assert "Alt+P" in await pagina.locator("#atajos").inner_text()
    await accesible(pagina, "consola-expediente-escritorio")

    # The keyboard alone (Playwright's synthetic keys do not reach Chromium's accesskeys, Alt+P and Alt+S, so
    # here with Tab): a few stops from the top of the page to «Procedente», Enter; the page confirms it.
    await tabular_hasta(pagina, "procedente")
    await pagina.keyboard.press("Enter")
    await pagina.locator("#hecho").filter(has_text="quedó procedente").wait_for()
    assert "Procedente" in await pagina.locator("#estado").inner_text()
    assert "operadora · ine-operador" in await pagina.locator("table.historial").inner_text()
    # Then «Siguiente en la cola» (the link with Alt+S), and the next one decided the same way.
    await tabular_hasta(pagina, "siguiente")
    await pagina.keyboard.press("Enter")
    await pagina.wait_for_url(base + f"/consola/registro/solicitudes/{folios[1]}")
    await tabular_hasta(pagina, "procedente")
    await pagina.keyboard.press("Enter")
    await pagina.locator("#hecho").wait_for()

    assert [(await registro.solicitud(f)).estado for f in folios] == ["procedente", "procedente", "recibida"]
    decisiones = await registro.rows(Historial, Historial.accion == "dictamen", order=Historial.id)
    assert [(h.folio, h.actor) for h in decisiones] == [(folios[0], "operadora"), (folios[1], "operadora")]
    assert problemas == []
