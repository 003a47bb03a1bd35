"""The Ed25519 prime-order group through libsodium (PyNaCl), with Belenios 3.0 encodings.

An element is held as libsodium's 32 compressed bytes (little-endian); Belenios writes it as 64 lowercase hex
digits of the same number big-endian, so ``s(P) = P[::-1].hex()``. Scalars are Python ints reduced mod ℓ and
written as decimal strings. libsodium refuses the identity and the zero scalar; both are legitimate here (g⁰
in an overall proof with min = 0, the tally of an empty ballot box), so they are handled before calling it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from nacl import bindings as _na

GRUPO = "Ed25519"
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # ℓ, the order of the group

Elemento = bytes  # 32 bytes, libsodium's encoding

IDENTIDAD: Elemento = (1).to_bytes(32, "little")
G: Elemento = bytes.fromhex("6666666666666666666666666666666666666666666666666666666666666658")[::-1]


class ErrorDeCodificacion(ValueError):
    """A value that is not a canonical encoding of a group element or a scalar."""


def mul(a: Elemento, b: Elemento) -> Elemento:
    """The group operation (written multiplicatively, as Belenios does)."""
    return _na.crypto_core_ed25519_add(a, b)


def div(a: Elemento, b: Elemento) -> Elemento:
    return _na.crypto_core_ed25519_sub(a, b)


def pot(a: Elemento, e: int) -> Elemento:
    """a^e. libsodium raises on e ≡ 0, on the identity and on an identity result: all mean the identity."""
    e %= L
    if e == 0 or a == IDENTIDAD:
        return IDENTIDAD
    try:
        return _na.crypto_scalarmult_ed25519_noclamp(e.to_bytes(32, "little"), a)
    except RuntimeError:
        return IDENTIDAD


def gpot(e: int) -> Elemento:
    """g^e."""
    e %= L
    if e == 0:
        return IDENTIDAD
    return _na.crypto_scalarmult_ed25519_base_noclamp(e.to_bytes(32, "little"))


def producto(elementos: list[Elemento]) -> Elemento:
    acc = IDENTIDAD
    for x in elementos:
        acc = mul(acc, x)
    return acc


def inv(a: Elemento) -> Elemento:
    return div(IDENTIDAD, a)


def es_valido(a: bytes) -> bool:
    """In the prime-order subgroup, canonically encoded (libsodium's check), or the identity."""
    return len(a) == 32 and (a == IDENTIDAD or bool(_na.crypto_core_ed25519_is_valid_point(a)))


def s(a: Elemento) -> str:
    """Belenios' string for an element: 64 lowercase hex digits, big-endian."""
    return a[::-1].hex()


_HEX = frozenset("0123456789abcdef")


def elemento(texto: object) -> Elemento:
    """Parse and validate an element from Belenios' string; refuses anything non-canonical."""
    if not isinstance(texto, str) or len(texto) != 64 or not _HEX.issuperset(texto):
        raise ErrorDeCodificacion(f"no es un elemento del grupo (64 dígitos hex en minúscula): {texto!r:.80}")
    b = bytes.fromhex(texto)[::-1]
    if int.from_bytes(b, "little") & ((1 << 255) - 1) >= P or not es_valido(b):
        raise ErrorDeCodificacion(f"no es un elemento del subgrupo de orden primo: {texto}")
    return b


def elemento_verificado(texto: str) -> Elemento:
    """An element read back from our own store, where ``elemento`` already accepted it: the encoding only."""
    b = bytes.fromhex(texto)[::-1]
    if len(b) != 32:
        raise ErrorDeCodificacion(f"no es un elemento del grupo (64 dígitos hex): {texto!r:.80}")
    return b


def escalar(texto: object) -> int:
    """Parse a scalar written as a canonical decimal string in [0, ℓ)."""
    if not isinstance(texto, str) or not texto.isdigit() or not texto.isascii():
        raise ErrorDeCodificacion(f"no es un escalar decimal: {texto!r:.80}")
    n = int(texto)
    if str(n) != texto or n >= L:
        raise ErrorDeCodificacion(f"escalar fuera de [0, ℓ) o no canónico: {texto:.80}")
    return n


def aleatorio() -> int:
    """A uniform non-zero scalar from the operating system's generator."""
    return secrets.randbelow(L - 1) + 1


def hash_escalar(prefijo: str, elementos: list[Elemento]) -> int:
    """Belenios' Fiat–Shamir hash: SHA-256 of ``prefix ‖ s(X1),…,s(Xk)`` read big-endian, mod ℓ."""
    texto = prefijo + ",".join(s(x) for x in elementos)
    return int(hashlib.sha256(texto.encode()).hexdigest(), 16) % L


def sha256_hex(datos: str | bytes) -> str:
    return hashlib.sha256(datos.encode() if isinstance(datos, str) else datos).hexdigest()


def sha256_b64(datos: str | bytes) -> str:
    """SHA-256 in standard Base64 without padding (φ, ballot hashes, trackers)."""
    digest = hashlib.sha256(datos.encode() if isinstance(datos, str) else datos).digest()
    return base64.b64encode(digest).decode().rstrip("=")


def logaritmos(objetivos: list[Elemento], cota: int) -> list[int]:
    """Discrete logs base g of each target, each known to lie in [0, cota] (baby-step giant-step).

    One table of ⌈√(cota+1)⌉ baby steps serves every target: for a million ballots, about a thousand group
    operations to build and at most a thousand per target.
    """
    m = max(1, int((cota + 1) ** 0.5) + 1)
    bebe: dict[bytes, int] = {}
    x = IDENTIDAD
    for j in range(m):
        bebe.setdefault(x, j)
        x = mul(x, G)
    gigante = inv(gpot(m))
    resultado = []
    for objetivo in objetivos:
        y = objetivo
        for i in range(m + 1):
            paso = bebe.get(y)
            if paso is not None and i * m + paso <= cota:
                resultado.append(i * m + paso)
                break
            y = mul(y, gigante)
        else:
            raise ValueError(f"logaritmo discreto fuera de [0, {cota}]")
    return resultado
