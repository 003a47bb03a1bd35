"""Ballots: exponential ElGamal per choice, proofs of validity, the credential's signature, the tracker.

``cifrar`` is what a voting device does; ``verificar`` is what the ballot box and every auditor do. Intake
accepts
only the exact canonical form (a strict subset of what belenios-tool 3.0 accepts), so trackers are unique.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.cripto import grupo as gr
from shared.cripto.eleccion import Eleccion, Pregunta, clave_de_credencial
from shared.cripto.grupo import Elemento
from shared.cripto.pruebas import (
    ClaveCifrado,
    Prueba,
    cjson,
    disyuncion,
    ramas_valores,
    schnorr,
    verifica_disyuncion,
    verifica_schnorr,
)

Cifrado = tuple[Elemento, Elemento]  # (α, β)


class BoletaInvalida(ValueError):
    """A ballot the box must refuse. ``motivo`` uses belenios-tool's names (NonCanonical, …)."""

    def __init__(self, motivo: str, mensaje: str) -> None:
        super().__init__(mensaje)
        self.motivo = motivo


@dataclass(frozen=True, slots=True)
class Boleta:
    texto: str
    credencial: str  # s(C), the public credential
    respuestas: tuple[tuple[Cifrado, ...], ...]

    @property
    def rastreador(self) -> str:
        """The smart ballot tracker the voter keeps: Base64 SHA-256 of the ballot as cast."""
        return gr.sha256_b64(self.texto)

    @property
    def hash_hex(self) -> str:
        """The name of its record in the archive."""
        return gr.sha256_hex(self.texto)


def leer_sin_verificar(texto: str) -> Boleta:
    """A ballot already verified at intake, read back for the tally: ciphertexts and credential only.

    Its elements are not checked again (the subgroup check costs a full exponentiation each, most of the
    tally's time): every element passed it at intake, the group operation still refuses anything that is not
    a point of the curve, and ``vmre verificar`` checks the whole archive, tally included."""
    o = json.loads(texto)
    return Boleta(
        texto=texto,
        credencial=o["credential"],
        respuestas=tuple(
            tuple(
                (gr.elemento_verificado(c["alpha"]), gr.elemento_verificado(c["beta"])) for c in r["choices"]
            )
            for r in o["answers"]
        ),
    )


def _producto(cifrados: list[Cifrado] | tuple[Cifrado, ...]) -> Cifrado:
    return gr.producto([a for a, _ in cifrados]), gr.producto([b for _, b in cifrados])


def _cadena(s0: str, cifrados: list[Cifrado] | tuple[Cifrado, ...]) -> str:
    return s0 + "|" + ",".join(f"{gr.s(a)},{gr.s(b)}" for a, b in cifrados)


def _cifrados_json(cifrados: list[Cifrado] | tuple[Cifrado, ...]) -> list[dict[str, str]]:
    return [{"alpha": gr.s(a), "beta": gr.s(b)} for a, b in cifrados]


def _pruebas_json(pruebas: list[Prueba]) -> list[dict[str, str]]:
    return [p.json() for p in pruebas]


def _cifrar_respuesta(y: ClaveCifrado, s0: str, q: Pregunta, votos: list[int]) -> dict[str, Any]:
    rs = [gr.aleatorio() for _ in votos]
    cts = [(gr.gpot(r), y.pot(r, m)) for r, m in zip(rs, votos, strict=True)]
    # Each branch of a proof as the device knows it: (ρ, δ) with α = g^ρ and β = y^ρ·g^δ (see disyuncion).
    individuales = [
        disyuncion(y, [(r, m - v) for v in (0, 1)], m, f"prove|{s0}|{gr.s(a)},{gr.s(b)}|")
        for (a, b), m, r in zip(cts, votos, rs, strict=True)
    ]
    s = _cadena(s0, cts)
    rango = list(range(q.minimo, q.maximo + 1))
    respuesta: dict[str, Any] = {
        "choices": _cifrados_json(cts),
        "individual_proofs": [_pruebas_json(p) for p in individuales],
    }
    if not q.blanco:
        a, b = _producto(cts)
        r, total = sum(rs), sum(votos)
        global_ = disyuncion(
            y, [(r, total - v) for v in rango], total - q.minimo, f"prove|{s}|{gr.s(a)},{gr.s(b)}|"
        )
        respuesta["overall_proof"] = _pruebas_json(global_)
    else:
        r0, r_s, v0, v_s = rs[0], sum(rs[1:]), votos[0], sum(votos[1:])
        en_blanco = v0 == 1
        ramas_g = [(r0, v0 - 1), *((r_s, v_s - v) for v in rango)]
        verdadera = 0 if en_blanco else v_s - q.minimo + 1
        global_ = disyuncion(y, ramas_g, verdadera, f"bproof1|{s}|")
        blanco = disyuncion(y, [(r0, v0), (r_s, v_s)], 1 if en_blanco else 0, f"bproof0|{s}|")
        respuesta["overall_proof"] = _pruebas_json(global_)
        respuesta["blank_proof"] = _pruebas_json(blanco)
    return respuesta


