"""Trustees: Belenios' ``Single`` keys and the Pedersen threshold key (k of n), checked and generated.

The threshold key generation is split into the steps each custodian runs on their own machine; the server only
relays their public messages, so no party ever holds the election's private key:

1. ``Custodio.certificado``: a signing key and an encryption key from the custodian's seed (``cert``).
2. ``Custodio.polinomio``: a secret polynomial of degree k−1; the signed commitments to its coefficients
   (``coefexps``), a signature over every cert and them (``certs_sig``), and the share f_i(j) for each
   custodian j
   encrypted to j's encryption key.
3. ``Custodio.clave_verificacion``: each j checks every share it received against the sender's commitments,
adds
   them into its decryption key S_j, and publishes g^{S_j} with a proof and a signature; S_j travels only
   encrypted to j itself.
4. ``parametros_umbral`` assembles the published ``threshold_parameters`` (what goes in ``trustees.json``).

Shares and decryption keys travel in Belenios' own channel format (signed, then encrypted to the recipient's
encryption key), so a custodian's seed and encrypted decryption key work with ``belenios-tool
decrypt-threshold``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from shared.cripto import grupo as gr
from shared.cripto.eleccion import BASE58
from shared.cripto.grupo import Elemento
from shared.cripto.pruebas import (
    Prueba,
    cjson,
    prefijo_firma_mensaje,
    prefijo_pok,
    schnorr,
    verifica_schnorr,
)


class CustodiosInvalidos(ValueError):
    pass


# --- Published trustee records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClavePublica:
    """``trustee_public_key``: a key with its proof of knowledge (and, for Pedersen shares, a signature)."""

    publica: Elemento
    pok: Prueba
    firma: Prueba | None = None

    def json(self) -> dict[str, Any]:
        o: dict[str, Any] = {"pok": self.pok.json(), "public_key": gr.s(self.publica)}
        if self.firma is not None:
            o["signature"] = self.firma.json()
        return o

    @classmethod
    def de_json(cls, o: object, donde: str) -> ClavePublica:
        if not isinstance(o, dict) or not {"pok", "public_key"} <= set(o):
            raise CustodiosInvalidos(f"{donde}: se esperaba {{pok, public_key}}")
        try:
            return cls(
                gr.elemento(o["public_key"]),
                Prueba.de_json(o["pok"]),
                Prueba.de_json(o["signature"]) if "signature" in o else None,
            )
        except gr.ErrorDeCodificacion as e:
            raise CustodiosInvalidos(f"{donde}: {e}") from None

    def pok_valida(self) -> bool:
        return verifica_schnorr(self.publica, prefijo_pok(self.publica), self.pok)


def clave_simple(x: int | None = None) -> tuple[int, ClavePublica]:
    """A ``Single`` trustee key (what ``setup generate-trustee-key`` makes)."""
    x = x if x is not None else gr.aleatorio()
    publica = gr.gpot(x)
    return x, ClavePublica(publica, schnorr(x, prefijo_pok(publica)))


def mensaje_firmado(sk: int, mensaje: str) -> dict[str, Any]:
    return {"message": mensaje, "signature": schnorr(sk, prefijo_firma_mensaje(mensaje)).json()}


def _verifica_mensaje(vk: Elemento, m: object, donde: str) -> dict[str, Any]:
    if not isinstance(m, dict) or list(m) != ["message", "signature"] or not isinstance(m["message"], str):
        raise CustodiosInvalidos(f"{donde}: se esperaba {{message, signature}}")
    try:
        ok = verifica_schnorr(vk, prefijo_firma_mensaje(m["message"]), Prueba.de_json(m["signature"]))
    except gr.ErrorDeCodificacion as e:
        raise CustodiosInvalidos(f"{donde}: {e}") from None
    if not ok:
        raise CustodiosInvalidos(f"{donde}: la firma no verifica")
    try:
        contenido = json.loads(m["message"])
    except ValueError:
        raise CustodiosInvalidos(f"{donde}: el mensaje firmado no es JSON") from None
    if not isinstance(contenido, dict):
        raise CustodiosInvalidos(f"{donde}: el mensaje firmado no es un objeto")
    return contenido


@dataclass(frozen=True)
class Pedersen:
    """Published ``threshold_parameters``: k of n custodians."""

    umbral: int
    certs: list[dict[str, Any]]
    coefexps: list[dict[str, Any]]
    firmas: list[Prueba]
    claves: list[ClavePublica]  # verification key of each custodian, index order

    @property
    def n(self) -> int:
        return len(self.certs)

    def json(self) -> dict[str, Any]:
        return {
            "threshold": self.umbral,
            "certs": self.certs,
            "coefexps": self.coefexps,
            "signatures": [f.json() for f in self.firmas],
            "verification_keys": [c.json() for c in self.claves],
        }

    def subclave(self) -> Elemento:
        """Π_i A_i0: the Pedersen part of the election key."""
        return gr.producto([_coefexps(c, "")[0] for c in self.coefexps])


def _coefexps(m: dict[str, Any], donde: str) -> list[Elemento]:
    try:
        valores = json.loads(m["message"])["coefexps"]
        return [gr.elemento(v) for v in valores]
    except (ValueError, KeyError, TypeError) as e:
        raise CustodiosInvalidos(f"{donde}: coefexps mal formados ({e})") from None


def _claves_cert(cert: dict[str, Any], donde: str) -> tuple[dict[str, Any], Elemento, Elemento]:
    try:
        m = json.loads(cert["message"])
        return m["context"], gr.elemento(m["verification"]), gr.elemento(m["encryption"])
    except (ValueError, KeyError, TypeError) as e:
        raise CustodiosInvalidos(f"{donde}: certificado mal formado ({e})") from None


def verificar_certificado(cert: object, indice: int, n: int, k: int) -> Elemento:
    """Step 1 message of custodian ``indice``: its context and self-signature. Returns its signing key."""
    if not isinstance(cert, dict):
        raise CustodiosInvalidos(f"custodio {indice}: se esperaba el certificado {{message, signature}}")
    contexto, vk, _ = _claves_cert(cert, f"custodio {indice}")
    esperado = {"group": gr.GRUPO, "size": n, "threshold": k, "index": indice}
    if contexto != esperado:
        raise CustodiosInvalidos(f"custodio {indice}: contexto {contexto} ≠ {esperado}")
    _verifica_mensaje(vk, cert, f"custodio {indice}: certificado")
    return vk


def verificar_polinomio(polinomio: object, vk: Elemento, indice: int, n: int, k: int) -> None:
    """Step 2 message: signed commitments (k of them) and one encrypted share per custodian."""
    if not isinstance(polinomio, dict) or list(polinomio) != ["coefexps", "signature", "secrets"]:
        raise CustodiosInvalidos(f"custodio {indice}: se esperaba {{coefexps, signature, secrets}}")
    _verifica_mensaje(vk, polinomio["coefexps"], f"custodio {indice}: coefexps")
    if len(_coefexps(polinomio["coefexps"], f"custodio {indice}")) != k:
        raise CustodiosInvalidos(f"custodio {indice}: se esperaban {k} compromisos")
    if not isinstance(polinomio["secrets"], list) or len(polinomio["secrets"]) != n:
        raise CustodiosInvalidos(f"custodio {indice}: se esperaban {n} partes cifradas")


def verificar_pedersen(o: object, donde: str = "Pedersen") -> Pedersen:
    """Belenios' ``check_pedersen``: every cert, commitment, signature and verification key."""
    campos = ["threshold", "certs", "coefexps", "signatures", "verification_keys"]
    if not isinstance(o, dict) or list(o) != campos:
        raise CustodiosInvalidos(f"{donde}: se esperaban los campos {campos}")
    k, certs, coefexps, firmas, claves = (o[c] for c in campos)
    n = len(certs) if isinstance(certs, list) else 0
    if not isinstance(k, int) or not 0 < k <= n:
        raise CustodiosInvalidos(f"{donde}: umbral {k!r} inválido para {n} custodios")
    for nombre, lista in (("coefexps", coefexps), ("signatures", firmas), ("verification_keys", claves)):
        if not isinstance(lista, list) or len(lista) != n:
            raise CustodiosInvalidos(f"{donde}: {nombre} debe tener {n} elementos")
    vks: list[Elemento] = []
    compromisos: list[list[Elemento]] = []
    for i, cert in enumerate(certs):
        d = f"{donde}, custodio {i + 1}"
        contexto, vk, _ = _claves_cert(cert, d)
        esperado = {"group": gr.GRUPO, "size": n, "threshold": k, "index": i + 1}
        if contexto != esperado:
            raise CustodiosInvalidos(f"{d}: contexto del certificado {contexto} ≠ {esperado}")
        _verifica_mensaje(vk, cert, f"{d}: certificado")
        vks.append(vk)
    for i, m in enumerate(coefexps):
        d = f"{donde}, custodio {i + 1}: coefexps"
        _verifica_mensaje(vks[i], m, d)
        a = _coefexps(m, d)
        if len(a) != k:
            raise CustodiosInvalidos(f"{d}: se esperaban {k} coeficientes")
        compromisos.append(a)
        mensaje = "certs_sig|" + cjson({"certs": certs, "coefexps": [gr.s(x) for x in a]})
        try:
            firma = Prueba.de_json(firmas[i])
        except gr.ErrorDeCodificacion as e:
            raise CustodiosInvalidos(f"{donde}, custodio {i + 1}: signatures: {e}") from None
        if not verifica_schnorr(vks[i], prefijo_firma_mensaje(mensaje), firma):
            raise CustodiosInvalidos(f"{donde}, custodio {i + 1}: la firma certs_sig no verifica")
    leidas = []
    for j in range(1, n + 1):
        d = f"{donde}, clave de verificación {j}"
        c = ClavePublica.de_json(claves[j - 1], d)
        if not c.pok_valida():
            raise CustodiosInvalidos(f"{d}: la prueba de conocimiento no verifica")
        if c.publica != _evalua_compromisos(compromisos, j):
            raise CustodiosInvalidos(f"{d}: no corresponde a los compromisos de los polinomios")
        if c.firma is None or not verifica_schnorr(
            vks[j - 1], prefijo_firma_mensaje(gr.s(c.publica)), c.firma
        ):
            raise CustodiosInvalidos(f"{d}: falta la firma o no verifica")
        leidas.append(c)
    return Pedersen(k, certs, coefexps, [Prueba.de_json(f) for f in firmas], leidas)


