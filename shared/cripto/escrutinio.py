"""The homomorphic tally, partial decryptions with proofs, their combination and the result."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.cripto import grupo as gr
from shared.cripto.boleta import Boleta, Cifrado
from shared.cripto.custodios import ClavePublica, Custodios
from shared.cripto.grupo import Elemento
from shared.cripto.pruebas import Prueba, cjson, prefijo_descifrado, prueba_descifrado, verifica_descifrado

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
