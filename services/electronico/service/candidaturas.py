"""The candidacies of each ballot: the entidad's OPL loads them (``ine-admin`` those of a national office),
before the process' deadline; ``ine-admin`` approves exactly the version it reviewed (its fingerprint). An
approved ballot is locked: its names go into the election's answers and its fingerprint into the setup and
the acta de apertura. Stage; never commit (the caller owns the transaction)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import domain
from services.electronico.models import Candidaturas, emisor
from shared.auth import Principal, Rol, check_entidad
from shared.bus.topics import ELECTRONICO_ELECCION
from shared.db import insert_if_absent
from shared.events import electronico as eventos
from shared.problems import Problem
from shared.proceso import Entidad, Proceso

NACIONAL = "nacional"


def entidad_de(proceso: Proceso, ambito: str, cargo: str, principal: Principal) -> Entidad:
    """The ballot the route names, after checking who may touch it: an OPL only its entidad's local offices,
    a national office only ine-admin. Returns an entidad whose parties and coalitions the ballot offers."""
    if ambito == NACIONAL:
        if principal.rol != Rol.INE_ADMIN:
            raise Problem(403, "Las candidaturas de un cargo nacional las carga el INE (ine-admin).")
        nacionales = [c.clave for c in proceso.cargos_nacionales]
        if cargo not in nacionales:
            raise Problem(
                404, f"{cargo!r} no es un cargo nacional del proceso ({', '.join(nacionales) or 'ninguno'})."
            )
        # Every entidad offers the national office with the same parties: the first one's stand for all.
        return next(iter(proceso.entidades.values()))
    check_entidad(principal, ambito)
    ent = proceso.entidades.get(ambito)
    if ent is None:
        raise Problem(404, f"La entidad {ambito} no participa en el proceso {proceso.clave}.")
    locales = [c.clave for c in ent.cargos if not c.nacional]
    if cargo not in locales:
        raise Problem(
            404,
            f"{cargo!r} no es un cargo local de {ent.nombre} ({', '.join(locales)}); los cargos nacionales "
            "van en /v1/candidaturas/nacional/{cargo}.",
        )
    return ent


def vista(c: Candidaturas) -> dict[str, Any]:
    return {
        "ambito": c.ambito,
        "cargo": c.cargo,
        "candidaturas": c.lista,
        "huella": c.huella,
        "estado": "aprobada" if c.aprobada_at else "capturada",
        "capturada_at": c.capturada_at,
        "aprobada_at": c.aprobada_at,
    }


async def capturar(
    session: AsyncSession,
    proceso: Proceso,
    ambito: str,
    cargo: str,
    lista: list[dict[str, Any]],
    principal: Principal,
    ahora: dt.datetime,
) -> Candidaturas:
    """Load (or replace, until approved) a ballot's candidacies. A refused load changes nothing."""
    ent = entidad_de(proceso, ambito, cargo, principal)
    limite = proceso.calendario.candidaturas_limite
    if limite is not None and ahora >= limite:
        raise Problem(
            409,
            f"El plazo para cargar candidaturas terminó el {proceso.local(limite):%Y-%m-%d %H:%M} "
            "(hora del Centro).",
        )
    errores = domain.revisar_candidaturas(ent, lista)
    if errores:
        raise Problem(
            422, "Revise las candidaturas: " + " ".join(e["mensaje"] for e in errores), errors=errores
        )
    # Ballot order: by the first party of each candidacy in the process file's order.
    orden = {p: i for i, p in enumerate(ent.partidos)}
    lista = sorted(
        (
            {"nombre": c["nombre"].strip(), "partidos": sorted(c["partidos"], key=orden.__getitem__)}
            for c in lista
        ),
        key=lambda c: orden[c["partidos"][0]],
    )
    huella = domain.huella_candidaturas(ambito, cargo, lista)
    valores = {"lista": lista, "huella": huella, "capturada_por": principal.sub, "capturada_at": ahora}
    # The first load of a ballot, also from parallel requests: one row; then each load in turn, locked.
    await insert_if_absent(
        session, Candidaturas, {"ambito": ambito, "cargo": cargo, **valores}, ["ambito", "cargo"]
    )
    c = await session.get(Candidaturas, (ambito, cargo), with_for_update=True, populate_existing=True)
    assert c is not None
    if c.aprobada_at is not None:
        raise Problem(409, "Estas candidaturas ya están aprobadas: la boleta quedó fija.")
    for campo, valor in valores.items():
        setattr(c, campo, valor)
    await session.flush()
    return c


async def aprobar(
    session: AsyncSession,
    proceso: Proceso,
    ambito: str,
    cargo: str,
    huella: str,
    principal: Principal,
    ahora: dt.datetime,
) -> Candidaturas:
    """Approve the version whose fingerprint the admin reviewed. Again with the same fingerprint: the same
    answer (nothing changes); with another: 409 and what is there now."""
    entidad_de(proceso, ambito, cargo, principal)
    c = await session.get(Candidaturas, (ambito, cargo), with_for_update=True)
    if c is None:
        raise Problem(404, f"No hay candidaturas cargadas para {cargo} ({ambito}).")
    if c.huella != huella:
        raise Problem(
            409,
            f"La huella enviada no es la de las candidaturas cargadas ({c.huella}): revise la versión "
            "actual y apruebe esa.",
        )
    if c.aprobada_at is None:
        c.aprobada_por, c.aprobada_at = principal.sub, ahora
        await session.flush()
        await emisor.emitir(
            session,
            ELECTRONICO_ELECCION,
            event_type=eventos.CANDIDATURAS_APROBADAS,
            aggregate_id=f"{ambito}-{cargo}",
            data=eventos.CandidaturasAprobadas(
                ambito=ambito, cargo=cargo, huella=c.huella, candidaturas=list(c.lista)
            ),
        )
    return c


def ambito_de(proceso: Proceso, entidad: str, cargo: str) -> str:
    """Whose ballot an election's is: the entidad's, or the national office's (the same everywhere)."""
    nacional = any(c.clave == cargo and c.nacional for c in proceso.entidades[entidad].cargos)
    return NACIONAL if nacional else entidad


async def aprobadas(session: AsyncSession, proceso: Proceso, entidad: str, cargo: str) -> Candidaturas | None:
    """The approved candidacies of an election's ballot."""
    c = await session.get(Candidaturas, (ambito_de(proceso, entidad, cargo), cargo))
    return c if c is not None and c.aprobada_at is not None else None


async def todas(session: AsyncSession) -> list[Candidaturas]:
    return list(
        (
            await session.execute(select(Candidaturas).order_by(Candidaturas.ambito, Candidaturas.cargo))
        ).scalars()
    )