def _evalua_compromisos(compromisos: list[list[Elemento]], j: int) -> Elemento:
    """g^{Σ_i f_i(j)} from the commitments: Π_i Π_k A_ik^(j^k)."""
    return gr.producto([gr.pot(a, pow(j, k, gr.L)) for fila in compromisos for k, a in enumerate(fila)])


Custodio_ = ClavePublica | Pedersen


@dataclass(frozen=True)
class Custodios:
    """The ``trustees`` record: ``[["Single", key] | ["Pedersen", params], …]``, checked."""

    entradas: list[Custodio_]

    def json(self) -> list[list[Any]]:
        return [
            ["Single", e.json()] if isinstance(e, ClavePublica) else ["Pedersen", e.json()]
            for e in self.entradas
        ]

    def clave_eleccion(self) -> Elemento:
        return gr.producto(
            [e.publica if isinstance(e, ClavePublica) else e.subclave() for e in self.entradas]
        )

    def duenos(self) -> dict[int, tuple[int, int | None, Elemento]]:
        """owner (1-based flat position) → (entry index, index inside a Pedersen group or None, its key)."""
        m: dict[int, tuple[int, int | None, Elemento]] = {}
        for e_i, e in enumerate(self.entradas):
            if isinstance(e, ClavePublica):
                m[len(m) + 1] = (e_i, None, e.publica)
            else:
                for j, c in enumerate(e.claves, start=1):
                    m[len(m) + 1] = (e_i, j, c.publica)
        return m

    @classmethod
    def leer(cls, o: object) -> Custodios:
        if not isinstance(o, list) or not o:
            raise CustodiosInvalidos("trustees: se esperaba una lista no vacía")
        entradas: list[Custodio_] = []
        for i, e in enumerate(o):
            donde = f"custodio (entrada {i + 1})"
            if not isinstance(e, list) or len(e) != 2 or e[0] not in ("Single", "Pedersen"):
                raise CustodiosInvalidos(f'{donde}: se esperaba ["Single"|"Pedersen", …]')
            if e[0] == "Single":
                c = ClavePublica.de_json(e[1], donde)
                if not c.pok_valida():
                    raise CustodiosInvalidos(f"{donde}: la prueba de conocimiento no verifica")
                entradas.append(c)
            else:
                entradas.append(verificar_pedersen(e[1], donde))
        return cls(entradas)


