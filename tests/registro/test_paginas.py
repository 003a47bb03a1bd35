"""registro's pages over HTTP, as a browser without JavaScript sends them (form posts): each refusal shows
its error next to the field and writes nothing; a duplicate reveals nothing; a folio that does not exist
answers the same whatever it is; a wrong code counts. The same flows in Chromium:
tests/registro/test_paginas_navegador.py."""

from __future__ import annotations

import re
from collections.abc import Callable

from services.registro.models import Documento, Solicitud
from shared.paginas import CABECERAS
from tests.factories import solicitud
from tests.support.registro import Registro

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def formulario(n: int, **cambios: str) -> dict[str, str]:
    """What the registration form posts for applicant ``n`` (flat fields, empty ones as empty text)."""
    datos = solicitud(n)
    plano = {k: v for k, v in datos.items() if k != "domicilio"}
    plano.update({f"domicilio.{k}": v for k, v in datos["domicilio"].items()})
    plano.update(cambios)
    return {k: str(v) for k, v in plano.items()}


def errores(html: str) -> dict[str, str]:
    """Each error the page shows next to a field: {field id: message}."""
    return dict(re.findall(r'<p class="error" id="([^"]+)-error">([^<]+)</p>', html))


DOCS = {
    "credencial_frente": ("frente.png", PNG, "image/png"),
    "credencial_reverso": ("reverso.jpg", JPEG, "image/jpeg"),
}


async def test_cada_error_junto_a_su_campo_y_nada_se_escribe(registro: Registro) -> None:
    c = registro.client
    mal = formulario(
        1, clave_elector="NOESUNACLAVE", email="no-es-correo", sexo="", **{"domicilio.ciudad": ""}
    )
    r = await c.post("/inscripcion/revisar", data=mal)
    assert r.status_code == 422
    vistos = errores(r.text)
    assert set(vistos) == {"clave_elector", "email", "sexo"}, vistos
    assert vistos["sexo"] == "Este dato es obligatorio."
    campo = 'id="clave_elector" name="clave_elector" type="text" value="NOESUNACLAVE"'
    assert campo + ' required aria-invalid="true"' in r.text
    # What the person wrote stays in the form.
    assert 'value="María José"' in r.text
    # Sending (not only reviewing) with the same errors writes nothing either.
    r = await c.post("/inscripcion/enviar", data=mal, files=DOCS)
    assert r.status_code == 422
    assert await registro.count(Solicitud) == 0


async def test_la_revision_y_el_envio_con_documentos(registro: Registro) -> None:
    c = registro.client
    datos = formulario(2)
    r = await c.post("/inscripcion/revisar", data=datos)
    assert r.status_code == 200, errores(r.text)
    assert "Revise sus datos" in r.text
    assert "Estados Unidos" in r.text
    assert "Ciudad de México" in r.text
    assert 'type="hidden" name="clave_elector"' in r.text
    # A document that is not an image (by its content, whatever its name says) stops everything.
    r = await c.post(
        "/inscripcion/enviar",
        data=datos,
        files={**DOCS, "credencial_reverso": ("reverso.png", b"MZ\x90\x00 no soy una imagen", "image/png")},
    )
    assert r.status_code == 422
    assert errores(r.text) == {"credencial_reverso": "Solo se aceptan fotos JPEG o PNG, o un PDF."}
    assert await registro.count(Solicitud) == 0
    # The voter ID is required on both sides.
    r = await c.post(
        "/inscripcion/enviar", data=datos, files={"credencial_frente": DOCS["credencial_frente"]}
    )
    assert r.status_code == 422
    assert errores(r.text) == {"credencial_reverso": "Suba este documento."}
    assert await registro.count(Solicitud) == 0

    r = await c.post("/inscripcion/enviar", data=datos, files=DOCS)
    assert r.status_code == 201, r.text
    [fila] = await registro.rows(Solicitud)
    assert "p***@example.com" in r.text
    assert fila.folio not in r.text  # the folio goes to the contact, never to the page
    assert sorted(d.tipo for d in await registro.rows(Documento)) == [
        "credencial_frente",
        "credencial_reverso",
    ]
    [acuse] = await registro.avisos("solicitud_recibida")
    assert acuse.mensaje is not None
    assert fila.folio in acuse.mensaje


async def test_duplicada_no_revela_nada(registro: Registro) -> None:
    c = registro.client
    assert (await c.post("/inscripcion/enviar", data=formulario(3), files=DOCS)).status_code == 201
    [original] = await registro.rows(Solicitud)
    # Someone else with the same voter key and their own contact.
    otro = formulario(3, email="atacante@example.net", telefono="+15551230000", nombre="Otra")
    r = await c.post("/inscripcion/enviar", data=otro, files=DOCS)
    assert r.status_code == 409
    assert original.folio not in r.text
    assert "atacante" not in r.text
    assert "Ya existe una solicitud" in r.text
    assert await registro.count(Solicitud) == 1
    reenvios = await registro.avisos("folio_reenviado")
    assert [a.destino for a in reenvios] == ["persona3@example.com"]  # the contact on file, not the asker


