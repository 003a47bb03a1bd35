"""``vmre run`` (what ``make run`` calls): everything up, Ctrl-C leaves no orphan, data survives a restart,
and ``vmre replay`` rebuilds the read model after the (memory-only) broker forgot everything."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.hijos import free_port
from shared.settings import SERVICES
from tests.factories import solicitud
from tests.support.consola import cabecera, ingresar

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]
VMRE = str(Path(sys.executable).parent / "vmre")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def por_que_termino(log: Path) -> str:
    """What explains an early exit: the lines that name an error or an unexpected end, then the log's tail
    (which is mostly the orderly shutdown that followed)."""
    texto = log.read_text()
    claves = ("ERROR", "Errno", "Traceback", "terminó inesperadamente", "Error:", "error:")
    causas = [linea for linea in texto.splitlines() if any(c in linea for c in claves)]
    return "causas:\n" + "\n".join(causas[:40]) + "\n…\nfinal del log:\n" + texto[-2000:]


async def wait_all_healthy(
    ports: dict[str, int], process: subprocess.Popen[bytes], log: Path, timeout: float
) -> float:
    start = time.monotonic()
    pending = set(ports)
    async with httpx.AsyncClient(timeout=1) as client:
        while pending and time.monotonic() - start < timeout:
            assert process.poll() is None, por_que_termino(log)
            for service in list(pending):
                try:
                    r = await client.get(f"http://127.0.0.1:{ports[service]}/healthz")
                    if r.status_code == 200:
                        pending.discard(service)
                except httpx.HTTPError:
                    pass
            await asyncio.sleep(0.2)
    assert not pending, f"sin /healthz: {pending}\n{por_que_termino(log)}"
    return time.monotonic() - start


async def wait_total(port: int, expected: int, timeout: float = 60) -> None:
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() - start < timeout:
            body = (await client.get(f"http://127.0.0.1:{port}/v1/resumen")).json()
            if body["solicitudes"]["total"] == expected:
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"tablero no llegó a {expected}: {body}")


async def cifras(port: int) -> dict[str, object]:
    """Every projection as the dashboard reads it, without the version counter (a replay re-applies it)."""
    async with httpx.AsyncClient(timeout=5) as client:
        body: dict[str, object] = (await client.get(f"http://127.0.0.1:{port}/v1/tablero")).json()
    body.pop("version")
    return body


async def wait_cifras(port: int, expected: dict[str, object], timeout: float = 60) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if (actual := await cifras(port)) == expected:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"las proyecciones no volvieron a su valor tras el replay: {actual} ≠ {expected}")


async def wait_recibo(env: dict[str, str], email: str, folio: str, timeout: float = 30) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        leido = subprocess.run(
            [VMRE, "buzon", "--para", email], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        assert leido.returncode == 0, leido.stderr
        if folio in leido.stdout:
            assert "Asunto: Su solicitud de inscripción a la LNERE: folio" in leido.stdout, leido.stdout
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"el acuse con el folio no llegó al buzón local:\n{leido.stdout}")


def start_platform(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [VMRE, "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def platform_env(data: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The environment of a `vmre run` of its own: free ports for everything it listens on, data in ``data``.
    Returns it and each service's port."""
    ports = {service: free_port() for service in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
    env.update({f"VMRE_{s.upper()}_PORT": str(p) for s, p in ports.items()})
    env.update({f"VMRE_{s.upper()}_LIMITE_PUBLICO_POR_MINUTO": "100000000" for s in SERVICES})
    env.update(
        {
            "VMRE_DATA_DIR": str(data),
            "VMRE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "VMRE_BUZON_SMTP": f"127.0.0.1:{free_port()}",
            "VMRE_BUZON_HTTP": f"127.0.0.1:{free_port()}",
            "VMRE_IDENTIDAD": f"127.0.0.1:{free_port()}",
        }
    )
    return env, ports


def ctrl_c(process: subprocess.Popen[bytes]) -> list[int]:
    """Ctrl-C as a terminal sends it: SIGINT to the foreground process group (``vmre run`` leads its own)."""
    tree = children_of(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(15) == 0
    return tree


async def test_vmre_run_arranca_detiene_y_reinicia(tmp_path: Path) -> None:
    env, ports = platform_env(tmp_path / "var")
    log = tmp_path / "run.log"

    platform = start_platform(env, log)
    try:
        first = await wait_all_healthy(ports, platform, log, timeout=120)
        async with httpx.AsyncClient() as client:
            r = await client.post(f"http://127.0.0.1:{ports['registro']}/v1/solicitudes", json=solicitud(1))
            assert r.status_code == 201, r.text
        folio, email = r.json()["folio"], solicitud(1)["email"]
        await wait_total(ports["tablero"], 1)
        # The receipt left over SMTP to the local mailbox `vmre run` started: `vmre buzon` reads it (README).
        await wait_recibo(env, email, folio)
        # The staff console signs in against the local identity provider `vmre run` started (README).
        postal = f"http://127.0.0.1:{ports['postal']}"
        async with httpx.AsyncClient(base_url=postal, timeout=10) as client:
            sesion, vuelta = await ingresar(client, "postal", "operadora")
            assert vuelta.status_code == 200, vuelta.text
            r = await client.get("/consola/postal/sobres", headers=cabecera(sesion))
            assert r.status_code == 200, r.text
            assert "Recepción de sobres" in r.text
        tree = ctrl_c(platform)
        # Six services, the broker, the local mailbox and the local identity provider.
        assert len(tree) == 9, tree
        assert not [pid for pid in tree if alive(pid)], "Ctrl-C dejó procesos huérfanos"

        platform = start_platform(env, log)
        restart = await wait_all_healthy(ports, platform, log, timeout=30)
        print(f"\nvmre run: sano en {first:.1f} s; reinicio sano en {restart:.1f} s")
        await wait_total(ports["tablero"], 1)  # the read model is on disk: it survived
        antes = await cifras(ports["tablero"])

        replay = subprocess.run(
            [VMRE, "replay"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert replay.returncode == 0, replay.stderr
        assert "registro: 1 eventos" in replay.stdout
        await wait_total(ports["tablero"], 1)  # emptied, then rebuilt from registro's outbox
        await wait_cifras(ports["tablero"], antes)  # every projection, not just the total

        async with httpx.AsyncClient() as client:
            r = await client.post(
                f"http://127.0.0.1:{ports['registro']}/v1/solicitudes",
                json=solicitud(2),
            )
            assert r.status_code == 201
        await wait_total(ports["tablero"], 2)
        ctrl_c(platform)
    finally:
        if platform.poll() is None:
            os.killpg(platform.pid, signal.SIGKILL)


@pytest.mark.externo
async def test_una_persona_se_inscribe_desde_el_inicio_sin_curl(tmp_path: Path) -> None:
    """The issue's promise, on `vmre run` as `make run` starts it: a browser at the tablero's `/` leads a
    person to the registration form, the folio arrives in the local mailbox, and «mi solicitud» shows it."""
    from tests.support.navegador import CHROMIUM, accesible

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"falta Chromium en {CHROMIUM}: `make test` lo instala (make chromium)")
    from playwright.async_api import async_playwright

    env, ports = platform_env(tmp_path / "var")
    log = tmp_path / "run.log"
    platform = start_platform(env, log)
    datos = solicitud(3)
    frente = tmp_path / "frente.png"
    frente.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 64)
    try:
        await wait_all_healthy(ports, platform, log, timeout=120)
        async with async_playwright() as p:
            navegador = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            pagina = await navegador.new_page(locale="es-MX")
            await pagina.goto(f"http://127.0.0.1:{ports['tablero']}/")
            await pagina.click("text=Inscribirme en la lista")
            await pagina.wait_for_selector("text=Inscribirme para votar desde el extranjero")
            assert pagina.url == f"http://127.0.0.1:{ports['registro']}/inscripcion"
            for campo in (
                "clave_elector",
                "nombre",
                "apellido_paterno",
                "fecha_nacimiento",
                "email",
                "telefono",
            ):
                await pagina.fill(f"#{campo}", datos[campo])
            await pagina.check(f"input[name=sexo][value={datos['sexo']}]")
            await pagina.select_option("#entidad", datos["entidad"])
            await pagina.select_option("#pais", datos["pais"])
            await pagina.check("input[name=modalidad][value=electronica]")
            await pagina.click("button[type=submit]")
            await pagina.wait_for_selector("text=Revise sus datos")
            await pagina.set_input_files("#credencial_frente", str(frente))
            await pagina.set_input_files("#credencial_reverso", str(frente))
            await pagina.click("text=Enviar mi solicitud")
            await pagina.wait_for_selector("text=Recibimos su solicitud")

            # The folio, from the local mailbox as the README says to read it.
            inicio = time.monotonic()
            folio = None
            while folio is None and time.monotonic() - inicio < 30:
                leido = subprocess.run(
                    [VMRE, "buzon", "--para", datos["email"]],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                encontrado = re.search(r"Su folio es: (\S+)", leido.stdout)
                folio = encontrado.group(1) if encontrado else None
                await asyncio.sleep(0.3)
            assert folio, leido.stdout

            await pagina.click("text=Consultar mi solicitud")
            await pagina.fill("#folio", folio)
            await pagina.click("button[type=submit]")
            await pagina.wait_for_selector("text=Recibida: el INE la está revisando")
            await accesible(pagina, "run-mi-solicitud")
            await navegador.close()
        ctrl_c(platform)
    finally:
        if platform.poll() is None:
            os.killpg(platform.pid, signal.SIGKILL)
