"""The drill report (#27): for each drill election, who could vote (the entidad's LNERE and its outside
testers), who did, per hour (Centro), how long a voter took from their login to their ballot, and the errors
the box answered (refused ballots by reason and hour). Counts and durations only: never a choice, never who.
Stage; never commit."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico.models import Boleta, Credencial, Eleccion, ErrorSimulacro, Votante
from shared.cifras import porcentaje
from shared.db import insert_if_absent
from shared.numeros import PROBADORES_MAX, es_probador
from shared.proceso import Proceso


async def error_de_simulacro(session: AsyncSession, uuid: str, motivo: str, ahora: dt.datetime) -> None:
    """One refused ballot of a drill, counted by reason and hour."""
    clave = {
        "eleccion": uuid,
        "motivo": motivo[:40],
        "hora": ahora.replace(minute=0, second=0, microsecond=0),
    }
    if not await insert_if_absent(session, ErrorSimulacro, {**clave, "veces": 1}, list(clave)):
        await session.execute(
            update(ErrorSimulacro)
            .where(*(getattr(ErrorSimulacro, k) == v for k, v in clave.items()))
            .values(veces=ErrorSimulacro.veces + 1)
        )


def _segundos(valores: list[float]) -> dict[str, Any] | None:
    if not valores:
        return None
    valores.sort()
    p90 = statistics.quantiles(valores, n=10, method="inclusive")[-1] if len(valores) > 1 else valores[0]
    return {
        "medidos": len(valores),
        "mediana_s": round(statistics.median(valores), 1),
        "p90_s": round(p90, 1),
        "maximo_s": round(valores[-1], 1),
    }


async def informe(session: AsyncSession, proceso: Proceso, entidad: str | None) -> list[dict[str, Any]]:
    consulta = (
        select(Eleccion).where(Eleccion.simulacro.is_(True)).order_by(Eleccion.entidad, Eleccion.inicio)
    )
    if entidad is not None:
        consulta = consulta.where(Eleccion.entidad == entidad)
    salida = []
    for e in (await session.execute(consulta)).scalars().all():
        # Counted in the database: a drill of a large entidad has a credential per voter of its LNERE.
        de_probador = case((Credencial.numero.between(-PROBADORES_MAX, -1), 1), else_=0)
        total, probadores = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(de_probador), 0)).where(
                    Credencial.eleccion == e.uuid
                )
            )
        ).one()
        boletas = (
            await session.execute(
                select(Votante.numero, Boleta.emitida_at, Boleta.sesion_at)
                .join(Votante, Votante.id == Boleta.votante_id)
                .where(Boleta.eleccion == e.uuid)
            )
        ).all()
        horas = Counter(
            proceso.local(emitida).replace(minute=0, second=0, microsecond=0).isoformat()
            for _, emitida, _ in boletas
        )
        de_probadores = sum(1 for n, _, _ in boletas if es_probador(n))
        errores = await session.execute(
            select(ErrorSimulacro.motivo, func.sum(ErrorSimulacro.veces))
            .where(ErrorSimulacro.eleccion == e.uuid)
            .group_by(ErrorSimulacro.motivo)
            .order_by(ErrorSimulacro.motivo)
        )
        salida.append(
            {
                "eleccion": e.uuid,
                "entidad": e.entidad,
                "cargo": e.cargo,
                "nombre": e.nombre,
                "estado": e.estado,
                "inicio": e.inicio,
                "fin": e.fin,
                "credenciales": {"lnere": total - probadores, "probadores": probadores},
                "votos": {
                    "total": len(boletas),
                    "lnere": len(boletas) - de_probadores,
                    "probadores": de_probadores,
                },
                "participacion": porcentaje(len(boletas), total),
                "por_hora": [{"hora": h, "votos": n} for h, n in sorted(horas.items())],
                "tiempo_para_votar": _segundos(
                    [
                        (emitida - inicio).total_seconds()
                        for _, emitida, inicio in boletas
                        if inicio is not None
                    ]
                ),
                "errores": {str(m): int(n) for m, n in errores.all()},
            }
        )
    return salida
