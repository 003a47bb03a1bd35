"""electronico use cases: the elections of an entidad (one per office, created once) and its drills; finding
an election. Stage events; never commit (the caller owns the transaction)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import domain, repository
from services.electronico.config import Settings
from services.electronico.models import Eleccion, emisor
from shared.bus.topics import ELECTRONICO_ELECCION
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.cripto.eleccion import generar_uuid
from shared.events import electronico as eventos
from shared.problems import Problem
from shared.proceso import Proceso


async def asegurar_elecciones(
    session: AsyncSession, proceso: Proceso, settings: Settings, entidad: str
) -> list[Eleccion]:
    """The real elections of an entidad: one per office, created once (a replay finds them)."""
    ent = proceso.entidades.get(entidad)
    if ent is None:
        raise ValueError(f"entidad {entidad} fuera del proceso {proceso.clave}")
    elecciones = await repository.elecciones_reales(session, entidad)
    if {e.cargo for e in elecciones} >= {c.clave for c in ent.cargos}:
        return elecciones  # created by the entidad's first voter (each of its voters passes here)
    cal = proceso.calendario
    for cargo in ent.cargos:
        uuid = generar_uuid()
        nombre = f"{cargo.nombre} · {ent.nombre}"
        nueva = await repository.crear_eleccion(
            session,
            {
                "uuid": uuid,
                "entidad": entidad,
                "cargo": cargo.clave,
                "simulacro": False,
                "clave": f"{proceso.clave}:{entidad}:{cargo.clave}",
                "nombre": nombre,
                "estado": "preparacion",
                "umbral": settings.umbral,
                "custodios": settings.custodios,
                "inicio": cal.voto_electronico_inicio,
                "fin": cal.voto_electronico_fin,
                "opciones": domain.opciones(ent),
            },
        )
        if nueva:
            await _preparada(session, uuid, entidad, cargo.clave, nombre, simulacro=False)
    return await repository.elecciones_reales(session, entidad)


async def _preparada(
    session: AsyncSession,
    uuid: str,
    entidad: str,
    cargo: str,
    nombre: str,
    *,
    simulacro: bool,
    probadores: int = 0,
) -> None:
    """Announce a new election to the credential authority: it issues the credentials (from its uuid)."""
    await emisor.emitir(
        session,
        ELECTRONICO_ELECCION,
        event_type=eventos.ELECCION_PREPARADA,
        aggregate_id=uuid,
        data=eventos.EleccionPreparada(
            eleccion=uuid,
            entidad=entidad,
            cargo=cargo,
            nombre=nombre,
            simulacro=simulacro,
            probadores=probadores,
        ),
    )


async def crear_simulacro(
    session: AsyncSession,
    proceso: Proceso,
    settings: Settings,
    entidad: str,
    inicio: dt.datetime,
    fin: dt.datetime,
) -> list[Eleccion]:
    """A drill: the same offices on separate, clearly marked elections with their own keys; the entidad's
    voters get drill credentials. Results never mix with the real ones (other uuid, ``simulacro`` on
    every event)."""
    ent = proceso.entidades.get(entidad)
    if ent is None:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")
    if not inicio < fin:
        raise Problem(422, "El simulacro debe empezar antes de terminar (inicio < fin).")
    creadas = []
    for cargo in ent.cargos:
        e = Eleccion(
            uuid=generar_uuid(),
            entidad=entidad,
            cargo=cargo.clave,
            simulacro=True,
            nombre=f"SIMULACRO · {cargo.nombre} · {ent.nombre}",
            estado="preparacion",
            umbral=settings.umbral,
            custodios=settings.custodios,
            inicio=inicio,
            fin=fin,
            opciones=domain.opciones(ent),
        )
        e.clave = f"simulacro:{e.uuid}"
        session.add(e)
        creadas.append(e)
    await session.flush()
    # The credential authority sends each voter of the entidad, and each of its outside testers, a drill
    # credential; it signs the list only once every tester counted here has one.
    probadores = await repository.probadores(session, entidad)
    for e in creadas:
        await _preparada(session, e.uuid, e.entidad, e.cargo, e.nombre, simulacro=True, probadores=probadores)
    return creadas


async def eleccion_o_404(session: AsyncSession, uuid: str, bloqueo: str | None = None) -> Eleccion:
    """``bloqueo="compartido"`` while casting, ``"exclusivo"`` while sealing (PostgreSQL row locks): the seal
    waits for ballots in flight, and later ballots see the box sealed. SQLite serialises writers anyway."""
    e = await repository.eleccion(session, uuid, bloqueo)
    if e is None:
        raise Problem(404, f"No existe la elección {uuid}.")
    return e


@lru_cache(maxsize=256)
def eleccion_belenios(texto: str) -> EleccionBelenios:
    return EleccionBelenios.leer(texto.encode())


def pregunta(e: Eleccion, proceso: Proceso) -> list[dict[str, str]]:
    """Each option's key and text; once open, the text is the election's own (with the candidates' names
    when the ballot had approved candidacies)."""
    if e.eleccion_json:
        textos = eleccion_belenios(e.eleccion_json).preguntas[0].respuestas
        return [{"clave": c, "texto": t} for c, t in zip(e.opciones, textos, strict=True)]
    return [{"clave": c, "texto": domain.texto_opcion(c, proceso)} for c in e.opciones]
