"""tablero registers nothing process-wide when imported: its projections' commit hook is attached to each
session that uses it, and the read model's version still moves with every event."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from services.tablero import repository
from tests.factories import evento_recibida
from tests.support.tablero import deliver


def test_importar_tablero_no_escucha_a_la_clase_session() -> None:
    """In a fresh interpreter: importing the whole service leaves SQLAlchemy's ``Session`` class untouched."""
    codigo = (
        "from sqlalchemy import event\n"
        "from sqlalchemy.orm import Session\n"
        "NOMBRES = ('before_commit', 'after_rollback', 'before_flush', 'after_commit')\n"
        "def escuchas():\n"
        "    return {n: sum(map(len, getattr(Session.dispatch, n)._clslevel.values())) for n in NOMBRES}\n"
        "antes = escuchas()\n"
        "import services.tablero.main\n"
        "from services.tablero import handlers\n"
        "assert escuchas() == antes, (antes, escuchas())\n"
        "assert not event.contains(Session, 'before_commit', handlers._al_confirmar)\n"
        "assert not event.contains(Session, 'after_rollback', handlers._al_deshacer)\n"
    )
    subprocess.run([sys.executable, "-c", codigo], check=True)


async def test_la_version_sube_con_cada_evento(tablero: tuple[Any, Any]) -> None:
    app, _ = tablero
    maker = app.state.runtime.maker
    async with maker() as s:
        antes = await repository.version(s)
    assert await deliver(app, evento_recibida("09", "postal", "F-GLOBAL-1"))
    async with maker() as s:
        despues = await repository.version(s)
        filas = await repository.conteos(s, "solicitudes")
    assert despues == antes + 1
    assert any(f.dimension == "total" and f.total == 1 for f in filas)
