"""Benchmark: registro's intake — applications accepted per second with 32 concurrent clients (closed loop),
p50/p99 — against the machine's ceiling measured in the same run: a no-op FastAPI endpoint that accepts the
same JSON body, in the same process model (one uvicorn process), under the same load.

    make bench                      (or: python -m bench.registro --clientes 32 --segundos 10)

registro is a real uvicorn process on SQLite with its relay publishing to the local broker (Tansu); each
request validates the application, stores it, its audit record and its event (outbox) in one transaction and
answers 201. Proceso ``demo`` (its registration period contains today). Payloads are ``tests.factories``'
valid applications, a new clave de elector each. Both servers are first loaded for 2 s (not measured), then
measured in alternating windows (2 rounds), so that the background load of the machine weighs on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.comun import (
    Peticion,
    Servicio,
    broker_local,
    carga_cerrada,
    entorno_base,
    guardar,
    p,
    progreso,
    sqlite_url,
    tabla,
)
from shared import migrations
from tests.factories import solicitud

META = 0.40  # ≥ 40 % of the no-op ceiling
ENTIDADES = ["03", "06", "08", "09", "12", "14", "16", "18", "22", "24", "32"]
PAISES = ["US", "US", "US", "US", "CA", "ES", "DE", "FR", "GB", "AR"]


def _solicitudes(desde: int) -> Iterator[Peticion]:
    for n in itertools.count(desde):
        datos = solicitud(
            n,
            entidad=ENTIDADES[n % len(ENTIDADES)],
            modalidad="electronica" if n % 3 else "postal",
            pais=PAISES[n % len(PAISES)],
        )
        yield "/v1/solicitudes", json.dumps(datos).encode(), {}


async def medir(clientes: int, segundos: float, rondas: int = 2) -> dict[str, Any]:
    """Both servers up at once (the idle one costs nothing); their load windows alternate, ``rondas`` each of
    ``segundos / rondas``, so that a change in the machine's background load hits both alike."""
    ejemplo = json.dumps(solicitud(1)).encode()
    with tempfile.TemporaryDirectory(prefix="vmre-bench-registro-") as tmp_s, broker_local() as broker:
        tmp = Path(tmp_s)
        url = sqlite_url(tmp / "registro.db")
        await asyncio.to_thread(migrations.upgrade, "registro", url)
        env = entorno_base(VMRE_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, VMRE_PROCESO="demo")
        servidores = {
            "techo: POST no-op (FastAPI)": (
                Servicio("bench.noop:create_app", env, tmp, nombre="noop"),
                _solicitudes(10_000_000),
            ),
            "POST /v1/solicitudes (registro)": (
                Servicio(
                    "services.registro.main:create_app", {**env, "VMRE_REGISTRO_DATABASE_URL": url}, tmp
                ),
                _solicitudes(1),
            ),
        }
        medidas: dict[str, tuple[list[float], dict[int, int], float]] = {n: ([], {}, 0.0) for n in servidores}
        try:
            for s, _ in servidores.values():
                s.arrancar()
            for s, peticiones in servidores.values():
                await carga_cerrada(s.url, peticiones, clientes, 2.0)  # warm-up, not measured
            for ronda in range(rondas):
                for nombre, (s, peticiones) in servidores.items():
                    progreso(
                        f"registro: {nombre}, {clientes} clientes durante {segundos / rondas:.0f} s "
                        f"(ronda {ronda + 1} de {rondas})…"
                    )
                    lat, codigos, t = await carga_cerrada(s.url, peticiones, clientes, segundos / rondas)
                    lat0, cod0, t0 = medidas[nombre]
                    medidas[nombre] = (
                        lat0 + lat,
                        {c: cod0.get(c, 0) + codigos.get(c, 0) for c in {*cod0, *codigos}},
                        t0 + t,
                    )
        finally:
            for s, _ in servidores.values():
                s.detener()
        filas: dict[str, dict[str, Any]] = {}
        for nombre, (lat, codigos, t) in medidas.items():
            filas[nombre] = {
                "por_s": codigos.get(201, 0) / t,
                "p50_ms": p(lat, 50),
                "p99_ms": p(lat, 99),
                "respuestas": dict(sorted(codigos.items())),
                "errores": sum(n for c, n in codigos.items() if c != 201),
            }
    techo, r = filas.values()
    razon = r["por_s"] / techo["por_s"]
    print(
        f"\nregistro: solicitudes aceptadas por segundo, {clientes} clientes concurrentes, cuerpo JSON de "
        f"~{len(ejemplo)} bytes (un proceso uvicorn; servidor y carga en la misma máquina)"
    )
    print(
        tabla(
            ["servidor", "201/s", "p50 ms", "p99 ms", "errores", "razón"],
            [
                [n, f"{x['por_s']:.0f}", f"{x['p50_ms']:.1f}", f"{x['p99_ms']:.1f}", str(x["errores"]),
                 f"{x['por_s'] / techo['por_s']:.0%}"]
                for n, x in filas.items()
            ],
        )
    )  # fmt: skip
    cumplida = razon >= META
    print(f"\nmeta: ≥ {META:.0%} del techo no-op → {razon:.0%}: {'cumplida' if cumplida else 'NO cumplida'}")
    resultado = {
        "clientes": clientes,
        "segundos": segundos,
        "bytes_cuerpo": len(ejemplo),
        "techo_noop": techo,
        "registro": r,
        "razon": razon,
        "meta": f"≥ {META:.0%} del techo no-op",
        "meta_cumplida": cumplida,
    }
    guardar("registro", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clientes", type=int, default=32)
    parser.add_argument("--segundos", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(medir(args.clientes, args.segundos))


if __name__ == "__main__":
    main()
