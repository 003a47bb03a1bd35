"""Alembic, one tree per service (``services/<svc>/migrations``), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from shared.datos_personales import Cifrado, CifradoBinario, Cifrador, IndiceCiego, cifrador_de
from shared.db import UTCDateTime, make_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(SERVICES_DIR / service / "migrations" / "versions"))
    cfg.attributes["database_url"] = url
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str, revision: str = "head", cifrador: Cifrador | None = None) -> None:
    """Blocking; from async code use ``await asyncio.to_thread(upgrade, ...)``. ``cifrador``: the personal
    data keys for data migrations (by default the service's settings: ``VMRE_<SERVICIO>_CLAVES_DATOS``)."""
    cfg = alembic_config(service, url)
    cfg.attributes["cifrador"] = cifrador
    command.upgrade(cfg, revision)


def downgrade(service: str, url: str, revision: str = "base", cifrador: Cifrador | None = None) -> None:
    cfg = alembic_config(service, url)
    cfg.attributes["cifrador"] = cifrador
    command.downgrade(cfg, revision)


def cifrador() -> Cifrador:
    """Inside a migration: the keys that encrypt (or, going down, decrypt) the service's personal data (by
    default from the settings its ``env.py`` gave ``run_env``)."""
    dado: Cifrador | None = context.config.attributes.get("cifrador")
    if dado is not None:
        return dado
    service = context.config.attributes.get("service", "el servicio")
    settings: Callable[[], Any] | None = context.config.attributes.get("settings")
    desde_settings = None if settings is None else cifrador_de(settings())
    if desde_settings is None:
        raise RuntimeError(f"{service} no tiene claves de datos personales")
    return desde_settings


def run_env(target_metadata: MetaData, settings: Callable[[], Any] | None = None) -> None:
    """Body of every service's ``env.py``. ``settings``: the service's ``Settings`` (built only when a data
    migration asks for ``cifrador()`` without one given), so shared/ never imports a service."""
    context.config.attributes["settings"] = settings
    url = context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sin URL de base de datos para migrar")

    def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:  # noqa: ARG001 — alembic render_item hook signature
        # Migrations stay plain SQLAlchemy: the UTC handling lives in the models, not in the schema.
        if type_ == "type" and isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        if type_ == "type" and isinstance(obj, Cifrado):
            return "sa.Text()"
        if type_ == "type" and isinstance(obj, CifradoBinario):
            return "sa.LargeBinary()"
        if type_ == "type" and isinstance(obj, IndiceCiego):
            return "sa.String(length=64)"
        return False

    def do_run(connection: Connection) -> None:
        if connection.dialect.name == "sqlite":
            # Batch migrations rebuild a table (copy, drop, rename): with foreign keys on, dropping the old
            # table would cascade to the rows that reference it. Off for this connection, before any BEGIN.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(do_run)
                await connection.commit()
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())