# --- Threshold key generation, one custodian's side ---------------------------------------------------------


def generar_semilla() -> str:
    return "".join(secrets.choice(BASE58) for _ in range(22))


def cifrar_para(sk: int, clave_cifrado: Elemento, mensaje: str) -> dict[str, str]:
    """Belenios' channel: ``message`` signed by the sender and encrypted to the recipient's encryption key.

    Hashed ElGamal for a fresh group element g^s, AES-256-CCM (64-bit tag) keyed by SHA-256("key|"+s(g^s)),
    nonce from SHA-256("iv|"+s(α)): exactly what belenios-tool's trustees exchange, so either side may use it.
    """
    plano = cjson(mensaje_firmado(sk, cjson({"recipient": gr.s(clave_cifrado), "message": mensaje})))
    r, secreto = gr.aleatorio(), gr.aleatorio()
    alfa = gr.gpot(r)
    beta = gr.mul(gr.pot(clave_cifrado, r), gr.gpot(secreto))
    clave = hashlib.sha256(("key|" + gr.s(gr.gpot(secreto))).encode()).digest()
    iv = hashlib.sha256(("iv|" + gr.s(alfa)).encode()).digest()[:13]
    datos = AESCCM(clave, tag_length=8).encrypt(iv, plano.encode(), None)
    return {"alpha": gr.s(alfa), "beta": gr.s(beta), "data": datos.hex()}


