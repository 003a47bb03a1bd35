"""The homomorphic tally, partial decryptions with proofs (Belenios' and VMRE's strong ones), their
combination and the result."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.cripto import grupo as gr
from shared.cripto.boleta import Boleta, Cifrado
from shared.cripto.custodios import ClavePublica, Custodios
from shared.cripto.grupo import Elemento
from shared.cripto.pruebas import (
    Prueba,
    cjson,
    prefijo_descifrado,
    prueba_descifrado,
    prueba_descifrado_fuerte,
    verifica_descifrado,
    verifica_descifrado_fuerte,
)

Recuento = list[list[Cifrado]]


class EscrutinioInvalido(ValueError):
    pass


def ultimas(boletas: Iterable[Boleta]) -> list[Boleta]:
    """Belenios' rule: of each credential's ballots, the last one counts (our intake refuses a second one)."""
    por_credencial: dict[str, Boleta] = {}
    for b in boletas:
        por_credencial.pop(b.credencial, None)
        por_credencial[b.credencial] = b
    return list(por_credencial.values())


def recuento(formas: list[int], boletas: list[Boleta], pesos: Mapping[str, int]) -> tuple[Recuento, int]:
    """Π over the counted ballots of each ciphertext (raised to the voter's weight); and the total weight."""
    alfas = [[gr.IDENTIDAD] * n for n in formas]
    betas = [[gr.IDENTIDAD] * n for n in formas]
    total = 0
    for b in boletas:
        w = pesos[b.credencial]
        total += w
        for q, cts in enumerate(b.respuestas):
            fa, fb = alfas[q], betas[q]
            for j, (a, bb) in enumerate(cts):
                if w != 1:
                    a, bb = gr.pot(a, w), gr.pot(bb, w)
                fa[j] = gr.mul(fa[j], a)
                fb[j] = gr.mul(fb[j], bb)
    return [list(zip(fa, fb, strict=True)) for fa, fb in zip(alfas, betas, strict=True)], total


def recuento_json(r: Recuento) -> str:
    return cjson([[{"alpha": gr.s(a), "beta": gr.s(b)} for a, b in fila] for fila in r])


def leer_recuento(texto: str | bytes, formas: list[int]) -> Recuento:
    """An encrypted tally as published (what each custodian decrypts), every element checked."""
    try:
        o = json.loads(texto)
        r = [[(gr.elemento(c["alpha"]), gr.elemento(c["beta"])) for c in fila] for fila in o]
    except (gr.ErrorDeCodificacion, TypeError, KeyError, ValueError) as e:
        raise EscrutinioInvalido(f"recuento cifrado mal formado: {e}") from None
    if [len(f) for f in r] != formas:
        raise EscrutinioInvalido(f"el recuento cifrado no tiene la forma de la elección {formas}")
    return r


def peso_json(total: int) -> int | str:
    return total if total <= 2**30 - 1 else str(total)


def recuento_dimensionado_json(num: int, total: int, hash_recuento: str) -> str:
    return cjson({"num_tallied": num, "total_weight": peso_json(total), "encrypted_tally": hash_recuento})


# --- Partial decryptions -----------------------------------------------------------------------------------


def descifrado_parcial(huella: str, x: int, r: Recuento) -> str:
    """A custodian's factors α^x for every tally entry, each with its proof (what ``decrypt`` prints)."""
    prefijo = prefijo_descifrado(huella, gr.gpot(x))
    factores, pruebas = [], []
    for fila in r:
        factores.append([gr.s(gr.pot(a, x)) for a, _ in fila])
        pruebas.append([prueba_descifrado(x, a, prefijo).json() for a, _ in fila])
    return cjson({"decryption_factors": factores, "decryption_proofs": pruebas})


def verificar_descifrado(
    huella: str, publica: Elemento, r: Recuento, texto: str | bytes
) -> list[list[Elemento]]:
    """The factors of a partial decryption, each proof checked against the key it claims to come from."""
    try:
        o = json.loads(texto)
        if not isinstance(o, dict) or list(o) != ["decryption_factors", "decryption_proofs"]:
            raise EscrutinioInvalido(
                "descifrado parcial: se esperaba {decryption_factors, decryption_proofs}"
            )
        factores = [[gr.elemento(f) for f in fila] for fila in o["decryption_factors"]]
        pruebas = [[Prueba.de_json(p) for p in fila] for fila in o["decryption_proofs"]]
    except (gr.ErrorDeCodificacion, TypeError, ValueError) as e:
        raise EscrutinioInvalido(f"descifrado parcial mal formado: {e}") from None
    formas = [len(f) for f in r]
    if [len(f) for f in factores] != formas or [len(p) for p in pruebas] != formas:
        raise EscrutinioInvalido("descifrado parcial: no tiene la forma del recuento")
    prefijo = prefijo_descifrado(huella, publica)
    for q, fila in enumerate(r):
        for j, (a, _) in enumerate(fila):
            if not verifica_descifrado(publica, a, factores[q][j], prefijo, pruebas[q][j]):
                raise EscrutinioInvalido(
                    f"pregunta {q + 1}, opción {j + 1}: la prueba de descifrado no verifica"
                )
    return factores


# --- Strong proofs (VMRE's extension) and the body a custodian delivers -------------------------------------
# Belenios 3.0's decryption proof does not bind the factor (see shared/cripto/pruebas.py), so next to the
# Belenios-format partial decryption, which stays byte for byte what ``belenios-tool`` writes and reads, each
# custodian publishes {"strong_decryption_proofs": [[{challenge, response}, …], …]}: one strong proof per
# tally entry, whose challenge hashes the election's fingerprint, X, α, β and f.

CLAVES_FUERTES = ["strong_decryption_proofs"]
CLAVES_ENTREGA = ["partial_decryption", "strong_proofs"]


def pruebas_fuertes(huella: str, x: int, r: Recuento) -> str:
    """The strong proofs of a custodian's factors α^x, one per tally entry (canonical JSON)."""
    publica = gr.gpot(x)
    pruebas = [
        [prueba_descifrado_fuerte(x, huella, publica, a, b, gr.pot(a, x)).json() for a, b in fila]
        for fila in r
    ]
    return cjson({"strong_decryption_proofs": pruebas})


def verificar_pruebas_fuertes(
    huella: str, publica: Elemento, r: Recuento, factores: list[list[Elemento]], texto: str | bytes
) -> None:
    """Every factor of a partial decryption (``verificar_descifrado``'s) has its strong proof, for this key,
    this election and this tally entry; else ``EscrutinioInvalido`` naming the pregunta and opción."""
    try:
        o = json.loads(texto)
    except ValueError as e:
        raise EscrutinioInvalido(f"pruebas fuertes mal formadas: {e}") from None
    if not isinstance(o, dict) or list(o) != CLAVES_FUERTES:
        raise EscrutinioInvalido("pruebas fuertes: se esperaba {strong_decryption_proofs}")
    try:
        pruebas = [[Prueba.de_json(p) for p in fila] for fila in o["strong_decryption_proofs"]]
    except (gr.ErrorDeCodificacion, TypeError) as e:
        raise EscrutinioInvalido(f"pruebas fuertes mal formadas: {e}") from None
    if [len(p) for p in pruebas] != [len(f) for f in r] or [len(f) for f in factores] != [len(f) for f in r]:
        raise EscrutinioInvalido("pruebas fuertes: no tienen la forma del recuento")
    for q, fila in enumerate(r):
        for j, (a, b) in enumerate(fila):
            if not verifica_descifrado_fuerte(huella, publica, a, b, factores[q][j], pruebas[q][j]):
                raise EscrutinioInvalido(
                    f"pregunta {q + 1}, opción {j + 1}: la prueba fuerte de descifrado no verifica (el "
                    "factor no es el de la clave del custodio para esta entrada del recuento)"
                )


def entrega_descifrado(huella: str, x: int, r: Recuento) -> str:
    """What a custodian sends to computo: {"partial_decryption": …, "strong_proofs": …} (canonical JSON)."""
    return cjson(
        {
            "partial_decryption": json.loads(descifrado_parcial(huella, x, r)),
            "strong_proofs": json.loads(pruebas_fuertes(huella, x, r)),
        }
    )


def leer_entrega(texto: str | bytes) -> tuple[str, str]:
    """A custodian's delivery split into the Belenios partial decryption and the strong proofs, each
    re-serialised canonically (the first is then byte for byte what ``descifrado_parcial`` writes once its
    proofs verify). Only the shape is checked here: the proofs, by ``verificar_descifrado`` and
    ``verificar_pruebas_fuertes``."""
    try:
        o = json.loads(texto)
    except ValueError as e:
        raise EscrutinioInvalido(f"la entrega no es JSON: {e}") from None
    if not isinstance(o, dict):
        raise EscrutinioInvalido('la entrega debe ser un objeto {"partial_decryption", "strong_proofs"}')
    if "decryption_factors" in o and "strong_proofs" not in o:
        raise EscrutinioInvalido(
            "faltan las pruebas fuertes: el cuerpo es solo el partial_decryption de Belenios; se espera "
            '{"partial_decryption": …, "strong_proofs": {"strong_decryption_proofs": …}}'
        )
    faltan = [k for k in CLAVES_ENTREGA if k not in o]
    if faltan:
        que = {"partial_decryption": "el descifrado parcial", "strong_proofs": "las pruebas fuertes"}
        raise EscrutinioInvalido(
            f"falta {', '.join(f'{k} ({que[k]})' for k in faltan)} en la entrega; se espera "
            '{"partial_decryption": …, "strong_proofs": {"strong_decryption_proofs": …}}'
        )
    sobran = sorted(set(o) - set(CLAVES_ENTREGA))
    if sobran:
        raise EscrutinioInvalido(f"la entrega tiene campos no admitidos: {', '.join(sobran)}")
    if not isinstance(o["partial_decryption"], dict) or not isinstance(o["strong_proofs"], dict):
        raise EscrutinioInvalido("partial_decryption y strong_proofs deben ser objetos JSON")
    return cjson(o["partial_decryption"]), cjson(o["strong_proofs"])


def lagrange(indices: list[int]) -> dict[int, int]:
    """λ_δ = Π_{k≠δ} k·(k−δ)⁻¹ mod ℓ: the coefficients that rebuild f(0) from the shares at ``indices``."""
    coef = {}
    for d in indices:
        num, den = 1, 1
        for k in indices:
            if k != d:
                num = num * k % gr.L
                den = den * (k - d) % gr.L
        coef[d] = num * pow(den, -1, gr.L) % gr.L
    return coef


@dataclass(frozen=True)
class Combinacion:
    factores: list[list[Elemento]]
    usados: list[int]  # owners whose factors entered the combination


def combinar(
    custodios: Custodios, parciales: Mapping[int, list[list[Elemento]]], formas: list[int]
) -> Combinacion:
    """Belenios' combination: every Single is required; per Pedersen group the first k present, by index."""
    duenos = custodios.duenos()
    total = [[gr.IDENTIDAD] * n for n in formas]
    usados: list[int] = []

    def acumula(factores: list[list[Elemento]], exponente: int) -> None:
        for q, fila in enumerate(factores):
            for j, f in enumerate(fila):
                total[q][j] = gr.mul(total[q][j], gr.pot(f, exponente) if exponente != 1 else f)

    for e_i, entrada in enumerate(custodios.entradas):
        del_grupo = {j: o for o, (ei, j, _) in duenos.items() if ei == e_i}
        if isinstance(entrada, ClavePublica):
            (owner,) = del_grupo.values()
            if owner not in parciales:
                raise EscrutinioInvalido(f"falta el descifrado parcial del custodio {owner} (clave simple)")
            acumula(parciales[owner], 1)
            usados.append(owner)
            continue
        presentes = sorted(j for j, o in del_grupo.items() if j is not None and o in parciales)
        if len(presentes) < entrada.umbral:
            raise EscrutinioInvalido(
                f"se necesitan {entrada.umbral} descifrados parciales de custodios, hay {len(presentes)}"
            )
        elegidos = presentes[: entrada.umbral]
        for j, lam in lagrange(elegidos).items():
            acumula(parciales[del_grupo[j]], lam)
            usados.append(del_grupo[j])
    return Combinacion(total, usados)


def resultado(r: Recuento, factores: list[list[Elemento]], cota: int) -> list[list[int]]:
    """n = log_g(β / F) for every entry, each in [0, cota] (the total weight)."""
    planos = [
        gr.div(b, f) for fila, ff in zip(r, factores, strict=True) for (_, b), f in zip(fila, ff, strict=True)
    ]
    logs = iter(gr.logaritmos(planos, cota))
    return [[next(logs) for _ in fila] for fila in r]


def resultado_json(res: list[list[int]]) -> str:
    return cjson({"result": res})
