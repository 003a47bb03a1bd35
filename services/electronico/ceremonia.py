"""Key ceremony, server side: it only relays the custodians' public messages, checking each on arrival.

Belenios' threshold key generation (Pedersen, k of n), in three steps each custodian runs on their own
machine (``vmre custodio ceremonia``): 1 certificate, 2 polynomial (commitments + one share encrypted for
each custodian), 3 verification key. No private value ever reaches the server. When the n step-3 messages
are in, the threshold parameters are checked as belenios-tool checks them and the election key exists.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository
from services.electronico.models import Eleccion, MensajeCeremonia
from shared.cripto import grupo as gr
from shared.cripto.custodios import (
    ClavePublica,
    Custodios,
    CustodiosInvalidos,
    huella_custodios,
    parametros_umbral,
    verificar_certificado,
    verificar_polinomio,
)
from shared.cripto.pruebas import cjson
from shared.problems import Problem

PASOS = {1: "certificado", 2: "polinomio", 3: "verificacion"}


@lru_cache(maxsize=64)
def custodios_de(texto: str) -> Custodios:
    """An election's trustees record (``custodios_json``), checked as belenios-tool checks it (~17 ms for 5
    custodians) once per process: once fixed the text never changes, so the text is its version. Shared
    between callers: never mutate it."""
    return Custodios.leer(json.loads(texto))


@lru_cache(maxsize=64)
def _publicos(texto: str) -> tuple[str, str]:
    """The election key and the ceremony's fingerprint of a trustees record, computed once per text."""
    return gr.s(custodios_de(texto).clave_eleccion()), huella_custodios(json.loads(texto))


async def mensajes(session: AsyncSession, uuid: str) -> dict[int, dict[int, MensajeCeremonia]]:
    filas = await repository.mensajes_de_ceremonia(session, uuid)
    por_paso: dict[int, dict[int, MensajeCeremonia]] = {1: {}, 2: {}, 3: {}}
    for m in filas:
        por_paso[m.paso][m.indice] = m
    return por_paso


def _lista(por_indice: dict[int, MensajeCeremonia], n: int) -> list[Any]:
    return [json.loads(por_indice[i].contenido) for i in range(1, n + 1)]


def _completar(e: Eleccion, m: dict[int, dict[int, MensajeCeremonia]]) -> None:
    """With the n verification keys in, check the threshold parameters and fix the election key. Idempotent
    and deterministic: whichever request sees the last message first (two may race) writes the same value."""
    n = e.custodios
    if e.custodios_json is not None or len(m[3]) < n:
        return
    try:
        umbral = parametros_umbral(_lista(m[1], n), _lista(m[2], n), _lista(m[3], n))
    except CustodiosInvalidos as exc:
        raise Problem(422, f"La ceremonia no cierra: {exc}", slug="ceremonia-invalida") from None
    e.custodios_json = cjson(Custodios([umbral]).json())


async def estado(session: AsyncSession, e: Eleccion) -> dict[str, Any]:
    m = await mensajes(session, e.uuid)
    _completar(e, m)
    n = e.custodios
    completos = {p: len(m[p]) == n for p in PASOS}
    paso = next((p for p in PASOS if not completos[p]), None)
    o: dict[str, Any] = {
        "eleccion": e.uuid,
        "umbral": e.umbral,
        "custodios": n,
        "paso": paso,
        "recibidos": {PASOS[p]: sorted(m[p]) for p in PASOS},
        "certificados": _lista(m[1], n) if completos[1] else None,
        "polinomios": _lista(m[2], n) if completos[2] else None,
        "clave_publica": None,
        "parametros": None,
        "huella": None,
    }
    if e.custodios_json is not None:
        # What each custodian's CLI checks against what it saw: the published trustees record, the key
        # derived from it and the fingerprint that the custodians compare out of band (and the opening act
        # carries).
        # Checked once per process and text (``_publicos``): the parameters were verified when fixed.
        o["clave_publica"], o["huella"] = _publicos(e.custodios_json)
        o["parametros"] = json.loads(e.custodios_json)
    return o


async def recibir(
    session: AsyncSession, e: Eleccion, indice: int, paso: int, custodio: str, contenido: Any
) -> dict[str, Any]:
    """Store one custodian's message after checking it. Re-sending the same message is harmless."""
    if e.estado != "preparacion":
        raise Problem(409, "La elección ya fue abierta: la ceremonia de llaves terminó.")
    n, k = e.custodios, e.umbral
    if not 1 <= indice <= n:
        raise Problem(404, f"No existe la posición de custodio {indice} (1..{n}).")
    if paso not in PASOS:
        raise Problem(404, f"No existe el paso {paso} (1 certificado, 2 polinomio, 3 verificación).")
    m = await mensajes(session, e.uuid)
    propio = {i for p in PASOS for i, x in m[p].items() if x.custodio == custodio}
    if propio - {indice}:
        raise Problem(409, f"Usted ya ocupa la posición {min(propio)}: un custodio, una posición.")
    ocupante = m[1].get(indice)
    if ocupante is not None and ocupante.custodio != custodio:
        raise Problem(409, f"La posición {indice} pertenece a otro custodio.")
    previo = m[paso].get(indice)
    texto = cjson(contenido)
    if previo is not None:
        if previo.contenido == texto:
            return await estado(session, e)
        raise Problem(409, f"Ya recibimos su {PASOS[paso]}: los mensajes de la ceremonia no se reemplazan.")
    for anterior in range(1, paso):
        if len(m[anterior]) < n:
            raise Problem(
                409,
                f"Aún faltan mensajes del paso {anterior} ({PASOS[anterior]}): "
                f"{len(m[anterior])} de {n}. Espere a los demás custodios.",
            )
    try:
        if paso == 1:
            verificar_certificado(contenido, indice, n, k)
        elif paso == 2:
            vk = verificar_certificado(json.loads(m[1][indice].contenido), indice, n, k)
            verificar_polinomio(contenido, vk, indice, n, k)
        else:
            if not isinstance(contenido, dict) or list(contenido) != ["public_key"]:
                raise CustodiosInvalidos(
                    "se esperaba solo {public_key}: la clave privada no sale de su equipo"
                )
            ClavePublica.de_json(contenido["public_key"], f"custodio {indice}")
    except CustodiosInvalidos as exc:
        raise Problem(
            422, f"Mensaje del custodio {indice} rechazado: {exc}", slug="ceremonia-invalida"
        ) from None
    session.add(
        MensajeCeremonia(eleccion=e.uuid, indice=indice, paso=paso, custodio=custodio, contenido=texto)
    )
    await session.flush()
    return await estado(session, e)
