"""The whole internet vote in a real browser (Debian's headless Chromium, driven by Playwright): first
access with a TOTP second factor, login, the ballot, confirmation, encryption on the device, the receipt found
on the bulletin board. Then what an auditor does: the ballot passes ``belenios-tool election verify-ballot``;
after the close the archive passes ``vmre verificar`` and ``belenios-tool election verify``; and three of
the five custodians, with the keys from their own state files, decrypt the tally to the browser's choice."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import uvicorn
from sqlalchemy import select

from services.electronico.custodio import ceremonia
from services.electronico.models import Boleta, Notificacion, ProcessedEvent
from shared.broker import free_port
from shared.bus.consumer import apply_once
from shared.cripto import escrutinio as es
from shared.cripto.archivo import leer
from shared.cripto.custodios import Custodio, Custodios
from shared.cripto.eleccion import Eleccion
from shared.cripto.urna import Urna
from shared.cripto.verificador import verificar_archivo
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.conftest import Buzon, Databases
from tests.electronico.conftest import PASSWORD, app_de_prueba, inscrito
from tests.registro.conftest import centro

pytestmark = pytest.mark.e2e
CHROMIUM = Path(os.environ.get("VMRE_CHROMIUM", "/usr/bin/chromium"))
CAPTURAS = Path(os.environ.get("VMRE_CAPTURAS", "var/capturas"))


@pytest.fixture
async def servidor(
    databases: Databases, offline_kafka: KafkaSettings, buzon: Buzon
) -> AsyncIterator[tuple[str, Any, RelojManual]]:
    app, reloj = await app_de_prueba(databases, offline_kafka, buzon)
    puerto = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=puerto, log_level="warning"))
    tarea = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{puerto}", app, reloj
    finally:
        server.should_exit = True
        await tarea


async def test_votar_en_el_navegador(
    servidor: tuple[str, Any, RelojManual],
    token: Callable[..., dict[str, str]],
    belenios: Any,
    tmp_path: Path,
) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"falta Chromium en {CHROMIUM}: `make test` lo instala (scripts/chromium.sh)")
    from playwright.async_api import async_playwright

    base, app, reloj = servidor
    maker = app.state.runtime.maker
    async with maker() as s, s.begin():
        for env in (inscrito(1), inscrito(2)):
            await apply_once(
                s, ProcessedEvent, "electronico.votantes", env, app.state.handlers[env.event_type]
            )
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        eleccion = next(e for e in (await api.get("/v1/elecciones")).json() if e["entidad"] == "09")
        uuid = eleccion["uuid"]

        async def custodio(i: int) -> str:
            async with httpx.AsyncClient(
                base_url=base, headers=token("custodio", sub=f"custodio-{i}"), timeout=30
            ) as c:
                return await ceremonia(
                    c, uuid, i, tmp_path / f"custodio-{i}.json", espera=0.1, avisar=lambda m: None
                )

        assert len(set(await asyncio.gather(*(custodio(i) for i in range(1, 6))))) == 1
        r = await api.post(f"/v1/elecciones/{uuid}/apertura", headers=token("ine-admin"))
        assert r.status_code == 200, r.text
        vacio = (await api.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
        async with maker() as s:
            mensaje = (
                (
                    await s.execute(
                        select(Notificacion.mensaje).where(Notificacion.plantilla == "credenciales_voto")
                    )
                )
                .scalars()
                .first()
            )
        assert mensaje is not None
        usuario = re.search(r"Usuario: (\S+)", mensaje).group(1)  # type: ignore[union-attr]
        clave_acceso = re.search(r"Clave de acceso: (\S+)", mensaje).group(1)  # type: ignore[union-attr]
        credencial = re.search(r"^- .+: (\S+)$", mensaje, flags=re.M).group(1)  # type: ignore[union-attr]

        enviados: list[str] = []
        async with async_playwright() as p:
            navegador = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                pagina = await navegador.new_page(viewport={"width": 390, "height": 844})  # a phone
                pagina.on(
                    "request", lambda rq: enviados.append(rq.post_data or "") if rq.method == "POST" else None
                )
                await pagina.goto(f"{base}/cabina")
                # First access: password and an authenticator app (the key shown for manual entry).
                await pagina.get_by_text("Primer acceso").click()
                await pagina.get_by_label("Usuario", exact=True).nth(1).fill(usuario)
                await pagina.get_by_label("Clave de acceso").fill(clave_acceso)
                await pagina.get_by_label("Nueva contraseña").fill(PASSWORD)
                await pagina.get_by_role("button", name="Guardar").click()
                secreto = await pagina.locator("#clave-totp").inner_text()
                # Login with user + password + the 6-digit code.
                await pagina.locator("#password").fill(PASSWORD)
                await pagina.locator("#codigo").fill(pyotp.TOTP(secreto).now())
                await pagina.get_by_role("button", name="Ingresar").click()
                # The ballot: choose, confirm, encrypt here, send.
                await pagina.get_by_role("radio", name="Morena", exact=True).check()
                await pagina.get_by_role("button", name="Continuar").click()
                assert await pagina.locator("#eleccion-texto").inner_text() == "Morena"
                await pagina.get_by_label("Credencial de votación").fill(credencial)
                await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
                await pagina.locator("#rastreador").wait_for()
                rastreador = await pagina.locator("#rastreador").inner_text()
                await pagina.get_by_role("button", name="Buscar mi acuse en el tablón público").click()
                await pagina.get_by_text("Su boleta está en la urna (posición").wait_for()
                CAPTURAS.mkdir(parents=True, exist_ok=True)
                await pagina.screenshot(path=str(CAPTURAS / "cabina-acuse.png"), full_page=True)
            finally:
                await navegador.close()

        # No plaintext choice left the browser: the only ballot sent is the encrypted one.
        boletas_enviadas = [b for b in enviados if '"answers"' in b]
        assert len(boletas_enviadas) == 1 and "MORENA" not in boletas_enviadas[0].upper()
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
        estado = json.loads((tmp_path / f"custodio-{i}.json").read_text())
        c = Custodio(estado["semilla"], i, 3, 5)
        urna.agregar_descifrado(
            i,
            es.descifrado_parcial(
                urna.eleccion.huella, c.clave_descifrado(estado["clave_privada"]), recuento
            ),
        )
    claves = [o["clave"] for o in detalle["opciones"]]
    assert urna.publicar() == [[int(c == "MORENA") for c in claves]]
