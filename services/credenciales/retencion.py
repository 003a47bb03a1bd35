"""What the credential authority keeps after the process: the voters' contacts go; the public credentials
and signed lists stay (they are part of the public record)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.credenciales import repository


async def depurar(session: AsyncSession, antes_de: dt.datetime) -> dict[str, int]:
    votantes = await repository.depurar_votantes(session, antes_de)
    avisos = await repository.depurar_notificaciones(session, antes_de)
    return {"votantes": votantes, "notificaciones": avisos}
