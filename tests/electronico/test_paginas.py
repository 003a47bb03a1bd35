"""«Verificar mi voto» over HTTP, as a browser without JavaScript sends it (a form post), on SQLite and
PostgreSQL: a receipt cast in the booth is found on the public bulletin board with its election and time, and
the way to verify the public record; one that is not there says so and what to do; a malformed one is refused
next to the field. The attacker's view: a tracker in the URL is ignored, a huge input is cut or refused, a
tracker of another election (a drill) shows that election, marked SIMULACRO, and nothing tells who voted.
The booth explains the receipt before casting and links here. The same in Chromium:
tests/electronico/test_verificar_navegador.py."""

from __future__ import annotations

import re

from services.electronico.models import Bitacora, Boleta
from shared.cripto import grupo as gr
from shared.paginas import CABECERAS
from tests.support.electronico import PASSWORD, Cuenta, Electronico
from tests.support.registro import centro

NO_ESTA = "Este acuse no está en el tablón público de ninguna elección."
ENCONTRADO = "Su boleta está en el tablón público"


def errores(html: str) -> dict[str, str]:
    """Each error the page shows next to a field: {field id: message}."""
    return dict(re.findall(r'<p class="error" id="([^"]+)-error">([^<]+)</p>', html))


def valor(html: str) -> str:
    """What the form's field holds."""
    hallado = re.search(r'id="rastreador" name="rastreador" type="text" value="([^"]*)"', html)
    assert hallado, html
    return hallado.group(1)


def _cuenta(e: Electronico, entidad: str = "09", i: int = 0) -> Cuenta:
    return sorted((c for u, c in e.cuentas.items() if u.startswith(f"V{entidad}")), key=lambda c: c.usuario)[
        i
    ]


async def _votar(e: Electronico, uuid: str, cuenta: Cuenta, opcion: str = "MORENA") -> str:
    if cuenta.sesion is None:
        await e.primer_acceso_e_ingreso(cuenta)
    r = await e.votar(uuid, cuenta, await e.boleta(uuid, cuenta, opcion))
    assert r.status_code == 201, r.text
    rastreador: str = r.json()["rastreador"]
    return rastreador


def _otro_rastreador(*vistos: str) -> str:
    """A well-formed tracker that no ballot has."""
    n = 0
    while (r := gr.sha256_b64(f"ninguna boleta {n}")) in vistos:
        n += 1
    return r


async def test_encontrado_con_su_eleccion_hora_y_como_verificarlo(abierta: tuple[Electronico, str]) -> None:
    e, uuid = abierta
    c = e.client
    cuenta = _cuenta(e)
    rastreador = await _votar(e, uuid, cuenta)
    nombre = (await c.get(f"/v1/elecciones/{uuid}")).json()["nombre"]

    r = await c.get("/verificar")
    assert r.status_code == 200
    assert 'action="/verificar"' in r.text
    assert 'method="post"' in r.text
    assert valor(r.text) == ""

    r = await c.post("/verificar", data={"rastreador": rastreador})
    assert r.status_code == 200, errores(r.text)
    assert ENCONTRADO in r.text
    assert f'<code id="acuse">{rastreador}</code>' in r.text
    assert nombre in r.text
    assert "SIMULACRO" not in r.text
    # When: the bulletin board's time, in Centro time (the fixture's clock: 25 May 2021, 10:00 Centro).
    assert "25 de mayo de 2021, 10:00:00 (hora del Centro de México)" in r.text
    # The same position the public bulletin board gives.
    tablon = (await c.get(f"/v1/elecciones/{uuid}/tablon", params={"rastreador": rastreador})).json()
    posicion = tablon["boletas"][0]["posicion"]
    assert re.search(rf"Posición en el tablón</dt><dd>{posicion}</dd>", r.text)
    assert "Abierta: recibe votos" in r.text
    # The public record to download, and the commands to verify it.
    assert f'href="/v1/elecciones/{uuid}/archivo.bel"' in r.text
    assert f"vmre verificar --un-voto {uuid}.bel" in r.text
    assert "belenios-tool election verify --dir ." in r.text
    archivo = await c.get(f"/v1/elecciones/{uuid}/archivo.bel")
    assert archivo.status_code == 200
    async with e.app.state.runtime.maker() as s:
        boleta = await s.get(Boleta, posicion)
    assert boleta is not None
    assert boleta.texto.encode() in archivo.content  # the receipt is the hash of the ballot in the record
    assert gr.sha256_b64(boleta.texto) == rastreador

    # Nothing that tells who voted: not the account, the contact, the credential, nor the ballot.
    for secreto in (
        cuenta.usuario,
        "@example.com",
        *cuenta.credenciales.values(),
        PASSWORD,
        boleta.texto[:40],
    ):
        assert secreto not in r.text

    # A receipt copied across lines (or with spaces around) is the same receipt.
    partido = f"  {rastreador[:20]}\n{rastreador[20:]}\t"
    r = await c.post("/verificar", data={"rastreador": partido})
    assert r.status_code == 200
    assert ENCONTRADO in r.text

    # One that is not there: the error next to the field, what it means and what to do.
    otro = _otro_rastreador(rastreador)
    r = await c.post("/verificar", data={"rastreador": otro})
    assert r.status_code == 404
    assert errores(r.text) == {"rastreador": NO_ESTA}
    assert 'aria-invalid="true"' in r.text
    assert valor(r.text) == otro
    assert "Qué significa" in r.text
    assert "Qué hacer" in r.text
    assert "repórtelo al INE" in r.text
    # Case matters: the same receipt with one letter's case changed is another one.
    cambiado = rastreador.swapcase()
    r = await c.post("/verificar", data={"rastreador": cambiado})
    assert r.status_code == 404

    # After the close at 18:00 Centro: the box is sealed, its seal shown, the record to download is final.
    e.reloj.ajustar(centro(2021, 6, 6, 18, 0))
    cierre = await c.post(f"/v1/elecciones/{uuid}/cierre", headers=e.token("ine-admin"))
    assert cierre.status_code == 200, cierre.text
    sello = (await c.get(f"/v1/elecciones/{uuid}")).json()["sello"]
    r = await c.post("/verificar", data={"rastreador": rastreador})
    assert r.status_code == 200
    assert "Sellada: la votación terminó" in r.text
    assert f"<code>{sello}</code>" in r.text
    assert "crece con cada voto" not in r.text