async def test_mi_solicitud_con_folio_y_sin_el(registro: Registro) -> None:
    c = registro.client
    r = await c.post("/v1/solicitudes", json=solicitud(4))
    folio = r.json()["folio"]
    r = await c.post("/mi-solicitud", data={"folio": folio})
    assert r.status_code == 200
    assert "Recibida: el INE la está revisando" in r.text
    # Nothing personal on the page anyone with the folio sees.
    for dato in ("persona4@example.com", "Núñez", "Main St", solicitud(4)["clave_elector"]):
        assert dato not in r.text
    # Any folio that does not exist gets the same page (nothing to tell one apart from another).
    a = await c.post("/mi-solicitud", data={"folio": "F-NOEXISTE"})
    b = await c.post("/mi-solicitud", data={"folio": folio[:-1] + ("0" if folio[-1] != "0" else "1")})
    assert a.status_code == b.status_code == 404
    assert (
        errores(a.text)
        == errores(b.text)
        == {"folio": "No hay una solicitud con ese folio. Revise que esté completo, tal como le llegó."}
    )
    assert (await c.post("/mi-solicitud", data={})).status_code == 422


async def test_corregir_en_aclaracion_con_el_codigo(
    registro: Registro, token: Callable[..., dict[str, str]]
) -> None:
    c = registro.client
    folio = (await c.post("/v1/solicitudes", json=solicitud(5))).json()["folio"]
    # Not in aclaración: the page offers no correction, and a forged post is refused without sending a code.
    r = await c.post("/mi-solicitud", data={"folio": folio})
    assert "Corregir mis datos" not in r.text
    r = await c.post("/mi-solicitud/corregir", data={"folio": folio, "domicilio.ciudad": "San Diego"})
    assert r.status_code == 409
    assert await registro.avisos("codigo_confirmacion") == []

    aclarar = await c.post(
        f"/v1/solicitudes/{folio}/aclaracion",
        json={"motivos": ["comprobante_domicilio"]},
        headers=token("ine-operador"),
    )
    assert aclarar.status_code == 200, aclarar.text
    r = await c.post("/mi-solicitud", data={"folio": folio})
    assert "En aclaración" in r.text
    assert "Corregir mis datos" in r.text
    assert "El comprobante de domicilio en el extranjero falta o no es válido." in r.text
    # Nothing written: the form must say what changes.
    r = await c.post("/mi-solicitud/corregir", data={"folio": folio})
    assert r.status_code == 422
    r = await c.post("/mi-solicitud/corregir", data={"folio": folio, "domicilio.ciudad": "San Diego"})
    assert r.status_code == 200, r.text
    assert "p***@example.com" in r.text
    confirmacion = re.search(r'name="confirmacion" value="([^"]+)"', r.text)
    assert confirmacion
    codigo = await registro.codigo("persona5@example.com")
    equivocado = "000000" if codigo != "000000" else "111111"
    base = {"folio": folio, "confirmacion": confirmacion.group(1)}
    r = await c.post("/mi-solicitud/confirmar", data={**base, "codigo": equivocado})
    assert r.status_code == 422
    assert "codigo" in errores(r.text)
    assert (await registro.solicitud(folio)).ciudad == "Los Angeles"
    r = await c.post("/mi-solicitud/confirmar", data={**base, "codigo": codigo})
    assert r.status_code == 200, r.text
    assert "aplicamos el cambio" in r.text
    fila = await registro.solicitud(folio)
    assert (fila.ciudad, fila.estado) == ("San Diego", "recibida")
    # Used once: the same code again changes nothing.
    r = await c.post("/mi-solicitud/confirmar", data={**base, "codigo": codigo})
    assert r.status_code == 409


