"""The drills' outside testers (#27): OPL staff and observers from a list ``ine-admin`` uploads. Never on the
LNERE: each gets a negative number (``-id``, apart from the list's numbers and the sites' reserve numbers),
an account in electronico and credentials for the drills of its entidad only (the credential authority
issues no real-election credential to a tester). One account per e-mail and process: a list uploaded again
changes nothing. Stage events; never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro.models import Probador, emisor
from services.registro.schemas import ProbadorIn
from shared.auth import Principal
from shared.bus.topics import REGISTRO_LNERE_ELECTRONICA
from shared.db import insert_if_absent_id
from shared.events import registro as eventos
from shared.numeros import PROBADORES_MAX
from shared.problems import Problem
from shared.proceso import Proceso


async def cargar(
    session: AsyncSession,
    proceso: Proceso,
    lista: Sequence[ProbadorIn],
    principal: Principal,
    ahora: dt.datetime,
) -> dict[str, object]:
    faltan = sorted({p.entidad for p in lista} - set(proceso.entidades))
    if faltan:
        raise Problem(
            422,
            "Hay probadores de entidades que no votan en este proceso.",
            errors=[
                {"campo": f"probadores[{i}].entidad", "mensaje": f"La entidad {p.entidad} no participa."}
                for i, p in enumerate(lista)
                if p.entidad in faltan
            ][:20],
        )
    inscritos = 0
    for p in lista:
        email = str(p.email).lower()
        nuevo = await insert_if_absent_id(
            session,
            Probador,
            {
                "proceso": proceso.clave,
                "entidad": p.entidad,
                "nombre": p.nombre,
                "email": email,
                "email_indice": email,  # the type stores its HMAC
                "telefono": p.telefono,
                "cargado_por": principal.sub,
                "cargado_at": ahora,
            },
            ["proceso", "email_indice"],
        )
        if nuevo is None:
            continue  # already a tester of this process (the same list again, or twice in it)
        if nuevo > PROBADORES_MAX:
            raise Problem(
                409, f"El proceso ya tiene {PROBADORES_MAX:,} probadores: no caben más.", slug="sin-lugar"
            )
        inscritos += 1
        await emisor.emitir(
            session,
            REGISTRO_LNERE_ELECTRONICA,
            event_type=eventos.PROBADOR_INSCRITO,
            aggregate_id=f"{p.entidad}-probador-{nuevo}",
            data=eventos.ProbadorInscrito(entidad=p.entidad, numero=-nuevo, email=email, telefono=p.telefono),
        )
    return {
        "inscritos": inscritos,
        "ya_estaban": len(lista) - inscritos,
        "por_entidad": await conteo(session, proceso),
    }


async def conteo(session: AsyncSession, proceso: Proceso) -> dict[str, int]:
    filas = await session.execute(
        select(Probador.entidad, func.count())
        .where(Probador.proceso == proceso.clave)
        .group_by(Probador.entidad)
        .order_by(Probador.entidad)
    )
    return {str(e): int(n) for e, n in filas.all()}
