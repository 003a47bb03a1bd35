"""The counting rules, pure: no database, no I/O. Votes are keyed as ``shared.proceso.opciones`` keys them.

- ``validar`` / ``sumar``: per-option counts of one acta, and the sum of the postal actas and the electronic
  tally of one entidad (the cómputo de entidad, LGIPE 352).
- ``reparto`` / ``distribuir``: the coalition rule (LGIPE 311.1.c). The votes of each combination of
  coalition parties are split equally among its parties; the remainder goes one vote each to the parties of
  the combination with the highest vote, highest first. "Highest vote" is the party's **own** votes (marked on
  that party alone) before any distribution. Tie-break (not published by INE; our choice): among parties with
  equal own votes, the party listed first in the ballot order of the process file (``Entidad.partidos``) wins.
- ``candidaturas``: votes per candidacy (a coalition's candidate gets its parties' and combinations' votes).
- ``participacion``: a percentage with two decimals, rounded half-up, computed exactly.
- ``motivos_de_recuento``: why a count must be redone (inconsistent acta, nulos above the margin, margin
  of at most one percentage point).
- ``revisar_acta``: the arithmetic of a postal MEC acta (LGIPE 348), as blocking errors and incidents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.proceso import NO_REGISTRADOS, NULOS, Entidad, combinaciones, opciones

Votos = Mapping[str, int]
"""Votes per option key (``PAN``, ``PAN+PRI``, ``no_registrados``, ``nulos``); a missing key counts as 0."""


def _conteo(clave: str, valor: object) -> int:
    if isinstance(valor, bool) or not isinstance(valor, int):
        raise ValueError(f"la opción {clave!r} debe tener un número entero de votos (se recibió {valor!r})")
    if valor < 0:
        raise ValueError(f"la opción {clave!r} no puede tener votos negativos ({valor})")
    return valor


def validar(votos: Votos, entidad: Entidad) -> dict[str, int]:
    """Every option of the entidad's ballot with its count, in ballot order (missing options count 0).

    Raises ``ValueError`` (Spanish message naming the key) for an option not on the ballot or a count that is
    not a non-negative integer."""
    claves = opciones(entidad)
    desconocidas = [clave for clave in votos if clave not in claves]
    if desconocidas:
        raise ValueError(f"la opción {desconocidas[0]!r} no existe en la boleta de {entidad.nombre}")
    return {clave: _conteo(clave, votos.get(clave, 0)) for clave in claves}


def sumar(*actas: Votos) -> dict[str, int]:
    """The per-option sum of several actas (postal MEC actas and the electronic tally), keys in order of first
    appearance. Counts must be non-negative integers (``ValueError`` otherwise); keys are checked against the
    ballot by the functions that take the entidad."""
    total: dict[str, int] = {}
    for acta in actas:
        for clave, valor in acta.items():
            total[clave] = total.get(clave, 0) + _conteo(clave, valor)
    return total


def reparto(votos: Votos, entidad: Entidad) -> dict[str, dict[str, int]]:
    """How the votes of each coalition combination are split among its parties (LGIPE 311.1.c).

    For a combination of ``n`` parties with ``v`` votes, each party gets ``v // n``; the remainder ``v % n``
    goes one vote each to the parties of the combination with the highest vote, highest first, where "vote"
    means the party's own votes (marked on that party alone) before any distribution. Ties between parties
    with equal own votes are broken by the ballot order of the process file (``Entidad.partidos``): the party
    listed first wins. So no party of a combination gets more than one vote over another.

    Returns ``{"PAN+PRI": {"PAN": 3, "PRI": 2}, ...}`` for every combination on the ballot (in ``opciones``
    order), parties in coalition order."""
    conteo = validar(votos, entidad)
    orden = {partido: i for i, partido in enumerate(entidad.partidos)}
    resultado: dict[str, dict[str, int]] = {}
    for combinacion in combinaciones(entidad):
        clave = "+".join(combinacion)
        base, resto = divmod(conteo[clave], len(combinacion))
        prioridad = sorted(combinacion, key=lambda p: (-conteo[p], orden[p]))
        reciben_resto = set(prioridad[:resto])
        resultado[clave] = {p: base + (1 if p in reciben_resto else 0) for p in combinacion}
    return resultado


def distribuir(votos: Votos, entidad: Entidad) -> dict[str, int]:
    """Votes per party after the coalition rule: its own votes plus its share of every combination that
    includes it (see ``reparto`` for the split, the remainder and the tie-break). Parties in ballot order.
    No vote is created or lost: the result sums to all votes except candidatos no registrados and nulos."""
    conteo = validar(votos, entidad)
    partidos = {partido: conteo[partido] for partido in entidad.partidos}
    for parte in reparto(conteo, entidad).values():
        for partido, n in parte.items():
            partidos[partido] += n
    return partidos


def personas_candidatas(lista: list[dict[str, Any]], entidad: Entidad) -> dict[str, str]:
    """Each candidacy of the acta (a coalition's ``nombre`` or a party's key, as ``candidaturas`` keys them)
    with the name of the person its ballot's approved candidacies give it."""
    coalicion_de = {p: c.nombre for c in entidad.coaliciones for p in c.partidos}
    return {coalicion_de.get(c["partidos"][0], c["partidos"][0]): str(c["nombre"]) for c in lista}


