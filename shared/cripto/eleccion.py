"""Election parameters (Belenios' ``election`` record), its fingerprint, and voter credentials."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from shared.cripto import grupo as gr
from shared.cripto.grupo import Elemento
from shared.cripto.pruebas import cjson

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class EleccionInvalida(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Pregunta:
    """A homomorphic question: choose between ``minimo`` and ``maximo`` answers; ``blanco`` adds choice 0."""

    respuestas: tuple[str, ...]
    minimo: int
    maximo: int
    texto: str
    blanco: bool = False

    @property
    def opciones(self) -> int:
        """Ciphertexts per answer in a ballot (the blank flag first when allowed)."""
        return len(self.respuestas) + (1 if self.blanco else 0)

    def json(self) -> dict[str, Any]:
        o: dict[str, Any] = {"answers": list(self.respuestas)}
        if self.blanco:
            o["blank"] = True
        o |= {"min": self.minimo, "max": self.maximo, "question": self.texto}
        return o

    def valida(self, votos: list[int]) -> bool:
        """Whether a 0/1 vector is a valid way to answer (what the proofs will attest)."""
        if len(votos) != self.opciones or any(v not in (0, 1) for v in votos):
            return False
        if self.blanco:
            if votos[0] == 1:
                return sum(votos[1:]) == 0
            votos = votos[1:]
        return self.minimo <= sum(votos) <= self.maximo


def _entero(o: object, campo: str) -> int:
    if not isinstance(o, int) or isinstance(o, bool):
        raise EleccionInvalida(f"{campo}: se esperaba un entero")
    return o


def _pregunta(o: object, i: int) -> Pregunta:
    if not isinstance(o, dict) or "answers" not in o:
        raise EleccionInvalida(f"pregunta {i + 1}: solo se admiten preguntas homomórficas (answers/min/max)")
    extra = set(o) - {"answers", "blank", "min", "max", "question", "extra"}
    if extra:
        raise EleccionInvalida(f"pregunta {i + 1}: campos desconocidos {sorted(extra)}")
    respuestas = o["answers"]
    if not isinstance(respuestas, list) or not respuestas or not all(isinstance(a, str) for a in respuestas):
        raise EleccionInvalida(f"pregunta {i + 1}: answers debe ser una lista de textos")
    p = Pregunta(
        respuestas=tuple(respuestas),
        minimo=_entero(o.get("min"), f"pregunta {i + 1}.min"),
        maximo=_entero(o.get("max"), f"pregunta {i + 1}.max"),
        texto=str(o.get("question", "")),
        blanco=o.get("blank") is True,
    )
    if not 0 <= p.minimo <= p.maximo <= len(p.respuestas):
        raise EleccionInvalida(f"pregunta {i + 1}: se requiere 0 ≤ min ≤ max ≤ número de respuestas")
    return p


@dataclass(frozen=True)
class Eleccion:
    """An election as stored: the exact bytes (never re-serialised; φ is their hash) and their parsed view."""

    texto: bytes
    uuid: str
    nombre: str
    clave_publica: Elemento
    preguntas: tuple[Pregunta, ...]
    huella: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "huella", gr.sha256_b64(self.texto))

    @classmethod
    def crear(
        cls, *, uuid: str, nombre: str, descripcion: str, clave_publica: Elemento, preguntas: list[Pregunta]
    ) -> Eleccion:
        texto = cjson(
            {
                "version": 1,
                "description": descripcion,
                "name": nombre,
                "group": gr.GRUPO,
                "public_key": gr.s(clave_publica),
                "questions": [p.json() for p in preguntas],
                "uuid": uuid,
            }
        ).encode()
        return cls.leer(texto)

    @classmethod
    def leer(cls, texto: bytes) -> Eleccion:
        try:
            o = json.loads(texto)
        except ValueError as e:
            raise EleccionInvalida(f"election.json no es JSON: {e}") from None
        if not isinstance(o, dict) or o.get("version") != 1:
            raise EleccionInvalida("election.json: se esperaba version 1")
        if o.get("group") != gr.GRUPO:
            raise EleccionInvalida(f"election.json: grupo {o.get('group')!r} no soportado (solo {gr.GRUPO})")
        uuid = o.get("uuid")
        if not isinstance(uuid, str) or len(uuid) < 14 or not set(uuid) <= set(BASE58):
            raise EleccionInvalida("election.json: uuid debe tener al menos 14 caracteres base58")
        preguntas = o.get("questions")
        if not isinstance(preguntas, list) or not preguntas:
            raise EleccionInvalida("election.json: questions vacío")
        try:
            clave = gr.elemento(o.get("public_key"))
        except gr.ErrorDeCodificacion as e:
            raise EleccionInvalida(f"election.json: public_key: {e}") from None
        return cls(
            texto=texto,
            uuid=uuid,
            nombre=str(o.get("name", "")),
            clave_publica=clave,
            preguntas=tuple(_pregunta(p, i) for i, p in enumerate(preguntas)),
        )


def generar_uuid() -> str:
    """An election identifier as ``belenios-tool setup generate-token`` makes it (14 base58 characters)."""
    return "".join(secrets.choice(BASE58) for _ in range(14))


# --- Credentials (Belenios 3.0: 22 base58 characters, 5-6-5-6) ------------------------------------------


def generar_credencial() -> str:
    c = "".join(secrets.choice(BASE58) for _ in range(22))
    return f"{c[:5]}-{c[5:11]}-{c[11:16]}-{c[16:]}"


def es_credencial(texto: str) -> bool:
    partes = texto.split("-")
    return [len(p) for p in partes] == [5, 6, 5, 6] and all(set(p) <= set(BASE58) for p in partes)


def clave_de_credencial(uuid: str, credencial: str) -> int:
    """The signing scalar of a private credential (hashed with its dashes, as the tool does)."""
    if not es_credencial(credencial):
        raise ValueError("credencial con formato inválido (se esperan 22 caracteres base58: XXXXX-XXXXXX-…)")
    x0 = gr.sha256_hex(f"derive_credential|{uuid}|0|{credencial}")
    x1 = gr.sha256_hex(f"derive_credential|{uuid}|1|{credencial}")
    return int(x0 + x1, 16) % gr.L


def credencial_publica(uuid: str, credencial: str) -> Elemento:
    return gr.gpot(clave_de_credencial(uuid, credencial))


def leer_credenciales_publicas(lista: object) -> dict[str, int]:
    """The archive's ``public_credentials``: ``"<s(C)>"`` or ``"<s(C)>,<weight>"``; distinct, valid."""
    if not isinstance(lista, list):
        raise EleccionInvalida("credenciales públicas: se esperaba una lista")
    pesos: dict[str, int] = {}
    for i, item in enumerate(lista):
        if not isinstance(item, str):
            raise EleccionInvalida(f"credencial pública {i + 1}: se esperaba un texto")
        texto, _, peso = item.partition(",")
        try:
            gr.elemento(texto)
        except gr.ErrorDeCodificacion as e:
            raise EleccionInvalida(f"credencial pública {i + 1}: {e}") from None
        if texto in pesos:
            raise EleccionInvalida(f"credencial pública {i + 1} repetida: {texto}")
        if peso and (not peso.isdigit() or int(peso) < 1):
            raise EleccionInvalida(f"credencial pública {i + 1}: peso inválido {peso!r}")
        pesos[texto] = int(peso) if peso else 1
    return pesos


def huella_credenciales(ordenadas: list[str]) -> str:
    """SHA-256 of a public credential list exactly as the record's setup carries it (sorted, canonical JSON):
    what the credential authority's signed list fixes and what ``vmre verificar`` recomputes."""
    return hashlib.sha256(cjson(ordenadas).encode()).hexdigest()


def ordenar_credenciales(publicas: list[Elemento]) -> list[str]:
    """The list as the tool stores it: sorted by libsodium byte order (cosmetic, but it hides issue order)."""
    return [gr.s(c) for c in sorted(publicas)]