async def test_entrada_mala_enorme_o_en_la_url(abierta: tuple[Electronico, str]) -> None:
    e, uuid = abierta
    c = e.client
    rastreador = await _votar(e, uuid, _cuenta(e))
    bitacora = await e.count(Bitacora)

    r = await c.post("/verificar", data={})
    assert r.status_code == 422
    assert errores(r.text) == {"rastreador": "Este dato es obligatorio."}
    r = await c.post("/verificar", data={"rastreador": "   \n "})
    assert r.status_code == 422
    assert errores(r.text) == {"rastreador": "Este dato es obligatorio."}

    mal = "Esto no es un acuse: un acuse tiene 43 letras"
    for entrada in ("hola", rastreador[:-1], rastreador + "A", rastreador[:-1] + "-", rastreador[:-1] + "="):
        r = await c.post("/verificar", data={"rastreador": entrada})
        assert r.status_code == 422, entrada
        assert errores(r.text)["rastreador"].startswith(mal)
        assert ENCONTRADO not in r.text

    # Markup comes back escaped, never as markup.
    r = await c.post("/verificar", data={"rastreador": '"><script>alert(1)</script>'})
    assert r.status_code == 422
    assert "<script>alert" not in r.text
    assert valor(r.text) == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"

    # A huge field within the body limit: refused, and at most 64 characters of it go back into the form.
    r = await c.post("/verificar", data={"rastreador": "A" * 3000})
    assert r.status_code == 422
    assert valor(r.text) == "A" * 64
    assert "A" * 65 not in r.text
    # A body beyond the form's limit is refused before it is read.
    r = await c.post(
        "/verificar",
        content=b"rastreador=" + b"A" * 100,
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": str(1024 * 1024)},
    )
    assert r.status_code == 413
    r = await c.post("/verificar", data={"rastreador": "A" * 20_000})
    assert r.status_code == 413
    # Many fields: refused by the form parser, not read whole.
    r = await c.post("/verificar", data={f"campo{i}": "x" for i in range(50)})
    assert r.status_code == 400

    # A tracker in the URL is ignored: the form does not show it nor look it up.
    r = await c.get("/verificar", params={"rastreador": rastreador})
    assert r.status_code == 200
    assert rastreador not in r.text
    assert ENCONTRADO not in r.text
    r = await c.post("/verificar", params={"rastreador": rastreador}, data={})
    assert r.status_code == 422
    assert rastreador not in r.text

    # Only reads: not even an audit record.
    assert await e.count(Bitacora) == bitacora


