"""registro · public figures, with small cells suppressed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import domain, repository
from services.registro.domain import Estado
from shared.proceso import Proceso


async def estadisticas(session: AsyncSession, proceso: Proceso, minimo: int = 5) -> dict[str, Any]:
    jornada = proceso.local(proceso.calendario.jornada).date()
    dims = ("entidad", "pais", "modalidad", "estado", "sexo", "edad", "dia")
    solicitudes: dict[str, Counter[str]] = {d: Counter() for d in dims}
    lnere: dict[str, Counter[str]] = {d: Counter() for d in dims if d != "estado"}
    total = inscritas = 0
    async for fila in repository.filas_estadisticas(session, proceso.clave):
        valores = {
            "entidad": fila.entidad,
            "pais": fila.pais,
            "modalidad": fila.modalidad,
            "estado": fila.estado,
            "sexo": fila.sexo,
            "edad": domain.rango_edad(domain.edad(fila.fecha_nacimiento, jornada)),
            "dia": proceso.local(fila.recibida_at).date().isoformat(),
        }
        total += 1
        for d in dims:
            solicitudes[d][valores[d]] += 1
        if fila.estado == Estado.INSCRITA.value:
            inscritas += 1
            for d in lnere:
                lnere[d][valores[d]] += 1

    def bloque(total: int, conteos: dict[str, Counter[str]]) -> dict[str, Any]:
        out: dict[str, Any] = {"total": total if total == 0 or total >= minimo else None}
        for d, c in conteos.items():
            out[f"por_{d}"] = domain.suprimir_celdas(dict(c), minimo)
        return out

    return {
        "proceso": proceso.clave,
        "celda_minima": minimo,
        "solicitudes": bloque(total, solicitudes),
        "lnere": bloque(inscritas, lnere),
    }
