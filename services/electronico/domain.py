"""Pure rules of internet voting: the ballot of each office, the voting window."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

from shared.cripto.eleccion import Pregunta
from shared.proceso import Cargo, Entidad, Proceso

NO_REGISTRADOS = "no_registrados"
NULOS = "nulos"


def opciones(entidad: Entidad) -> list[str]:
    """Every valid way of voting, as the cómputo keys them: each party alone (ballot order), each combination
    of two or more parties of one coalition (``PAN+PRI``, in the coalition's order), candidato no registrado,
    and nulo. Single choice over these keeps coalition combinations apart in the homomorphic tally."""
    claves = list(entidad.partidos)
    for coalicion in entidad.coaliciones:
        for tamano in range(2, len(coalicion.partidos) + 1):
            claves += ["+".join(c) for c in combinations(coalicion.partidos, tamano)]
    return [*claves, NO_REGISTRADOS, NULOS]


def texto_opcion(clave: str, proceso: Proceso) -> str:
    if clave == NO_REGISTRADOS:
        return "Candidatura no registrada"
    if clave == NULOS:
        return "Voto nulo"
    partidos = clave.split("+")
    if len(partidos) == 1:
        return proceso.partidos[clave]
    return "Coalición: " + " + ".join(partidos)


def pregunta(entidad: Entidad, cargo: Cargo, proceso: Proceso) -> Pregunta:
    """One single-choice question (exactly one option marked, nulo included)."""
    return Pregunta(
        respuestas=tuple(texto_opcion(c, proceso) for c in opciones(entidad)),
        minimo=1,
        maximo=1,
        texto=f"{cargo.nombre} · {entidad.nombre}",
    )


def voto_de(opcion: str, claves: list[str]) -> list[int]:
    """The 0/1 vector of one choice (what the booth encrypts; used by drills and tests)."""
    if opcion not in claves:
        raise ValueError(f"opción desconocida {opcion!r}: válidas {claves}")
    return [1 if c == opcion else 0 for c in claves]


def en_periodo(ahora: dt.datetime, inicio: dt.datetime, fin: dt.datetime) -> bool:
    """Votes are accepted from ``inicio`` up to, not including, ``fin`` (18:00 Centro on election day)."""
    return inicio <= ahora < fin
