"""postal's page «my package» over HTTP, as a browser without JavaScript sends it (a form post): where the
package is (the carrier's reports as a timeline), whether the return envelope arrived and counts (or came
late), the deadline and the delay warning; and an attacker's view: any unknown folio gets the same page,
nothing personal shows, a folio in the query string is ignored, the page headers. The same page in Chromium:
tests/postal/test_paginas_navegador.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from services.postal.models import Bitacora
from shared.paginas import CABECERAS
from tests.factories import clave
from tests.support.postal import Postal, inscrito
from tests.support.registro import centro

Token = Callable[..., dict[str, str]]


def folio(n: int, entidad: str = "09") -> str:
    return f"VMRE-{n:05d}-AAAAA-BBBBB-{entidad}CCC"  # as tests.support.postal.inscrito makes it


def guia(n: int) -> str:
    return f"G09{n:07d}"


def errores(html: str) -> dict[str, str]:
    """Each error the page shows next to a field: {field id: message}."""
    return dict(re.findall(r'<p class="error" id="([^"]+)-error">([^<]+)</p>', html))


def linea(html: str) -> list[tuple[str, str]]:
    """The timeline: (what, when) of each step, in order."""
    return re.findall(r'<li><strong>([^<]+)</strong><br><time datetime="[^"]+">([^<]+)</time></li>', html)


async def enviar(postal: Postal, token: Token, *numeros: int) -> None:
    r = await postal.client.post(
        "/v1/envios",
        headers=token("ine-operador"),
        json={
            "transportista": "mensajeria",
            "paquetes": [{"entidad": "09", "numero": n, "guia": guia(n)} for n in numeros],
        },
    )
    assert r.status_code == 200, r.text


async def reportar(postal: Postal, n: int, *eventos: tuple[str, str, dt.datetime]) -> None:
    """The carrier's reports about package ``n``: (id, state, when)."""
    r = await postal.webhook(
        {
            "eventos": [
                {
                    "evento_id": i,
                    "guia": guia(n),
                    "estado": estado,
                    "ocurrido_at": cuando.isoformat(),
                    "detalle": "Firmó: M. Núñez",  # free text of the carrier: never on the page
                }
                for i, estado, cuando in eventos
            ]
        }
    )
    assert r.status_code == 200, r.text


