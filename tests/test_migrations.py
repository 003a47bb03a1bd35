"""Each service's Alembic tree: upgrade, downgrade and upgrade again, and the models match the migrations."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared import migrations
from shared.db import make_engine
from shared.settings import SERVICES
from tests.support.comun import Databases


@pytest.mark.parametrize("service", list(SERVICES))
async def test_migraciones_ida_vuelta_y_sin_diferencias(service: str, databases: Databases) -> None:
    url = await databases.new(service)
    await asyncio.to_thread(migrations.downgrade, service, url)
    await asyncio.to_thread(migrations.upgrade, service, url)

    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    assert metadata.tables, f"services.{service}.models no declara tablas: no habría nada que comparar"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            # Tables, columns, indexes, constraints and column types (a String(20) in the model against a
            # VARCHAR(10) in the migration is a difference), on SQLite and on PostgreSQL.
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == [], f"los modelos de {service} difieren de sus migraciones: {diff}"