async def test_un_documento_en_aclaracion_entra_con_el_codigo(
    registro: Registro, token: Callable[..., dict[str, str]]
) -> None:
    c = registro.client
    folio = (await c.post("/v1/solicitudes", json=solicitud(6))).json()["folio"]
    await c.post(
        f"/v1/solicitudes/{folio}/aclaracion",
        json={"motivos": ["credencial_ilegible"]},
        headers=token("ine-operador"),
    )
    r = await c.post("/mi-solicitud", data={"folio": folio})
    assert "le enviaremos un código a su contacto registrado" in r.text
    r = await c.post(
        "/mi-solicitud/documentos",
        data={"folio": folio, "tipo": "credencial_frente"},
        files={"archivo": DOCS["credencial_frente"]},
    )
    # The code page, not the expediente: nothing joined yet.
    assert r.status_code == 200, r.text
    confirmacion = re.search(r'name="confirmacion" value="([^"]+)"', r.text)
    assert confirmacion
    assert await registro.count(Documento) == 0
    r = await c.post(
        "/mi-solicitud/confirmar",
        data={
            "folio": folio,
            "confirmacion": confirmacion.group(1),
            "codigo": await registro.codigo("persona6@example.com"),
        },
    )
    assert r.status_code == 200, r.text
    assert "aplicamos el cambio" in r.text
    [documento] = await registro.rows(Documento)
    assert (documento.tipo, documento.contenido) == ("credencial_frente", PNG)


async def test_cabeceras_idioma_y_limite_de_cuerpo(registro: Registro) -> None:
    c = registro.client
    r = await c.get("/inscripcion")
    assert r.status_code == 200
    assert {k.lower(): v for k, v in CABECERAS.items()}.items() <= dict(r.headers.items()).items()
    assert r.headers["content-language"] == "es"
    assert '<html lang="es">' in r.text
    # Every asset is the service's own (the policy would block anything else): scripts and style sheets.
    recursos = re.findall(r'(?:<script[^>]* src|<link[^>]* href)="([^"]+)"', r.text)
    assert recursos == ["/comun/vmre.css", "/comun/vmre.js"]
    en = await c.get("/inscripcion", params={"lang": "en"})
    assert "Register to vote from abroad" in en.text
    assert '<html lang="en">' in en.text
    assert "vmre_idioma=en" in en.headers["set-cookie"]
    assert "HttpOnly" in en.headers["set-cookie"]
    # The cookie is remembered over the browser's languages; without it, Accept-Language decides.
    assert "Register to vote" in (await c.get("/inscripcion", headers={"Accept-Language": "es"})).text
    c.cookies.clear()
    assert (
        "Register to vote"
        in (await c.get("/inscripcion", headers={"Accept-Language": "en-US,en;q=0.9"})).text
    )
    assert "Register to vote" not in (await c.get("/inscripcion", headers={"Accept-Language": "fr, de"})).text
    assert (await c.get("/comun/vmre.css")).status_code == 200
    # A body beyond three documents is refused before it is read.
    r = await c.post(
        "/inscripcion/enviar",
        content=b"x" * 100,
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(20 * 1024 * 1024)},
    )
    assert r.status_code == 413
    assert await registro.count(Solicitud) == 0


async def test_en_un_simulacro_cada_pagina_lo_dice(registro: Registro) -> None:
    c = registro.client
    assert "SIMULACRO" not in (await c.get("/inscripcion")).text
    settings = registro.app.state.settings
    registro.app.state.settings = settings.model_copy(update={"reloj": "simulado"})
    try:
        for r in (await c.get("/inscripcion"), await c.get("/mi-solicitud")):
            assert "SIMULACRO: nada de lo que haga aquí cuenta en una elección real." in r.text
    finally:
        registro.app.state.settings = settings


async def test_lo_escrito_vuelve_escapado(registro: Registro) -> None:
    """What a person (or an attacker) typed comes back in the form as text, never as markup."""
    ataque = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    r = await registro.client.post(
        "/inscripcion/revisar", data=formulario(9, nombre=ataque, clave_elector="")
    )
    assert r.status_code == 422
    assert "<script>alert(1)" not in r.text
    assert "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


async def test_el_cambio_de_idioma_lleva_a_una_pagina_que_se_abre(registro: Registro) -> None:
    """On a page that answered a form, the switch leads to the start of its flow (a GET), not a POST route."""
    c = registro.client
    r = await c.post("/inscripcion/revisar", data=formulario(10))
    enlace = re.search(r'href="([^"]+)\?lang=en"', r.text)
    assert enlace
    assert enlace.group(1) == "/inscripcion"
    assert (await c.get(f"{enlace.group(1)}?lang=en")).status_code == 200


async def test_el_caracter_nulo_no_rompe_ninguna_pagina(registro: Registro) -> None:
    """U+0000 in a form field (nobody types it; PostgreSQL cannot compare it): the same answers as without."""
    c = registro.client
    r = await c.post("/mi-solicitud", data={"folio": "VMRE\x00X"})
    assert r.status_code == 404
    r = await c.post("/mi-solicitud/corregir", data={"folio": "VMRE\x00X", "nombre": "A\x00na"})
    assert r.status_code == 404
    r = await c.post("/inscripcion/revisar", data=formulario(11, nombre="Ma\x00ría"))
    assert r.status_code == 200
    assert 'value="María"' in r.text
