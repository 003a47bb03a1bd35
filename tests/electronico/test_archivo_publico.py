"""The public record (``GET /v1/elecciones/{uuid}/archivo.bel``) never built whole in memory per request: an
open box's is written from the database as it streams; at the seal it is stored once in pieces and served
from them with ETag/If-None-Match and Range/If-Range; the result appends its last events. Every byte served is
the byte the reference rebuild (``service.archivo``) gives, and the file passes ``vmre verificar``. The key
ceremony's public state and computo's tally state read the Pedersen parameters once per process and text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update

from clientes.custodio import descifrar
from services.computo import escrutinio as escrutinio_computo
from services.computo.models import Outbox as OutboxComputo
from services.computo.models import ProcessedEvent as ProcesadosComputo
from services.electronico import ceremonia, service
from services.electronico.models import Eleccion, TrozoArchivo
from services.electronico.models import Outbox as OutboxElectronico
from services.electronico.models import ProcessedEvent as ProcesadosElectronico
from services.electronico.service import archivo_publico
from shared.cripto import custodios as cu
from shared.cripto import grupo as gr
from shared.cripto.archivo import leer
from shared.cripto.verificador import verificar_archivo
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.settings import KafkaSettings
from tests.computo.test_escrutinio_electronico import computo_de_prueba, pasar
from tests.support.comun import Databases, serve
from tests.support.electronico import FRASE, Electronico, inscrito
from tests.support.registro import centro
from vmre.cli import main as vmre


async def _votar(e: Electronico, uuid: str, opciones: list[str]) -> None:
    cuentas = sorted((c for u, c in e.cuentas.items() if u.startswith("V09")), key=lambda c: c.usuario)
    for cuenta, opcion in zip(cuentas, opciones, strict=False):
        await e.primer_acceso_e_ingreso(cuenta)
        r = await e.votar(uuid, cuenta, await e.boleta(uuid, cuenta, opcion))
        assert r.status_code == 201, r.text


async def _sellar(e: Electronico, uuid: str) -> str:
    e.reloj.ajustar(centro(2021, 6, 6, 18, 0))
    r = await e.client.post(f"/v1/elecciones/{uuid}/cierre", headers=e.token("ine-admin"))
    assert r.status_code == 200, r.text
    return str(r.json()["sello"])


async def _referencia(e: Electronico, uuid: str) -> bytes:
    """The record rebuilt whole in memory, the old way: what every byte served must equal."""
    async with e.app.state.runtime.maker() as s:
        eleccion = await s.get(Eleccion, uuid)
        assert eleccion is not None
        return (await service.archivo(s, eleccion)).bytes()


async def _guardado(e: Electronico, uuid: str) -> tuple[bytes, int]:
    """The stored pieces joined, and how many there are."""
    async with e.app.state.runtime.maker() as s:
        trozos = (
            await s.execute(
                select(TrozoArchivo.posicion, TrozoArchivo.datos)
                .where(TrozoArchivo.eleccion == uuid)
                .order_by(TrozoArchivo.posicion)
            )
        ).all()
    posicion = 0
    for p, datos in trozos:
        assert p == posicion, "los trozos guardados no son contiguos"
        posicion += len(datos)
    return b"".join(d for _, d in trozos), len(trozos)


def _sin_reconstruir(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route must not build the record in memory: the in-memory builder is not reachable from it."""

    async def prohibido(*_: Any) -> None:
        raise AssertionError("la ruta reconstruyó el archivo completo en memoria")

    monkeypatch.setattr(service, "archivo", prohibido)  # what the routes reach
    monkeypatch.setattr(archivo_publico, "archivo", prohibido)  # and what the record's own module reaches


def _vmre_verificar(datos: bytes, ruta: Path, capsys: pytest.CaptureFixture[str]) -> str:
    ruta.write_bytes(datos)
    codigo = vmre(["verificar", str(ruta), "--procesos", "1"])
    salida = capsys.readouterr()
    assert codigo == 0, salida.out + salida.err
    return salida.out


