"""electronico use cases: the public record (archivo.bel) of each election, written, stored and served.
Never commit (the caller owns the transaction)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.electronico import ceremonia, repository
from services.electronico.models import Eleccion
from services.electronico.service.conteos import boletas_contadas
from services.electronico.service.elecciones import eleccion_belenios
from shared.cripto.archivo import Archivo, Evento, registro
from shared.cripto.grupo import sha256_hex
from shared.cripto.pruebas import cjson
from shared.cripto.urna import Urna
from shared.problems import Problem

# The public record (archivo.bel). An open ballot box's is written from the database as it is downloaded; at
# the seal it is built once and stored in pieces (TrozoArchivo), and served from them (ETag, Range); the
# result appends its last events. Never the whole record in memory per request.

TROZO = 1 << 20  # bytes per stored piece
TROZOS_POR_CONSULTA = 4  # pieces read per query while serving (a few MiB in flight per download)
LOTE_BOLETAS = 500  # ballots per query (and per step in a thread) when a record is written from the database


@dataclass(frozen=True)
class DatosArchivo:
    """What an election's record needs of it, read once: the stream outlives the request's session."""

    uuid: str
    marca: int
    eleccion_json: str
    custodios_json: str
    credenciales_json: str
    sellada: bool
    recuento: str | None
    recuento_dimensionado: str | None
    resultado: str | None

    @classmethod
    def de(cls, e: Eleccion) -> DatosArchivo:
        if (
            e.eleccion_json is None
            or e.custodios_json is None
            or e.credenciales_json is None
            or e.marca is None
        ):
            raise Problem(409, "La elección aún no ha sido abierta: no hay archivo.")
        return cls(
            uuid=e.uuid,
            marca=e.marca,
            eleccion_json=e.eleccion_json,
            custodios_json=e.custodios_json,
            credenciales_json=e.credenciales_json,
            sellada=e.estado == "sellada",
            recuento=e.recuento,
            recuento_dimensionado=e.recuento_dimensionado,
            resultado=e.resultado,
        )


class Escritor:
    """A record written event by event without keeping it: the bytes of each event as it is added, and the
    last event (the next one's parent). The same bytes ``Archivo.bytes()`` gives for the same events."""

    def __init__(self, marca: int, ultimo: Evento | None = None) -> None:
        self._archivo = Archivo(marca=marca, eventos=[] if ultimo is None else [ultimo])

    @property
    def ultimo(self) -> Evento:
        return self._archivo.eventos[-1]

    def cabecera(self) -> bytes:
        return registro("BELENIOS", self._archivo.cabecera_texto, self._archivo.marca)

    def agregar(self, tipo: str, datos: list[bytes]) -> bytes:
        evento = self._archivo.agregar(tipo, datos)
        del self._archivo.eventos[:-1]
        return self._archivo.bytes_evento(evento)

    def boletas(self, textos: list[str]) -> bytes:
        """Ballot events, as ``agregar`` writes them, hashing each text and each event once."""
        marca, ultimo = self._archivo.marca, self.ultimo
        padre, altura = ultimo.hash, ultimo.altura
        partes = []
        for t in textos:
            datos = t.encode()
            carga = sha256_hex(datos)
            altura += 1
            ultimo = Evento("Ballot", altura, padre, carga, (datos,))
            texto = ultimo.texto
            padre = sha256_hex(texto)
            partes.append(registro(f"{carga}.data.json", datos, marca))
            partes.append(registro(f"{padre}.event.json", texto, marca))
        self._archivo.eventos[:] = [ultimo]
        return b"".join(partes)

    def descifrados(self, descifrados: list[tuple[int, str]]) -> bytes:
        """PartialDecryption of each (owner, text), in order."""
        return b"".join(
            self.agregar(
                "PartialDecryption", [t.encode(), cjson({"owner": o, "payload": sha256_hex(t)}).encode()]
            )
            for o, t in descifrados
        )


def _setup(d: DatosArchivo) -> list[bytes]:
    """Setup's data records, as ``Urna.abrir`` writes them (without re-reading every credential)."""
    textos = [
        eleccion_belenios(d.eleccion_json).texto,
        cjson(ceremonia.custodios_de(d.custodios_json).json()).encode(),
        cjson(json.loads(d.credenciales_json)).encode(),
    ]
    carga = {"election": textos[0], "trustees": textos[1], "credentials": textos[2]}
    return [*textos, cjson({k: sha256_hex(v) for k, v in carga.items()}).encode()]


def _inicio(escritor: Escritor, d: DatosArchivo) -> bytes:
    return escritor.cabecera() + escritor.agregar("Setup", _setup(d))


def _cierre(escritor: Escritor, d: DatosArchivo) -> tuple[bytes, str]:
    """EndBallots and the encrypted tally; and the seal (EndBallots' hash)."""
    fin = escritor.agregar("EndBallots", [])
    sello = escritor.ultimo.hash
    if d.recuento is not None and d.recuento_dimensionado is not None:
        fin += escritor.agregar("EncryptedTally", [d.recuento.encode(), d.recuento_dimensionado.encode()])
    return fin, sello


async def archivo(session: AsyncSession, e: Eleccion) -> Archivo:
    """The record as of now, whole in memory: Setup, every accepted ballot in order, EndBallots once sealed.
    The reference the stored and the streamed records equal byte for byte (the tests compare them); never
    built per request."""
    d = DatosArchivo.de(e)
    urna = Urna.abrir(
        eleccion_belenios(d.eleccion_json),
        ceremonia.custodios_de(d.custodios_json),
        json.loads(d.credenciales_json),
        d.marca,
    )
    for t in await repository.textos_de_boletas(session, e.uuid):
        urna.archivo.agregar("Ballot", [t.encode()])
    if e.estado == "sellada":
        urna.archivo.agregar("EndBallots", [])
        if e.recuento is not None and e.recuento_dimensionado is not None:
            urna.archivo.agregar("EncryptedTally", [e.recuento.encode(), e.recuento_dimensionado.encode()])
        for d_ in await repository.descifrados(session, e.uuid):
            owned = cjson({"owner": d_.owner, "payload": sha256_hex(d_.texto)})
            urna.archivo.agregar("PartialDecryption", [d_.texto.encode(), owned.encode()])
        if e.resultado is not None:
            urna.archivo.agregar("Result", [e.resultado.encode()])
    return urna.archivo


async def archivo_desde_la_base(
    maker: async_sessionmaker[AsyncSession], d: DatosArchivo
) -> AsyncIterator[bytes]:
    """The record as of now, written from the database while it is sent: the ballots up to the last one
    accepted when the download began, ``LOTE_BOLETAS`` per query (each in a short session of its own: a slow
    client holds no connection) and hashed in a thread. For an open ballot box, and for a box sealed before
    records were stored (then with its closing events)."""
    escritor = Escritor(d.marca)
    yield _inicio(escritor, d)
    async with maker() as s:
        hasta = await repository.ultima_boleta(s, d.uuid)
    desde = 0
    while hasta is not None and desde < hasta:
        async with maker() as s:
            filas = await repository.lote_de_boletas(s, d.uuid, desde, hasta, LOTE_BOLETAS)
        if not filas:
            break
        desde = filas[-1][0]
        yield await asyncio.to_thread(escritor.boletas, [t for _, t in filas])
    if d.sellada:
        fin, _ = _cierre(escritor, d)
        async with maker() as s:
            descifrados = await repository.textos_de_descifrados(s, d.uuid)
        fin += escritor.descifrados([(o, t) for o, t in descifrados])
        if d.resultado is not None:
            fin += escritor.agregar("Result", [d.resultado.encode()])
        yield fin


class _Trozos:
    """Stores a record as it is written: pieces of ``TROZO`` bytes, each inserted as soon as it is full."""

    def __init__(self, session: AsyncSession, uuid: str, posicion: int = 0) -> None:
        self.session = session
        self.uuid = uuid
        self.posicion = posicion  # where the next piece starts
        self._pendiente = bytearray()

    async def escribir(self, datos: bytes) -> None:
        self._pendiente += datos
        if len(self._pendiente) >= TROZO:
            vista = memoryview(self._pendiente)
            hecho = 0
            while len(self._pendiente) - hecho >= TROZO:
                await self._insertar(bytes(vista[hecho : hecho + TROZO]))
                hecho += TROZO
            vista.release()
            del self._pendiente[:hecho]

    async def cerrar(self) -> int:
        """Store what is left; the record's length."""
        if self._pendiente:
            await self._insertar(bytes(self._pendiente))
            self._pendiente.clear()
        return self.posicion

    async def _insertar(self, datos: bytes) -> None:
        await repository.insertar_trozo(self.session, self.uuid, self.posicion, datos)
        self.posicion += len(datos)


async def guardar_archivo(session: AsyncSession, e: Eleccion, textos: list[str]) -> str:
    """At the seal: the whole record (through EncryptedTally) built once and stored; returns the seal."""
    d = DatosArchivo.de(e)
    escritor = Escritor(d.marca)
    trozos = _Trozos(session, e.uuid)
    await trozos.escribir(_inicio(escritor, d))
    for i in range(0, len(textos), 4 * LOTE_BOLETAS):
        await trozos.escribir(await asyncio.to_thread(escritor.boletas, textos[i : i + 4 * LOTE_BOLETAS]))
    fin, sello = _cierre(escritor, d)
    await trozos.escribir(fin)
    e.archivo_tamano = await trozos.cerrar()
    e.archivo_etag = escritor.ultimo.hash
    return sello


async def completar_archivo(
    session: AsyncSession, e: Eleccion, descifrados: list[tuple[int, str]], resultado: str
) -> None:
    """With the result: its PartialDecryption events and Result appended to the stored record (the bytes
    already stored do not change). A box sealed before records were stored has none: it stays streamed."""
    if e.archivo_tamano is None or e.archivo_etag is None:
        return
    assert e.recuento is not None
    assert e.recuento_dimensionado is not None
    assert e.marca is not None
    # The stored record ends with the encrypted tally: its event is rebuilt from the election's columns, and
    # must be the one stored (its hash chains every byte before it).
    datos = (e.recuento.encode(), e.recuento_dimensionado.encode())
    altura = await boletas_contadas(session, e.uuid) + 2  # Setup 0, ballots, EndBallots, EncryptedTally
    recuento = Evento("EncryptedTally", altura, e.sello, sha256_hex(datos[-1]), datos)
    if recuento.hash != e.archivo_etag:
        raise ValueError(f"el archivo guardado de la elección {e.uuid} no termina en su recuento cifrado")
    escritor = Escritor(e.marca, recuento)
    cola = escritor.descifrados(descifrados) + escritor.agregar("Result", [resultado.encode()])
    trozos = _Trozos(session, e.uuid, e.archivo_tamano)
    await trozos.escribir(cola)
    e.archivo_tamano = await trozos.cerrar()
    e.archivo_etag = escritor.ultimo.hash


async def archivo_guardado(
    maker: async_sessionmaker[AsyncSession], uuid: str, inicio: int, fin: int
) -> AsyncIterator[bytes]:
    """Bytes [inicio, fin) of a stored record, ``TROZOS_POR_CONSULTA`` pieces per query, each query in a
    short session of its own (a slow client holds no connection). The record only grows at its end, so a
    download that began before the result still gets the bytes it was promised."""
    async with maker() as s:
        posicion = await repository.trozo_con_el_byte(s, uuid, inicio)
    if posicion is None:
        raise RuntimeError(f"el archivo guardado de la elección {uuid} no tiene el byte {inicio}")
    while posicion < fin:
        async with maker() as s:
            filas = await repository.trozos(s, uuid, posicion, fin, TROZOS_POR_CONSULTA)
        if not filas:
            raise RuntimeError(f"al archivo guardado de la elección {uuid} le falta el byte {posicion}")
        for p, datos in filas:
            if p != posicion:
                raise RuntimeError(f"al archivo guardado de la elección {uuid} le falta el byte {posicion}")
            a, b = max(inicio - p, 0), min(fin - p, len(datos))
            yield datos if (a, b) == (0, len(datos)) else datos[a:b]
            posicion = p + len(datos)