def descifrar_con(dk: int, remitente: Elemento, mensaje: dict[str, str]) -> str:
    """Open a channel message for us (key dk), signed by ``remitente``'s verification key."""
    try:
        alfa, beta = gr.elemento(mensaje["alpha"]), gr.elemento(mensaje["beta"])
        clave = hashlib.sha256(("key|" + gr.s(gr.div(beta, gr.pot(alfa, dk)))).encode()).digest()
        iv = hashlib.sha256(("iv|" + gr.s(alfa)).encode()).digest()[:13]
        plano = AESCCM(clave, tag_length=8).decrypt(iv, bytes.fromhex(mensaje["data"]), None)
    except (KeyError, TypeError, ValueError, InvalidTag) as e:
        raise CustodiosInvalidos(f"no se pudo descifrar el mensaje del canal ({type(e).__name__})") from None
    contenido = _verifica_mensaje(remitente, json.loads(plano), "mensaje del canal")
    if contenido.get("recipient") != gr.s(gr.gpot(dk)) or not isinstance(contenido.get("message"), str):
        raise CustodiosInvalidos("el mensaje del canal no es para este custodio")
    return str(contenido["message"])


@dataclass(frozen=True)
class Custodio:
    """One custodian of the threshold key. The seed is their only long-term secret."""

    semilla: str
    indice: int  # 1..n
    umbral: int  # k
    n: int

    @property
    def sk(self) -> int:
        return int(gr.sha256_hex("sk|" + self.semilla), 16) % gr.L

    @property
    def dk(self) -> int:
        return int(gr.sha256_hex("dk|" + self.semilla), 16) % gr.L

    def certificado(self) -> dict[str, Any]:
        claves = {
            "context": {"group": gr.GRUPO, "size": self.n, "threshold": self.umbral, "index": self.indice},
            "verification": gr.s(gr.gpot(self.sk)),
            "encryption": gr.s(gr.gpot(self.dk)),
        }
        return mensaje_firmado(self.sk, cjson(claves))

    def polinomio(self, certs: list[dict[str, Any]]) -> dict[str, Any]:
        """Step 2: commitments, their certs_sig signature, and the encrypted share for each custodian."""
        self._verifica_certs(certs)
        coef = [gr.aleatorio() for _ in range(self.umbral)]
        a = [gr.s(gr.gpot(c)) for c in coef]
        partes = []
        for j, cert in enumerate(certs, start=1):
            f_j = sum(c * pow(j, k, gr.L) for k, c in enumerate(coef)) % gr.L
            _, _, ek = _claves_cert(cert, f"custodio {j}")
            partes.append(cifrar_para(self.sk, ek, cjson({"secret": str(f_j)})))
        return {
            "coefexps": mensaje_firmado(self.sk, cjson({"coefexps": a})),
            "signature": schnorr(
                self.sk, prefijo_firma_mensaje("certs_sig|" + cjson({"certs": certs, "coefexps": a}))
            ).json(),
            "secrets": partes,
        }

    def clave_verificacion(
        self, certs: list[dict[str, Any]], polinomios: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Step 3: check each share against its sender's commitments; publish g^{S_j}; keep S_j encrypted."""
        vks = self._verifica_certs(certs)
        s_j = 0
        if len(polinomios) != self.n:
            raise CustodiosInvalidos(f"se esperaban {self.n} polinomios, llegaron {len(polinomios)}")
        for i, p in enumerate(polinomios, start=1):
            verificar_polinomio(p, vks[i - 1], i, self.n, self.umbral)
            a = _coefexps(p["coefexps"], f"custodio {i}: coefexps")
            # Each sender signed the very certificates this custodian saw (certs_sig).
            mensaje = "certs_sig|" + cjson({"certs": certs, "coefexps": [gr.s(x) for x in a]})
            try:
                firma = Prueba.de_json(p["signature"])
            except (gr.ErrorDeCodificacion, KeyError, TypeError, ValueError) as e:
                raise CustodiosInvalidos(f"custodio {i}: firma certs_sig ilegible ({e})") from None
            if not verifica_schnorr(vks[i - 1], prefijo_firma_mensaje(mensaje), firma):
                raise CustodiosInvalidos(
                    f"custodio {i}: su firma certs_sig no cubre los certificados que usted recibió"
                )
            try:
                parte = gr.escalar(
                    json.loads(descifrar_con(self.dk, vks[i - 1], p["secrets"][self.indice - 1]))["secret"]
                )
            except (ValueError, KeyError, TypeError) as e:
                raise CustodiosInvalidos(f"custodio {i}: su parte es ilegible ({e})") from None
            if gr.gpot(parte) != _evalua_compromisos([a], self.indice):
                raise CustodiosInvalidos(
                    f"custodio {i}: su parte no corresponde a sus compromisos (denúncielo)"
                )
            s_j = (s_j + parte) % gr.L
        x, clave = clave_simple(s_j)
        firma = schnorr(self.sk, prefijo_firma_mensaje(gr.s(clave.publica)))
        publica = ClavePublica(clave.publica, clave.pok, firma)
        return {
            "public_key": publica.json(),
            "private_key": cifrar_para(self.sk, gr.gpot(self.dk), cjson({"decryption_key": str(x)})),
        }

    def clave_descifrado(self, privada: dict[str, str]) -> int:
        """S_j, from the encrypted ``private_key`` of step 3 (which may be stored anywhere)."""
        try:
            return gr.escalar(json.loads(descifrar_con(self.dk, gr.gpot(self.sk), privada))["decryption_key"])
        except (ValueError, KeyError, TypeError) as e:
            raise CustodiosInvalidos(f"clave de descifrado ilegible ({e})") from None

    def verificar_certificados(self, certs: object) -> list[Elemento]:
        """Every certificate self-signed with the right context, and this custodian's own at its index."""
        if not isinstance(certs, list) or not all(isinstance(c, dict) for c in certs):
            raise CustodiosInvalidos("se esperaba la lista de certificados")
        return self._verifica_certs(certs)

    def _verifica_certs(self, certs: list[dict[str, Any]]) -> list[Elemento]:
        if len(certs) != self.n:
            raise CustodiosInvalidos(f"se esperaban {self.n} certificados, llegaron {len(certs)}")
        vks = []
        for i, cert in enumerate(certs, start=1):
            contexto, vk, _ = _claves_cert(cert, f"custodio {i}")
            esperado = {"group": gr.GRUPO, "size": self.n, "threshold": self.umbral, "index": i}
            if contexto != esperado:
                raise CustodiosInvalidos(f"custodio {i}: contexto {contexto} ≠ {esperado}")
            _verifica_mensaje(vk, cert, f"custodio {i}: certificado")
            vks.append(vk)
        # Signatures are randomised: compare the signed content.
        if certs[self.indice - 1]["message"] != self.certificado()["message"]:
            raise CustodiosInvalidos("el certificado en la posición de este custodio no es el suyo")
        return vks


def parametros_umbral(
    certs: list[dict[str, Any]], polinomios: list[dict[str, Any]], claves: list[dict[str, Any]]
) -> Pedersen:
    """The published ``threshold_parameters``, checked exactly as belenios-tool checks them."""
    k = len(json.loads(polinomios[0]["coefexps"]["message"])["coefexps"])
    return verificar_pedersen(
        {
            "threshold": k,
            "certs": certs,
            "coefexps": [p["coefexps"] for p in polinomios],
            "signatures": [p["signature"] for p in polinomios],
            "verification_keys": [c["public_key"] for c in claves],
        }
    )


# --- Fingerprint of the whole trustee setup, compared out of band -------------------------------------------


def huella_custodios(trustees: object) -> str:
    """The short fingerprint of a ceremony's result that custodians read aloud to one another.

    SHA-256 over the canonical JSON of the whole published ``trustees`` record (every certificate, commitment,
    signature and verification key) and the election public key derived from it; its first 128 bits, as eight
    groups of four hex digits. Each custodian's CLI computes it from what it checked itself, and the opening
    act carries the server's: a server that showed custodians different ceremonies (a split view, which no
    custodian can detect alone) cannot make their fingerprints agree.
    """
    custodios = Custodios.leer(trustees)
    return huella({"trustees": custodios.json(), "public_key": gr.s(custodios.clave_eleccion())})


def huella(valor: object) -> str:
    """SHA-256 of the canonical JSON, first 128 bits as eight groups of four hex digits (read aloud)."""
    h = gr.sha256_hex(cjson(valor))[:32]
    return "-".join(h[i : i + 4] for i in range(0, 32, 4))
