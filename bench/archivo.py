"""Benchmark: the public record (``GET /v1/elecciones/{uuid}/archivo.bel``) of a 30,000-ballot election under
concurrent downloads — the server's memory and CPU — against what the route did before on every request:
rebuild the whole record in memory.

    make bench                      (or: python -m bench.archivo --boletas 30000 --descargas 20 --abiertas 4)

electronico runs as a real uvicorn process on SQLite (no broker: relay and consumers off), its database filled
as the intake would have left it (``bench.eleccion``: real ballots of entidad 14, ~10 KB each). In order:

1. **Before** (what each request cost until now): ``service.archivo`` + ``.bytes()`` — the whole record built
   in memory — in a fresh process: its seconds and its peak resident memory. Run once, not 20 times at once
   (that would be 20 such peaks in this machine's memory).
2. **Open box**: ``--abiertas`` concurrent downloads while the box is open (the record written from the
   database as it streams).
3. **The seal** (``POST /cierre``): the tally, and the record built and stored once.
4. **Sealed**: ``--descargas`` concurrent downloads of the stored record, from the server restarted after the
   seal (what the seal left in its heap is not what downloads cost; in production another pod serves them).

For 2–4: the server process's CPU (seconds, and % of one core) and its resident memory (at the start and the
peak, sampled every 50 ms) from /proc, and each download's time. The downloads are curl processes writing to
/dev/null; their CPU is reported too, to show the ceiling is the server's and not the load generator's. One
sealed download's SHA-256 is compared with the rebuild's. ``--raiz DIR`` runs the server from another source
tree, to measure an older version the same way (mind its memory: the old route held the whole record per
download).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

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
    rss_kib,
    sqlite_url,
    tabla,
)
from shared import migrations
from shared.auth import Rol, mint_token
from shared.settings import AuthSettings

META_RSS_MIB = 200.0  # goal: 20 concurrent downloads of the sealed record grow the server by less than this


def _reconstruir(url: str, uuid: str) -> dict[str, Any]:
    """In a fresh process: the record rebuilt whole in memory, as the route did per request."""
    from services.electronico import service
    from services.electronico.models import Eleccion
    from shared.db import make_engine, make_sessionmaker

    async def correr() -> dict[str, Any]:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                e = await session.get(Eleccion, uuid)
                assert e is not None
                rss0 = rss_kib_propio()
                t0 = time.perf_counter()
                datos = (await service.archivo(session, e)).bytes()
                segundos = time.perf_counter() - t0
        finally:
            await engine.dispose()
        return {
            "segundos": segundos,
            "bytes": len(datos),
            "sha256": hashlib.sha256(datos).hexdigest(),
            "rss_antes_mib": rss0 / 1024,
            "rss_pico_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    return asyncio.run(correr())


def rss_kib_propio() -> int:
    import os

    return rss_kib(os.getpid())


async def _descargas(url: str, n: int) -> tuple[list[dict[str, Any]], float]:
    """``n`` concurrent curl downloads of ``url`` to /dev/null; each one's status, bytes and seconds, and the
    CPU seconds the curl processes used."""
    antes = resource.getrusage(resource.RUSAGE_CHILDREN)

    async def una() -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        salida, _ = await proc.communicate()
        codigo, tamano, segundos = salida.decode().split()
        return {"codigo": int(codigo), "bytes": int(tamano), "segundos": float(segundos)}

    resultados = await asyncio.gather(*(una() for _ in range(n)))
    despues = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (despues.ru_utime - antes.ru_utime) + (despues.ru_stime - antes.ru_stime)
    return list(resultados), cpu


def _fila(nombre: str, m: Muestreo, descargas: list[dict[str, Any]], cpu_curl: float) -> dict[str, Any]:
    total = sum(d["bytes"] for d in descargas)
    tiempos = [d["segundos"] for d in descargas]
    return {
        "fase": nombre,
        "descargas": len(descargas),
        "errores": sum(1 for d in descargas if d["codigo"] != 200),
        "mib": total / 2**20,
        "segundos": m.segundos,
        "mib_por_s": total / 2**20 / m.segundos,
        "p50_s": p(tiempos, 50),
        "max_s": max(tiempos),
        "cpu_servidor_s": m.cpu_s,
        "cpu_servidor_pct": m.cpu_pct,
        "rss_inicial_mib": m.rss_inicial_mib,
        "rss_pico_mib": m.rss_pico_mib,
        "cpu_curl_s": cpu_curl,
    }


async def medir(
    boletas: int = 30_000, descargas: int = 20, abiertas: int = 4, raiz: Path = RAIZ
) -> dict[str, Any]:
    f = el.fixture(boletas)
    await asyncio.to_thread(el.asegurar_boletas, f, boletas)
    textos, _ = f.boletas(boletas)
    tamano_boleta = sum(len(t) for t in textos) / len(textos)
    with tempfile.TemporaryDirectory(prefix="vmre-bench-archivo-") as tmp_s:
        tmp = Path(tmp_s)
        ruta_db = tmp / "electronico.db"
        url = sqlite_url(ruta_db)
        await asyncio.to_thread(migrations.upgrade, "electronico", url)
        progreso(f"archivo: escribiendo la elección y {boletas:,} boletas en la base de electronico…")
        ahora = dt.datetime.now(dt.UTC)
        await asyncio.to_thread(
            el.llenar_electronico,
            ruta_db,
            f,
            boletas,
            ahora - dt.timedelta(hours=2),
            ahora - dt.timedelta(seconds=1),  # the window has ended: the box may be sealed
            textos,
        )
        del textos
        servidor = Servicio(
            "services.electronico.main:create_app",
            entorno_base(
                VMRE_ELECTRONICO_DATABASE_URL=url,
                VMRE_ELECTRONICO_RELAY_ENABLED="false",
                VMRE_ELECTRONICO_CONSUMERS_ENABLED="false",  # no automatic sealing: the POST seals
                VMRE_ELECTRONICO_VERIFICADORES=str(nucleos()),
            ),
            tmp,
            raiz=raiz,
        )
        base = f"/v1/elecciones/{f.uuid}/archivo.bel"
        filas = []
        try:
            servidor.arrancar()
            progreso(f"archivo: {abiertas} descargas simultáneas con la urna abierta…")
            async with Muestreo(servidor.pid) as m:
                resultado, cpu_curl = await _descargas(servidor.url + base, abiertas)
            filas.append(_fila(f"urna abierta: {abiertas} descargas (desde la base)", m, resultado, cpu_curl))

            progreso("archivo: sellando (recuento y archivo guardado una vez)…")
            admin = {"Authorization": f"Bearer {mint_token(AuthSettings(), Rol.INE_ADMIN)}"}
            async with httpx.AsyncClient(timeout=900) as cliente, Muestreo(servidor.pid) as sello:
                r = await cliente.post(f"{servidor.url}/v1/elecciones/{f.uuid}/cierre", headers=admin)
            if r.status_code != 200:
                raise RuntimeError(f"cierre: {r.status_code} {r.text[:300]}")

            # Restarted: what the seal left in this process's heap is not what downloads cost (in production
            # another pod, or this one later, serves them).
            servidor.detener()
            servidor.arrancar()
            progreso(f"archivo: {descargas} descargas simultáneas del archivo sellado…")
            async with Muestreo(servidor.pid) as m:
                resultado, cpu_curl = await _descargas(servidor.url + base, descargas)
            filas.append(_fila(f"sellada: {descargas} descargas (guardado)", m, resultado, cpu_curl))
            async with httpx.AsyncClient(timeout=300) as cliente:
                h = hashlib.sha256()
                async with cliente.stream("GET", servidor.url + base) as r:
                    async for trozo in r.aiter_bytes():
                        h.update(trozo)
                etag = r.headers.get("etag")
                rango = await cliente.get(servidor.url + base, headers={"Range": "bytes=1000000-1999999"})
            rss_final = servidor.rss_kib() / 1024
        finally:
            servidor.detener()
        progreso("archivo: antes — el archivo completo reconstruido en memoria, en un proceso aparte…")
        contexto = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=contexto) as pool:
            antes = await asyncio.get_running_loop().run_in_executor(pool, _reconstruir, url, f.uuid)
    rango_ok = (rango.status_code, len(rango.content)) == (206, 1_000_000)
    correcto = h.hexdigest() == antes["sha256"] and (rango_ok or raiz != RAIZ)
    if not correcto:
        raise RuntimeError("el archivo servido no es byte a byte el reconstruido")
    sellada = filas[-1]
    crecimiento = sellada["rss_pico_mib"] - sellada["rss_inicial_mib"]
    cumple = crecimiento < META_RSS_MIB and all(x["errores"] == 0 for x in filas)

    mib = antes["bytes"] / 2**20
    print(
        f"\narchivo.bel: {boletas:,} boletas de {tamano_boleta / 1024:.1f} KiB (entidad {el.ENTIDAD}), "
        f"archivo de {mib:.0f} MiB; servidor electronico (uvicorn, 1 proceso, SQLite) y curl en la misma "
        f"máquina ({nucleos()} núcleos)"
    )
    print(
        f"antes, por petición: reconstruirlo en memoria tomó {antes['segundos']:.1f} s y llevó el proceso de "
        f"{antes['rss_antes_mib']:.0f} a {antes['rss_pico_mib']:.0f} MiB de RSS "
        f"(+{antes['rss_pico_mib'] - antes['rss_antes_mib']:.0f} MiB por descarga)"
    )
    print(
        f"sellado (recuento + archivo guardado una vez): {sello.segundos:.1f} s; RSS del servidor "
        f"{sello.rss_inicial_mib:.0f} → pico {sello.rss_pico_mib:.0f} MiB; CPU {sello.cpu_s:.1f} s\n"
    )
    encabezados = ["fase", "MiB", "s", "MiB/s", "p50 s", "máx s", "CPU serv. s", "% núcleo",
                   "RSS ini→pico MiB", "CPU curl s"]  # fmt: skip
    renglones = [
        [x["fase"], f"{x['mib']:.0f}", f"{x['segundos']:.1f}", f"{x['mib_por_s']:.0f}", f"{x['p50_s']:.1f}",
         f"{x['max_s']:.1f}", f"{x['cpu_servidor_s']:.1f}", f"{x['cpu_servidor_pct']:.0f}",
         f"{x['rss_inicial_mib']:.0f}→{x['rss_pico_mib']:.0f}", f"{x['cpu_curl_s']:.1f}"]
        for x in filas
    ]  # fmt: skip
    print(tabla(encabezados, renglones))
    print(
        f"\nSHA-256 de una descarga = el de la reconstrucción; Range 1,000,000 bytes → {rango.status_code} "
        f"({len(rango.content):,} bytes); ETag {etag}. "
        f"RSS del servidor al final: {rss_final:.0f} MiB"
    )
    print(
        f"meta: 20 descargas simultáneas del archivo sellado hacen crecer el servidor menos de "
        f"{META_RSS_MIB:.0f} MiB → +{crecimiento:.0f} MiB: {'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado_final: dict[str, Any] = {
        "boletas": boletas,
        "boleta_kib": tamano_boleta / 1024,
        "archivo_mib": mib,
        "antes_por_peticion": antes,
        "sellado": {
            "segundos": sello.segundos,
            "cpu_s": sello.cpu_s,
            "rss_inicial_mib": sello.rss_inicial_mib,
            "rss_pico_mib": sello.rss_pico_mib,
        },
        "fases": filas,
        "crecimiento_sellada_mib": crecimiento,
        "meta": f"{descargas} descargas del archivo sellado: el servidor crece < {META_RSS_MIB:.0f} MiB",
        "meta_cumplida": cumple,
    }
    guardar("archivo" if raiz == RAIZ else "archivo-otra-raiz", resultado_final)
    return resultado_final


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--boletas", type=int, default=30_000)
    parser.add_argument("--descargas", type=int, default=20)
    parser.add_argument("--abiertas", type=int, default=4)
    parser.add_argument("--raiz", type=Path, default=RAIZ, help="el árbol de fuentes del servidor")
    args = parser.parse_args()
    asyncio.run(medir(args.boletas, args.descargas, args.abiertas, args.raiz))


if __name__ == "__main__":
    main()
