"""Signed documents (actas): Ed25519 (libsodium, via PyNaCl) over the canonical JSON of the content.

A service signs with a 32-byte seed from its configuration; the verification key is public (each service
serves it at ``GET /v1/clave-firma``). Anyone checks a document with ``verificar`` or any Ed25519 library:
the signed bytes are the compact JSON of ``acta`` with keys in the order given, UTF-8.
"""

from __future__ import annotations

from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from shared.cripto.pruebas import cjson

ALGORITMO = "Ed25519 sobre el JSON canónico (compacto, claves en el orden dado, UTF-8) de «acta»"
# Development seed: only valid in local mode (each service's settings refuse it in production).
SEMILLA_DE_DESARROLLO = "00" * 31 + "01"
# The credential authority's development seed: another key even locally (electronico must not hold it).
SEMILLA_DE_DESARROLLO_AUTORIDAD = "00" * 31 + "02"


def validar_semilla(valor: str, mode: str, variable: str) -> None:
    try:
        ok = len(bytes.fromhex(valor)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{variable}: se esperan 64 dígitos hexadecimales (semilla Ed25519 de 32 bytes)")
    if mode != "local" and valor in (SEMILLA_DE_DESARROLLO, SEMILLA_DE_DESARROLLO_AUTORIDAD):
        raise ValueError(
            f"VMRE_MODE=production con la clave de firma de desarrollo: configure {variable} "
            "(semilla Ed25519 en hexadecimal, desde un secreto)."
        )


def clave_verificacion(semilla_hex: str) -> str:
    return SigningKey(bytes.fromhex(semilla_hex)).verify_key.encode().hex()


def firmar(semilla_hex: str, contenido: dict[str, Any]) -> dict[str, Any]:
    clave = SigningKey(bytes.fromhex(semilla_hex))
    return {
        "acta": contenido,
        "firma": clave.sign(cjson(contenido).encode()).signature.hex(),
        "clave_verificacion": clave.verify_key.encode().hex(),
        "algoritmo": ALGORITMO,
    }


def verificar(documento: dict[str, Any], clave_hex: str) -> bool:
    """True if ``documento['firma']`` signs its ``acta`` under ``clave_hex``: the key the reader expects,
    obtained from the signer (its ``GET /v1/clave-firma``), never the one the document carries — anyone can
    sign a forged acta with a key of their own and attach it."""
    try:
        if documento.get("clave_verificacion") not in (None, clave_hex):
            return False  # signed by (or claiming) another key
        clave = VerifyKey(bytes.fromhex(clave_hex))
        clave.verify(cjson(documento["acta"]).encode(), bytes.fromhex(documento["firma"]))
        return True
    except (BadSignatureError, KeyError, ValueError, TypeError, AttributeError):
        return False
