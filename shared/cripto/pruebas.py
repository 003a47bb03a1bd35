"""Zero-knowledge proofs of Belenios 3.0: Schnorr (pok, signatures), Chaum–Pedersen disjunctions, decryption;
and VMRE's strong decryption proof, whose challenge also binds the ciphertext and the factor.

Every proof is ``(challenge, response)`` with ``response = w − x·challenge mod ℓ``; the verifier rebuilds each
commitment as ``base^response · public^challenge`` and recomputes the challenge from the exact prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.cripto import grupo as gr
from shared.cripto.grupo import Elemento


def cjson(valor: Any) -> str:
    """Compact JSON, as Belenios (Yojson) writes it for the ASCII content we produce."""
    return json.dumps(valor, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Prueba:
    challenge: int
    response: int

    def json(self) -> dict[str, str]:
        return {"challenge": str(self.challenge), "response": str(self.response)}

    @classmethod
    def de_json(cls, o: object) -> Prueba:
        if not isinstance(o, dict) or list(o) != ["challenge", "response"]:
            raise gr.ErrorDeCodificacion("prueba mal formada: se esperaba {challenge, response}")
        return cls(gr.escalar(o["challenge"]), gr.escalar(o["response"]))


# --- Schnorr: knowledge of x with X = g^x, bound to a prefix ------------------------------------------------


def schnorr(x: int, prefijo: str) -> Prueba:
    w = gr.aleatorio()
    c = gr.hash_escalar(prefijo, [gr.gpot(w)])
    return Prueba(c, (w - x * c) % gr.L)


def verifica_schnorr(publica: Elemento, prefijo: str, p: Prueba) -> bool:
    a = gr.mul(gr.gpot(p.response), gr.pot(publica, p.challenge))
    return gr.hash_escalar(prefijo, [a]) == p.challenge


def prefijo_pok(publica: Elemento) -> str:
    return f"pok|{gr.GRUPO}|{gr.s(publica)}|"


def prefijo_firma_mensaje(mensaje: str) -> str:
    return f"sigmsg|{mensaje}|"


# --- Disjunctive Chaum–Pedersen: (α, β_j) = (g^r, y^r) for one j
# ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaveCifrado:
    """The election's public key y as an encrypting device uses it: ``pot(e, d)`` = y^e·g^d.

    libsodium checks the subgroup of every variable base, so y^e costs about four g^e. A party that holds the
    secret x (y = g^x) gets the same value as g^(x·e+d), one fixed-base exponentiation: that is only ever the
    benchmarks' own test election, whose five custodians they play (``bench.eleccion``)."""

    y: Elemento
    x: int | None = None

    def __post_init__(self) -> None:
        if self.x is not None and gr.gpot(self.x) != self.y:
            raise ValueError("el secreto no corresponde a la clave de la elección")

    def pot(self, e: int, d: int = 0) -> Elemento:
        if self.x is not None:
            return gr.gpot(self.x * e + d)
        b = gr.pot(self.y, e)
        return b if d % gr.L == 0 else gr.mul(b, gr.gpot(d))


def disyuncion(y: ClaveCifrado, ramas: list[tuple[int, int]], verdadera: int, prefijo: str) -> list[Prueba]:
    """Prove that for one branch j the pair (α_j, β_j) is (g^r, y^r), without saying which — as the voting
    device does, knowing every exponent: branch j is given as ``(ρ_j, δ_j)`` with α_j = g^ρ_j and
    β_j = y^ρ_j · g^δ_j (δ = 0 on the true branch, whose ρ is the witness r).

    The proofs are the ones Belenios' prover makes, bit for bit for the same random values: a simulated
    branch's commitments g^resp·α^c and y^resp·β^c are computed as g^(resp+ρc) and y^(resp+ρc)·g^(δc), one
    variable-base exponentiation instead of three (libsodium checks the subgroup of every variable base)."""
    pruebas: list[Prueba | None] = []
    compromisos: list[Elemento] = []
    w = gr.aleatorio()
    for j, (rho, delta) in enumerate(ramas):
        if j == verdadera:
            pruebas.append(None)
            compromisos += [gr.gpot(w), y.pot(w)]
        else:
            c, resp = gr.aleatorio(), gr.aleatorio()
            pruebas.append(Prueba(c, resp))
            e = resp + rho * c
            compromisos += [gr.gpot(e), y.pot(e, delta * c)]
    total = gr.hash_escalar(prefijo, compromisos)
    c_v = (total - sum(p.challenge for p in pruebas if p is not None)) % gr.L
    pruebas[verdadera] = Prueba(c_v, (w - ramas[verdadera][0] * c_v) % gr.L)
    return [p for p in pruebas if p is not None]