def cifrar(eleccion: Eleccion, credencial: str, votos: list[list[int]], secreto: int | None = None) -> str:
    """The canonical JSON of a signed ballot. ``votos``: one 0/1 vector per question (blank flag first).
    ``secreto``: the election's whole secret key, which only the benchmarks' test election has (ClaveCifrado);
    the ballot is the same, made faster."""
    if len(votos) != len(eleccion.preguntas):
        raise ValueError(f"se esperaban {len(eleccion.preguntas)} respuestas, llegaron {len(votos)}")
    for i, (q, v) in enumerate(zip(eleccion.preguntas, votos, strict=True)):
        if not q.valida(v):
            raise ValueError(f"pregunta {i + 1}: {v} no es una forma válida de votar")
    y = ClaveCifrado(eleccion.clave_publica, secreto)
    x = clave_de_credencial(eleccion.uuid, credencial)
    c = gr.s(gr.gpot(x))
    s0 = f"{eleccion.huella}|{c}"
    sin_firma = {
        "election_uuid": eleccion.uuid,
        "election_hash": eleccion.huella,
        "credential": c,
        "answers": [_cifrar_respuesta(y, s0, q, v) for q, v in zip(eleccion.preguntas, votos, strict=False)],
    }
    h = gr.sha256_b64(cjson(sin_firma))
    firma = schnorr(x, f"sig|{h}|")
    return cjson(sin_firma | {"signature": {"hash": h, "proof": firma.json()}})


# --- Verification ------------------------------------------------------------------------------------------


def _claves(o: object, esperadas: list[str], donde: str) -> dict[str, Any]:
    if not isinstance(o, dict) or list(o) != esperadas:
        raise BoletaInvalida("NonCanonical", f"{donde}: se esperaban los campos {esperadas} en ese orden")
    return o


def _lista(o: object, n: int, donde: str) -> list[Any]:
    if not isinstance(o, list) or len(o) != n:
        raise BoletaInvalida("InvalidBallot", f"{donde}: se esperaban {n} elementos")
    return o


def _leer_pruebas(o: object, n: int, donde: str) -> list[Prueba]:
    return [Prueba.de_json(p) for p in _lista(o, n, donde)]


def verificar(eleccion: Eleccion, texto: str, credenciales: Mapping[str, int]) -> Boleta:
    """Check a ballot completely; return it parsed, or raise ``BoletaInvalida`` naming the first failure."""
    try:
        return _verificar(eleccion, texto, credenciales)
    except gr.ErrorDeCodificacion as e:
        raise BoletaInvalida("InvalidBallot", str(e)) from None


