"""/metrics is not on the port the gateway publishes (issue #23, 6): in production it is served on
VMRE_METRICAS_PUERTO, which the NetworkPolicy opens to Prometheus only (tests/deploy checks the manifests),
and the API's port answers 404. Production refuses to start without that port."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from services.registro.config import Settings
from services.registro.main import create_app
from shared.hijos import free_port
from shared.settings import KafkaSettings
from tests.support.comun import Databases, serve


async def test_metricas_en_su_puerto_y_no_en_el_de_la_api(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    puerto = free_port()
    settings = Settings(
        database_url=await databases.new("registro"),
        kafka=offline_kafka,
        relay_enabled=False,
        consumers_enabled=False,
        metricas_puerto=puerto,
    )
    app = create_app(settings)
    async with serve(app) as api:
        # An attacker on the public side asks the API's port: nothing there.
        r = await api.get("/metrics")
        assert r.status_code == 404
        assert "/metrics" not in (await api.get("/openapi.json")).json()["paths"]
        assert (await api.get("/healthz")).status_code == 200
        # Prometheus, on the metrics port, gets the registry of this app (the API request above is in it).
        async with httpx.AsyncClient(timeout=5) as cliente:
            m = await cliente.get(f"http://127.0.0.1:{puerto}/metrics")
        assert m.status_code == 200
        assert m.headers["content-type"].startswith("text/plain")
        assert "vmre_outbox_backlog" in m.text
        assert 'status="404"' in m.text  # the refused request above, counted by this app
    # The stop closes the port: nothing left listening.
    async with httpx.AsyncClient(timeout=2) as cliente:
        with pytest.raises(httpx.ConnectError):
            await cliente.get(f"http://127.0.0.1:{puerto}/metrics")


async def test_en_modo_local_sigue_en_el_puerto_de_la_api(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    settings = Settings(
        database_url=await databases.new("registro"),
        kafka=offline_kafka,
        relay_enabled=False,
        consumers_enabled=False,
    )
    async with serve(create_app(settings)) as api:
        r = await api.get("/metrics")
        assert r.status_code == 200
        assert "vmre_outbox_backlog" in r.text


@pytest.mark.parametrize("puerto", [0, 8001])
def test_produccion_exige_un_puerto_propio(puerto: int) -> None:
    with pytest.raises(ValidationError, match="VMRE_METRICAS_PUERTO"):
        Settings(
            mode="production",
            database_url="postgresql+asyncpg://u@h/registro",
            auth={"jwt_secret": "un-secreto-propio-de-produccion-0123456789"},
            port=8001,
            metricas_puerto=puerto,
        )
