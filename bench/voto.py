"""Benchmark: internet vote intake — verified ballots accepted per second through HTTP
(``POST /v1/elecciones/{uuid}/boletas``: session, voter and window checks, every proof and the signature,
storage, outbox), p50/p99 — against the machine's ceiling measured in the same run: ``boleta.verificar`` of
the same ballots in this process, one core (the server is one process), and on every core for reference.

    make bench                      (or: python -m bench.voto --boletas 2500 --clientes 16)

electronico is a real uvicorn process on SQLite, its relay publishing ``electronico.voto.emitido`` to the
local broker. Prepared outside the timed part: the election opened with its voters, their credentials and
one open session each (written straight into its database: logging in, argon2id and TOTP, is not what this
measures), and the ballots — real ones, one per voter, made in a process pool and cached
(``bench.eleccion``). The first 200 ballots warm the server up and are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import eleccion as el
from bench.comun import (
    Peticion,
    Servicio,
    broker_local,
    carga_cerrada,
    entorno_base,
    guardar,
    nucleos,
    p,
    progreso,
    sqlite_url,
    tabla,
)
from shared import migrations
from shared.cripto import boleta as bo
from shared.cripto.eleccion import Eleccion, credencial_publica
from shared.cripto.grupo import s

META_POR_S = 100.0
META_RAZON = 0.70
CALENTAMIENTO = 200

_V: tuple[Eleccion, dict[str, int]] | None = None


def _init(eleccion_json: str, publicas: list[str]) -> None:
    global _V
    _V = (Eleccion.leer(eleccion_json.encode()), dict.fromkeys(publicas, 1))


def _verificar(texto: str) -> bool:
    assert _V is not None
    return bool(bo.verificar(_V[0], texto, _V[1]))


def techo(f: el.Fixture, textos: list[str], publicas: list[str]) -> tuple[float, float]:
    """Ballots verified per second in this process (one core) and with a process per core."""
    _init(f.eleccion_json, publicas)
    muestra = textos[: max(100, len(textos) // 8)]
    t0 = time.perf_counter()
    for t in muestra:
        _verificar(t)
    uno = len(muestra) / (time.perf_counter() - t0)
    with ProcessPoolExecutor(nucleos(), initializer=_init, initargs=(f.eleccion_json, publicas)) as pool:
        list(pool.map(_verificar, textos[: nucleos()]))  # warm the workers
        muestra = textos[: 2 * len(muestra)]
        t0 = time.perf_counter()
        list(pool.map(_verificar, muestra, chunksize=8))
        todos = len(muestra) / (time.perf_counter() - t0)
    return uno, todos


async def medir(boletas: int, clientes: int) -> dict[str, Any]:
    f = el.fixture(boletas)
    await asyncio.to_thread(el.asegurar_boletas, f, boletas)
    textos, _ = f.boletas(boletas)
    publicas = [s(credencial_publica(f.uuid, c)) for c in f.credenciales[:boletas]]
    progreso(f"voto: techo, boleta.verificar de las mismas boletas en este proceso ({nucleos()} núcleos)…")
    techo_1, techo_n = await asyncio.to_thread(techo, f, textos, publicas)
    with tempfile.TemporaryDirectory(prefix="vmre-bench-voto-") as tmp_s, broker_local() as broker:
        tmp = Path(tmp_s)
        url = sqlite_url(tmp / "electronico.db")
        await asyncio.to_thread(migrations.upgrade, "electronico", url)
        ahora = dt.datetime.now(dt.UTC)
        progreso(f"voto: la elección abierta con {boletas:,} votantes y sus sesiones…")
        tokens = await asyncio.to_thread(
            el.llenar_electronico,
            tmp / "electronico.db",
            f,
            boletas,
            ahora - dt.timedelta(hours=1),
            ahora + dt.timedelta(hours=2),
            None,
            True,
        )
        servidor = Servicio(
            "services.electronico.main:create_app",
            entorno_base(
                VMRE_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
                VMRE_ELECTRONICO_DATABASE_URL=url,
                VMRE_ELECTRONICO_CONSUMERS_ENABLED="false",
                # The proofs on every core, as a production pod is configured (process pool).
                VMRE_ELECTRONICO_VERIFICADORES=str(nucleos()),
            ),
            tmp,
        )
        ruta = f"/v1/elecciones/{f.uuid}/boletas"

        def peticiones(desde: int, hasta: int) -> Iterator[Peticion]:
            for i in range(desde, hasta):
                yield ruta, textos[i].encode(), {"Authorization": f"Bearer {tokens[i]}"}

        servidor.arrancar()
        try:
            await carga_cerrada(servidor.url, peticiones(0, CALENTAMIENTO), clientes, 60)
            progreso(f"voto: {boletas - CALENTAMIENTO:,} boletas por HTTP, {clientes} clientes…")
            lat, codigos, t = await carga_cerrada(
                servidor.url, peticiones(CALENTAMIENTO, boletas), clientes, 120
            )
        finally:
            servidor.detener()
    aceptadas = codigos.get(201, 0)
    por_s = aceptadas / t
    # The server verifies on every core (VMRE_ELECTRONICO_VERIFICADORES): its ceiling is every core's.
    razon = por_s / techo_n
    errores = sum(n for c, n in codigos.items() if c != 201)
    print(
        f"\nvoto por internet: boletas verificadas y guardadas por segundo, entidad {el.ENTIDAD} "
        f"(1 pregunta × 12 opciones, {len(textos[0]):,} bytes), {clientes} clientes concurrentes"
    )
    print(
        tabla(
            ["", "boletas/s", "p50 ms", "p99 ms", "errores", "razón"],
            [
                [f"      boleta.verificar, 1 núcleo ({len(textos) // 8:,} boletas, referencia)",
                 f"{techo_1:.0f}", "", "", "", f"{techo_1 / techo_n:.0%}"],
                [f"techo: boleta.verificar, {nucleos()} procesos", f"{techo_n:.0f}", "", "", "", "100%"],
                [f"POST {ruta.replace(f.uuid, '{uuid}')} ({aceptadas:,})", f"{por_s:.0f}",
                 f"{p(lat, 50):.0f}", f"{p(lat, 99):.0f}", str(errores), f"{razon:.0%}"],
            ],
        )
    )  # fmt: skip
    cumple = por_s >= META_POR_S and razon >= META_RAZON
    print(
        f"\nmeta: ≥ {META_POR_S:.0f} boletas/s y ≥ {META_RAZON:.0%} del techo de todos los núcleos → "
        f"{por_s:.0f}/s, "
        f"{razon:.0%}: {'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado = {
        "clientes": clientes,
        "boletas_medidas": aceptadas,
        "respuestas": dict(sorted(codigos.items())),
        "por_s": por_s,
        "p50_ms": p(lat, 50),
        "p99_ms": p(lat, 99),
        "techo_verificar_1_nucleo_por_s": techo_1,
        "techo_verificar_todos_por_s": techo_n,
        "razon": razon,
        "meta": f"≥ {META_POR_S:.0f} boletas/s y ≥ {META_RAZON:.0%} del techo de verificación",
        "meta_cumplida": cumple,
    }
    guardar("voto", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--boletas", type=int, default=2500)
    parser.add_argument("--clientes", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(medir(args.boletas, args.clientes))


if __name__ == "__main__":
    main()