def _verificar(eleccion: Eleccion, texto: str, credenciales: Mapping[str, int]) -> Boleta:
    try:
        o = json.loads(texto)
    except ValueError:
        raise BoletaInvalida("NonCanonical", "la boleta no es JSON") from None
    o = _claves(o, ["election_uuid", "election_hash", "credential", "answers", "signature"], "boleta")
    if o["election_uuid"] != eleccion.uuid:
        raise BoletaInvalida("InvalidBallot", "la boleta es de otra elección (election_uuid)")
    if o["election_hash"] != eleccion.huella:
        raise BoletaInvalida("InvalidBallot", "la huella de la elección no coincide (election_hash)")
    credencial = gr.elemento(o["credential"])
    respuestas_json = _lista(o["answers"], len(eleccion.preguntas), "answers")
    firma = _claves(o["signature"], ["hash", "proof"], "signature")
    prueba_firma = Prueba.de_json(firma["proof"])

    y = eleccion.clave_publica
    s0 = f"{eleccion.huella}|{gr.s(credencial)}"
    respuestas: list[tuple[Cifrado, ...]] = []
    verificaciones: list[tuple[str, list[tuple[Elemento, Elemento]], list[Prueba], str]] = []
    for i, (q, r) in enumerate(zip(eleccion.preguntas, respuestas_json, strict=True)):
        donde = f"pregunta {i + 1}"
        campos = ["choices", "individual_proofs", "overall_proof"] + (["blank_proof"] if q.blanco else [])
        r = _claves(r, campos, donde)
        cts: list[Cifrado] = []
        for c in _lista(r["choices"], q.opciones, f"{donde}.choices"):
            c = _claves(c, ["alpha", "beta"], f"{donde}.choices")
            cts.append((gr.elemento(c["alpha"]), gr.elemento(c["beta"])))
        for j, ((a, b), ps) in enumerate(
            zip(cts, _lista(r["individual_proofs"], q.opciones, f"{donde}.individual_proofs"), strict=True)
        ):
            verificaciones.append(
                (
                    f"{donde}, opción {j + 1}: prueba individual",
                    ramas_valores(a, b, [0, 1]),
                    _leer_pruebas(ps, 2, f"{donde}.individual_proofs"),
                    f"prove|{s0}|{gr.s(a)},{gr.s(b)}|",
                )
            )
        s = _cadena(s0, cts)
        rango = list(range(q.minimo, q.maximo + 1))
        if not q.blanco:
            a, b = _producto(cts)
            global_ = _leer_pruebas(r["overall_proof"], len(rango), f"{donde}.overall_proof")
            verificaciones.append(
                (
                    f"{donde}: prueba global",
                    ramas_valores(a, b, rango),
                    global_,
                    f"prove|{s}|{gr.s(a)},{gr.s(b)}|",
                )
            )
        else:
            (a0, b0), (a_s, b_s) = cts[0], _producto(cts[1:])
            global_ = _leer_pruebas(r["overall_proof"], len(rango) + 1, f"{donde}.overall_proof")
            blanco = _leer_pruebas(r["blank_proof"], 2, f"{donde}.blank_proof")
            ramas_g = [(a0, gr.div(b0, gr.G)), *ramas_valores(a_s, b_s, rango)]
            verificaciones.append((f"{donde}: prueba global", ramas_g, global_, f"bproof1|{s}|"))
            verificaciones.append(
                (f"{donde}: prueba de voto en blanco", [(a0, b0), (a_s, b_s)], blanco, "bproof0|" + s + "|")
            )
        respuestas.append(tuple(cts))

    # Canonical form: what we parsed, written back, must be the exact bytes received.
    sin_firma = {k: o[k] for k in ("election_uuid", "election_hash", "credential", "answers")}
    canonica = cjson(sin_firma | {"signature": {"hash": firma["hash"], "proof": prueba_firma.json()}})
    if canonica != texto:
        raise BoletaInvalida(
            "NonCanonical", "la boleta no está en forma canónica (JSON compacto, orden del estándar)"
        )
    if o["credential"] not in credenciales:
        raise BoletaInvalida(
            "InvalidCredential", "la credencial no está en la lista de credenciales públicas"
        )
    h = gr.sha256_b64(cjson(sin_firma))
    if firma["hash"] != h:
        raise BoletaInvalida("InvalidBallot", "signature.hash no corresponde al contenido de la boleta")
    if not verifica_schnorr(credencial, f"sig|{h}|", prueba_firma):
        raise BoletaInvalida("InvalidBallot", "la firma de la credencial no verifica")
    for donde, ramas, pruebas, prefijo in verificaciones:
        if not verifica_disyuncion(y, ramas, pruebas, prefijo):
            raise BoletaInvalida("InvalidBallot", f"{donde} no verifica")
    return Boleta(texto=texto, credencial=o["credential"], respuestas=tuple(respuestas))
