"""The load generator's own ceiling: a static no-op HTTP server (uvloop and httptools, no framework) that
answers every request with the same 200 and a small JSON body. wrk against it shows how many requests per
second the generator can send on its core; a benchmark's ceilings are only the server's if that is several
times what the servers reach.

    python -m bench.estatico --puerto 8080
"""

from __future__ import annotations

import argparse
import asyncio

import httptools
import uvloop

RESPUESTA = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"status":"ok"}'


class _Protocolo(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transporte: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transporte = transport  # type: ignore[assignment]  # uvloop's TCPTransport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transporte is not None
            self.transporte.close()

    def on_message_complete(self) -> None:
        assert self.transporte is not None
        self.transporte.write(RESPUESTA)


async def servir(puerto: int) -> None:
    loop = asyncio.get_running_loop()
    servidor = await loop.create_server(_Protocolo, "127.0.0.1", puerto, backlog=1024)
    async with servidor:
        await servidor.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--puerto", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(servir(args.puerto))


if __name__ == "__main__":
    main()
