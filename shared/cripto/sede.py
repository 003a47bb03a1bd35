"""A consular site's key: the credential authority seals each in-person voter's private credential to the key
of the voter's site; only the site's kiosks, which hold the private half, open it — in the kiosk's browser, at
the moment the voter votes. electronico stores and hands out the sealed credential and never can open it, so
it cannot vote for anyone who does not come to the site.

The seal is ECIES on standard primitives that both Python's ``cryptography`` and the browser's WebCrypto
provide (no hand-written cryptography): an ephemeral ECDH on P-256 with the site's public key, HKDF-SHA256
(salt: the ephemeral public key) to a 256-bit key, AES-256-GCM with a random 96-bit nonce. The additional
data binds the seal to its site, election and voter number (``contexto``): a seal moved to another voter or
election does not open. Text form: ``v1.`` + base64url(ephemeral point, 65 bytes ‖ nonce ‖ ciphertext+tag).

The site's private key is a JWK (``vmre sede clave``): the staff load it into each kiosk when setting it up.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
INFO = b"VMRE credencial sellada para la sede v1"
CURVA = ec.SECP256R1()
# Only valid in local mode (make run, tests): its private half is public. Production refuses it.
_D_DESARROLLO = int("03" * 32, 16)


class SelloInvalido(ValueError):
    pass


def _b64(datos: bytes) -> str:
    return base64.urlsafe_b64encode(datos).rstrip(b"=").decode()


def _de_b64(texto: str) -> bytes:
    return base64.urlsafe_b64decode(texto + "=" * (-len(texto) % 4))


def contexto(sede: str, eleccion: str, numero: int) -> bytes:
    return f"{sede}|{eleccion}|{numero}".encode()


def _punto(publica: ec.EllipticCurvePublicKey) -> bytes:
    return publica.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _jwk(privada: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    n = privada.private_numbers()

    def campo(v: int) -> str:
        return _b64(v.to_bytes(32, "big"))

    return {
        "kty": "EC",
        "crv": "P-256",
        "x": campo(n.public_numbers.x),
        "y": campo(n.public_numbers.y),
        "d": campo(n.private_value),
    }


def generar(sede: str) -> tuple[str, str]:
    """A new site key: (private JWK as JSON text, naming its site, for the kiosks; public key as base64url,
    for the authority's ``VMRE_CREDENCIALES_CLAVES_SEDES``)."""
    privada = ec.generate_private_key(CURVA)
    return json.dumps({**_jwk(privada), "sede": sede}), _b64(_punto(privada.public_key()))


def _desarrollo() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(_D_DESARROLLO, CURVA)


def jwk_de_desarrollo(sede: str) -> str:
    return json.dumps({**_jwk(_desarrollo()), "sede": sede})


PUBLICA_DE_DESARROLLO = _b64(_punto(_desarrollo().public_key()))


def validar_publica(texto: str) -> str:
    """The public key as given, if it is a point of P-256 in base64url (uncompressed); else ValueError."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(CURVA, _de_b64(texto))
    except (ValueError, TypeError) as exc:
        raise ValueError("se espera la clave pública de la sede (base64url, punto P-256)") from exc
    return texto


def _clave(compartido: bytes, efimera: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=efimera, info=INFO).derive(compartido)


def sellar(publica: str, credencial: str, ctx: bytes) -> str:
    destino = ec.EllipticCurvePublicKey.from_encoded_point(CURVA, _de_b64(publica))
    efimera = ec.generate_private_key(CURVA)
    punto = _punto(efimera.public_key())
    nonce = os.urandom(12)
    cifrado = AESGCM(_clave(efimera.exchange(ec.ECDH(), destino), punto)).encrypt(
        nonce, credencial.encode(), ctx
    )
    return f"{VERSION}.{_b64(punto + nonce + cifrado)}"


def abrir(jwk: str, sellada: str, ctx: bytes) -> str:
    """What a kiosk does in its browser (here for tests and tools)."""
    version, _, cuerpo = sellada.partition(".")
    if version != VERSION:
        raise SelloInvalido(f"versión de sello desconocida: {version!r}")
    datos = _de_b64(cuerpo)
    punto, nonce, cifrado = datos[:65], datos[65:77], datos[77:]
    clave = json.loads(jwk)
    d = int.from_bytes(_de_b64(clave["d"]), "big")
    privada = ec.derive_private_key(d, CURVA)
    efimera = ec.EllipticCurvePublicKey.from_encoded_point(CURVA, punto)
    try:
        texto = AESGCM(_clave(privada.exchange(ec.ECDH(), efimera), punto)).decrypt(nonce, cifrado, ctx)
    except Exception as exc:  # cryptography's InvalidTag: another key, or another voter's seal
        raise SelloInvalido("la credencial no es para esta sede, elección y votante") from exc
    return texto.decode()
