"""electronico use cases: public counts (accepted ballots by election and hour, ballots in a box). Counts
only: never a choice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository
from shared.proceso import Proceso


async def participacion(session: AsyncSession, proceso: Proceso) -> list[dict[str, object]]:
    """Accepted ballots by election and hour (Centro). Counts only: never a choice."""
    filas = await repository.emitidas_por_eleccion(session)
    cuentas: dict[tuple[str, str, bool, str], int] = {}
    for uuid, entidad, simulacro, emitida in filas:
        hora = proceso.local(emitida).replace(minute=0, second=0, microsecond=0).isoformat()
        k = (uuid, entidad, bool(simulacro), hora)
        cuentas[k] = cuentas.get(k, 0) + 1
    return [
        {"eleccion": u, "entidad": en, "simulacro": s, "hora": h, "votos": n}
        for (u, en, s, h), n in sorted(cuentas.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][3]))
    ]


async def boletas_contadas(session: AsyncSession, uuid: str) -> int:
    return await repository.boletas_contadas(session, uuid)
