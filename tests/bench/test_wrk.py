"""The load generator of `make bench` (bench/wrk.py, bench/wrk.lua) against the static no-op server, both real
processes on loopback: the raw requests are framed right (a POST's body never leaks into the next request),
every status is counted, the requests are cycled in order, a schedule keeps its rate, and the server's CPU is
read from /proc."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import wrk
from bench.comun import Servicio, entorno_base

pytestmark = pytest.mark.externo


@pytest.fixture
def estatico(tmp_path: Path):  # type: ignore[no-untyped-def]
    servidor, _ = wrk.reparto()
    s = Servicio("", entorno_base(), tmp_path, nombre="estatico", nucleos=servidor)
    s.argv = [sys.executable, "-m", "bench.estatico", "--puerto", str(s.puerto)]
    s.arrancar()
    yield s
    s.detener()


def test_lazo_cerrado_cuenta_cada_respuesta_y_recorre_las_peticiones(estatico: Servicio) -> None:
    host = estatico.url.removeprefix("http://")
    peticiones = wrk.crudas(
        host, [("/a", b'{"x": 1}', {}), ("/b", b'{"y": "\\u00f1' + b"z" * 3000 + b'"}', {})]
    )
    r = wrk.correr(estatico.url, peticiones, conexiones=4, segundos=1, servidor_pgid=estatico.pid)
    assert r.peticiones > 100
    # Every answer is the server's 200: a mis-framed body would have made it close the connection.
    assert r.estados == {200: r.peticiones}
    assert r.errores_socket == {"conexion": 0, "lectura": 0, "escritura": 0, "tiempo": 0}
    assert r.vueltas > 0  # two requests, many sent: the list was cycled
    assert 0 < r.p50_ms <= r.p99_ms <= r.max_ms
    assert r.cpu_servidor_s > 0
    assert r.cpu_generador_s > 0


def test_con_ritmo_envia_lo_pedido(estatico: Servicio) -> None:
    peticiones = wrk.crudas(estatico.url.removeprefix("http://"), [("/healthz", b"", {})], "GET")
    r = wrk.correr(estatico.url, peticiones, conexiones=8, segundos=3, servidor_pgid=estatico.pid, ritmo=200)
    # A closed loop against this server would send tens of thousands per second.
    assert 0.7 * 200 <= r.por_s <= 1.1 * 200, r.por_s
    assert r.estados == {200: r.peticiones}