async def test_urna_abierta_se_escribe_desde_la_base_al_descargar(
    abierta: tuple[Electronico, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    e, uuid = abierta
    vacio = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    assert vacio == await _referencia(e, uuid)
    await _votar(e, uuid, ["MORENA", "PAN", "nulos"])
    referencia = await _referencia(e, uuid)
    monkeypatch.setattr(archivo_publico, "LOTE_BOLETAS", 2)  # three ballots: two queries
    _sin_reconstruir(monkeypatch)
    r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": "bytes=0-9"})
    # Open box: streamed whole (it changes with each ballot: no ETag, no ranges), byte for byte the rebuild.
    assert r.status_code == 200
    assert r.content == referencia
    assert "etag" not in r.headers
    assert r.headers["accept-ranges"] == "none"
    assert r.headers["content-disposition"] == f'attachment; filename="{uuid}.bel"'
    assert verificar_archivo(r.content, un_voto=True).boletas == 3
    assert "boletas: 3 verificadas" in _vmre_verificar(r.content, tmp_path / f"{uuid}.bel", capsys)
    async with e.app.state.runtime.maker() as s:
        assert (await s.execute(select(TrozoArchivo))).first() is None  # nothing stored before the seal


async def test_sellada_se_guarda_una_vez_y_se_sirve_con_etag_y_rangos(
    abierta: tuple[Electronico, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    e, uuid = abierta
    monkeypatch.setattr(archivo_publico, "TROZO", 4096)  # many pieces, so ranges cross their edges
    monkeypatch.setattr(archivo_publico, "TROZOS_POR_CONSULTA", 3)
    await _votar(e, uuid, ["PAN", "MORENA", "PAN+PRI"])
    sello = await _sellar(e, uuid)
    referencia = await _referencia(e, uuid)
    guardado, trozos = await _guardado(e, uuid)
    # Stored at the seal: exactly the rebuild, in pieces of at most TROZO bytes.
    assert guardado == referencia
    assert trozos == -(-len(referencia) // 4096) > 10
    _sin_reconstruir(monkeypatch)

    r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")
    assert r.status_code == 200
    assert r.content == referencia
    archivo = leer(r.content)
    assert archivo.de_tipo("EndBallots")[0].hash == sello
    etag = f'"{archivo.eventos[-1].hash}"'
    assert r.headers["etag"] == etag
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(referencia))
    assert "boletas: 3 verificadas" in _vmre_verificar(r.content, tmp_path / f"{uuid}.bel", capsys)

    # If-None-Match: 304 without a body, for the tag alone, in a list, weak, or "*"; another tag: 200.
    for valor in (etag, f'"otro", {etag}', f"W/{etag}", "*"):
        r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"If-None-Match": valor})
        assert r.status_code == 304, valor
        assert r.content == b"", valor
        assert r.headers["etag"] == etag, valor
    r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"If-None-Match": '"otro"'})
    assert r.status_code == 200
    assert r.content == referencia

    # One range: 206, exactly those bytes of the whole file, Content-Range and Content-Length to match.
    n = len(referencia)
    for rango, (a, b) in {
        "bytes=0-0": (0, 0),
        "bytes=0-4095": (0, 4095),
        "bytes=4000-9000": (4000, 9000),  # across two piece edges
        "bytes=4096-": (4096, n - 1),
        "bytes=-700": (n - 700, n - 1),
        f"bytes={n - 1}-{n + 500}": (n - 1, n - 1),  # an end past the file is cut to it
        "bytes=-999999999": (0, n - 1),
    }.items():
        r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": rango})
        assert r.status_code == 206, (rango, r.status_code, r.text[:200])
        assert r.content == referencia[a : b + 1], rango
        assert r.headers["content-range"] == f"bytes {a}-{b}/{n}", rango
        assert r.headers["content-length"] == str(b - a + 1)
        assert r.headers["etag"] == etag
    # Resuming a download: If-Range with the current tag gives the range; with another, the whole file.
    r = await e.client.get(
        f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": "bytes=100-199", "If-Range": etag}
    )
    assert r.status_code == 206
    assert r.content == referencia[100:200]
    r = await e.client.get(
        f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": "bytes=100-199", "If-Range": '"viejo"'}
    )
    assert r.status_code == 200
    assert r.content == referencia
    # What this server does not serve as a range — several, another unit, malformed, reversed — whole.
    for rango in ("bytes=0-9,20-29", "items=0-9", "bytes=abc", "bytes=9-3", "bytes=-"):
        r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": rango})
        assert r.status_code == 200, rango
        assert r.content == referencia, rango
    # Past the end: 416 as problem+json, with the file's length.
    for rango in (f"bytes={n}-", f"bytes={n + 10}-{n + 20}", "bytes=-0"):
        r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": rango})
        assert r.status_code == 416, rango
        assert r.headers["content-type"] == "application/problem+json", rango
        assert r.headers["content-range"] == f"bytes */{n}"
        assert f"{n} bytes" in r.json()["detail"]


