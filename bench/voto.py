"""Benchmark: internet vote intake — verified ballots accepted per second through HTTP
(``POST /v1/elecciones/{uuid}/boletas``: session, voter and window checks, every proof and the signature,
storage, outbox), p50/p99 and the server's CPU per ballot — against the ceiling measured in the same run on
the same cores: ``boleta.verificar`` of the same ballots, a process per server core.

    make bench                      (or: python -m bench.voto --boletas 3000 --conexiones 16)

electronico is a real uvicorn process pinned to the server cores, with its verifiers (a process per server
core; on one core, a thread) and its relay publishing ``electronico.voto.emitido`` to the local broker (on the
generator's core: in production it has machines of its own); wrk sends the ballots from the generator core
(``bench.wrk``), each with its voter's session token. Prepared outside the timed part:
the election opened with its voters, their credentials and one open session each (written straight into its
database: logging in, argon2id and TOTP, is not what this measures), and the ballots — real ones, one per
voter, made in a process pool and cached (``bench.eleccion``). The first 200 ballots warm the server up and
are not counted; the measured run lasts what the rest takes at the warm-up's rate (at most 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import eleccion as el
from bench import wrk
from bench.comun import (
    Servicio,
    broker_local,
    entorno_base,
    guardar,
    progreso,
    sqlite_url,
    tabla,
)
from shared import migrations
from shared.cripto import boleta as bo
from shared.cripto.eleccion import Eleccion, credencial_publica
from shared.cripto.grupo import s

META_RAZON = 0.70
CALENTAMIENTO = 200

_V: tuple[Eleccion, dict[str, int]] | None = None


def _init(eleccion_json: str, publicas: list[str]) -> None:
    global _V
    _V = (Eleccion.leer(eleccion_json.encode()), dict.fromkeys(publicas, 1))


def _verificar(texto: str) -> bool:
    assert _V is not None
    return bool(bo.verificar(_V[0], texto, _V[1]))


def techo(f: el.Fixture, textos: list[str], publicas: list[str], cores: list[int]) -> float:
    """Ballots verified per second on ``cores``, a process per core (what the server's pool can do)."""
    antes = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cores))  # the pool's processes inherit it
    try:
        with ProcessPoolExecutor(len(cores), initializer=_init, initargs=(f.eleccion_json, publicas)) as pool:
            list(pool.map(_verificar, textos[: len(cores)]))  # warm the workers
            muestra = textos[: max(200, len(textos) // 4)]
            t0 = time.perf_counter()
            assert all(pool.map(_verificar, muestra, chunksize=8))
            return len(muestra) / (time.perf_counter() - t0)
    finally:
        os.sched_setaffinity(0, antes)


async def medir(boletas: int, conexiones: int) -> dict[str, Any]:
    servidor_cpus, generador_cpus = wrk.reparto()
    f = el.fixture(boletas)
    await asyncio.to_thread(el.asegurar_boletas, f, boletas)
    textos, _ = f.boletas(boletas)
    publicas = [s(credencial_publica(f.uuid, c)) for c in f.credenciales[:boletas]]
    progreso(f"voto: techo, boleta.verificar de las mismas boletas en los núcleos {servidor_cpus}…")
    techo_s = await asyncio.to_thread(techo, f, textos, publicas, servidor_cpus)
    with tempfile.TemporaryDirectory(prefix="vmre-bench-voto-") as tmp_s, broker_local() as broker:
        tmp = Path(tmp_s)
        assert broker.process is not None
        # The broker runs on machines of its own in production: here, on the generator's core (wrk uses a few
        # % of it at these rates), not on the server's.
        wrk.fijar(broker.process.pid, generador_cpus)
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
                # The proofs on every server core, as a production pod is configured (a process per core);
                # on one core, in a thread: a pool there only adds the IPC (seen: 62 against 79 ballots/s).
                VMRE_ELECTRONICO_VERIFICADORES=str(len(servidor_cpus) if len(servidor_cpus) > 1 else 0),
            ),
            tmp,
            nucleos=servidor_cpus,
        )
        ruta = f"/v1/elecciones/{f.uuid}/boletas"
        servidor.arrancar()
        try:
            host = servidor.url.removeprefix("http://")
            crudas = wrk.crudas(
                host,
                [
                    (ruta, textos[i].encode(), {"Authorization": f"Bearer {tokens[i]}"})
                    for i in range(boletas)
                ],
            )
            progreso(f"voto: calentamiento, {CALENTAMIENTO} boletas…")
            caliente = await asyncio.to_thread(
                wrk.correr, servidor.url, crudas[:CALENTAMIENTO], conexiones=conexiones,
                segundos=max(2.0, CALENTAMIENTO / 60), servidor_pgid=servidor.pid,
            )  # fmt: skip
            usadas = CALENTAMIENTO
            ritmo = max(1.0, caliente.exitosas(201) / caliente.segundos)
            segundos = max(3.0, min(30.0, 0.7 * (boletas - usadas) / ritmo))
            progreso(f"voto: boletas por HTTP durante {segundos:.0f} s, {conexiones} conexiones…")
            r = await asyncio.to_thread(
                wrk.correr, servidor.url, crudas[usadas:], conexiones=conexiones, segundos=segundos,
                servidor_pgid=servidor.pid,
            )  # fmt: skip
        finally:
            servidor.detener()
    aceptadas = r.exitosas(201)
    por_s = aceptadas / r.segundos
    razon = por_s / techo_s
    errores = r.peticiones - aceptadas
    print(
        f"\nvoto por internet: boletas verificadas y guardadas por segundo, entidad {el.ENTIDAD} "
        f"(1 pregunta × 12 opciones, {len(textos[0]):,} bytes); wrk con {conexiones} conexiones; servidor "
        f"en los núcleos {servidor_cpus}, wrk en {generador_cpus}"
    )
    print(
        tabla(
            ["", "boletas/s", "p50 ms", "p99 ms", "CPU ms/boleta", "CPU wrk %", "otras", "razón"],
            [
                [f"techo: boleta.verificar, {len(servidor_cpus)} proceso(s) en {servidor_cpus}",
                 f"{techo_s:.0f}", "", "", f"{1000 * len(servidor_cpus) / techo_s:.1f}", "", "", "100%"],
                [f"POST {ruta.replace(f.uuid, '{uuid}')} ({aceptadas:,})", f"{por_s:.0f}", f"{r.p50_ms:.0f}",
                 f"{r.p99_ms:.0f}", f"{r.cpu_ms_por_peticion:.1f}", f"{r.cpu_generador_pct:.0f}",
                 str(errores), f"{razon:.0%}"],
            ],
        )
    )  # fmt: skip
    cumple = razon >= META_RAZON and errores == 0
    print(
        f"\nmeta: ≥ {META_RAZON:.0%} de boleta.verificar en los mismos núcleos → {por_s:.0f}/s, {razon:.0%}"
        f"{'' if errores == 0 else f', {errores} respuestas que no son 201'}: "
        f"{'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado = {
        "conexiones": conexiones,
        "nucleos_servidor": servidor_cpus,
        "nucleos_generador": generador_cpus,
        "boletas_medidas": aceptadas,
        "wrk": r.como_dict(),
        "por_s": por_s,
        "p50_ms": r.p50_ms,
        "p99_ms": r.p99_ms,
        "techo_verificar_por_s": techo_s,
        "razon": razon,
        "meta": f"≥ {META_RAZON:.0%} de boleta.verificar en los mismos núcleos",
        "meta_cumplida": cumple,
    }
    guardar("voto", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--boletas", type=int, default=3000)
    parser.add_argument("--conexiones", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(medir(args.boletas, args.conexiones))


if __name__ == "__main__":
    main()
