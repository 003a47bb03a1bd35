"""The door of a consular site on election day (#27) in real Chromium, signed in through the local identity
provider as the site's staff (the ``sede`` claim): a voter ID on the site's list shows EN LA LISTA with the
name; one not on the LNERE gets an extra ballot, and the same clave again shows YA RECIBIÓ BOLETA; staff with
no site see why they cannot work here. axe-core on the screen; screenshots under var/capturas/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.registro.config import Settings
from services.registro.main import create_app
from services.registro.models import BoletaAdicional
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.registro.test_boletas_adicionales import JORNADA, clave, inscrita
from tests.support.comun import Databases, en_http
from tests.support.consola import Identidad, cabecera, csrf, ingresar
from tests.support.navegador import ESCRITORIO, accesible, navegador, pagina_nueva  # noqa: F401
from tests.support.registro import PEF2024, Registro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]


@pytest.fixture
async def sede(
    databases: Databases, offline_kafka: KafkaSettings, identidad: Identidad
) -> AsyncIterator[tuple[str, Registro]]:
    reloj = RelojManual(JORNADA)
    settings = Settings(
        database_url=await databases.new("registro"),
        kafka=offline_kafka,
        relay_enabled=False,
        consola=identidad.ajustes(),
    )
    app = create_app(settings, reloj=reloj, proceso=PEF2024)
    async with en_http(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield base, Registro(app, client, reloj, PEF2024)


async def escanear(pagina: Any, clave_elector: str) -> str:
    await pagina.locator("input#clave_elector").fill(clave_elector)
    await pagina.locator("input#clave_elector").press("Enter")
    await pagina.locator("#resultado").wait_for()
    return str(await pagina.locator("#resultado").inner_text())


async def test_la_entrada_de_la_sede_en_el_navegador(
    sede: tuple[str, Registro],
    navegador: Any,  # noqa: F811
) -> None:
    base, registro = sede
    en_lista = await inscrita(registro, 31, "presencial", "los-angeles", 12)

    pagina, problemas = await pagina_nueva(navegador, ESCRITORIO)
    await pagina.goto(base + "/consola/registro/sede")
    await pagina.get_by_role("button", name="sede-los-angeles").click()  # the provider's own page
    await pagina.wait_for_url(base + "/consola/registro/sede")
    assert "de 07:00 a 17:00, hora local" in await pagina.locator("#sede").inner_text()
    # The scan field has the focus: a barcode scanner types and presses Enter.
    assert await pagina.evaluate("document.activeElement.id") == "clave_elector"

    texto = await escanear(pagina, en_lista)
    assert "EN LA LISTA" in texto
    nombre = " ".join(solicitud(31)[k] for k in ("nombre", "apellido_paterno", "apellido_materno"))
    assert nombre in texto
    assert "número 12" in texto
    # Next, the staff open the voter's kiosk turn: the turns screen of electronico, filled in.
    enlace = await pagina.locator("#ir-turno").get_attribute("href")
    assert enlace is not None
    assert enlace.endswith("/consola/electronico/turnos?entidad=09&numero=12")
    await accesible(pagina, "consola-sede-en-lista")

    assert "NO ESTÁ EN LA LNERE" in await escanear(pagina, clave(40))
    await pagina.locator("select#entidad").select_option("16")
    await pagina.locator("#entregar").click()
    await pagina.locator("#hecho").wait_for()
    assert "la 1 de 1500" in await pagina.locator("#hecho").inner_text()
    assert "1 entregadas de 1500" in await pagina.locator("#estado").inner_text()
    [boleta] = await registro.rows(BoletaAdicional)
    assert (boleta.sede, boleta.entidad, boleta.folio) == ("los-angeles", "16", 1)
    assert boleta.entregada_por == "sede-los-angeles"
    # Its kiosk turn next: the turns screen with the entidad and the folio (the site's reserve credential).
    enlace = await pagina.locator("#ir-turno-adicional").get_attribute("href")
    assert enlace is not None
    assert enlace.endswith("/consola/electronico/turnos?entidad=16&adicional=1")
    await accesible(pagina, "consola-sede-boleta")

    assert "YA RECIBIÓ BOLETA" in await escanear(pagina, clave(40))
    # Back at the door (a lost turn): the same link, so the staff can open its turn again.
    enlace = await pagina.locator("#ir-turno-adicional").get_attribute("href")
    assert enlace is not None
    assert enlace.endswith("/consola/electronico/turnos?entidad=16&adicional=1")
    await pagina.locator("input#clave_elector").fill("NO-ES-CLAVE")
    await pagina.locator("input#clave_elector").press("Enter")
    await pagina.locator("#clave_elector-error").wait_for()
    assert problemas == []

    # INE staff with no site: the screen says why, and hands nothing.
    otra, _ = await pagina_nueva(navegador, ESCRITORIO)
    await otra.goto(base + "/consola/registro/sede")
    await otra.get_by_role("button", name="operadora").click()
    await otra.wait_for_url(base + "/consola/registro/sede")
    assert "no es del personal de una sede" in await otra.locator("#problema").inner_text()
    assert await otra.locator("input#clave_elector").count() == 0
    assert await registro.count(BoletaAdicional) == 1


async def test_sin_token_csrf_o_con_otro_rol_la_consola_de_la_sede_no_entrega_nada(
    sede: tuple[str, Registro],
) -> None:
    """Over HTTP, as an attacker would: a forged, missing or foreign CSRF token, or a signed-in role that is
    not the site's staff, hands no ballot."""
    _, registro = sede
    personal, _ = await ingresar(registro.client, "registro", "sede-los-angeles")
    otra, _ = await ingresar(registro.client, "registro", "operadora")
    ajeno = csrf((await registro.client.get("/consola/registro/sede", headers=cabecera(otra))).text)
    datos = {"clave_elector": clave(50), "entidad": "09"}
    for token in ({"csrf": "falso"}, {}, {"csrf": ajeno}):
        r = await registro.client.post(
            "/consola/registro/sede/boleta", data={**token, **datos}, headers=cabecera(personal)
        )
        assert r.status_code == 403, (token, r.text[:300])
    # Staff with no site, with their own valid token: the site's rules refuse it.
    r = await registro.client.post(
        "/consola/registro/sede/boleta", data={"csrf": ajeno, **datos}, headers=cabecera(otra)
    )
    assert r.status_code == 403
    auditora, _ = await ingresar(registro.client, "registro", "auditora")
    r = await registro.client.get("/consola/registro/sede", headers=cabecera(auditora))
    assert r.status_code == 403
    assert await registro.count(BoletaAdicional) == 0
    # The site's own staff with the session's token: handed.
    propio = csrf((await registro.client.get("/consola/registro/sede", headers=cabecera(personal))).text)
    r = await registro.client.post(
        "/consola/registro/sede/boleta", data={"csrf": propio, **datos}, headers=cabecera(personal)
    )
    assert r.status_code == 200, r.text
    assert await registro.count(BoletaAdicional) == 1
    r = await registro.client.post(
        "/consola/registro/sede/boleta",
        data={"csrf": propio, "clave_elector": clave(51)},
        headers=cabecera(personal),
    )
    assert r.status_code == 422
    assert "Elija la entidad" in r.text
    assert await registro.count(BoletaAdicional) == 1