async def sobre(postal: Postal, token: Token, n: int) -> dict[str, Any]:
    r = await postal.client.post(
        "/v1/sobres", json={"clave_elector": clave(n)}, headers=token("ine-operador")
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_el_recorrido_el_sobre_a_tiempo_y_nada_personal(postal: Postal, token: Token) -> None:
    c = postal.client
    await postal.entregar(inscrito(1))
    r = await c.post("/mi-paquete", data={"folio": folio(1)})
    assert r.status_code == 200, r.text
    assert "Su paquete está listo para enviarse" in r.text
    assert linea(r.text) == [("El INE preparó su paquete", "20 de abril de 2021, 10:00")]

    await enviar(postal, token, 1)
    postal.reloj.ajustar(centro(2021, 4, 28, 9, 0))
    await reportar(
        postal,
        1,
        ("e1", "en_transito", centro(2021, 4, 22, 8, 30)),
        ("e3", "entregado", centro(2021, 4, 27, 12, 15)),
        ("e2", "en_transito", centro(2021, 4, 24, 18, 0)),  # late, repeats its state: still a step
    )
    r = await c.post("/mi-paquete", data={"folio": f"  {folio(1)} "})
    assert r.status_code == 200, r.text
    assert "Su paquete fue entregado" in r.text
    assert "mensajeria" in r.text
    assert guia(1) in r.text
    assert linea(r.text) == [
        ("El INE preparó su paquete", "20 de abril de 2021, 10:00"),
        ("Entregado a la mensajería", "20 de abril de 2021, 10:00"),
        ("En camino", "22 de abril de 2021, 08:30"),
        ("En camino", "24 de abril de 2021, 18:00"),
        ("Entregado en su domicilio", "27 de abril de 2021, 12:15"),
    ]
    # The deadline (Centro) and what is left of it, counted on the server from the platform's clock.
    assert "5 de junio de 2021, 08:00" in r.text
    assert "Aún no recibimos el sobre con su voto." in r.text
    assert ">37 días, 23 h, 0 min<" in r.text
    assert 'data-hasta="2021-06-05T13:00:00+00:00"' in r.text
    assert "podría llegar tarde" not in r.text

    # Nothing personal: no name, no address, no clave de elector, no contact, not the carrier's free text.
    for dato in ("María", "Núñez", "Main St", "Los Angeles", "90015", clave(1), "p1@example.com", "+1310"):
        assert dato not in r.text, dato
    # Nor the folio: the person typed it, the page does not need to repeat it.
    assert folio(1) not in r.text

    postal.reloj.ajustar(centro(2021, 5, 20, 10, 0))
    assert (await sobre(postal, token, 1))["clasificacion"] == "en_tiempo"
    r = await c.post("/mi-paquete", data={"folio": folio(1)})
    assert "Recibimos su sobre el 20 de mayo de 2021, 10:00 (hora del Centro de México), a tiempo" in r.text
    assert linea(r.text)[-1] == ("Su sobre llegó al INE, a tiempo", "20 de mayo de 2021, 10:00")
    assert 'id="cuenta"' not in r.text  # nothing left to count down

    # A read: the page leaves no audit record (the API's writes above do).
    antes = await postal.count(Bitacora)
    await c.post("/mi-paquete", data={"folio": folio(1)})
    assert await postal.count(Bitacora) == antes


async def test_extemporaneo_y_vencido(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(2), inscrito(3))
    await enviar(postal, token, 2, 3)
    postal.reloj.ajustar(centro(2021, 6, 5, 9, 30))  # after the deadline (08:00)
    assert (await sobre(postal, token, 2))["clasificacion"] == "extemporaneo"
    r = await postal.client.post("/mi-paquete", data={"folio": folio(2)})
    assert r.status_code == 200
    assert "es extemporáneo y, por ley, no se cuenta" in r.text
    assert "5 de junio de 2021, 09:30" in r.text
    assert linea(r.text)[-1] == ("Su sobre llegó al INE, después del límite", "5 de junio de 2021, 09:30")
    # No envelope and the deadline passed: it says so, no countdown and no delay warning.
    r = await postal.client.post("/mi-paquete", data={"folio": folio(3)})
    assert "El plazo terminó el 5 de junio de 2021, 08:00" in r.text
    assert 'id="cuenta"' not in r.text
    assert "podría llegar tarde" not in r.text
    en = await postal.client.post("/mi-paquete?lang=en", data={"folio": folio(2)})
    assert "it is late and, by law, it is not counted" in en.text
    assert "June 5, 2021" in en.text


async def test_aviso_de_que_puede_llegar_tarde(postal: Postal, token: Token) -> None:
    """The page warns as postal does (POST /v1/avisos/retraso): on its way 14 days or more."""
    await postal.entregar(inscrito(4))
    await enviar(postal, token, 4)
    postal.reloj.avanzar(dt.timedelta(days=13, hours=23))
    r = await postal.client.post("/mi-paquete", data={"folio": folio(4)})
    assert "Su paquete salió hacia su domicilio" in r.text
    assert "podría llegar tarde" not in r.text
    postal.reloj.avanzar(dt.timedelta(hours=1))
    r = await postal.client.post("/mi-paquete", data={"folio": folio(4)})
    assert "Su paquete podría llegar tarde" in r.text
    assert "lleva 14 días o más en camino" in r.text
    # Delivered: no more warning.
    await reportar(postal, 4, ("d4", "entregado", postal.reloj.ahora()))
    r = await postal.client.post("/mi-paquete", data={"folio": folio(4)})
    assert "podría llegar tarde" not in r.text


async def test_reenviado_muestra_solo_el_envio_vigente(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(5))
    await enviar(postal, token, 5)
    postal.reloj.avanzar(dt.timedelta(days=2))
    await reportar(postal, 5, ("n5", "no_entregado", postal.reloj.ahora()))
    r = await postal.client.post("/mi-paquete", data={"folio": folio(5)})
    assert "No se pudo entregar su paquete" in r.text
    assert "INETEL" in r.text
    postal.reloj.avanzar(dt.timedelta(days=1))
    r = await postal.client.post(
        "/v1/paquetes/09/5/reenvio",
        headers=token("ine-operador"),
        json={"transportista": "mensajeria", "guia": "NUEVA0005", "domicilio": {"ciudad": "San Diego"}},
    )
    assert r.status_code == 200, r.text
    r = await postal.client.post("/mi-paquete", data={"folio": folio(5)})
    assert "Enviado de nuevo" in r.text
    assert "NUEVA0005" in r.text
    assert guia(5) not in r.text
    assert "San Diego" not in r.text
    assert [que for que, _ in linea(r.text)] == [
        "El INE preparó su paquete",
        "Enviado de nuevo a la mensajería",
    ]


async def test_folio_desconocido_la_misma_pagina(postal: Postal) -> None:
    """An attacker learns nothing from trying folios: every unknown one gets the same answer."""
    c = postal.client
    await postal.entregar(inscrito(6))
    casi = folio(6)[:-1] + "X"
    respuestas = [
        await c.post("/mi-paquete", data={"folio": f})
        for f in ("VMRE-NOEXISTE", casi, folio(6).lower(), "' OR 1=1 --", "<script>alert(1)</script>")
    ]
    assert {r.status_code for r in respuestas} == {404}
    mensaje = "No hay un paquete con ese folio. Revise que esté completo, tal como le llegó."
    assert all(errores(r.text) == {"folio": mensaje} for r in respuestas)
    # Only what was typed differs (back in the field, escaped).
    assert "<script>alert" not in respuestas[-1].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in respuestas[-1].text
    sin_lo_escrito = {
        re.sub(r'id="folio" name="folio" type="text" value="[^"]*"', "", r.text) for r in respuestas
    }
    assert len(sin_lo_escrito) == 1
    # Empty, missing, too long: an error next to the field, no lookup beyond 32 characters.
    assert errores((await c.post("/mi-paquete", data={"folio": "  "})).text) == {
        "folio": "Este dato es obligatorio."
    }
    assert (await c.post("/mi-paquete", data={})).status_code == 422
    r = await c.post("/mi-paquete", data={"folio": folio(6) + "x" * 100})
    assert r.status_code == 404
    # The NUL character (PostgreSQL cannot compare it): the pages drop it from every field
    # (shared/paginas.leer_campos), so the answer is the one for the folio without it, on both databases.
    r = await c.post("/mi-paquete", data={"folio": "VMRE\x00X"})
    assert r.status_code == 404
    assert errores(r.text) == {"folio": mensaje}
    r = await c.post("/mi-paquete", data={"folio": folio(6)[:5] + "\x00" + folio(6)[5:]})
    assert r.status_code == 200
    # A JSON body is not a form: nothing read from it.
    r = await c.post("/mi-paquete", json={"folio": folio(6)})
    assert r.status_code == 422


async def test_el_folio_en_la_consulta_se_ignora(postal: Postal) -> None:
    c = postal.client
    await postal.entregar(inscrito(7))
    r = await c.get("/mi-paquete", params={"folio": folio(7)})
    assert r.status_code == 200
    assert folio(7) not in r.text
    assert "listo para enviarse" not in r.text
    assert 'method="post" action="/mi-paquete"' in r.text
    r = await c.post("/mi-paquete", params={"folio": folio(7)}, data={})
    assert r.status_code == 422
    assert "listo para enviarse" not in r.text
    # The form's folio is the one used, whatever the query says.
    r = await c.post("/mi-paquete", params={"folio": "VMRE-NOEXISTE"}, data={"folio": folio(7)})
    assert r.status_code == 200
    assert "Su paquete está listo para enviarse" in r.text


async def test_cabeceras_e_idioma(postal: Postal) -> None:
    c = postal.client
    await postal.entregar(inscrito(8))
    for r in (
        await c.get("/mi-paquete"),
        await c.post("/mi-paquete", data={"folio": folio(8)}),
        await c.post("/mi-paquete", data={"folio": "VMRE-NOEXISTE"}),
    ):
        assert {k.lower(): v for k, v in CABECERAS.items()}.items() <= dict(r.headers.items()).items()
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-type"].startswith("text/html")
        recursos = re.findall(r'(?:<script[^>]* src|<link[^>]* href)="([^"]+)"', r.text)
        assert recursos == ["/comun/vmre.css", "/comun/vmre.js"]
        # Nothing inline: the policy refuses it.
        assert "<script>" not in r.text
        assert " style=" not in r.text
    assert (await c.get("/comun/vmre.js")).status_code == 200
    assert (await c.get("/comun/vmre.css")).status_code == 200
    en = await c.get("/mi-paquete", params={"lang": "en"})
    assert '<html lang="en">' in en.text
    assert "My ballot package" in en.text
    assert "vmre_idioma=en" in en.headers["set-cookie"]
    r = await c.post("/mi-paquete", data={"folio": folio(8)})  # the cookie keeps English
    assert "Your package is ready to be sent" in r.text
    assert "INE prepared your package" in r.text
    c.cookies.clear()
    r = await c.post("/mi-paquete", data={"folio": folio(8)}, headers={"Accept-Language": "en-US"})
    assert r.headers["content-language"] == "en"
    assert "April 20, 2021" in r.text
    # The page is outside the OpenAPI, as registro's.
    assert not any(p.startswith("/mi-paquete") for p in (await c.get("/openapi.json")).json()["paths"])
