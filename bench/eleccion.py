"""A real election for the benchmarks, and its ballots generated once and kept in ``var/bench/``.

The election is entidad 14 of pel2021 (Diputación de representación proporcional: one question, 12 options),
with the real key ceremony among 5 custodians (threshold 3, ``shared.cripto.simulacro.generacion_de_claves``:
the same steps ``vmre custodio ceremonia`` runs), real credentials and real ballots (``boleta.cifrar``: every
ciphertext, proof and signature). The benchmarks play all five custodians, so they hold the election's whole
secret x, and the ballots are made with it (``boleta.cifrar(..., secreto=x)``: y^e computed as g^(x·e), the
same ballot for ~2 ms of one core instead of ~6). 100,000 of them still take minutes: they are generated
once, in a process pool, and cached (``var/bench/eleccion-<entidad>-k3n5-<uuid>/``, room for 100,000 voters,
shared by every benchmark; the generation resumes if interrupted). Nothing secret of a real election lives
there: this election exists only for the benchmarks.

``llenar_electronico`` writes the election, its voters, credentials (and optionally sessions and ballots)
straight into a fresh electronico database: what the opening and the intake would have stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from bench.comun import RAIZ, nucleos, progreso
from services.electronico import domain
from services.electronico.config import Settings as ElectronicoSettings
from services.electronico.models import Boleta, Credencial, Eleccion, Sesion, Votante
from shared import datos_personales
from shared.cripto import boleta as bo
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodio
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.cripto.eleccion import credencial_publica, generar_credencial, generar_uuid, ordenar_credenciales
from shared.cripto.escrutinio import lagrange
from shared.cripto.pruebas import cjson
from shared.cripto.simulacro import generacion_de_claves
from shared.proceso import cargar, opciones

PROCESO = cargar("pel2021")
ENTIDAD = "14"  # one question, 12 options: the size bench.cripto measures
CACHE = RAIZ / "var" / "bench"
PESOS_OPCIONES = [30, 22, 9, 6, 7, 8, 28, 3, 2, 2, 1, 4]  # a plausible, skewed distribution
VOTANTES = 100_000  # the largest benchmark (bench.computo); smaller ones use the first voters


@dataclass
class Fixture:
    directorio: Path
    uuid: str
    eleccion_json: str
    custodios_json: str
    credenciales: list[str]  # private, one per voter (voter i votes with credenciales[i])
    custodios: list[dict[str, Any]]  # each custodian's state file (as ``vmre custodio ceremonia`` keeps it)

    @property
    def eleccion(self) -> EleccionBelenios:
        return EleccionBelenios.leer(self.eleccion_json.encode())

    @property
    def secreto(self) -> int:
        """x, rebuilt from three custodians' shares (Lagrange at 0): y = g^x."""
        partes = {
            c["indice"]: Custodio(c["semilla"], c["indice"], 3, 5).clave_descifrado(c["clave_privada"])
            for c in self.custodios[:3]
        }
        return sum(lam * partes[i] for i, lam in lagrange(list(partes)).items()) % gr.L

    @property
    def boletas_ruta(self) -> Path:
        return self.directorio / "boletas.tsv"

    def claves(self) -> list[str]:
        return opciones(PROCESO.entidades[ENTIDAD])

    def generadas(self) -> int:
        if not self.boletas_ruta.exists():
            return 0
        with open(self.boletas_ruta, "rb") as f:
            return sum(1 for _ in f)

    def boletas(self, n: int) -> tuple[list[str], list[int]]:
        """The first ``n`` ballots (voter i's is line i) and the option each one encrypts."""
        textos, elegidas = [], []
        with open(self.boletas_ruta, encoding="ascii") as f:
            for linea, _ in zip(f, range(n), strict=False):
                opcion, texto = linea.rstrip("\n").split("\t", 1)
                elegidas.append(int(opcion))
                textos.append(texto)
        if len(textos) < n:
            raise RuntimeError(f"la caché tiene {len(textos)} boletas; se pidieron {n}")
        return textos, elegidas


def opcion_de(i: int) -> int:
    return random.Random(i).choices(range(len(PESOS_OPCIONES)), PESOS_OPCIONES)[0]


