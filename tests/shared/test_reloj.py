"""The drill's simulated clock: only in local mode, moved by an ine-admin, and every deadline follows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from services.registro.config import Settings
from services.registro.main import create_app
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Databases, serve
from tests.support.registro import PEL2021, centro


async def test_reloj_simulado_mueve_los_plazos(
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VMRE_DATA_DIR", str(tmp_path))
    settings = Settings(
        database_url=await databases.new("registro"),
        kafka=offline_kafka,
        relay_enabled=False,
        reloj="simulado",
    )
    async with serve(create_app(settings, proceso=PEL2021)) as client:
        dentro = centro(2021, 1, 15, 10, 0)
        assert (await client.put("/v1/reloj", json={"ahora": dentro.isoformat()})).status_code == 401
        r = await client.put("/v1/reloj", json={"ahora": dentro.isoformat()}, headers=token("ine-operador"))
        assert r.status_code == 403
        r = await client.put("/v1/reloj", json={"ahora": "2021-01-15T10:00:00"}, headers=token("ine-admin"))
        assert r.status_code == 422
        assert r.json()["errors"][0]["campo"] == "ahora"
        r = await client.put(
            "/v1/reloj", json={"ahora": "2021-01-15T10:00:00-06:00"}, headers=token("ine-admin")
        )
        assert r.json() == {"ahora": "2021-01-15T16:00:00Z"}
        assert (await client.get("/v1/reloj")).json() == {"ahora": "2021-01-15T16:00:00Z"}
        assert (await client.post("/v1/solicitudes", json=solicitud(1))).status_code == 201

        despues = centro(2021, 3, 10, 12, 1)  # one minute after the registration deadline
        r = await client.put("/v1/reloj", json={"ahora": despues.isoformat()}, headers=token("ine-admin"))
        assert r.status_code == 200
        r = await client.post("/v1/solicitudes", json=solicitud(2))
        assert r.status_code == 422
        assert r.json()["type"].endswith("/extemporanea")

    # Another process of the same service (its relay, its consumers), or the API restarted after a crash,
    # reads the drill's instant, not the present.
    async with serve(create_app(settings, proceso=PEL2021)) as otro:
        assert (await otro.get("/v1/reloj")).json() == {"ahora": "2021-03-10T18:01:00Z"}
        assert (await otro.post("/v1/solicitudes", json=solicitud(3))).status_code == 422
    assert (tmp_path / "reloj" / "registro").read_text() == "2021-03-10T18:01:00+00:00"


async def test_sin_reloj_simulado_no_hay_ruta(
    databases: Databases, offline_kafka: KafkaSettings, token: Callable[..., dict[str, str]]
) -> None:
    settings = Settings(
        database_url=await databases.new("registro"), kafka=offline_kafka, relay_enabled=False
    )
    async with serve(create_app(settings, proceso=PEL2021)) as client:
        r = await client.put("/v1/reloj", json={"ahora": "2021-01-15T10:00:00Z"}, headers=token("ine-admin"))
        assert r.status_code in (404, 405)
        assert (await client.get("/v1/reloj")).status_code == 404


def test_produccion_rechaza_el_reloj_simulado(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMRE_AUTH_JWT_SECRET", "x" * 48)
    with pytest.raises(ValueError, match="VMRE_RELOJ=simulado solo existe en modo local"):
        Settings(mode="production", database_url="postgresql+asyncpg://u@h/registro", reloj="simulado")
