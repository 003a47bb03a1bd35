"""Several records verified at once in threads (each custodian's client verifies its election's record in a
thread): no verification may see another's election (regression: the serial path kept it in module state)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from shared.cripto import simulacro as si
from shared.cripto.verificador import verificar_archivo
from tests.support.cripto import PREGUNTAS


def _registro(semilla: int) -> tuple[bytes, str]:
    u = si.preparar(PREGUNTAS, votantes=6)
    azar = random.Random(semilla)
    for b in si.boletas(u, [[si.voto_al_azar(q, azar) for q in PREGUNTAS] for _ in range(6)]):
        u.urna.depositar(b)
    u.urna.cerrar()
    return u.urna.archivo.bytes(), u.eleccion.uuid


def test_verificaciones_simultaneas_en_hilos() -> None:
    registros = [_registro(s) for s in range(3)]
    with ThreadPoolExecutor(3) as pool:
        informes = list(pool.map(lambda r: verificar_archivo(r[0]), registros * 3))
    assert [i.uuid for i in informes] == [uuid for _, uuid in registros] * 3
    assert all(i.boletas == 6 for i in informes)
