"""Voting in person at a consular site (#27): the site's staff, after checking a voter's ID against the site's
list, open a **turn** for them; the site's kiosk (module) redeems the turn's one-time code for a voting
session and receives the voter's credentials sealed to the site's key, which only the kiosk opens, in its
browser. The voter votes in the same booth as by internet (one encrypted ballot per election, the same ballot
box, one vote per citizen held by the database) and the kiosk closes the session.

What each step refuses, changing nothing: staff of another site (403), a voter not on this site's list (404,
the same answer for anyone not there), a voter who already voted every election (409), the site closed
(409). A code works once (one ``DELETE … RETURNING``: of parallel redemptions one gets the session) and
only for ``TURNO`` minutes; a new turn for the same voter replaces the old one. Stage; never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository
from services.electronico.models import Eleccion, Sesion, Turno, Votante
from shared.auth import Principal
from shared.db import insert_if_absent
from shared.numeros import numero_adicional
from shared.problems import Problem
from shared.proceso import Proceso
from shared.sedes import abierta, personal_de, sede_o_404

TURNO = dt.timedelta(minutes=10)  # from the staff's desk to the kiosk
SESION = dt.timedelta(minutes=15)  # the voter in the booth
ALFABETO = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from the staff's screen and typed


def _sha(texto: str) -> str:
    return hashlib.sha256(texto.encode()).hexdigest()


def _codigo() -> str:
    c = "".join(secrets.choice(ALFABETO) for _ in range(10))  # 50 bits, alive for minutes, rate-limited
    return f"{c[:5]}-{c[5:]}"


def _normalizado(codigo: str) -> str:
    return codigo.strip().upper().replace(" ", "").replace("-", "")


@dataclass
class TurnoAbierto:
    codigo: str
    expira_at: dt.datetime
    elecciones: list[str]


async def _pendientes(session: AsyncSession, v: Votante) -> list[Eleccion]:
    """The voter's open real elections they have not voted in yet."""
    return [
        e
        for e, rastreador in await repository.elecciones_del_votante(session, v)
        if rastreador is None and not e.simulacro and e.estado == "abierta"
    ]


async def abrir_turno(
    session: AsyncSession,
    proceso: Proceso,
    sede: str,
    entidad: str,
    principal: Principal,
    ahora: dt.datetime,
    numero: int | None = None,
    adicional: int | None = None,
) -> TurnoAbierto:
    """A turn for a person of the site's list (``numero``), or for an extra ballot the site handed
    (``adicional``, its folio among the entidad's at the site: it votes the national offices)."""
    s = sede_o_404(proceso, sede)
    personal_de(principal, sede)
    abierta(proceso, sede, ahora, "abre sus módulos de votación")
    if adicional is not None:
        v = None
        if adicional <= s.credenciales_adicionales:
            v = await repository.votante_por_numero(
                session, entidad, numero_adicional(proceso, sede, adicional)
            )
        if v is None or v.sede != sede:
            raise Problem(
                404,
                f"Esta sede no ha entregado la boleta adicional con folio {adicional} de la entidad "
                f"{entidad} (o su aviso aún no llega: intente en unos segundos). El folio lo da la entrega, "
                "en la entrada.",
                slug="fuera-de-la-lista-de-la-sede",
            )
    else:
        assert numero is not None
        v = await repository.votante_por_numero(session, entidad, numero)
    if v is None or v.sede != sede:
        raise Problem(
            404,
            f"No hay en la lista de esta sede una persona con el número {numero} de la entidad {entidad}: "
            "consulte su clave de elector en la entrada de la sede.",
            slug="fuera-de-la-lista-de-la-sede",
        )
    pendientes = await _pendientes(session, v)
    if not pendientes:
        raise Problem(
            409,
            "Esta persona ya votó en todas sus elecciones (o ninguna está abierta): no se abre un turno.",
            slug="ya-voto",
        )
    codigo = _codigo()
    await session.execute(delete(Turno).where(Turno.votante_id == v.id))  # a new turn replaces the old one
    if not await insert_if_absent(
        session,
        Turno,
        {
            "codigo_hash": _sha(_normalizado(codigo)),
            "votante_id": v.id,
            "sede": sede,
            "abierto_por": principal.sub,
            "expira_at": ahora + TURNO,
        },
        ["votante_id"],
    ):
        raise Problem(409, "Otro turno para esta persona se abrió al mismo tiempo.", slug="turno-simultaneo")
    return TurnoAbierto(codigo, ahora + TURNO, [e.nombre for e in pendientes])


@dataclass
class TurnoCanjeado:
    sesion: str
    expira_at: dt.datetime
    sede: str
    entidad: str
    numero: int
    credenciales: dict[str, str]  # election uuid → the private credential sealed to the site's key


async def canjear(session: AsyncSession, codigo: str, ahora: dt.datetime) -> TurnoCanjeado:
    """The kiosk's side: the code, once, before it expires → a voting session and the sealed credentials."""
    fila = (
        await session.execute(
            delete(Turno)
            .where(Turno.codigo_hash == _sha(_normalizado(codigo)), Turno.expira_at > ahora)
            .returning(Turno.votante_id, Turno.sede)
        )
    ).first()
    if fila is None:
        raise Problem(
            401,
            "El código del turno no existe, ya se usó o venció: pida al personal de la sede que abra otro.",
            slug="turno-invalido",
        )
    v = await repository.votante(session, fila.votante_id)
    assert v is not None
    pendientes = await _pendientes(session, v)
    selladas = await repository.credenciales_selladas(session, [e.uuid for e in pendientes], v.numero)
    token = secrets.token_urlsafe(32)
    session.add(Sesion(token_hash=_sha(token), votante_id=v.id, expira_at=ahora + SESION, creada_at=ahora))
    return TurnoCanjeado(token, ahora + SESION, fila.sede, v.entidad, v.numero, selladas)
