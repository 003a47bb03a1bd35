"""The whole internet vote in a real browser (Debian's headless Chromium, driven by Playwright): first
access with a TOTP second factor, login, the ballot, confirmation, encryption on the device, the receipt found
on the bulletin board. Then what an auditor does: the ballot passes ``belenios-tool election verify-ballot``;
after the close the archive passes ``vmre verificar`` and ``belenios-tool election verify``; and three of
the five custodians, with the keys from their own state files, decrypt the tally to the browser's choice."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clientes.custodio import ceremonia, leer_estado
from services.electronico.models import Boleta
from shared.cripto import escrutinio as es
from shared.cripto.archivo import leer
from shared.cripto.custodios import Custodio, Custodios
from shared.cripto.eleccion import Eleccion
from shared.cripto.urna import Urna
from shared.cripto.verificador import verificar_archivo
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases, en_http, serve
from tests.support.electronico import (
    FRASE,
    PASSWORD,
    app_de_prueba,
    autoridad_de_prueba,
    cerrar_lnere,
    cuentas_de,
    entregar,
    inscrito,
)
from tests.support.navegador import ingresar_a_la_cabina
from tests.support.registro import centro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
CHROMIUM = Path(os.environ.get("VMRE_CHROMIUM", "/usr/bin/chromium"))
CAPTURAS = Path(os.environ.get("VMRE_CAPTURAS", "var/capturas"))


@pytest.fixture
async def servidor(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon
) -> AsyncIterator[tuple[str, Any, RelojManual, Any]]:
    app, reloj = await app_de_prueba(databases, offline_kafka, buzon)
    autoridad = await autoridad_de_prueba(databases, offline_kafka, buzon, reloj)
    async with en_http(app) as base, serve(autoridad):
        yield base, app, reloj, autoridad


async def test_votar_en_el_navegador(
    servidor: tuple[str, Any, RelojManual, Any],
    token: Callable[..., dict[str, str]],
    belenios: Any,
    tmp_path: Path,
) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"falta Chromium en {CHROMIUM}: `make test` lo instala (make chromium)")
    from playwright.async_api import async_playwright

    base, app, reloj, autoridad = servidor
    maker = app.state.runtime.maker
    await entregar(app, autoridad, inscrito(1), inscrito(2))
    await cerrar_lnere(app, autoridad, "09")
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        eleccion = next(e for e in (await api.get("/v1/elecciones")).json() if e["entidad"] == "09")
        uuid = eleccion["uuid"]

        async def custodio(i: int) -> str:
            async with httpx.AsyncClient(
                base_url=base, headers=token("custodio", sub=f"custodio-{i}"), timeout=30
            ) as c:
                return await ceremonia(
                    c,
                    uuid,
                    i,
                    tmp_path / f"custodio-{i}.json",
                    frase=FRASE,
                    espera=0.1,
                    avisar=lambda _m: None,
                )

        assert len(set(await asyncio.gather(*(custodio(i) for i in range(1, 6))))) == 1
        r = await api.post(f"/v1/elecciones/{uuid}/apertura", headers=token("ine-admin"))
        assert r.status_code == 200, r.text
        vacio = (await api.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
        cuentas = await cuentas_de(app, autoridad)
        usuario, (clave_acceso, credenciales) = sorted(cuentas.items())[0]
        (credencial,) = credenciales.values()

        enviados: list[str] = []
        async with async_playwright() as p:
            navegador = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                pagina = await navegador.new_page(viewport={"width": 390, "height": 844})  # a phone
                pagina.on(
                    "request", lambda rq: enviados.append(rq.post_data or "") if rq.method == "POST" else None
                )
                # The booth under its Content-Security-Policy: a violation is a console error (none may be).
                violaciones: list[str] = []
                pagina.on(
                    "console",
                    lambda m: violaciones.append(m.text) if "Content Security Policy" in m.text else None,
                )
                # First access (password and an authenticator app, its key shown for manual entry), then
                # the login with user + password + the 6-digit code.
                await ingresar_a_la_cabina(pagina, base, usuario, clave_acceso, PASSWORD)
                # The ballot: choose, confirm, encrypt here, send.
                await pagina.get_by_role("radio", name="Morena", exact=True).check()
                await pagina.get_by_role("button", name="Continuar").click()
                assert await pagina.locator("#resumen").inner_text() == (
                    "Diputación Migrante · Ciudad de México: Morena"
                )
                await pagina.get_by_label("Credencial de votación").fill(credencial)
                await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
                await pagina.locator("#acuses .rastreador").wait_for()
                rastreador = await pagina.locator("#acuses .rastreador").inner_text()
                await pagina.get_by_role("button", name="Buscar este acuse en el tablón público").click()
                await pagina.get_by_text("Su boleta está en la urna (posición").wait_for()
                CAPTURAS.mkdir(parents=True, exist_ok=True)
                await pagina.screenshot(path=str(CAPTURAS / "cabina-acuse.png"), full_page=True)
                assert violaciones == []
            finally:
                await navegador.close()

        # No plaintext choice left the browser: the only ballot sent is the encrypted one.
        boletas_enviadas = [b for b in enviados if '"answers"' in b]
        assert len(boletas_enviadas) == 1
        assert "MORENA" not in boletas_enviadas[0].upper()
        tablon = (await api.get(f"/v1/elecciones/{uuid}/tablon", params={"rastreador": rastreador})).json()
        assert tablon["boletas"][0]["rastreador"] == rastreador
        async with maker() as s:
            texto = (await s.execute(select(Boleta.texto))).scalar_one()
        assert texto == boletas_enviadas[0]

        # belenios-tool checks the ballot against the record as it was opened.
        d = tmp_path / "vb"
        d.mkdir()
        (d / f"{uuid}.bel").write_bytes(vacio)
        (d / "boleta.json").write_text(texto)
        belenios("election", "verify-ballot", "--dir", str(d), "--ballot", str(d / "boleta.json"), cwd=d)

        # The close at 18:00 Centro, then the archive passes both verifiers.
        reloj.ajustar(centro(2021, 6, 6, 18, 0))
        assert (
            await api.post(f"/v1/elecciones/{uuid}/cierre", headers=token("ine-admin"))
        ).status_code == 200
        datos = (await api.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
        assert verificar_archivo(datos, un_voto=True).boletas == 1
        d2 = tmp_path / "v"
        d2.mkdir()
        (d2 / f"{uuid}.bel").write_bytes(datos)
        assert "all checks passed" in belenios("election", "verify", "--dir", str(d2), cwd=d2).stderr
        detalle = (await api.get(f"/v1/elecciones/{uuid}")).json()

    # Three custodians decrypt the tally with the keys kept on their own machines: the browser's choice.
    archivo = leer(datos)
    setup = archivo.de_tipo("Setup")[0].datos
    urna = Urna.abrir(Eleccion.leer(setup[0]), Custodios.leer(json.loads(setup[1])), json.loads(setup[2]))
    urna.depositar(texto)
    recuento = urna.cerrar()
    for i in (1, 3, 5):
        estado = leer_estado(tmp_path / f"custodio-{i}.json", FRASE)
        c = Custodio(estado["semilla"], i, 3, 5)
        urna.agregar_descifrado(
            i,
            es.descifrado_parcial(
                urna.eleccion.huella, c.clave_descifrado(estado["clave_privada"]), recuento
            ),
        )
    claves = [o["clave"] for o in detalle["opciones"]]
    assert urna.publicar() == [[int(c == "MORENA") for c in claves]]
