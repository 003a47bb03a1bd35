from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from iso3166 import countries_by_alpha2
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.tablero.models import (
    PROJECTIONS,
    Conteo,
    Eleccion,
    Entrega,
    Lnere,
    Paquete,
    ProcessedEvent,
    Resultado,
    Solicitud,
    Suscripcion,
    Version,
    VersionEntidad,
)
from services.tablero.schemas import Cifras
from shared import webhooks
from shared.db import insert_if_absent
from shared.proceso import Proceso

PAISES_ES = {
    "US": "Estados Unidos", "CA": "Canadá", "ES": "España", "DE": "Alemania", "FR": "Francia",
    "GB": "Reino Unido",
}  # fmt: skip


async def version(session: AsyncSession) -> int:
    return int(
        (await session.execute(select(Version.valor).where(Version.id == 1))).scalar_one_or_none() or 0
    )


async def conteos(session: AsyncSession, serie: str, entidad: str | None = None) -> list[Conteo]:
    q = select(Conteo).where(Conteo.serie == serie)
    if entidad is not None:
        q = q.where(Conteo.entidad == entidad)
    return list((await session.execute(q)).scalars())


def _por(filas: list[Conteo], dimension: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for f in filas:
        if f.dimension == dimension and f.total:
            out[f.valor] += f.total
    return dict(sorted(out.items()))


def _por_entidad(filas: list[Conteo], dimension: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for f in filas:
        if f.dimension == dimension:
            out[f.entidad] += f.total
    return dict(sorted((k, v) for k, v in out.items() if v))


def porcentaje(parte: int, todo: int) -> str | None:
    """Two decimals, half-up, exact (as the cómputo computes participation)."""
    if not todo:
        return None
    return str((Decimal(parte * 100) / Decimal(todo)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _nombre_pais(clave: str) -> str:
    if clave in PAISES_ES:
        return PAISES_ES[clave]
    pais = countries_by_alpha2.get(clave)
    return pais.name if pais else clave


async def resumen_solicitudes(session: AsyncSession, entidad: str | None = None) -> dict[str, Any]:
    filas = await conteos(session, "solicitudes", entidad)
    return {
        "total": sum(f.total for f in filas if f.dimension == "total"),
        "por_entidad": _por_entidad(filas, "total"),
        "por_modalidad": _por(filas, "modalidad"),
    }


async def cifras(session: AsyncSession, proceso: Proceso, entidad: str | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, for all entidades or one. Counts only: never a vote's content."""
    solicitudes = await conteos(session, "solicitudes", entidad)
    paquetes = await conteos(session, "paquetes", entidad)
    sobres = await conteos(session, "sobres", entidad)
    votos = await conteos(session, "votos", entidad)
    por_hora = await conteos(session, "votos_electronica", entidad)
    por_sede = _por(await conteos(session, "boletas_adicionales", entidad), "sede")
    votaron_en_sede = _por(await conteos(session, "votos_sede", entidad), "sede")
    q = select(Lnere)
    if entidad is not None:
        q = q.where(Lnere.entidad == entidad)
    listas = list((await session.execute(q)).scalars())
    lnere_total = sum(x.total for x in listas)
    votos_modalidad = _por(votos, "modalidad")
    total_votos = sum(votos_modalidad.values())
    paises = _por(solicitudes, "pais")
    resultados = []
    for r in await resultados_de(session, entidad):
        acta = r.documento.get("acta", {})
        resultados.append(
            {
                "entidad": r.entidad,
                "cargo": r.cargo,
                "participacion": acta.get("participacion"),
                "votos": acta.get("votos"),
                "distribucion": acta.get("distribucion"),
            }
        )
    return {
        "entidad": entidad,
        "nombre": proceso.entidades[entidad].nombre if entidad else "Todas las entidades",
        "version": await version(session),
        "entidades": {k: e.nombre for k, e in proceso.entidades.items()},
        "sedes": {k: f"{s.ciudad} ({s.pais})" for k, s in proceso.sedes.items()},
        "solicitudes": {
            "total": sum(f.total for f in solicitudes if f.dimension == "total"),
            "por_modalidad": _por(solicitudes, "modalidad"),
            "por_estado": _por(solicitudes, "estado"),
            "por_dia": [{"dia": d, "total": n} for d, n in _por(solicitudes, "dia").items()],
            "por_entidad": _por_entidad(solicitudes, "total"),
        },
        "lnere": {
            "total": lnere_total,
            "postal": sum(x.postal for x in listas),
            "electronica": sum(x.electronica for x in listas),
            "presencial": sum(x.presencial for x in listas),
            "por_sede": dict(sorted(sum((Counter(x.por_sede) for x in listas), Counter()).items())),
            "por_entidad": {x.entidad: x.total for x in sorted(listas, key=lambda x: x.entidad)},
        },
        "boletas_adicionales": {"total": sum(por_sede.values()), "por_sede": por_sede},
        "votos_sede": {"total": sum(votaron_en_sede.values()), "por_sede": votaron_en_sede},
        "paises": [
            {"pais": p, "nombre": _nombre_pais(p), "solicitudes": n}
            for p, n in sorted(paises.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "paquetes": _por(paquetes, "estado"),
        "sobres": {
            "por_clasificacion": _por(sobres, "clasificacion"),
            "por_dia": [{"dia": d, "total": n} for d, n in _por(sobres, "dia").items()],
        },
        "votos": {
            "postal": votos_modalidad.get("postal", 0),
            "electronica": votos_modalidad.get("electronica", 0),
            "total": total_votos,
            "participacion": porcentaje(total_votos, lnere_total),
            "electronica_por_hora": [{"hora": h, "votos": n} for h, n in _por(por_hora, "hora").items()],
        },
        "resultados": resultados,
    }


async def resultados_de(session: AsyncSession, entidad: str | None = None) -> list[Resultado]:
    q = select(Resultado).order_by(Resultado.entidad, Resultado.cargo)
    if entidad is not None:
        q = q.where(Resultado.entidad == entidad)
    return list((await session.execute(q)).scalars())


async def reset(session: AsyncSession) -> None:
    """Empty every projection and the inbox, so a replay rebuilds the read model from zero."""
    for model in PROJECTIONS:
        await session.execute(delete(model))
    await session.execute(delete(ProcessedEvent))


async def avisar_cambios(session: AsyncSession, proceso: Proceso, ahora: Any) -> int:
    """Queue, for each entidad whose figures changed since the last push, one signed delivery of its current
    figures to its OPL's webhooks (debounced: many events, one push per round)."""
    cambiadas = list(
        (
            await session.execute(
                select(VersionEntidad).where(VersionEntidad.valor > VersionEntidad.notificada)
            )
        )
        .scalars()
        .all()
    )
    for v in cambiadas:
        if v.entidad in proceso.entidades:
            await webhooks.encolar(
                session,
                Entrega,
                Suscripcion,
                entidad=v.entidad,
                evento="tablero.cifras.actualizadas",
                evento_id=f"cifras-{v.entidad}-{v.valor}",
                # Through the model, like the API's answer: the payload OpenAPI documents (webhooks).
                datos=Cifras.model_validate(await cifras(session, proceso, v.entidad)).model_dump(
                    mode="json"
                ),
                ahora=ahora,
            )
        v.notificada = v.valor
    return len(cambiadas)


def escribir_pendientes(
    session: Session, conteos: Mapping[tuple[str, str, str, str], int], versiones: set[str | None]
) -> None:
    """What the projections of one transaction gathered (services/tablero/handlers.py), written while it
    commits: atomic upserts, in key order so concurrent consumers lock rows in the same order, on PostgreSQL
    and SQLite alike."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    filas = [
        {"serie": s, "entidad": e, "dimension": d, "valor": v, "total": n}
        for (s, e, d, v), n in sorted(conteos.items() if conteos else [])
        if n
    ]
    if filas:
        stmt = insert(Conteo).values(filas)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["serie", "entidad", "dimension", "valor"],
                set_={"total": Conteo.total + stmt.excluded.total},
            )
        )
    if versiones:
        stmt = insert(Version).values(id=1, valor=1)
        session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"valor": Version.valor + 1}))
        entidades = sorted(e for e in versiones if e is not None)
        if entidades:
            stmt = insert(VersionEntidad).values(
                [{"entidad": e, "valor": 1, "notificada": 0} for e in entidades]
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["entidad"], set_={"valor": VersionEntidad.valor + 1}
                )
            )


# --- the projections (services/tablero/handlers.py) ---------------------------------------------------


async def insertar_solicitud(session: AsyncSession, valores: dict[str, Any]) -> bool:
    """False if the application was already there (its reception counted once)."""
    return await insert_if_absent(session, Solicitud, valores, ["folio"])


async def solicitud(session: AsyncSession, folio: str) -> Solicitud | None:
    return await session.get(Solicitud, folio)


async def guardar_lnere(session: AsyncSession, entidad: str, valores: dict[str, Any]) -> None:
    if not await insert_if_absent(session, Lnere, {"entidad": entidad, **valores}, ["entidad"]):
        await session.execute(update(Lnere).where(Lnere.entidad == entidad).values(**valores))


async def paquete(session: AsyncSession, entidad: str, numero: int) -> Paquete:
    """The package's row, created (with no states) the first time."""
    await insert_if_absent(
        session, Paquete, {"entidad": entidad, "numero": numero, "estados": []}, ["entidad", "numero"]
    )
    p = await session.get(Paquete, (entidad, numero))
    assert p is not None
    return p


async def guardar_resultado(session: AsyncSession, entidad: str, cargo: str, documento: Any) -> None:
    if not await insert_if_absent(
        session, Resultado, {"entidad": entidad, "cargo": cargo, "documento": documento}, ["entidad", "cargo"]
    ):
        await session.execute(
            update(Resultado)
            .where(Resultado.entidad == entidad, Resultado.cargo == cargo)
            .values(documento=documento)
        )


async def eleccion(session: AsyncSession, uuid: str, entidad: str, cargo: str, simulacro: bool) -> Eleccion:
    """The election's row, created the first time any of its events arrives (in whatever order)."""
    await insert_if_absent(
        session,
        Eleccion,
        {"eleccion": uuid, "entidad": entidad, "cargo": cargo, "nombre": "", "simulacro": simulacro},
        ["eleccion"],
    )
    e = await session.get(Eleccion, uuid)
    assert e is not None
    return e


async def elecciones(session: AsyncSession, entidad: str | None = None) -> list[Eleccion]:
    q = select(Eleccion).order_by(
        Eleccion.entidad, Eleccion.simulacro, Eleccion.abierta_at, Eleccion.eleccion
    )
    if entidad is not None:
        q = q.where(Eleccion.entidad == entidad)
    return list((await session.execute(q)).scalars())


async def listas(session: AsyncSession, entidad: str | None = None) -> list[Lnere]:
    q = select(Lnere).order_by(Lnere.entidad)
    if entidad is not None:
        q = q.where(Lnere.entidad == entidad)
    return list((await session.execute(q)).scalars())
