"""Elections written by belenios-tool 3.0 pass our verifier; any altered byte, and the attacks the tool's own
``verify`` 3.0 lets through (a tally without a ballot, a counted ballot with invalid proofs), fail it."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from shared.cripto import archivo as ar
from shared.cripto import escrutinio as es
from shared.cripto import simulacro as si
from shared.cripto.grupo import sha256_b64, sha256_hex
from shared.cripto.verificador import VerificacionFallida, verificar_archivo
from tests.support.cripto import (
    EJEMPLO,
    PREGUNTAS,
    Belenios,
    boleta_sin_verificar,
    boleta_tramposa,
    el_archivo,
    suma,
)
from vmre.cli import main as vmre


def test_ejemplo_de_belenios_pasa_vmre_verificar(capsys: pytest.CaptureFixture[str]) -> None:
    assert vmre(["verificar", str(EJEMPLO)]) == 0
    salida = capsys.readouterr().out
    assert "resultado: [[2,4,0,1,2],[2,3,3,2,3]]" in salida
    assert "10 verificadas" in salida
    assert "9 contadas" in salida
    assert "verificación completa: todo correcto" in salida
    # our law (one vote per citizen) on the same record: the revote is named
    assert vmre(["verificar", "--un-voto", str(EJEMPLO)]) == 1
    assert "votó más de una vez" in capsys.readouterr().out


def test_eleccion_nueva_de_belenios_pasa(eleccion_de_belenios: tuple[Path, list[list[int]]]) -> None:
    d, esperado = eleccion_de_belenios
    inf = verificar_archivo(el_archivo(d).read_bytes())
    assert inf.resultado == esperado
    assert (inf.boletas, inf.contadas, inf.reemplazadas) == (6, 5, 1)
    assert inf.descifrados == [1, 3, 5, 6]  # the server (Single) and custodians 2, 4, 5 (owners 3, 5, 6)


def _falla(datos: bytes) -> str:
    with pytest.raises(VerificacionFallida) as e:
        verificar_archivo(datos)
    return str(e.value)


def _zonas(datos: bytes, archivo: ar.Archivo) -> list[tuple[str, int, int]]:
    """Byte ranges of every ballot, tally and partial decryption record inside the file."""
    zonas = []
    for e in archivo.eventos:
        if e.tipo in ("Ballot", "PartialDecryption", "EncryptedTally", "Result"):
            cuerpo = e.datos[0]
            inicio = datos.index(cuerpo)
            zonas.append((e.tipo, inicio, inicio + len(cuerpo)))
    return zonas


@pytest.mark.parametrize("origen", ["ejemplo", "nueva"])
def test_cualquier_byte_cambiado_falla(
    origen: str, eleccion_de_belenios: tuple[Path, list[list[int]]]
) -> None:
    datos = EJEMPLO.read_bytes() if origen == "ejemplo" else el_archivo(eleccion_de_belenios[0]).read_bytes()
    archivo = ar.leer(datos)
    azar = random.Random(11)
    for tipo, inicio, fin in _zonas(datos, archivo):
        for _ in range(3):
            pos = azar.randrange(inicio, fin)
            alterado = bytearray(datos)
            alterado[pos] ^= 1 << azar.randrange(7)
            assert "archivo" in _falla(bytes(alterado)), (tipo, pos)


def _rehecho(archivo: ar.Archivo, altura: int, cambio: bytes) -> bytes:
    """The same record with one data record replaced and the hash chain rebuilt (a consistent forgery)."""
    nuevo = ar.Archivo(marca=archivo.marca)
    for e in archivo.eventos:
        datos = list(e.datos)
        if e.altura == altura:
            datos[0] = cambio
        if e.tipo == "PartialDecryption" and e.altura == altura:
            datos[1] = es.cjson(
                {"owner": json.loads(datos[1])["owner"], "payload": sha256_hex(cambio)}
            ).encode()
        nuevo.agregar(e.tipo, datos)
    return nuevo.bytes()


@pytest.mark.slow
def test_cambio_de_un_digito_con_la_cadena_rehecha_falla() -> None:
    """Flip one digit of an element or scalar in a ballot or a decryption and re-chain the archive honestly:
    the archive is well formed, so only the cryptography can catch it — and does, naming the item."""
    archivo = ar.leer(EJEMPLO.read_bytes())
    azar = random.Random(3)
    revisados = 0
    for e in archivo.eventos:
        if e.tipo not in ("Ballot", "PartialDecryption"):
            continue
        texto = e.datos[0].decode()
        valores = list(re.finditer(r'"([0-9a-f]{64}|[0-9]{20,})"', texto))
        for m in azar.sample(valores, 3):
            pos = azar.randrange(m.start(1), m.end(1))
            digito = texto[pos]
            otro = azar.choice(
                [c for c in "0123456789abcdef"[: 16 if len(m.group(1)) == 64 else 10] if c != digito]
            )
            cambio = (texto[:pos] + otro + texto[pos + 1 :]).encode()
            motivo = _falla(_rehecho(archivo, e.altura, cambio))
            donde = "boleta" if e.tipo == "Ballot" else "descifrado parcial"
            assert motivo.startswith(donde), motivo
            revisados += 1
    assert revisados == 3 * 14


@pytest.fixture(scope="module")
def votos() -> list[list[list[int]]]:
    azar = random.Random(8)
    return [[si.voto_al_azar(q, azar) for q in PREGUNTAS] for _ in range(8)]


def _a_directorio(archivo: ar.Archivo, uuid: str, d: Path) -> Path:
    d.mkdir()
    archivo.escribir(d / f"{uuid}.bel")
    return d


def test_recuento_sin_una_boleta(votos: list[list[list[int]]], belenios: Belenios, tmp_path: Path) -> None:
    """T4: the stored tally leaves one ballot out; decrypted and published; belenios-tool 3.0 passes it."""
    u = si.preparar(PREGUNTAS, votantes=8)
    for b in si.boletas(u, votos):
        u.urna.depositar(b)
    # Forge: the tally of all ballots but the first, with its true count.
    u.urna.boletas = u.urna.boletas[1:]
    u.urna.cerrar()
    u.descifrar([1, 2, 3])
    resultado = u.urna.publicar()
    assert resultado == suma(votos[1:])
    d = _a_directorio(u.urna.archivo, u.eleccion.uuid, tmp_path / "t4")
    assert "all checks passed" in belenios("election", "verify", "--dir", str(d), cwd=d).stderr
    motivo = _falla(u.urna.archivo.bytes())
    assert "EncryptedTally" in motivo
    assert "no es el producto de las boletas contadas" in motivo


def test_boleta_con_pruebas_invalidas_contada(
    votos: list[list[list[int]]], belenios: Belenios, tmp_path: Path
) -> None:
    """T8: a signed ballot encrypting a 3 for one candidate, invalid proofs, counted and decrypted."""
    u = si.preparar(PREGUNTAS, votantes=8)
    textos = si.boletas(u, votos[1:])
    trampa = boleta_tramposa(
        u.eleccion, u.credenciales[-1], [[0, 3, 0, 0, 0], [0, 1, 0, 0, 0]], lambda _n, _p: 0
    )
    for t in textos:
        u.urna.depositar(t)
    u.urna.archivo.agregar("Ballot", [trampa.encode()])  # past the box, as a corrupt server would
    u.urna.boletas.append(boleta_sin_verificar(trampa))
    u.urna.cerrar()
    u.descifrar([2, 4, 5])
    resultado = u.urna.publicar()
    assert resultado[0] == [a + b for a, b in zip(suma(votos[1:])[0], [0, 3, 0, 0, 0], strict=True)]
    d = _a_directorio(u.urna.archivo, u.eleccion.uuid, tmp_path / "t8")
    # belenios-tool 3.0 `verify` starts its ballot check as a promise it then ignores
    # (`ignore (Lazy.force verified_ballots)`): depending on the data, the bad ballot is reported or the
    # archive passes (seen: 38 of 39 archives passed). Either way the forged result is not caught reliably.
    r = belenios("election", "verify", "--dir", str(d), cwd=d, check=False)
    rastreador = sha256_b64(trampa.encode())
    assert (r.returncode == 0 and "all checks passed" in r.stderr) or (
        f'error while casting ballot {rastreador}: "InvalidBallot"' in r.stderr
    ), r.stderr
    motivo = _falla(u.urna.archivo.bytes())
    assert motivo.startswith("boleta en el evento 8")
    assert "no verifica" in motivo


def _copia(archivo: ar.Archivo, cambiar: dict[str, list[bytes]] | None = None) -> ar.Archivo:
    nuevo = ar.Archivo(marca=archivo.marca)
    for e in archivo.eventos:
        nuevo.agregar(e.tipo, (cambiar or {}).get(e.tipo, list(e.datos)))
    return nuevo


def test_estructura_y_orden_de_eventos() -> None:
    archivo = ar.leer(EJEMPLO.read_bytes())
    assert "Result (altura 17): lleva 0 registros" in _falla(_copia(archivo, {"Result": []}).bytes())
    # T5: a ballot after the result (belenios-tool 3.0 accepts it)
    tarde = _copia(archivo)
    tarde.agregar("Ballot", [archivo.de_tipo("Ballot")[0].datos[0].replace(b'"answers"', b' "answers"')])
    assert "fuera de orden: llega después de Result" in _falla(tarde.bytes())
    # a tally without closing the ballot box first
    sin_cierre = ar.Archivo(marca=archivo.marca)
    for e in archivo.eventos:
        if e.tipo != "EndBallots":
            sin_cierre.agregar(e.tipo, list(e.datos))
    assert "falta antes el evento EndBallots" in _falla(sin_cierre.bytes())
    # trailing end-of-archive blocks, as a generic tar writer would add
    assert "bloques de fin de tar" in _falla(EJEMPLO.read_bytes() + b"\0" * 1024)