@pytest.mark.slow
async def test_el_resultado_completa_el_archivo_guardado(
    electronico: Electronico,
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: Any,
) -> None:
    e = electronico
    monkeypatch.setattr(archivo_publico, "TROZO", 8192)
    await e.entregar(*(inscrito(n) for n in range(1, 4)))
    uuid: str = (await e.elecciones("09"))[0]["uuid"]
    await e.abrir(uuid)
    await e.cuentas_del_buzon()
    await _votar(e, uuid, ["MORENA", "PAN", "MORENA"])
    await _sellar(e, uuid)
    sellado = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    etag_sellado = f'"{leer(sellado).eventos[-1].hash}"'

    # computo reads the trustees record (Pedersen parameters checked) once per process and text.
    escrutinio_computo._custodios_y_umbral.cache_clear()
    lecturas = _contar_lecturas_pedersen(monkeypatch)
    computo = await computo_de_prueba(databases, offline_kafka)
    async with serve(computo) as c:
        tipo = eventos_electronico.URNA_SELLADA
        assert await pasar(e.app, OutboxElectronico, tipo, computo, ProcesadosComputo, "computo.mesas") == 1
        primero = (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json()
        for _ in range(3):
            assert (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json() == primero
        assert len(lecturas) == 1, f"estado verificó los parámetros {len(lecturas)} veces en 4 consultas"
        assert (primero["custodios"], primero["necesarios"]) == (5, 3)

        transport = httpx.ASGITransport(app=computo)
        for i in (1, 2, 4):  # each custodian downloads the stored record, verifies it and decrypts
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=token("custodio", sub=f"custodio-{i}")
            ) as cli:
                ultimo = await descifrar(
                    cli,
                    uuid,
                    i,
                    e.estados / f"custodio-{uuid}-{i}.json",
                    frase=FRASE,
                    electronico=e.client,
                    avisar=lambda _m: None,
                )
        assert ultimo["votos"]["MORENA"] == 2
        assert ultimo["votos"]["PAN"] == 1
        tipo = eventos_computo.ESCRUTINIO_PUBLICADO
        assert (
            await pasar(computo, OutboxComputo, tipo, e.app, ProcesadosElectronico, "electronico.votantes")
            == 1
        )

    referencia = await _referencia(e, uuid)
    guardado, _ = await _guardado(e, uuid)
    _sin_reconstruir(monkeypatch)
    r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")
    # The result's events appended: the sealed bytes unchanged at the start, the whole equal to the rebuild.
    assert r.status_code == 200
    assert r.content == guardado == referencia
    assert r.content[: len(sellado)] == sellado
    assert len(r.content) > len(sellado)
    assert [ev.tipo for ev in leer(r.content).eventos[-4:]] == ["PartialDecryption"] * 3 + ["Result"]
    assert r.headers["etag"] != etag_sellado
    informe = verificar_archivo(r.content, un_voto=True)
    assert informe.descifrados == [1, 2, 4]
    assert informe.resultado is not None
    _vmre_verificar(r.content, tmp_path / f"{uuid}.bel", capsys)
    # A download of the sealed record resumed with its old tag: the tag changed, so the whole new file.
    r = await e.client.get(
        f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": "bytes=10-", "If-Range": etag_sellado}
    )
    assert r.status_code == 200
    assert r.content == referencia
    assert (
        await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"If-None-Match": etag_sellado})
    ).status_code == 200


async def test_sellada_antes_de_guardar_archivos_se_escribe_desde_la_base(
    abierta: tuple[Electronico, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A box sealed before revision 0009 has no stored record: it is written from the database, whole."""
    e, uuid = abierta
    await _votar(e, uuid, ["PAN", "PT"])
    await _sellar(e, uuid)
    async with e.app.state.runtime.maker() as s, s.begin():
        await s.execute(delete(TrozoArchivo).where(TrozoArchivo.eleccion == uuid))
        await s.execute(
            update(Eleccion).where(Eleccion.uuid == uuid).values(archivo_tamano=None, archivo_etag=None)
        )
    referencia = await _referencia(e, uuid)
    _sin_reconstruir(monkeypatch)
    r = await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel", headers={"Range": "bytes=0-99"})
    assert r.status_code == 200
    assert r.content == referencia
    assert "etag" not in r.headers
    assert [ev.tipo for ev in leer(r.content).eventos[-2:]] == ["EndBallots", "EncryptedTally"]
    assert verificar_archivo(r.content, un_voto=True).boletas == 2


async def test_archivo_antes_de_abrir_es_409(electronico: Electronico) -> None:
    await electronico.entregar(inscrito(1))
    uuid = (await electronico.elecciones("09"))[0]["uuid"]
    r = await electronico.client.get(f"/v1/elecciones/{uuid}/archivo.bel")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"


def _contar_lecturas_pedersen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each check of Pedersen parameters (what reading a trustees record costs) appends to the list."""
    lecturas: list[int] = []
    original = cu.verificar_pedersen

    def contada(*args: Any, **kwargs: Any) -> cu.Pedersen:
        lecturas.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(cu, "verificar_pedersen", contada)
    return lecturas


async def test_la_ceremonia_verifica_sus_parametros_una_vez_por_version(
    abierta: tuple[Electronico, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    e, uuid = abierta
    ceremonia.custodios_de.cache_clear()
    ceremonia._publicos.cache_clear()
    lecturas = _contar_lecturas_pedersen(monkeypatch)
    primero = (await e.client.get(f"/v1/elecciones/{uuid}/ceremonia")).json()
    despues_de_la_primera = len(lecturas)
    assert 1 <= despues_de_la_primera <= 2  # the key and the fingerprint, once
    for _ in range(5):
        assert (await e.client.get(f"/v1/elecciones/{uuid}/ceremonia")).json() == primero
    assert len(lecturas) == despues_de_la_primera, "GET /ceremonia volvió a verificar los parámetros"
    # What the cache gives is what checking the published parameters gives.
    trustees = primero["parametros"]
    assert primero["clave_publica"] == gr.s(cu.Custodios.leer(trustees).clave_eleccion())
    assert primero["huella"] == cu.huella_custodios(trustees)
    async with e.app.state.runtime.maker() as s:
        eleccion = await s.get(Eleccion, uuid)
        assert eleccion is not None
        assert json.loads(eleccion.custodios_json or "") == trustees
