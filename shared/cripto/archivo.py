"""The Belenios 3.0 election record (``<uuid>.bel``): an append-only tar of data and event records.

Written byte-exactly as belenios-tool writes it: 512-byte old-style headers with the archive timestamp as
every
record's mtime, bodies NUL-padded, no end-of-archive blocks; each event names its parent's hash, its height,
its
type and the hash of its last data record. Reading is the tool's fsck: from the last event down the parent
chain
to Setup, re-emit everything canonically, and require the very same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.cripto import grupo as gr
from shared.cripto.pruebas import cjson

BLOQUE = 512
TIPOS = (
    "Setup",
    "Ballot",
    "EndBallots",
    "EncryptedTally",
    "Shuffle",
    "EndShuffles",
    "PartialDecryption",
    "Result",
)
# Data records before each event, in order; the last one is the event's payload.
DATOS_POR_TIPO = {
    "Setup": 4,
    "Ballot": 1,
    "EndBallots": 0,
    "EncryptedTally": 2,
    "Shuffle": 2,
    "EndShuffles": 0,
    "PartialDecryption": 2,
    "Result": 1,
}


class ArchivoInvalido(ValueError):
    pass


def cabecera(nombre: str, tamano: int, marca: int) -> bytes:
    h = bytearray(BLOQUE)
    campos = [
        (0, nombre.encode()),
        (100, b"0000644\0"),
        (108, b"0000000\0"),
        (116, b"0000000\0"),
        (124, b"%011o\0" % tamano),
        (136, b"%011o\0" % marca),
        (148, b" " * 8),
        (156, b"0"),
    ]
    for pos, valor in campos:
        h[pos : pos + len(valor)] = valor
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def registro(nombre: str, cuerpo: bytes, marca: int) -> bytes:
    relleno = -len(cuerpo) % BLOQUE
    return cabecera(nombre, len(cuerpo), marca) + cuerpo + b"\0" * relleno


@dataclass(frozen=True, slots=True)
class Evento:
    tipo: str
    altura: int
    padre: str | None
    carga: str | None  # hash of the last data record
    datos: tuple[bytes, ...]  # the event's data records, in order

    @property
    def texto(self) -> bytes:
        o: dict[str, Any] = {}
        if self.padre is not None:
            o["parent"] = self.padre
        o |= {"height": self.altura, "type": self.tipo}
        if self.carga is not None:
            o["payload"] = self.carga
        return cjson(o).encode()

    @property
    def hash(self) -> str:
        return gr.sha256_hex(self.texto)


def _cabecera_archivo(marca: int) -> bytes:
    return cjson({"version": 1, "timestamp": str(marca)}).encode()


@dataclass
class Archivo:
    """An election record in memory: the header and the event chain, Setup first."""

    marca: int
    eventos: list[Evento] = field(default_factory=list)
    cabecera_texto: bytes = b""

    def __post_init__(self) -> None:
        if not self.cabecera_texto:
            self.cabecera_texto = _cabecera_archivo(self.marca)

    def agregar(self, tipo: str, datos: list[bytes]) -> Evento:
        """What ``archive add-event --type=T`` does: data records, then the event linking to the last."""
        if tipo not in TIPOS:
            raise ValueError(f"tipo de evento desconocido: {tipo}")
        ultimo = self.eventos[-1] if self.eventos else None
        e = Evento(
            tipo=tipo,
            altura=ultimo.altura + 1 if ultimo else 0,
            padre=ultimo.hash if ultimo else None,
            carga=gr.sha256_hex(datos[-1]) if datos else None,
            datos=tuple(datos),
        )
        self.eventos.append(e)
        return e

    def bytes_evento(self, e: Evento) -> bytes:
        partes = [registro(f"{gr.sha256_hex(d)}.data.json", d, self.marca) for d in e.datos]
        partes.append(registro(f"{e.hash}.event.json", e.texto, self.marca))
        return b"".join(partes)

    def bytes(self) -> bytes:
        return registro("BELENIOS", self.cabecera_texto, self.marca) + b"".join(
            self.bytes_evento(e) for e in self.eventos
        )

    def escribir(self, ruta: Path) -> None:
        ruta.write_bytes(self.bytes())

    def de_tipo(self, tipo: str) -> list[Evento]:
        return [e for e in self.eventos if e.tipo == tipo]


def _registros(datos: bytes) -> Iterator[tuple[int, str, bytes, int]]:
    pos = 0
    while pos < len(datos):
        h = datos[pos : pos + BLOQUE]
        if len(h) < BLOQUE:
            raise ArchivoInvalido(f"byte {pos}: cabecera tar truncada")
        if not any(h):
            raise ArchivoInvalido(
                f"byte {pos}: bloques de fin de tar (un tar genérico; Belenios no los escribe)"
            )
        nombre = h[:100].split(b"\0", 1)[0].decode("ascii", "replace")
        try:
            tamano = int(h[124:135], 8)
            marca = int(h[136:147], 8)
        except ValueError:
            raise ArchivoInvalido(f"byte {pos}: cabecera tar ilegible ({nombre!r})") from None
        if cabecera(nombre, tamano, marca) != h:
            raise ArchivoInvalido(f"byte {pos}: la cabecera de {nombre!r} no es reproducible")
        cuerpo = datos[pos + BLOQUE : pos + BLOQUE + tamano]
        if len(cuerpo) < tamano:
            raise ArchivoInvalido(f"byte {pos}: el registro {nombre!r} está truncado")
        yield pos, nombre, cuerpo, marca
        pos += BLOQUE + tamano + (-tamano % BLOQUE)


def _referencias(tipo: str, carga: bytes) -> list[str]:
    """Hashes of the other data records an event's payload points to (they precede it)."""
    try:
        o = json.loads(carga)
        if tipo == "Setup":
            return [o["election"], o["trustees"], o["credentials"]]
        if tipo in ("EncryptedTally",):
            return [o["encrypted_tally"]]
        if tipo in ("PartialDecryption", "Shuffle"):
            return [o["payload"]]
    except (ValueError, KeyError, TypeError):
        raise ArchivoInvalido(f"evento {tipo}: la carga no tiene las referencias esperadas") from None
    return []


