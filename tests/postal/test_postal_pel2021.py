"""Scale, at pel2021's size: 10,720 packages shipped and tracked with out-of-order and repeated carrier
reports; 5,623 SPVs on time plus late, repeated and unknown ones: exactly 5,623 voters are marked "votó"."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from services.postal.models import Outbox, Paquete, Sobre
from tests.factories import clave
from tests.support.comun import PG_URL
from tests.support.postal import Postal, inscrito
from tests.support.registro import centro

Token = Callable[..., dict[str, str]]
POSTALES, VOTOS = 10_720, 5_623
pytestmark = pytest.mark.slow


@pytest.fixture
def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


async def test_pel2021_paquetes_y_sobres(postal: Postal, token: Token) -> None:
    rng = random.Random(2021)
    entidades = list(postal.proceso.entidades)
    por_entidad: dict[str, int] = dict.fromkeys(entidades, 0)
    envs = []
    for _ in range(POSTALES):
        e = rng.choice(entidades)
        por_entidad[e] += 1
        envs.append(inscrito(por_entidad[e], entidad=e, pais=rng.choice(["US"] * 9 + ["CA"])))
    inicio = time.monotonic()
    for i in range(0, POSTALES, 2_000):
        assert await postal.entregar(*envs[i : i + 2_000]) == len(envs[i : i + 2_000])
    assert await postal.entregar(*envs[:500]) == 0  # redelivered: nothing twice

    op = token("ine-operador")
    paquetes = [(e.data["entidad"], e.data["numero"]) for e in envs]
    for i in range(0, POSTALES, 5_000):
        r = await postal.client.post(
            "/v1/envios",
            headers=op,
            json={
                "transportista": "mensajeria",
                "paquetes": [
                    {"entidad": ent, "numero": n, "guia": f"G{ent}{n:07d}"}
                    for ent, n in paquetes[i : i + 5_000]
                ],
            },
        )
        assert r.status_code == 200
        assert r.json()["enviados"] == len(paquetes[i : i + 5_000])
    integrado = time.monotonic() - inicio

    # Carrier reports for 3,000 packages: delivered, the earlier "in transit" arriving after it, and repeats.
    t0 = centro(2021, 4, 28, 9, 0)
    muestra = rng.sample(paquetes, 3_000)
    eventos = []
    for k, (ent, n) in enumerate(muestra):
        guia = f"G{ent}{n:07d}"
        final = "no_entregado" if k < 150 else "entregado"
        eventos.append(
            {
                "evento_id": f"{guia}-2",
                "guia": guia,
                "estado": final,
                "ocurrido_at": (t0 + dt.timedelta(days=5)).isoformat(),
            }
        )
        eventos.append(
            {
                "evento_id": f"{guia}-1",
                "guia": guia,
                "estado": "en_transito",
                "ocurrido_at": (t0 + dt.timedelta(days=1)).isoformat(),
            }
        )
    eventos += rng.sample(eventos, 600)  # the carrier retries some
    resultado = {"aplicados": 0, "ignorados": 0, "duplicados": 0, "sin_paquete": 0}
    for i in range(0, len(eventos), 2_000):
        # Each file in its own order; reports about one package split across files arrive out of order.
        lote = eventos[i : i + 2_000]
        r = await postal.webhook({"eventos": lote})
        assert r.status_code == 200, r.text[:300]
        for k, v in r.json().items():
            resultado[k] += v
    assert sum(resultado.values()) == len(eventos)
    assert resultado["sin_paquete"] == 0
    async with postal.app.state.runtime.maker() as session:
        estados = dict(
            (await session.execute(select(Paquete.estado, func.count()).group_by(Paquete.estado))).all()
        )
    assert estados == {"enviado": POSTALES - 3_000, "entregado": 2_850, "no_entregado": 150}
    rastreado = time.monotonic() - inicio - integrado

    # SPVs: 5,623 on time from distinct voters; then 7 late, 5 repeated, 4 from people not on the list.
    postal.reloj.ajustar(centro(2021, 5, 25, 10, 0))
    votantes = rng.sample(envs, VOTOS)
    cupo = asyncio.Semaphore(8)

    async def escanear(clave_elector: str) -> str:
        async with cupo:
            r = await postal.client.post("/v1/sobres", json={"clave_elector": clave_elector}, headers=op)
        assert r.status_code == 201, r.text
        return str(r.json()["clasificacion"])

    en_tiempo = await asyncio.gather(*(escanear(str(e.data["clave_elector"])) for e in votantes))
    assert set(en_tiempo) == {"en_tiempo"}
    repetidos = [await escanear(str(e.data["clave_elector"])) for e in votantes[:5]]
    desconocidos = [await escanear(clave(9_000_000 + k)) for k in range(4)]
    postal.reloj.ajustar(centro(2021, 6, 5, 8, 0, 0))  # the deadline, to the second
    votaron = {e.event_id for e in votantes}
    ausentes = [e for e in envs if e.event_id not in votaron]
    tardios = [await escanear(str(e.data["clave_elector"])) for e in ausentes[:7]]
    assert (set(repetidos), set(desconocidos), set(tardios)) == (
        {"duplicado"},
        {"desconocido"},
        {"extemporaneo"},
    )
    recibido = time.monotonic() - inicio - integrado - rastreado
    print(
        f"\npel2021 postal: integración y envío {integrado:.1f} s, rastreo {rastreado:.1f} s, "
        f"sobres {recibido:.1f} s"
    )

    assert await postal.count(Paquete, Paquete.voto_recibido_at.is_not(None)) == VOTOS
    assert await postal.count(Sobre) == VOTOS + 5 + 4 + 7
    async with postal.app.state.runtime.maker() as session:
        votos = [
            json.loads(p)
            for p in (
                await session.execute(select(Outbox.payload).where(Outbox.topic == "vmre.postal.voto"))
            ).scalars()
        ]
    assert len(votos) == VOTOS
    assert len({(v["data"]["entidad"], v["data"]["numero"]) for v in votos}) == VOTOS

    stats = (await postal.client.get("/v1/estadisticas")).json()
    assert stats["paquetes"] == POSTALES
    assert stats["votos_en_tiempo"] == VOTOS
    assert stats["tasa_retorno"] == "52.45"  # 5,623 / 10,720 — the 2021 figure
    assert stats["sobres"] == {"en_tiempo": VOTOS, "duplicado": 5, "desconocido": 4, "extemporaneo": 7}
    assert sum(e["extemporaneos"] for e in stats["por_entidad"].values()) == 7
    assert sum(e["paquetes"] for e in stats["por_pais"].values()) == POSTALES
