"""The electronic MEC: custodians decrypt the sealed box's encrypted tally; with k of n the result exists.

Each partial decryption is checked on arrival against the custodian's verification key and the tally (its
proof must verify); with the k-th, the factors are combined (Lagrange) and the result read off (discrete
logarithms).
The decryptions and the result go back to electronico in an event, to complete the public Belenios record
that anyone verifies with ``vmre verificar``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.computo.models import DescifradoParcial, EscrutinioElectronico, Outbox
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage
from shared.bus.topics import COMPUTO_ESCRUTINIO
from shared.cripto import escrutinio as es
from shared.cripto.custodios import Custodios, Pedersen
from shared.cripto.eleccion import Eleccion
from shared.db import insert_if_absent
from shared.events import computo as eventos
from shared.events import electronico as eventos_electronico
from shared.problems import Problem
from shared.proceso import Proceso, opciones


async def urna_sellada(session: AsyncSession, datos: eventos_electronico.UrnaSellada) -> None:
    await insert_if_absent(
        session,
        EscrutinioElectronico,
        {
            "eleccion": datos.eleccion,
            "entidad": datos.entidad,
            "cargo": datos.cargo,
            "simulacro": datos.simulacro,
            "boletas": datos.boletas,
            "sello": datos.sello,
            "eleccion_json": datos.eleccion_json,
            "custodios_json": datos.custodios_json,
            "recuento": datos.recuento,
            "recuento_dimensionado": datos.recuento_dimensionado,
        },
        ["eleccion"],
    )


def _umbral(custodios: Custodios) -> int:
    return sum(e.umbral if isinstance(e, Pedersen) else 1 for e in custodios.entradas)


async def o_404(session: AsyncSession, eleccion: str, bloqueo: bool = False) -> EscrutinioElectronico:
    e = await session.get(EscrutinioElectronico, eleccion, with_for_update=bloqueo or None)
    if e is None:
        raise Problem(
            404,
            f"No hay urna sellada de la elección {eleccion}: "
            "el cómputo electrónico empieza al cerrar la votación.",
        )
    return e


async def estado(session: AsyncSession, e: EscrutinioElectronico) -> dict[str, Any]:
    custodios = Custodios.leer(json.loads(e.custodios_json))
    recibidos = sorted(
        (
            await session.execute(
                select(DescifradoParcial.owner).where(DescifradoParcial.eleccion == e.eleccion)
            )
        ).scalars()
    )
    necesarios = _umbral(custodios)
    o: dict[str, Any] = {
        "eleccion": e.eleccion,
        "entidad": e.entidad,
        "cargo": e.cargo,
        "simulacro": e.simulacro,
        "boletas": e.boletas,
        "sello": e.sello,
        "eleccion_json": e.eleccion_json,
        "recuento": e.recuento,
        "custodios": len(custodios.duenos()),
        "necesarios": necesarios,
        "recibidos": recibidos,
        "votos": e.votos,
        "publicado_at": e.publicado_at,
    }
    if e.votos is None:
        faltan = max(0, necesarios - len(recibidos))
        o["mensaje"] = (
            f"Sin resultado: faltan {faltan} descifrados parciales de custodios "
            f"({len(recibidos)} de {necesarios} necesarios)."
        )
    return o


def _combinar(e: EscrutinioElectronico, textos: dict[int, str]) -> tuple[str, list[int]]:
    eleccion = Eleccion.leer(e.eleccion_json.encode())
    custodios = Custodios.leer(json.loads(e.custodios_json))
    formas = [q.opciones for q in eleccion.preguntas]
    recuento = es.leer_recuento(e.recuento, formas)
    duenos = custodios.duenos()
    parciales = {
        o: es.verificar_descifrado(eleccion.huella, duenos[o][2], recuento, t) for o, t in textos.items()
    }
    comb = es.combinar(custodios, parciales, formas)
    total = int(json.loads(e.recuento_dimensionado)["total_weight"] or 0)
    res = es.resultado(recuento, comb.factores, total)
    return es.resultado_json(res), res[0]


async def recibir(
    session: AsyncSession,
    e: EscrutinioElectronico,
    owner: int,
    texto: str,
    custodio: str,
    proceso: Proceso,
    ahora: dt.datetime,
) -> dict[str, Any]:
    """A custodian's partial decryption: kept only if its proofs verify. The k-th one produces the result."""
    if e.votos is not None:
        raise Problem(409, "El resultado ya se publicó con los descifrados necesarios.")
    eleccion = Eleccion.leer(e.eleccion_json.encode())
    custodios = Custodios.leer(json.loads(e.custodios_json))
    duenos = custodios.duenos()
    if owner not in duenos:
        raise Problem(404, f"No existe el custodio {owner} (1..{len(duenos)}).")
    formas = [q.opciones for q in eleccion.preguntas]
    recuento = es.leer_recuento(e.recuento, formas)
    try:
        await asyncio.to_thread(es.verificar_descifrado, eleccion.huella, duenos[owner][2], recuento, texto)
    except es.EscrutinioInvalido as exc:
        raise Problem(
            422, f"Descifrado parcial del custodio {owner} rechazado: {exc}", slug="descifrado-invalido"
        ) from None
    nuevo = await insert_if_absent(
        session,
        DescifradoParcial,
        {"eleccion": e.eleccion, "owner": owner, "texto": texto, "custodio": custodio, "recibido_at": ahora},
        ["eleccion", "owner"],
    )
    if not nuevo:
        previo = await session.get(DescifradoParcial, (e.eleccion, owner))
        if previo is not None and previo.texto != texto:
            raise Problem(409, f"Ya se recibió el descifrado parcial del custodio {owner}.")
    filas = (
        await session.execute(
            select(DescifradoParcial.owner, DescifradoParcial.texto)
            .where(DescifradoParcial.eleccion == e.eleccion)
            .order_by(DescifradoParcial.recibido_at, DescifradoParcial.owner)
        )
    ).all()
    if len(filas) >= _umbral(custodios):
        textos = {o: t for o, t in filas}
        resultado, conteo = await asyncio.to_thread(_combinar, e, textos)
        claves = opciones(proceso.entidades[e.entidad])
        if len(claves) != len(conteo):
            raise Problem(500, "Las opciones del proceso no corresponden a la boleta de la elección.")
        e.resultado = resultado
        e.votos = dict(zip(claves, conteo, strict=True))
        e.publicado_at = ahora
        await stage(
            session,
            Outbox,
            COMPUTO_ESCRUTINIO,
            Envelope.new(
                event_type=eventos.ESCRUTINIO_PUBLICADO,
                source="computo",
                aggregate_id=e.eleccion,
                data=eventos.EscrutinioPublicado(
                    eleccion=e.eleccion,
                    entidad=e.entidad,
                    cargo=e.cargo,
                    simulacro=e.simulacro,
                    descifrados=[eventos.Descifrado(owner=o, texto=t) for o, t in filas],
                    resultado=resultado,
                    votos=e.votos,
                ),
            ),
        )
    await session.flush()
    return await estado(session, e)