def verifica_disyuncion(
    y: Elemento, ramas: list[tuple[Elemento, Elemento]], pruebas: list[Prueba], prefijo: str
) -> bool:
    if len(pruebas) != len(ramas):
        return False
    compromisos: list[Elemento] = []
    for (alfa, beta), p in zip(ramas, pruebas, strict=True):
        compromisos += [
            gr.mul(gr.gpot(p.response), gr.pot(alfa, p.challenge)),
            gr.mul(gr.pot(y, p.response), gr.pot(beta, p.challenge)),
        ]
    return gr.hash_escalar(prefijo, compromisos) == sum(p.challenge for p in pruebas) % gr.L


def ramas_valores(alfa: Elemento, beta: Elemento, valores: list[int]) -> list[tuple[Elemento, Elemento]]:
    """Branches for "(α, β) encrypts one of these values": (α, β / g^m) for each m."""
    return [(alfa, gr.div(beta, gr.gpot(m))) for m in valores]


# --- Decryption factor: f = α^x with X = g^x ---------------------------------------------------------------


def prefijo_descifrado(huella: str, publica: Elemento) -> str:
    return f"decrypt|{huella}|{gr.s(publica)}|"


def prueba_descifrado(x: int, alfa: Elemento, prefijo: str) -> Prueba:
    w = gr.aleatorio()
    c = gr.hash_escalar(prefijo, [gr.gpot(w), gr.pot(alfa, w)])
    return Prueba(c, (w - x * c) % gr.L)


def verifica_descifrado(publica: Elemento, alfa: Elemento, factor: Elemento, prefijo: str, p: Prueba) -> bool:
    a = gr.mul(gr.gpot(p.response), gr.pot(publica, p.challenge))
    b = gr.mul(gr.pot(alfa, p.response), gr.pot(factor, p.challenge))
    return gr.hash_escalar(prefijo, [a, b]) == p.challenge


# --- Strong decryption proof (VMRE's extension, not part of Belenios 3.0) ----------------------------------
# The same Chaum–Pedersen proof of log_g X = log_α f, but the challenge also hashes the whole statement: the
# ciphertext (α, β) and the factor f. Belenios 3.0's prefix names only the election and X, so f can be chosen
# after the challenge (f = (B·α^−r)^(1/c) for any commitments A = g^w, B): its proof verifies for a false
# factor. Here c = H(…, f, A, B) depends on f, so no factor but α^x has a proof (strong Fiat–Shamir).


def prefijo_descifrado_fuerte(
    huella: str, publica: Elemento, alfa: Elemento, beta: Elemento, factor: Elemento
) -> str:
    return f"vmre-decrypt-strong|{huella}|{gr.s(publica)}|{gr.s(alfa)},{gr.s(beta)},{gr.s(factor)}|"


def prueba_descifrado_fuerte(
    x: int, huella: str, publica: Elemento, alfa: Elemento, beta: Elemento, factor: Elemento
) -> Prueba:
    """Proof that ``factor`` = α^x for X = g^x (``publica``), bound to the ciphertext (α, β) and factor."""
    return prueba_descifrado(x, alfa, prefijo_descifrado_fuerte(huella, publica, alfa, beta, factor))


def verifica_descifrado_fuerte(
    huella: str, publica: Elemento, alfa: Elemento, beta: Elemento, factor: Elemento, p: Prueba
) -> bool:
    prefijo = prefijo_descifrado_fuerte(huella, publica, alfa, beta, factor)
    return verifica_descifrado(publica, alfa, factor, prefijo, p)
