"""A background loop of a service (sealing ballot boxes, sending notices, delivering webhooks) that fails —
the database restarting under it — is logged and started again, not left dead while the service answers
/healthz.
The fault drill (tests/e2e/test_fallas.py) found the electronico sealer dead after a restart during a
PostgreSQL crash."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.web import supervisada


async def test_tarea_que_falla_se_reinicia_y_lo_dice(caplog: pytest.LogCaptureFixture) -> None:
    intentos: list[int] = []

    async def tarea(_runtime: Any) -> None:
        intentos.append(1)
        if len(intentos) < 3:
            raise ConnectionRefusedError("la base reinicia")

    await asyncio.wait_for(supervisada("electronico-sellador", tarea, None), timeout=10)  # type: ignore[arg-type]
    assert len(intentos) == 3
    avisos = [r for r in caplog.records if r.getMessage() == "tarea de fondo falló; se reinicia en 1 s"]
    assert [r.__dict__["tarea"] for r in avisos] == ["electronico-sellador"] * 2


async def test_cancelar_la_detiene() -> None:
    async def tarea(_runtime: Any) -> None:
        await asyncio.sleep(60)

    t = asyncio.create_task(supervisada("x", tarea, None))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    t.cancel()
    with pytest.raises(asyncio.CancelledError):
        await t
