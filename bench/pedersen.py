"""Benchmark: the two public routes that read an election's trustees record — ``GET
/v1/elecciones/{uuid}/ceremonia`` (electronico) and ``GET /v1/escrutinio-electronico/{uuid}`` (computo) —
under load: the server's CPU per request, against the same server's ``/healthz`` (its fixed cost per request,
the floor) and against what each call cost before on top of it: reading the record checks every Pedersen
certificate, signature and verification key (measured here, in this process). The routes now check it once
per process and text of the record.

The figure is the server's CPU per request (from /proc), not requests per second: on 2 cores a Python load
generator tops out near /healthz's rate, so that rate would be the generator's ceiling, not the server's.

    make bench                      (or: python -m bench.pedersen --clientes 8 --segundos 8)

Each server is a real uvicorn process on SQLite (no broker), holding the benchmark election of
``bench.eleccion`` (3 of 5 custodians, its key fixed; no ceremony messages: the route's per-call work is the
trustees record and the database), computo with its sealed box (the tally of 200 of its ballots).
``--clientes`` clients in a closed loop (each sends its next request when the previous one answered) for
``--segundos`` s per route, after 2 s of warm-up; the server's CPU (% of one core) and memory from /proc.
``--raiz DIR`` runs the servers from another source tree, to measure an older version the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert

from bench import eleccion as el
from bench.comun import (
    RAIZ,
    Muestreo,
    Servicio,
    entorno_base,
    guardar,
    nucleos,
    p,
    progreso,
    sqlite_url,
    tabla,
)
from services.computo.models import EscrutinioElectronico
from services.electronico.service.sello import _recuento
from shared import migrations
from shared.cripto.custodios import Custodios

# Goal: each route costs the server less CPU per request than the check alone cost before.


async def _carga(base: str, ruta: str, clientes: int, segundos: float) -> tuple[list[float], int, float]:
    """Closed loop of GETs: latencies (ms), errors, elapsed seconds."""
    latencias: list[float] = []
    errores = 0
    limites = httpx.Limits(max_connections=clientes, max_keepalive_connections=clientes)
    async with httpx.AsyncClient(base_url=base, limits=limites, timeout=30) as cliente:
        inicio = time.perf_counter()
        fin = inicio + segundos

        async def uno() -> None:
            nonlocal errores
            while time.perf_counter() < fin:
                t0 = time.perf_counter()
                try:
                    r = await cliente.get(ruta)
                    errores += r.status_code != 200
                except httpx.HTTPError:
                    errores += 1
                latencias.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(uno() for _ in range(clientes)))
        return latencias, errores, time.perf_counter() - inicio


def _antes(custodios_json: str, veces: int = 20) -> float:
    """Milliseconds one read of the trustees record takes (what every call did before)."""
    t0 = time.perf_counter()
    for _ in range(veces):
        Custodios.leer(json.loads(custodios_json))
    return (time.perf_counter() - t0) * 1000 / veces


async def medir(clientes: int = 8, segundos: float = 8.0, raiz: Path = RAIZ) -> dict[str, Any]:
    f = el.fixture(200)
    await asyncio.to_thread(el.asegurar_boletas, f, 200)
    textos, _ = f.boletas(200)
    antes_ms = _antes(f.custodios_json)
    recuento, dimensionado = _recuento(f.eleccion, textos)
    filas: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vmre-bench-pedersen-") as tmp_s:
        tmp = Path(tmp_s)
        urls = {s: sqlite_url(tmp / f"{s}.db") for s in ("electronico", "computo")}
        for s, url in urls.items():
            await asyncio.to_thread(migrations.upgrade, s, url)
        ahora = dt.datetime.now(dt.UTC)
        await asyncio.to_thread(
            el.llenar_electronico, tmp / "electronico.db", f, 200, ahora, ahora + dt.timedelta(days=1)
        )
        engine = create_engine(f"sqlite:///{tmp / 'computo.db'}")
        with engine.begin() as conn:
            conn.execute(
                insert(EscrutinioElectronico).values(
                    eleccion=f.uuid,
                    entidad=el.ENTIDAD,
                    cargo=el.PROCESO.entidades[el.ENTIDAD].cargos[0].clave,
                    simulacro=False,
                    boletas=len(textos),
                    sello="0" * 64,
                    eleccion_json=f.eleccion_json,
                    custodios_json=f.custodios_json,
                    recuento=recuento,
                    recuento_dimensionado=dimensionado,
                )
            )
        engine.dispose()
        rutas = {
            "electronico": f"/v1/elecciones/{f.uuid}/ceremonia",
            "computo": f"/v1/escrutinio-electronico/{f.uuid}",
        }
        for servicio, ruta in rutas.items():
            prefijo = f"VMRE_{servicio.upper()}_"
            servidor = Servicio(
                f"services.{servicio}.main:create_app",
                entorno_base(
                    **{
                        f"{prefijo}DATABASE_URL": urls[servicio],
                        f"{prefijo}RELAY_ENABLED": "false",
                        f"{prefijo}CONSUMERS_ENABLED": "false",
                    }
                ),
                tmp,
                raiz=raiz,
            )
            try:
                servidor.arrancar()
                for nombre, r in ((f"{servicio}: /healthz (costo fijo)", "/healthz"), (f"GET {ruta}", ruta)):
                    progreso(f"pedersen: {nombre}, {clientes} clientes, {segundos:.0f} s…")
                    await _carga(servidor.url, r, clientes, 2.0)  # warm-up, not measured
                    async with Muestreo(servidor.pid) as m:
                        lat, err, t = await _carga(servidor.url, r, clientes, segundos)
                    filas.append(
                        {
                            "cpu_ms_por_peticion": m.cpu_s * 1000 / max(1, len(lat)),
                            "servicio": servicio,
                            "ruta": nombre,
                            "por_s": len(lat) / t,
                            "p50_ms": p(lat, 50),
                            "p99_ms": p(lat, 99),
                            "errores": err,
                            "cpu_pct": m.cpu_pct,
                            "rss_mib": m.rss_pico_mib,
                        }
                    )
            finally:
                servidor.detener()
    rutas_medidas = filas[1::2]
    cumple = all(x["cpu_ms_por_peticion"] < antes_ms for x in rutas_medidas)
    cumple = cumple and all(x["errores"] == 0 for x in filas)
    print(
        f"\nrutas que leen los parámetros de los custodios (3 de 5), {clientes} clientes en lazo cerrado, "
        f"{segundos:.0f} s por ruta; servidor (uvicorn, 1 proceso, SQLite) y carga en la misma máquina "
        f"({nucleos()} núcleos)"
    )
    print(
        "antes, por llamada: leer los parámetros (verificar cada certificado, firma y clave) "
        f"{antes_ms:.1f} ms de un núcleo → a lo más {1000 / antes_ms:.0f} llamadas/s por núcleo solo en eso\n"
    )
    print(
        tabla(
            [
                "ruta",
                "atendidas/s",
                "p50 ms",
                "p99 ms",
                "errores",
                "CPU % núcleo",
                "CPU ms/petición",
                "RSS MiB",
            ],
            [
                [
                    x["ruta"],
                    f"{x['por_s']:.0f}",
                    f"{x['p50_ms']:.1f}",
                    f"{x['p99_ms']:.1f}",
                    str(x["errores"]),
                    f"{x['cpu_pct']:.0f}",
                    f"{x['cpu_ms_por_peticion']:.2f}",
                    f"{x['rss_mib']:.0f}",
                ]
                for x in filas
            ],
        )
    )
    print(
        f"\nmeta: cada ruta cuesta al servidor menos CPU por petición que, antes, la sola verificación "
        f"({antes_ms:.1f} ms) → {'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado: dict[str, Any] = {
        "clientes": clientes,
        "segundos": segundos,
        "antes_ms_por_llamada": antes_ms,
        "rutas": filas,
        "meta": f"CPU por petición < {antes_ms:.1f} ms (la verificación sola, antes)",
        "meta_cumplida": cumple,
    }
    guardar("pedersen" if raiz == RAIZ else "pedersen-otra-raiz", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clientes", type=int, default=8)
    parser.add_argument("--segundos", type=float, default=8.0)
    parser.add_argument("--raiz", type=Path, default=RAIZ, help="el árbol de fuentes de los servidores")
    args = parser.parse_args()
    asyncio.run(medir(args.clientes, args.segundos, args.raiz))


if __name__ == "__main__":
    main()