def fixture(votantes: int) -> Fixture:
    """The cached election with room for ``votantes`` voters (created on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for d in sorted(CACHE.glob(f"eleccion-{ENTIDAD}-k3n5-*")):
        meta = json.loads((d / "eleccion.json").read_text())
        if len(meta["credenciales"]) >= votantes:
            return Fixture(d, **meta)
    votantes = max(votantes, VOTANTES)
    progreso(f"caché: nueva elección de prueba (entidad {ENTIDAD}, 3 de 5 custodios, {votantes:,} votantes)")
    custodios, privadas, publicos = generacion_de_claves(3, 5)
    uuid = generar_uuid()
    ent = PROCESO.entidades[ENTIDAD]
    e = EleccionBelenios.crear(
        uuid=uuid,
        nombre=f"{ent.cargos[0].nombre} · {ent.nombre} (benchmark)",
        descripcion="Elección de los benchmarks de VMRE.",
        clave_publica=publicos.clave_eleccion(),
        preguntas=[domain.pregunta(ent, ent.cargos[0], PROCESO)],
    )
    meta = {
        "uuid": uuid,
        "eleccion_json": e.texto.decode(),
        "custodios_json": cjson(publicos.json()),
        "credenciales": [generar_credencial() for _ in range(votantes)],
        "custodios": [
            {
                "eleccion": uuid,
                "indice": c.indice,
                "semilla": c.semilla,
                "clave_privada": privadas[c.indice - 1],
            }
            for c in custodios
        ],
    }
    d = CACHE / f"eleccion-{ENTIDAD}-k3n5-{uuid}"
    d.mkdir()
    (d / "eleccion.json").write_text(json.dumps(meta))
    return Fixture(d, **meta)


_F: tuple[EleccionBelenios, list[str], int] | None = None


def _init(eleccion_json: str, credenciales: list[str], secreto: int) -> None:
    global _F
    _F = (EleccionBelenios.leer(eleccion_json.encode()), credenciales, secreto)


def _cifrar(i: int) -> str:
    assert _F is not None
    eleccion, credenciales, secreto = _F
    o = opcion_de(i)
    votos = [[1 if j == o else 0 for j in range(len(PESOS_OPCIONES))]]
    return f"{o}\t{bo.cifrar(eleccion, credenciales[i], votos, secreto)}"


def asegurar_boletas(f: Fixture, n: int) -> float:
    """Generate the ballots the cache lacks (in a process pool); returns the seconds it took (0 if none)."""
    hay = f.generadas()
    if hay >= n:
        return 0.0
    progreso(f"caché: generando boletas {hay:,} → {n:,} con {nucleos()} procesos (se hace una sola vez)")
    inicio = time.perf_counter()
    with (
        ProcessPoolExecutor(
            nucleos(), initializer=_init, initargs=(f.eleccion_json, f.credenciales, f.secreto)
        ) as pool,
        open(f.boletas_ruta, "a", encoding="ascii") as salida,
    ):
        for k, linea in enumerate(pool.map(_cifrar, range(hay, n), chunksize=64), start=hay + 1):
            salida.write(linea + "\n")
            if k % 5000 == 0:
                salida.flush()
                ritmo = (k - hay) / (time.perf_counter() - inicio)
                progreso(f"caché: {k:,}/{n:,} boletas ({ritmo:.0f}/s, faltan ~{(n - k) / ritmo:.0f} s)")
    return time.perf_counter() - inicio


def llenar_electronico(
    ruta_db: Path,
    f: Fixture,
    votantes: int,
    inicio: dt.datetime,
    fin: dt.datetime,
    boletas: list[str] | None = None,
    sesiones: bool = False,
) -> list[str]:
    """The election opened with ``votantes`` voters and their credentials, written straight into electronico's
    (migrated) SQLite database; with ``boletas``, those ballots already in the box (voter i's is boletas[i]).
    With ``sesiones``, one open session per voter: returns their bearer tokens."""
    ent = PROCESO.entidades[ENTIDAD]
    cargo = ent.cargos[0]
    ahora = dt.datetime.now(dt.UTC)
    publicas = [credencial_publica(f.uuid, c) for c in f.credenciales[:votantes]]
    tokens: list[str] = []
    engine = create_engine(f"sqlite:///{ruta_db}")
    datos_personales.instalar(engine, datos_personales.cifrador_de(ElectronicoSettings()))
    with engine.begin() as conn:
        conn.execute(
            insert(Eleccion),
            [
                {
                    "uuid": f.uuid,
                    "entidad": ENTIDAD,
                    "cargo": cargo.clave,
                    "simulacro": False,
                    "clave": f"{PROCESO.clave}:{ENTIDAD}:{cargo.clave}",
                    "nombre": f"{cargo.nombre} · {ent.nombre}",
                    "estado": "abierta",
                    "umbral": 3,
                    "custodios": 5,
                    "inicio": inicio,
                    "fin": fin,
                    "opciones": f.claves(),
                    "eleccion_json": f.eleccion_json,
                    "custodios_json": f.custodios_json,
                    "credenciales_json": cjson(ordenar_credenciales(publicas)),
                    "marca": int(inicio.timestamp()),
                    "abierta_at": inicio,
                }
            ],
        )
        for a in range(0, votantes, 5000):
            b = min(votantes, a + 5000)
            conn.execute(
                insert(Votante),
                [
                    {
                        "id": i + 1,
                        "entidad": ENTIDAD,
                        "numero": i + 1,
                        "usuario": f"V{ENTIDAD}B{i:08d}",
                        "email": f"v{i}@example.com",
                        "telefono": "+13105550101",
                        "fallos": 0,
                        "creado_at": ahora,
                    }
                    for i in range(a, b)
                ],
            )
            conn.execute(
                insert(Credencial),
                [{"eleccion": f.uuid, "numero": i + 1, "publica": gr.s(publicas[i])} for i in range(a, b)],
            )
            if sesiones:
                nuevos = [secrets.token_urlsafe(32) for _ in range(a, b)]
                tokens += nuevos
                conn.execute(
                    insert(Sesion),
                    [
                        {
                            "token_hash": hashlib.sha256(t.encode()).hexdigest(),
                            "votante_id": i + 1,
                            "expira_at": ahora + dt.timedelta(hours=2),
                        }
                        for i, t in zip(range(a, b), nuevos, strict=True)
                    ],
                )
        for a in range(0, len(boletas or []), 2000):
            assert boletas is not None
            conn.execute(
                insert(Boleta),
                [
                    {
                        "id": i + 1,
                        "eleccion": f.uuid,
                        "votante_id": i + 1,
                        "texto": t,
                        "rastreador": gr.sha256_b64(t),
                        "emitida_at": inicio + dt.timedelta(seconds=i % 3600),
                    }
                    for i, t in enumerate(boletas[a : a + 2000], start=a)
                ],
            )
    engine.dispose()
    return tokens


def main() -> None:
    """python -m bench.eleccion N: fill the cache up to N ballots (make bench does it when needed)."""
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    f = fixture(n)
    segundos = asegurar_boletas(f, n)
    print(f"{f.directorio}: {f.generadas():,} boletas ({segundos:.0f} s de generación en esta corrida)")


if __name__ == "__main__":
    main()
