"""electronico use cases: sealing the ballot box (the encrypted tally, the stored record, the hand-over to
computo) and recording computo's decryption of it. Stage events; never commit (the caller owns the
transaction)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from concurrent.futures import Executor

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository
from services.electronico.models import Descifrado, Eleccion, emisor
from services.electronico.service.archivo_publico import completar_archivo, guardar_archivo
from services.electronico.service.elecciones import eleccion_belenios
from shared.bus.topics import ELECTRONICO_ELECCION
from shared.cripto import boleta as bo
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodios
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.cripto.grupo import sha256_hex
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos
from shared.problems import Problem
from shared.proceso import Proceso


def _recuento(eleccion: EleccionBelenios, textos: list[str]) -> tuple[str, str]:
    """EncryptedTally: the product of the accepted ballots (verified at intake; one per credential)."""
    boletas = [bo.leer_sin_verificar(t) for t in textos]
    formas = [q.opciones for q in eleccion.preguntas]
    r, peso = es.recuento(formas, boletas, {b.credencial: 1 for b in boletas})
    texto = es.recuento_json(r)
    return texto, es.recuento_dimensionado_json(len(boletas), peso, sha256_hex(texto))


def recuento_parcial(eleccion_json: str, textos: list[str]) -> str:
    """The product of a slice of the ballots (a worker of the verifier pool): the encrypted tally's JSON."""
    return _recuento(eleccion_belenios(eleccion_json), textos)[0]


# Below this many ballots the tally is computed in one thread: splitting costs more than it saves.
RECUENTO_EN_PARALELO = 2_000


async def _recuento_de(
    eleccion_json: str, textos: list[str], verificadores: Executor | None
) -> tuple[str, str]:
    """The EncryptedTally of ``textos``: in slices across the verifier pool when there is one (each slice's
    product, then the product of the slices: the same elements), else in a thread."""
    eleccion = eleccion_belenios(eleccion_json)
    if verificadores is None or len(textos) < RECUENTO_EN_PARALELO:
        return await asyncio.to_thread(_recuento, eleccion, textos)
    loop = asyncio.get_running_loop()
    tamano = -(-len(textos) // 8)
    parciales = await asyncio.gather(
        *(
            loop.run_in_executor(verificadores, recuento_parcial, eleccion_json, textos[i : i + tamano])
            for i in range(0, len(textos), tamano)
        )
    )
    formas = [q.opciones for q in eleccion.preguntas]
    total = es.leer_recuento(parciales[0], formas)
    for parcial in parciales[1:]:
        otro = es.leer_recuento(parcial, formas)
        total = [
            [(gr.mul(a, a2), gr.mul(b, b2)) for (a, b), (a2, b2) in zip(fila, fila2, strict=True)]
            for fila, fila2 in zip(total, otro, strict=True)
        ]
    texto = es.recuento_json(total)
    return texto, es.recuento_dimensionado_json(len(textos), len(textos), sha256_hex(texto))


async def sellar(
    session: AsyncSession,
    e: Eleccion,
    ahora: dt.datetime,
    proceso: Proceso,
    verificadores: Executor | None = None,
) -> str:
    """Close the ballot box at the end of the window: EndBallots, the final hash, the hand-over to computo."""
    if e.estado == "sellada":
        raise Problem(409, f"La urna ya estaba sellada (sello {e.sello}).")
    if e.estado != "abierta":
        raise Problem(409, "La elección no fue abierta: no hay urna que sellar.")
    if ahora < e.fin:
        raise Problem(
            409,
            f"El periodo de votación termina el {proceso.local(e.fin):%d/%m/%Y a las %H:%M} "
            "(hora del Centro).",
        )
    assert e.eleccion_json is not None
    assert e.custodios_json is not None
    e.estado = "sellada"
    e.sellada_at = ahora
    textos = await repository.textos_de_boletas(session, e.uuid)
    e.recuento, e.recuento_dimensionado = await _recuento_de(e.eleccion_json, textos, verificadores)
    e.sello = await guardar_archivo(session, e, textos)
    boletas = len(textos)
    await emisor.emitir(
        session,
        ELECTRONICO_ELECCION,
        event_type=eventos.URNA_SELLADA,
        aggregate_id=e.uuid,
        aggregate_version=2,
        data=eventos.UrnaSellada(
            eleccion=e.uuid,
            entidad=e.entidad,
            cargo=e.cargo,
            simulacro=e.simulacro,
            boletas=boletas,
            presenciales=await repository.boletas_presenciales(session, e.uuid),
            sello=e.sello,
            archivo=f"/v1/elecciones/{e.uuid}/archivo.bel",
            sellada_at=ahora,
            eleccion_json=e.eleccion_json,
            custodios_json=e.custodios_json,
            recuento=e.recuento,
            recuento_dimensionado=e.recuento_dimensionado,
        ),
    )
    return e.sello


async def por_sellar(session: AsyncSession, ahora: dt.datetime) -> list[str]:
    return await repository.por_sellar(session, ahora)


async def registrar_escrutinio(session: AsyncSession, datos: eventos_computo.EscrutinioPublicado) -> None:
    """computo's decryption of the tally: each partial decryption (and its strong proofs, when the event
    carries them: shares from before the extension do not) is checked again against the custodians' keys and
    the stored tally, and the result recomputed, before they enter the public record (the strong proofs are
    kept next to it)."""
    e = await repository.eleccion(session, datos.eleccion, bloqueo="exclusivo")
    if e is None or e.estado != "sellada" or e.recuento is None or e.eleccion_json is None:
        raise ValueError(f"escrutinio de la elección {datos.eleccion}, que no existe o no está sellada")
    if e.resultado is not None:
        if e.resultado != datos.resultado:
            raise ValueError(f"la elección {e.uuid} ya tiene otro resultado publicado")
        return
    assert e.custodios_json is not None
    eleccion = eleccion_belenios(e.eleccion_json)
    custodios = Custodios.leer(json.loads(e.custodios_json))
    formas = [q.opciones for q in eleccion.preguntas]
    recuento = es.leer_recuento(e.recuento, formas)
    duenos = custodios.duenos()
    parciales = {
        d.owner: es.verificar_descifrado(eleccion.huella, duenos[d.owner][2], recuento, d.texto)
        for d in datos.descifrados
    }
    for d in datos.descifrados:
        if d.pruebas_fuertes is not None:
            es.verificar_pruebas_fuertes(
                eleccion.huella, duenos[d.owner][2], recuento, parciales[d.owner], d.pruebas_fuertes
            )
    comb = es.combinar(custodios, parciales, formas)
    total = json.loads(e.recuento_dimensionado or "{}").get("total_weight", 0)
    resultado = es.resultado_json(es.resultado(recuento, comb.factores, int(total)))
    if resultado != datos.resultado:
        raise ValueError(f"el resultado de computo no corresponde al recuento de la elección {e.uuid}")
    for posicion, d in enumerate(datos.descifrados, start=1):
        session.add(
            Descifrado(
                eleccion=e.uuid,
                owner=d.owner,
                posicion=posicion,
                texto=d.texto,
                pruebas_fuertes=d.pruebas_fuertes,
            )
        )
    e.resultado = resultado
    await completar_archivo(session, e, [(d.owner, d.texto) for d in datos.descifrados], resultado)
