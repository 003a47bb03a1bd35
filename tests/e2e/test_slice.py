"""The thin slice across the whole path: registro → outbox → relay → broker → tablero → /v1/resumen."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter

import httpx
import pytest

from tests.factories import solicitud
from tests.support.e2e import Stack
from vmre.broker import LocalBroker

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

ENTIDADES = ["03", "08", "09", "06", "12", "14", "16", "18", "22", "24", "32"]
_seq = itertools.count(1)


async def resumen(client: httpx.AsyncClient, stack: Stack) -> dict[str, object]:
    r = await client.get(f"{stack['tablero'].url}/v1/resumen")
    r.raise_for_status()
    return dict(r.json()["solicitudes"])


async def wait_total(client: httpx.AsyncClient, stack: Stack, expected: int, timeout: float = 60) -> float:
    """Poll tablero until its total reaches ``expected``; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if (await resumen(client, stack))["total"] == expected:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"tablero no llegó a {expected} en {timeout} s: {await resumen(client, stack)}\n"
        f"--- registro ---\n{stack['registro'].logs()}\n--- tablero ---\n{stack['tablero'].logs()}"
    )


async def wait_consumer(client: httpx.AsyncClient, stack: Stack, timeout: float = 60) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        body = (await client.get(f"{stack['tablero'].url}/readyz")).json()
        if all(c["connected"] for c in body["checks"].get("consumers", [])):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("el consumidor de tablero no se conectó")


async def post(
    client: httpx.AsyncClient, stack: Stack, n: int, entidad: str, modalidad: str
) -> httpx.Response:
    return await client.post(
        f"{stack['registro'].url}/v1/solicitudes",
        json=solicitud(n, entidad, modalidad),
    )


async def test_solicitud_llega_al_resumen(slice_stack: Stack) -> None:
    stack = slice_stack
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_consumer(client, stack)
        r = await post(client, stack, 1, "09", "postal")
        assert r.status_code == 201, r.text
        await wait_total(client, stack, 1, timeout=30)
        latencias = []
        for n in range(2, 7):
            sent = time.monotonic()
            assert (await post(client, stack, n, "14", "electronica")).status_code == 201
            await wait_total(client, stack, n, timeout=30)
            latencias.append(time.monotonic() - sent)
        print(f"\nregistro → tablero: máx {max(latencias) * 1000:.0f} ms en {len(latencias)} solicitudes")
        assert await resumen(client, stack) == {
            "total": 6,
            "por_entidad": {"09": 1, "14": 5},
            "por_modalidad": {"electronica": 5, "postal": 1},
        }


async def test_sigkill_de_tablero_y_registro_no_pierde_ni_duplica(slice_stack: Stack) -> None:
    stack = slice_stack
    rng = random.Random(7)
    aceptadas: Counter[str] = Counter()
    caidas = 0
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_consumer(client, stack)

        async def enviar(numeros: range) -> None:
            # Like a real client: on a dropped connection, retry until a definitive answer. A 409 on a
            # retry means the first attempt was committed before registro died: it counts.
            nonlocal caidas
            for n in numeros:
                entidad, modalidad = rng.choice(ENTIDADES), rng.choice(["postal", "electronica"])
                for _ in range(150):
                    try:
                        r = await post(client, stack, n, entidad, modalidad)
                    except httpx.TransportError:
                        caidas += 1
                        await asyncio.sleep(0.1)
                        continue
                    assert r.status_code in (201, 409), r.text
                    aceptadas[entidad] += 1
                    break
                else:
                    raise AssertionError("registro no volvió")

        async def cuando(enviadas: int) -> None:
            while sum(aceptadas.values()) < enviadas:
                await asyncio.sleep(0.01)

        productores = asyncio.gather(*(enviar(range(i, 600, 4)) for i in range(4)))
        await cuando(100)
        stack["tablero"].kill()  # SIGKILL while events flow
        await cuando(200)
        stack["tablero"].start()
        await cuando(300)
        stack["registro"].kill()  # the writer too: what it committed is in its outbox
        stack["registro"].start()
        await productores

        assert caidas > 0, "registro no se cayó a mitad del flujo"
        assert sum(aceptadas.values()) == 600
        await wait_total(client, stack, 600, timeout=90)
        await asyncio.sleep(2)  # anything counted twice would show up now
        final = await resumen(client, stack)
        assert final["total"] == 600
        assert final["por_entidad"] == dict(sorted(aceptadas.items()))


async def test_broker_caido_escrituras_siguen_y_todo_llega_una_vez(
    slice_stack: Stack, e2e_broker: LocalBroker
) -> None:
    stack = slice_stack
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_consumer(client, stack)
        for n in range(1, 6):
            assert (await post(client, stack, n, "09", "postal")).status_code == 201
        await wait_total(client, stack, 5)

        e2e_broker.stop()
        for n in range(6, 26):
            r = await post(client, stack, n, "16", "electronica")
            assert r.status_code == 201, r.text

        ready = await client.get(f"{stack['registro'].url}/readyz")
        assert ready.status_code == 200  # the broker alone does not make a writer unready
        assert ready.json()["checks"]["outbox"]["backlog"] == 20
        for _ in range(100):  # the relay notices when its pending send times out
            ready = await client.get(f"{stack['registro'].url}/readyz")
            if ready.json()["checks"]["broker"]["ok"] is False:
                break
            await asyncio.sleep(0.2)
        assert ready.json()["checks"]["broker"]["ok"] is False
        assert ready.status_code == 200
        metrics = (await client.get(f"{stack['registro'].url}/metrics")).text
        assert "vmre_outbox_backlog 20.0" in metrics
        assert "vmre_broker_up 0.0" in metrics

        e2e_broker.start()  # a new, empty broker on the same address
        await wait_total(client, stack, 25, timeout=90)
        await asyncio.sleep(2)
        assert await resumen(client, stack) == {
            "total": 25,
            "por_entidad": {"09": 5, "16": 20},
            "por_modalidad": {"electronica": 20, "postal": 5},
        }
        ready = await client.get(f"{stack['registro'].url}/readyz")
        assert ready.json()["checks"]["outbox"]["backlog"] == 0