async def test_el_acuse_de_otra_eleccion_y_el_del_simulacro(abierta: tuple[Electronico, str]) -> None:
    """Each receipt shows the election it belongs to (a tracker is searched across all of them): a drill's,
    marked SIMULACRO; the real one's, not."""
    e, real = abierta
    c = e.client
    sim = await e.simulacro_abierto()
    a = await e.primer_acceso_e_ingreso(_cuenta(e))
    en_simulacro = await _votar(e, sim["uuid"], a, "PAN")
    en_real = await _votar(e, real, a, "PAN")
    nombre_real = (await c.get(f"/v1/elecciones/{real}")).json()["nombre"]

    r = await c.post("/verificar", data={"rastreador": en_simulacro})
    assert r.status_code == 200
    assert 'id="es-simulacro"' in r.text
    assert "SIMULACRO: esta boleta es de un simulacro" in r.text
    assert sim["nombre"] in r.text
    assert f"/v1/elecciones/{sim['uuid']}/archivo.bel" in r.text
    assert real not in r.text

    r = await c.post("/verificar", data={"rastreador": en_real})
    assert r.status_code == 200
    assert "SIMULACRO" not in r.text
    assert nombre_real in r.text
    assert f"/v1/elecciones/{real}/archivo.bel" in r.text
    assert sim["uuid"] not in r.text

    # In English too.
    r = await c.post("/verificar", params={"lang": "en"}, data={"rastreador": en_simulacro})
    assert "DRILL: this ballot belongs to a drill" in r.text
    assert "(Central Mexico time)" in r.text


async def test_cabeceras_idioma_y_fuera_del_openapi(electronico: Electronico) -> None:
    c = electronico.client
    r = await c.get("/verificar")
    assert r.status_code == 200
    assert {k.lower(): v for k, v in CABECERAS.items()}.items() <= dict(r.headers.items()).items()
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-language"] == "es"
    assert '<html lang="es">' in r.text
    # Every asset is the service's own: the shared style sheet and script, served here.
    recursos = re.findall(r'(?:<script[^>]* src|<link[^>]* href)="([^"]+)"', r.text)
    assert recursos == ["/comun/vmre.css", "/comun/vmre.js"]
    assert (await c.get("/comun/vmre.css")).status_code == 200
    assert (await c.get("/comun/vmre.js")).status_code == 200
    # The refusal pages carry the same headers.
    r = await c.post("/verificar", data={"rastreador": "x"})
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"

    en = await c.get("/verificar", params={"lang": "en"})
    assert "Check my internet vote" in en.text
    assert '<html lang="en">' in en.text
    assert "vmre_idioma=en" in en.headers["set-cookie"]
    c.cookies.clear()
    assert (
        "Check my internet vote"
        in (await c.get("/verificar", headers={"Accept-Language": "en-US,en;q=0.9"})).text
    )
    r = await c.post("/verificar", headers={"Accept-Language": "en"}, data={"rastreador": "x"})
    assert errores(r.text)["rastreador"].startswith("This is not a receipt")

    paths = (await c.get("/openapi.json")).json()["paths"]
    assert not any(p.startswith(("/verificar", "/comun")) for p in paths)


async def test_la_cabina_explica_el_acuse_y_lleva_a_verificar(abierta: tuple[Electronico, str]) -> None:
    """Before casting, the booth says what the receipt is for; after, it links to «verificar»; and the
    voter's view lists each receipt with when it was recorded (fields only added)."""
    e, uuid = abierta
    c = e.client
    cabina = (await c.get("/cabina")).text
    confirmacion = cabina[cabina.index('id="confirmacion"') : cabina.index('id="confirmar"')]
    assert "acuse" in confirmacion
    assert 'href="/verificar"' in confirmacion
    acuse = cabina[cabina.index('id="acuse"') :]
    assert 'href="/verificar"' in acuse

    cuenta = await e.primer_acceso_e_ingreso(_cuenta(e))
    antes = (await c.get("/v1/votante", headers=cuenta.headers)).json()
    [eleccion] = antes["elecciones"]
    assert (eleccion["rastreador"], eleccion["emitida_at"], eleccion["verificar"]) == (None, None, None)
    rastreador = await _votar(e, uuid, cuenta)
    despues = (await c.get("/v1/votante", headers=cuenta.headers)).json()
    [eleccion] = despues["elecciones"]
    # Backward compatible: every field it had is still there, with the same meaning; two were added.
    assert set(antes) == set(despues) == {"usuario", "entidad", "elecciones"}
    assert {
        "uuid",
        "entidad",
        "cargo",
        "nombre",
        "simulacro",
        "estado",
        "inicio",
        "fin",
        "boletas",
        "sello",
        "opciones",
        "eleccion_json",
        "acta_apertura",
        "rastreador",
    } | {"emitida_at", "verificar"} == set(eleccion)
    assert eleccion["rastreador"] == rastreador
    assert eleccion["verificar"] == "/verificar"
    tablon = (await c.get(f"/v1/elecciones/{uuid}/tablon", params={"rastreador": rastreador})).json()
    assert eleccion["emitida_at"] == tablon["boletas"][0]["emitida_at"]