def candidaturas(votos: Votos, entidad: Entidad) -> dict[str, int]:
    """Votes per candidacy: a coalition's candidate (keyed by the coalition's ``nombre``) gets every vote for
    its parties alone and for all its combinations; a party in no coalition is its own candidacy (keyed by the
    party key); then ``no_registrados``. Nulos are excluded. Candidacies follow the ballot order of their
    first party. Raises ``ValueError`` if a party is in two coalitions or a coalition is named like a
    party."""
    conteo = validar(votos, entidad)
    coalicion_de: dict[str, str] = {}
    for coalicion in entidad.coaliciones:
        if coalicion.nombre in entidad.partidos:
            raise ValueError(f"la coalición {coalicion.nombre!r} tiene el nombre de un partido")
        for partido in coalicion.partidos:
            if partido in coalicion_de:
                raise ValueError(
                    f"el partido {partido!r} aparece en más de una coalición en {entidad.nombre}"
                )
            coalicion_de[partido] = coalicion.nombre
    resultado: dict[str, int] = {}
    for partido in entidad.partidos:
        clave = coalicion_de.get(partido, partido)
        resultado[clave] = resultado.get(clave, 0) + conteo[partido]
    for combinacion in combinaciones(entidad):
        resultado[coalicion_de[combinacion[0]]] += conteo["+".join(combinacion)]
    resultado[NO_REGISTRADOS] = conteo[NO_REGISTRADOS]
    return resultado


def _porcentaje(parte: int, todo: int) -> str:
    """``100 * parte / todo`` with two decimals, rounded half-up, in exact integer arithmetic."""
    if parte < 0 or todo < 0:
        raise ValueError("un porcentaje no se calcula con cifras negativas")
    if todo == 0:
        return "0.00"
    centesimas = (2 * 10_000 * parte + todo) // (2 * todo)
    return f"{centesimas // 100}.{centesimas % 100:02d}"


def participacion(votos_total: int, lnere_total: int) -> str:
    """Participation as a percentage string with two decimals, rounded half-up (``"55.96"`` for
    18,079 of 32,305); ``"0.00"`` when the LNERE is empty. Computed exactly (no floats)."""
    return _porcentaje(votos_total, lnere_total)


