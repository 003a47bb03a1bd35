"""Benchmark: registro's intake — applications accepted per second on one uvicorn worker, p50/p99 and the
server's CPU per application — against ceilings measured in the same run, the same way:

- the generator's: wrk against ``bench.estatico``, a static no-op server (what wrk sends on its core);
- the framework's: a no-op FastAPI endpoint that parses the same JSON body (one uvicorn worker).

    make bench                      (or: python -m bench.registro --conexiones 32 --segundos 10)

The servers are pinned to the server cores, wrk to the generator core (``bench.wrk``), and so is the local
broker registro's relay publishes to (in production the broker has machines of its own). registro runs on
SQLite with its relay; each request validates the application, encrypts its personal data, stores it, its
audit record and its event (outbox) in one transaction and answers 201. Proceso ``demo`` (its registration
period contains today). Every request is a different valid application (``tests.factories``, a new clave de
elector each). Each server is first loaded for 2 s (not measured), then measured in alternating windows (2
rounds), so that the background load of the machine weighs on all alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import wrk
from bench.comun import Peticion, Servicio, broker_local, entorno_base, guardar, progreso, sqlite_url, tabla
from shared import migrations
from tests.factories import solicitud

META = 0.10  # ≥ 10 % of the no-op FastAPI ceiling, on one worker
HOLGURA_GENERADOR = 3.0  # the generator alone must send ≥ 3× what the no-op server serves
ENTIDADES = ["03", "06", "08", "09", "12", "14", "16", "18", "22", "24", "32"]
PAISES = ["US", "US", "US", "US", "CA", "ES", "DE", "FR", "GB", "AR"]


def _solicitudes(desde: int, cuantas: int) -> list[Peticion]:
    return [
        (
            "/v1/solicitudes",
            json.dumps(
                solicitud(
                    n,
                    entidad=ENTIDADES[n % len(ENTIDADES)],
                    modalidad="electronica" if n % 3 else "postal",
                    pais=PAISES[n % len(PAISES)],
                )
            ).encode(),
            {},
        )
        for n in range(desde, desde + cuantas)
    ]


def _fila(nombre: str, r: wrk.Resultado, exito: int, techo: float) -> list[str]:
    return [
        nombre, f"{r.exitosas(exito) / r.segundos:,.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}",
        f"{r.cpu_ms_por_peticion:.3f}", f"{r.cpu_servidor_pct:.0f}", f"{r.cpu_generador_pct:.0f}",
        str(r.peticiones - r.exitosas(exito)), f"{r.exitosas(exito) / r.segundos / techo:.1%}",
    ]  # fmt: skip


async def medir(conexiones: int, segundos: float, rondas: int = 2, maximo: int = 40_000) -> dict[str, Any]:
    """``maximo``: applications written for registro (each sent once; more than it can take in the run)."""
    servidor_cpus, generador_cpus = wrk.reparto()
    ejemplo = _solicitudes(1, 1)[0][1]
    with tempfile.TemporaryDirectory(prefix="vmre-bench-registro-") as tmp_s, broker_local() as broker:
        tmp = Path(tmp_s)
        assert broker.process is not None
        # The broker runs on machines of its own in production: here, on the generator's core (wrk uses a few
        # % of it at these rates), not on the server's.
        wrk.fijar(broker.process.pid, generador_cpus)
        url = sqlite_url(tmp / "registro.db")
        await asyncio.to_thread(migrations.upgrade, "registro", url)
        env = entorno_base(VMRE_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, VMRE_PROCESO="demo")
        estatico = Servicio("", env, tmp, nombre="estatico", nucleos=servidor_cpus)
        estatico.argv = [sys.executable, "-m", "bench.estatico", "--puerto", str(estatico.puerto)]
        noop = Servicio("bench.noop:create_app", env, tmp, nombre="noop", nucleos=servidor_cpus)
        registro = Servicio(
            "services.registro.main:create_app",
            {**env, "VMRE_REGISTRO_DATABASE_URL": url},
            tmp,
            nucleos=servidor_cpus,
        )
        progreso(f"registro: {maximo:,} solicitudes distintas para wrk…")
        cuerpos = await asyncio.to_thread(_solicitudes, 1, maximo)
        techo_cuerpos = await asyncio.to_thread(_solicitudes, 10_000_000, 2_000)
        servidores = {
            "generador: wrk contra un servidor estático": (estatico, techo_cuerpos, 200),
            "techo: POST no-op (FastAPI)": (noop, techo_cuerpos, 201),
            "POST /v1/solicitudes (registro)": (registro, cuerpos, 201),
        }
        medidas: dict[str, list[wrk.Resultado]] = {n: [] for n in servidores}
        usadas = 0
        try:
            for s, _, _ in servidores.values():
                s.arrancar()
            host = lambda s: s.url.removeprefix("http://")  # noqa: E731
            crudas = {n: wrk.crudas(host(s), c) for n, (s, c, _) in servidores.items()}
            for nombre, (s, _, _) in servidores.items():  # warm-up, not measured
                r = await asyncio.to_thread(
                    wrk.correr, s.url, crudas[nombre][usadas:] if s is registro else crudas[nombre],
                    conexiones=conexiones, segundos=2, servidor_pgid=s.pid,
                )  # fmt: skip
                if s is registro:
                    usadas += r.peticiones + conexiones
            for ronda in range(rondas):
                for nombre, (s, _, _) in servidores.items():
                    progreso(
                        f"registro: {nombre}, {conexiones} conexiones durante {segundos / rondas:.0f} s "
                        f"(ronda {ronda + 1} de {rondas})…"
                    )
                    r = await asyncio.to_thread(
                        wrk.correr, s.url, crudas[nombre][usadas:] if s is registro else crudas[nombre],
                        conexiones=conexiones, segundos=segundos / rondas, servidor_pgid=s.pid,
                    )  # fmt: skip
                    if s is registro:
                        usadas += r.peticiones + conexiones  # the ones in flight when wrk stopped
                        if r.vueltas:
                            raise RuntimeError(
                                f"registro recibió más de {maximo:,} solicitudes: suba --maximo"
                            )
                    medidas[nombre].append(r)
        finally:
            for s, _, _ in servidores.values():
                s.detener()

    def junta(rs: list[wrk.Resultado]) -> wrk.Resultado:
        t = sum(r.segundos for r in rs)
        estados: dict[int, int] = {}
        for r in rs:
            for c, n in r.estados.items():
                estados[c] = estados.get(c, 0) + n
        n = sum(r.peticiones for r in rs)
        return wrk.Resultado(
            peticiones=n, segundos=t, por_s=n / t,
            p50_ms=max(r.p50_ms for r in rs), p90_ms=max(r.p90_ms for r in rs),
            p99_ms=max(r.p99_ms for r in rs), max_ms=max(r.max_ms for r in rs), estados=estados,
            errores_socket={k: sum(r.errores_socket[k] for r in rs) for k in rs[0].errores_socket},
            vueltas=sum(r.vueltas for r in rs), cpu_servidor_s=sum(r.cpu_servidor_s for r in rs),
            cpu_generador_s=sum(r.cpu_generador_s for r in rs),
        )  # fmt: skip

    gen, techo, reg = (junta(medidas[n]) for n in servidores)
    exito = {n: e for n, (_, _, e) in servidores.items()}
    techo_s = techo.exitosas(201) / techo.segundos
    reg_s = reg.exitosas(201) / reg.segundos
    gen_s = gen.exitosas(200) / gen.segundos
    razon = reg_s / techo_s
    holgura = gen_s / techo_s
    print(
        f"\nregistro: solicitudes aceptadas por segundo, wrk con {conexiones} conexiones, cuerpo JSON de "
        f"~{len(ejemplo)} bytes; servidores en los núcleos {servidor_cpus}, wrk en {generador_cpus} "
        "(p50/p99: el peor de las rondas)"
    )
    print(
        tabla(
            ["servidor", "2xx/s", "p50 ms", "p99 ms", "CPU ms/pet.", "CPU serv. %", "CPU wrk %", "otras",
             "del techo"],
            [_fila(n, r, exito[n], techo_s) for n, r in zip(servidores, (gen, techo, reg), strict=True)],
        )
    )  # fmt: skip
    print(
        f"\nel generador envía {holgura:.1f}× lo que atiende el no-op "
        f"({'no es el tope' if holgura >= HOLGURA_GENERADOR else 'PODRÍA SER EL TOPE'})"
    )
    cumplida = razon >= META and holgura >= HOLGURA_GENERADOR
    print(
        f"meta: ≥ {META:.0%} del techo no-op en un worker → {razon:.1%}: "
        f"{'cumplida' if cumplida else 'NO cumplida'}"
    )
    resultado = {
        "conexiones": conexiones,
        "segundos": segundos,
        "bytes_cuerpo": len(ejemplo),
        "nucleos_servidor": servidor_cpus,
        "nucleos_generador": generador_cpus,
        "generador": gen.como_dict(),
        "techo_noop": techo.como_dict(),
        "registro": {**reg.como_dict(), "por_s": reg_s},
        "holgura_generador": holgura,
        "razon": razon,
        "meta": f"≥ {META:.0%} del techo no-op (wrk, un worker)",
        "meta_cumplida": cumplida,
    }
    guardar("registro", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conexiones", type=int, default=32)
    parser.add_argument("--segundos", type=float, default=10.0)
    parser.add_argument("--maximo", type=int, default=40_000)
    args = parser.parse_args()
    asyncio.run(medir(args.conexiones, args.segundos, maximo=args.maximo))


if __name__ == "__main__":
    main()
