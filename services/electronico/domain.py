"""Pure rules of internet voting: the ballot of each office, the voting window."""

from __future__ import annotations

import datetime as dt

from shared.cripto.eleccion import Pregunta
from shared.proceso import NO_REGISTRADOS, NULOS, Cargo, Entidad, Proceso, opciones

__all__ = ["NO_REGISTRADOS", "NULOS", "en_periodo", "opciones", "pregunta", "texto_opcion", "voto_de"]


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
