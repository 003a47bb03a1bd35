"""The drill outlives a killed service: polls and connections retried while it restarts."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx

from simulacion.cliente import Cliente, _transporte


async def test_esperar_pregunta_de_nuevo_si_el_servicio_reinicia() -> None:
    intentos = 0

    async def condicion() -> int | None:
        nonlocal intentos
        intentos += 1
        if intentos <= 2:
            raise httpx.ConnectError("All connection attempts failed")
        return 5

    falso: Any = object.__new__(Cliente)
    assert await Cliente.esperar(falso, "algo", condicion, timeout=30) == 5
    assert intentos == 3


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
