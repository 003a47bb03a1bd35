"""The drill outlives a killed service: polls and connections retried while it restarts."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from simulacion.cliente import Cliente, SimulacionFallida, _transporte
from simulacion.plataforma import Plataforma


async def test_esperar_pregunta_de_nuevo_si_el_servicio_reinicia(tmp_path: Path) -> None:
    intentos = 0

    async def condicion() -> int | None:
        nonlocal intentos
        intentos += 1
        if intentos <= 2:
            raise httpx.ConnectError("All connection attempts failed")
        return 5

    cliente = Cliente(Plataforma(urls={}, datos=tmp_path))
    assert await cliente.esperar("algo", condicion, timeout=30) == 5
    assert intentos == 3
    assert cliente.esperas == {}
    await cliente.aclose()


async def test_una_espera_dice_que_falta_mientras_espera_y_al_agotarse(tmp_path: Path) -> None:
    """What SIGUSR1 prints while the drill waits, and the timeout's message: what the condition lacks."""
    cliente = Cliente(Plataforma(urls={}, datos=tmp_path))
    vistos: list[str] = []

    async def condicion() -> bool:
        cliente.falta("las credenciales", "sin cuenta {'09': 2}")
        vistos.append(cliente.estado())
        return False

    with pytest.raises(SimulacionFallida, match=r"las credenciales \(falta: sin cuenta \{'09': 2\}\)"):
        await cliente.esperar("las credenciales", condicion, timeout=0.6)
    assert "esperando desde hace" in vistos[-1]
    assert "las credenciales — falta: sin cuenta {'09': 2}" in vistos[-1]
    assert cliente.estado().startswith("el simulacro no espera")  # the wait ended: nothing listed
    await cliente.aclose()


async def test_la_conexion_se_reintenta_hasta_que_el_servicio_vuelve() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        puerto = s.getsockname()[1]  # free now: nothing listens until the "restart" below

    async def atender(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    async def reinicio() -> asyncio.Server:
        await asyncio.sleep(1.0)
        return await asyncio.start_server(atender, "127.0.0.1", puerto)

    servidor = asyncio.create_task(reinicio())
    async with httpx.AsyncClient(transport=_transporte(), timeout=10) as cliente:
        r = await cliente.get(f"http://127.0.0.1:{puerto}/")
    assert r.text == "ok"
    (await servidor).close()
