"""Benchmark: tablero's read API — the OPL API and the dashboard JSON — at the highest rate one uvicorn worker
serves (wrk, closed loop), and its p50/p99 at 80 % of that rate (wrk on a schedule), against the ceiling
measured in the same run, the same way: a no-op FastAPI ``GET`` on one worker (``bench.noop``).

    make bench                      (or: python -m bench.tablero --segundos 6 --solicitudes 5000)

The servers are real uvicorn processes pinned to the server cores, wrk to the generator core (``bench.wrk``);
tablero runs on SQLite with its projections filled from events (11 entidades, thousands of applications).
Its answers are built once per version of the read model, so under load a request costs the lookup of the
version (``VMRE_TABLERO_CACHE_SEGUNDOS``) and the copy of a stored body. Each route is first loaded for 2 s
(not measured). The 1,000 SSE viewers of the goal are ``bench.flujo``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from bench import wrk
from bench.comun import Servicio, entorno_base, guardar, progreso, sqlite_url, tabla
from services.tablero.handlers import build
from services.tablero.models import ProcessedEvent
from shared import migrations
from shared.auth import Rol, mint_token
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.db import make_engine, make_sessionmaker
from shared.events import registro as eventos
from shared.proceso import cargar
from shared.settings import AuthSettings

META_P99_MS = 50.0
META_RAZON = 0.50
PAISES = ["US", "US", "US", "US", "CA", "ES", "DE", "FR", "GB", "AR"]


async def _llenar(url: str, solicitudes: int) -> None:
    proceso = cargar("pel2021")
    handlers = build(proceso)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    entidades = list(proceso.entidades)
    inicio = dt.datetime(2020, 9, 1, 12, tzinfo=dt.UTC)
    async with maker() as session, session.begin():
        for n in range(solicitudes):
            env = Envelope.new(
                event_type=eventos.SOLICITUD_RECIBIDA,
                source="registro",
                aggregate_id=f"F{n}",
                data=eventos.SolicitudRecibida(
                    folio=f"F{n}",
                    entidad=entidades[n % len(entidades)],
                    modalidad="electronica" if n % 3 else "postal",
                    recibida_at=inicio + dt.timedelta(hours=n % 4000),
                    pais=PAISES[n % len(PAISES)],
                ),
            )
            await apply_once(session, ProcessedEvent, "bench", env, handlers[env.event_type])
    await engine.dispose()


def _crudas(host: str, ruta: str, cabeceras: dict[str, str]) -> list[bytes]:
    return wrk.crudas(host, [(ruta, b"", cabeceras)], "GET")


async def medir(segundos: float = 6.0, solicitudes: int = 5_000, conexiones: int = 32) -> dict[str, Any]:
    servidor_cpus, generador_cpus = wrk.reparto()
    with tempfile.TemporaryDirectory(prefix="vmre-bench-tablero-") as tmp_s:
        tmp = Path(tmp_s)
        url = sqlite_url(tmp / "tablero.db")
        await asyncio.to_thread(migrations.upgrade, "tablero", url)
        progreso(f"tablero: llenando las proyecciones con {solicitudes:,} solicitudes…")
        await _llenar(url, solicitudes)
        env = entorno_base(
            VMRE_TABLERO_DATABASE_URL=url,
            VMRE_TABLERO_RELAY_ENABLED="false",
            VMRE_TABLERO_CONSUMERS_ENABLED="false",
        )
        noop = Servicio("bench.noop:create_app", env, tmp, nombre="noop", nucleos=servidor_cpus)
        tablero = Servicio("services.tablero.main:create_app", env, tmp, nucleos=servidor_cpus)
        token = mint_token(AuthSettings(), Rol.OPL, entidad="09")
        opl = {"Authorization": f"Bearer {token}"}
        rutas = [
            ("techo: GET no-op (FastAPI)", noop, "/healthz", {}),
            ("GET /v1/entidades/09/cifras (OPL)", tablero, "/v1/entidades/09/cifras", opl),
            ("GET /v1/entidades/09/series/solicitudes (OPL)", tablero,
             "/v1/entidades/09/series/solicitudes?dimension=dia", opl),
            ("GET /v1/tablero (tablero público)", tablero, "/v1/tablero", {}),
            ("GET /v1/resumen (público)", tablero, "/v1/resumen", {}),
        ]  # fmt: skip
        maximos: dict[str, wrk.Resultado] = {}
        al_80: dict[str, wrk.Resultado] = {}
        try:
            noop.arrancar()
            tablero.arrancar()
            for nombre, s, ruta, cabeceras in rutas:
                peticiones = _crudas(s.url.removeprefix("http://"), ruta, cabeceras)
                await asyncio.to_thread(
                    wrk.correr, s.url, peticiones, conexiones=conexiones, segundos=2, servidor_pgid=s.pid
                )  # warm-up, not measured
                progreso(f"tablero: {nombre}, el mayor ritmo ({conexiones} conexiones, {segundos:.0f} s)…")
                maximos[nombre] = await asyncio.to_thread(
                    wrk.correr,
                    s.url,
                    peticiones,
                    conexiones=conexiones,
                    segundos=segundos,
                    servidor_pgid=s.pid,
                )
                ritmo = 0.8 * maximos[nombre].exitosas(200) / maximos[nombre].segundos
                progreso(f"tablero: {nombre}, a {ritmo:,.0f}/s (80 %)…")
                al_80[nombre] = await asyncio.to_thread(
                    wrk.correr, s.url, peticiones, conexiones=2 * conexiones, segundos=segundos,
                    servidor_pgid=s.pid, ritmo=ritmo,
                )  # fmt: skip
        finally:
            noop.detener()
            tablero.detener()
    techo_nombre = rutas[0][0]
    techo = maximos[techo_nombre].exitosas(200) / maximos[techo_nombre].segundos
    print(
        f"\ntablero: proyecciones llenadas con {solicitudes:,} solicitudes; servidores en los núcleos "
        f"{servidor_cpus}, wrk en {generador_cpus}; {segundos:.0f} s por medición"
    )
    filas = []
    resultado_rutas: dict[str, Any] = {}
    cumple = True
    for nombre, *_ in rutas:
        m, o = maximos[nombre], al_80[nombre]
        por_s = m.exitosas(200) / m.segundos
        logrado = o.exitosas(200) / o.segundos
        errores = (m.peticiones - m.exitosas(200)) + (o.peticiones - o.exitosas(200))
        razon = por_s / techo
        if nombre != techo_nombre:
            cumple = cumple and razon >= META_RAZON and o.p99_ms < META_P99_MS and errores == 0
            cumple = cumple and logrado >= 0.95 * o.ritmo_pedido
        filas.append([
            nombre, f"{por_s:,.0f}", f"{razon:.0%}", f"{m.cpu_ms_por_peticion:.3f}", f"{o.ritmo_pedido:,.0f}",
            f"{logrado:,.0f}", f"{o.p50_ms:.1f}", f"{o.p99_ms:.1f}", f"{m.cpu_generador_pct:.0f}",
            str(errores),
        ])  # fmt: skip
        resultado_rutas[nombre] = {"maximo": m.como_dict(), "al_80": o.como_dict(), "razon": razon}
    print(
        tabla(
            ["ruta", "máx/s", "del techo", "CPU ms/pet.", "80 %: pedido/s", "logrado/s", "p50 ms",
             "p99 ms", "CPU wrk %", "errores"],
            filas,
        )
    )  # fmt: skip
    peor_razon = min(r["razon"] for n, r in resultado_rutas.items() if n != techo_nombre)
    peor_p99 = max(r["al_80"]["p99_ms"] for n, r in resultado_rutas.items() if n != techo_nombre)
    print(
        f"\nmeta: ≥ {META_RAZON:.0%} del techo no-op y p99 < {META_P99_MS:.0f} ms al 80 % de su ritmo → "
        f"peor {peor_razon:.0%}, peor p99 {peor_p99:.1f} ms: {'cumplida' if cumple else 'NO cumplida'}"
    )
    resultado: dict[str, Any] = {
        "segundos": segundos,
        "conexiones": conexiones,
        "solicitudes_proyectadas": solicitudes,
        "nucleos_servidor": servidor_cpus,
        "nucleos_generador": generador_cpus,
        "techo_por_s": techo,
        "rutas": resultado_rutas,
        "peor_razon": peor_razon,
        "peor_p99_ms": peor_p99,
        "meta": f"≥ {META_RAZON:.0%} del techo no-op; p99 < {META_P99_MS:.0f} ms al 80 % de ese ritmo",
        "meta_cumplida": cumple,
    }
    guardar("tablero", resultado)
    return resultado


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--segundos", type=float, default=6.0)
    parser.add_argument("--solicitudes", type=int, default=5_000)
    parser.add_argument("--conexiones", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(medir(args.segundos, args.solicitudes, args.conexiones))


if __name__ == "__main__":
    main()