def leer(datos: bytes) -> Archivo:
    """Parse and fsck an archive; raise ``ArchivoInvalido`` naming the first inconsistency."""
    registros = list(_registros(datos))
    if not registros or registros[0][1] != "BELENIOS":
        raise ArchivoInvalido("el archivo no empieza con el registro BELENIOS")
    _, _, cabecera_texto, marca = registros[0]
    try:
        cab = json.loads(cabecera_texto)
        if cab.get("version") != 1 or int(cab["timestamp"]) != marca:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ArchivoInvalido(
            "registro BELENIOS inválido (versión 1 y timestamp igual al de las cabeceras)"
        ) from None
    if cjson(cab).encode() != cabecera_texto:
        raise ArchivoInvalido("registro BELENIOS no canónico")
    por_nombre: dict[str, bytes] = {}
    ultimo_evento = None
    for pos, nombre, cuerpo, m in registros[1:]:
        if m != marca:
            raise ArchivoInvalido(f"byte {pos}: {nombre}: su fecha no es la del archivo")
        if nombre in por_nombre:
            raise ArchivoInvalido(f"byte {pos}: registro repetido {nombre}")
        base, _, tipo = nombre.partition(".")
        if tipo not in ("data.json", "event.json") or gr.sha256_hex(cuerpo) != base:
            raise ArchivoInvalido(f"byte {pos}: {nombre}: el nombre no es el hash de su contenido")
        por_nombre[nombre] = cuerpo
        if tipo == "event.json":
            ultimo_evento = base
    if ultimo_evento is None:
        raise ArchivoInvalido("el archivo no tiene eventos")

    cadena: list[Evento] = []
    actual: str | None = ultimo_evento
    while actual is not None:
        texto = por_nombre.get(f"{actual}.event.json")
        if texto is None:
            raise ArchivoInvalido(f"falta el evento {actual}")
        try:
            o = json.loads(texto)
            tipo, altura, padre, carga = o["type"], o["height"], o.get("parent"), o.get("payload")
        except (ValueError, KeyError, TypeError):
            raise ArchivoInvalido(f"evento {actual} ilegible") from None
        if tipo not in TIPOS:
            raise ArchivoInvalido(f"evento {actual}: tipo desconocido {tipo!r}")
        datos_evento: list[bytes] = []
        if carga is not None:
            carga_datos = por_nombre.get(f"{carga}.data.json")
            if carga_datos is None:
                raise ArchivoInvalido(f"evento {tipo} (altura {altura}): falta su registro de datos {carga}")
            for ref in _referencias(tipo, carga_datos):
                previo = por_nombre.get(f"{ref}.data.json")
                if previo is None:
                    raise ArchivoInvalido(f"evento {tipo} (altura {altura}): falta el registro {ref}")
                datos_evento.append(previo)
            datos_evento.append(carga_datos)
        if len(datos_evento) != DATOS_POR_TIPO[tipo]:
            raise ArchivoInvalido(
                f"evento {tipo} (altura {altura}): lleva {len(datos_evento)} registros de datos, "
                f"se esperaban {DATOS_POR_TIPO[tipo]}"
            )
        e = Evento(tipo, altura, padre, carga, tuple(datos_evento))
        if e.texto != texto:
            raise ArchivoInvalido(f"evento {tipo} (altura {altura}): no está en forma canónica")
        cadena.append(e)
        actual = padre
    cadena.reverse()
    for i, e in enumerate(cadena):
        if e.altura != i or (i == 0) != (e.tipo == "Setup"):
            raise ArchivoInvalido(
                f"evento {e.tipo}: altura {e.altura} inconsistente con su posición {i} en la cadena"
            )
    archivo = Archivo(marca=marca, eventos=cadena, cabecera_texto=cabecera_texto)
    rehecho = archivo.bytes()
    if rehecho != datos:
        primero = next(
            (i for i, (a, b) in enumerate(zip(rehecho, datos, strict=False)) if a != b),
            min(len(rehecho), len(datos)),
        )
        raise ArchivoInvalido(
            f"el archivo no es la reconstrucción canónica de su cadena (difiere en el byte {primero}: "
            "registros ajenos, duplicados, desordenados o bloques de más)"
        )
    return archivo
