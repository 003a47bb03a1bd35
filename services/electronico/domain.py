"""Pure rules of internet voting: the ballot of each office, the voting window."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from shared.cripto.eleccion import Pregunta
from shared.proceso import NO_REGISTRADOS, NULOS, Cargo, Entidad, Proceso, opciones

__all__ = [
    "NO_REGISTRADOS",
    "NULOS",
    "en_periodo",
    "huella_candidaturas",
    "opciones",
    "pregunta",
    "revisar_candidaturas",
    "texto_opcion",
    "voto_de",
]


def texto_opcion(clave: str, proceso: Proceso, nombres: dict[str, str] | None = None) -> str:
    """What the ballot says for an option; with the approved candidacies (party → name), the name of the
    person each party or coalition nominated beside it."""
    if clave == NO_REGISTRADOS:
        return "Candidatura no registrada"
    if clave == NULOS:
        return "Voto nulo"
    partidos = clave.split("+")
    texto = proceso.partidos[clave] if len(partidos) == 1 else "Coalición: " + " + ".join(partidos)
    nombre = (nombres or {}).get(partidos[0])
    return f"{texto} — {nombre}" if nombre else texto


def nombres_por_partido(lista: list[dict[str, Any]]) -> dict[str, str]:
    return {p: str(c["nombre"]) for c in lista for p in c["partidos"]}


def pregunta(
    entidad: Entidad, cargo: Cargo, proceso: Proceso, candidaturas: list[dict[str, Any]] | None = None
) -> Pregunta:
    """One single-choice question (exactly one option marked, nulo included)."""
    nombres = nombres_por_partido(candidaturas or [])
    return Pregunta(
        respuestas=tuple(texto_opcion(c, proceso, nombres) for c in opciones(entidad)),
        minimo=1,
        maximo=1,
        texto=f"{cargo.nombre} · {entidad.nombre}",
    )


def revisar_candidaturas(entidad: Entidad, lista: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every problem of a ballot's candidacies, by field: each nominated by one party of the entidad or by
    the parties of one of its coalitions (all of them), no party nominating twice. Empty: valid."""
    errores = []
    coaliciones = {frozenset(c.partidos): c.nombre for c in entidad.coaliciones}
    vistos: dict[str, int] = {}
    for i, c in enumerate(lista):
        campo = f"candidaturas.{i}.partidos"
        partidos = list(c["partidos"])
        ajenos = [p for p in partidos if p not in entidad.partidos]
        if ajenos:
            errores.append(
                {
                    "campo": campo,
                    "mensaje": f"{', '.join(ajenos)} no compite en {entidad.nombre} "
                    f"(partidos: {', '.join(entidad.partidos)}).",
                }
            )
            continue
        if len(partidos) != len(set(partidos)):
            errores.append(
                {"campo": campo, "mensaje": "Un partido aparece dos veces en la misma candidatura."}
            )
            continue
        if len(partidos) > 1 and frozenset(partidos) not in coaliciones:
            declaradas = (
                "; ".join(f"{n}: {' + '.join(sorted(k))}" for k, n in coaliciones.items()) or "ninguna"
            )
            errores.append(
                {
                    "campo": campo,
                    "mensaje": f"{' + '.join(partidos)} no es una coalición de {entidad.nombre} "
                    f"(coaliciones: {declaradas}): una candidatura común la postulan todos los partidos "
                    "de una coalición.",
                }
            )
            continue
        for p in partidos:
            if p in vistos:
                errores.append(
                    {
                        "campo": campo,
                        "mensaje": f"{p} ya postula a la candidatura {vistos[p]}: una por partido.",
                    }
                )
            vistos[p] = i
    return errores


def huella_candidaturas(ambito: str, cargo: str, lista: list[dict[str, Any]]) -> str:
    """SHA-256 of the ballot's candidacies, canonical JSON: what ine-admin approves and each election's
    setup carries."""
    texto = json.dumps(
        {"ambito": ambito, "cargo": cargo, "candidaturas": lista},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(texto.encode()).hexdigest()


def voto_de(opcion: str, claves: list[str]) -> list[int]:
    """The 0/1 vector of one choice (what the booth encrypts; used by drills and tests)."""
    if opcion not in claves:
        raise ValueError(f"opción desconocida {opcion!r}: válidas {claves}")
    return [1 if c == opcion else 0 for c in claves]


def en_periodo(ahora: dt.datetime, inicio: dt.datetime, fin: dt.datetime) -> bool:
    """Votes are accepted from ``inicio`` up to, not including, ``fin`` (18:00 Centro on election day)."""
    return inicio <= ahora < fin
