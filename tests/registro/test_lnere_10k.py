"""Scale: 10,000 applications for pel2021 registered, reviewed and closed; the counts match exactly."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable

import pytest

from services.registro.models import Outbox, Solicitud
from services.registro.service import COLUMNAS
from tests.factories import solicitud
from tests.support.comun import PG_URL
from tests.support.registro import Registro

Token = Callable[..., dict[str, str]]
pytestmark = pytest.mark.slow


@pytest.fixture
def backend() -> str:
    """About two and a half minutes per run: once, on PostgreSQL where CI has it, else on SQLite."""
    return "postgresql" if PG_URL else "sqlite"


PAISES = ["US"] * 16 + ["CA", "ES", "DE", "FR", "GB", "CL", "AR", "AU"]


def csv_de(filas: list[dict[str, object]]) -> bytes:
    lineas = [",".join(COLUMNAS)]
    for datos in filas:
        plano = {**datos, **datos["domicilio"]}  # type: ignore[dict-item]
        lineas.append(",".join(str(plano.get(c) or "") for c in COLUMNAS))
    return "\n".join(lineas).encode()


async def test_diez_mil_solicitudes_registradas_revisadas_y_cerradas(
    registro: Registro, token: Token
) -> None:
    rng = random.Random(2021)
    entidades = list(registro.proceso.entidades)
    op, admin = {**token("ine-operador"), "content-type": "text/csv"}, token("ine-admin")
    enviadas = [
        solicitud(
            n,
            entidad=rng.choice(entidades),
            modalidad=rng.choice(["postal", "electronica"]),
            pais=rng.choice(PAISES),
        )
        for n in range(10_000)
    ]
    inicio = time.monotonic()
    for lote in range(0, 10_000, 2_500):  # the INETEL channel, in four files
        r = await registro.client.post(
            "/v1/solicitudes/lote", content=csv_de(enviadas[lote : lote + 2_500]), headers=op
        )
        assert r.status_code == 200, r.text[:500]
        assert r.json()["cargadas"] == 2_500
    cargado = time.monotonic() - inicio

    # Review: 5 % improcedentes, the rest procedentes, through the queue in order of receipt.
    improcedentes = set(rng.sample(range(10_000), 500))
    folio_de = {s.clave_elector: s.folio for s in await registro.rows(Solicitud)}
    operador = token("ine-operador")
    cupo = asyncio.Semaphore(8)  # eight operators at their desks

    async def dictaminar(n: int, datos: dict[str, object]) -> None:
        dictamen = (
            {"resultado": "improcedente", "motivos": ["firma"]}
            if n in improcedentes
            else {"resultado": "procedente", "motivos": []}
        )
        async with cupo:
            r = await registro.client.post(
                f"/v1/solicitudes/{folio_de[str(datos['clave_elector'])]}/dictamen",
                json=dictamen,
                headers=operador,
            )
        assert r.status_code == 200, r.text

    await asyncio.gather(*(dictaminar(n, d) for n, d in enumerate(enviadas)))
    revisado = time.monotonic() - inicio - cargado

    registro.reloj.ajustar(registro.proceso.calendario.cierre_lnere)
    esperado: dict[str, Counter[str]] = {e: Counter() for e in entidades}
    por_pais: Counter[str] = Counter()
    for n, datos in enumerate(enviadas):
        if n not in improcedentes:
            esperado[str(datos["entidad"])][str(datos["modalidad"])] += 1
            por_pais[f"{datos['entidad']}:{datos['pais']}"] += 1
    for entidad in entidades:
        r = await registro.client.post(f"/v1/lnere/{entidad}/cierre", headers=admin)
        assert r.status_code == 200
        cierre = r.json()
        assert (cierre["postal"], cierre["electronica"]) == (
            esperado[entidad]["postal"],
            esperado[entidad]["electronica"],
        ), entidad
        assert cierre["total"] == sum(esperado[entidad].values())
        assert cierre["pendientes"] == 0
    cerrado = time.monotonic() - inicio - cargado - revisado
    print(f"\n10k: carga {cargado:.1f} s, revisión {revisado:.1f} s, cierre {cerrado:.1f} s")

    assert await registro.count(Solicitud, Solicitud.estado == "inscrita") == 9_500
    assert await registro.count(Outbox, Outbox.topic == "vmre.registro.lnere_postal") == sum(
        c["postal"] for c in esperado.values()
    )
    assert await registro.count(Outbox, Outbox.topic == "vmre.registro.lnere_electronica") == sum(
        c["electronica"] for c in esperado.values()
    )
    cierres = [
        json.loads(r.payload)["data"]
        for r in await registro.rows(Outbox, Outbox.topic == "vmre.registro.lnere")
    ]
    assert len(cierres) == len(entidades)
    publicado = Counter(
        {f"{c['entidad']}:{pais}": sum(m.values()) for c in cierres for pais, m in c["por_pais"].items()}
    )
    assert publicado == por_pais
    stats = (await registro.client.get("/v1/estadisticas")).json()
    assert stats["solicitudes"]["total"] == 10_000
    assert stats["lnere"]["total"] == 9_500