def motivos_de_recuento(votos: Votos, entidad: Entidad, acta_inconsistente: bool) -> list[str]:
    """Reasons, in Spanish, to count the votes again; empty when none applies.

    First and second place are the two candidacies of ``candidaturas`` with most votes, ``no_registrados``
    excluded (it is not one candidacy); with a single candidacy the second has 0 votes. The total is every
    vote, nulos and no registrados included. Reasons: the acta is inconsistent; nulos are more than the margin
    between first and second; the margin is at most one percentage point of the total (only when there are
    votes)."""
    conteo = validar(votos, entidad)
    motivos: list[str] = []
    if acta_inconsistente:
        motivos.append("El acta presenta inconsistencias en sus cifras.")
    por_candidatura = candidaturas(conteo, entidad)
    del por_candidatura[NO_REGISTRADOS]
    ordenados = [*sorted(por_candidatura.values(), reverse=True), 0, 0]
    diferencia = ordenados[0] - ordenados[1]
    total = sum(conteo.values())
    if conteo[NULOS] > diferencia:
        motivos.append(
            f"Los votos nulos ({conteo[NULOS]}) son más que la diferencia entre el primer y el segundo "
            f"lugar ({diferencia})."
        )
    if total > 0 and 100 * diferencia <= total:
        motivos.append(
            f"La diferencia entre el primer y el segundo lugar ({diferencia} votos, "
            f"{_porcentaje(diferencia, total)} %) es igual o menor a un punto porcentual de la votación "
            f"total ({total})."
        )
    return motivos


@dataclass(frozen=True)
class Revision:
    """What ``revisar_acta`` found. ``errores`` block the acta: it cannot enter the cómputo until the capture
    is fixed. ``incidentes`` are recorded in the acta and make it inconsistent (``motivos_de_recuento``), but
    its votes still count."""

    errores: tuple[str, ...] = ()
    incidentes: tuple[str, ...] = ()

    @property
    def aceptable(self) -> bool:
        return not self.errores

    @property
    def inconsistente(self) -> bool:
        return bool(self.incidentes)


def revisar_acta(
    votos: Votos, entidad: Entidad, *, total_capturado: int, sobres_recibidos: int, marcas_voto: int
) -> Revision:
    """Checks the arithmetic of one postal MEC acta.

    Blocking errors (a capture mistake, the acta is not accepted): an option not on the ballot or a count that
    is not a non-negative integer; a negative total, sobre or mark count; options that do not add up to the
    captured total.

    Incidents (recorded, the acta counts but is inconsistent): the sobres opened differ from the "votó"
    marks on the mesa's list (LGIPE 348); the total of votes differs from the sobres opened (each sobre holds
    exactly one vote: an empty sobre or one with several ballots is a nulo, 348)."""
    try:
        conteo = validar(votos, entidad)
    except ValueError as e:
        return Revision(errores=(f"Votos capturados: {e}.",))
    errores: list[str] = []
    cifras = {
        "El total de votos": total_capturado,
        "El número de sobres recibidos": sobres_recibidos,
        "El número de marcas de «votó»": marcas_voto,
    }
    for nombre, valor in cifras.items():
        if isinstance(valor, bool) or not isinstance(valor, int) or valor < 0:
            errores.append(f"{nombre} debe ser un número entero no negativo (se capturó {valor!r}).")
    if errores:
        return Revision(errores=tuple(errores))
    suma = sum(conteo.values())
    if suma != total_capturado:
        errores.append(
            f"La suma de los votos por opción ({suma}) no coincide con el total de votos capturado "
            f"({total_capturado})."
        )
    incidentes: list[str] = []
    if sobres_recibidos != marcas_voto:
        incidentes.append(
            f"Se recibieron {sobres_recibidos} sobres, pero la lista de la mesa tiene {marcas_voto} marcas "
            f"de «votó»."
        )
    if total_capturado != sobres_recibidos:
        incidentes.append(
            f"El total de votos ({total_capturado}) no coincide con los sobres recibidos "
            f"({sobres_recibidos}): cada sobre cuenta como un voto (vacío o con varias boletas, como nulo)."
        )
    return Revision(errores=tuple(errores), incidentes=tuple(incidentes))
