"""The hash-chained audit log: written with the change, sealed in background, exported, verified."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert, select, update

from services.registro.config import Settings, get_settings
from services.registro.main import create_app
from services.registro.models import Bitacora
from shared import auditoria
from shared.proceso import cargar
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Databases, serve
from vmre.cli import main

PEL2021 = cargar("pel2021")
Headers = Callable[..., dict[str, str]]


@pytest.fixture
async def app(
    databases: Databases, offline_kafka: KafkaSettings
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """registro without background tasks: the tests seal when they want to."""
    url = await databases.new("registro")
    reloj = RelojManual(dt.datetime(2021, 1, 15, 16, 0, tzinfo=dt.UTC))
    settings = Settings(database_url=url, kafka=offline_kafka, relay_enabled=False, consumers_enabled=False)
    application = create_app(settings, reloj=reloj, proceso=PEL2021)
    async with serve(application) as client:
        yield application, client


async def test_detras_del_ingress_el_origen_es_el_cliente_y_no_el_proxy(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    """With VMRE_PROXIES_CONFIABLES the record names the address the ingress saw; a header sent by anybody
    else changes nothing (the same rule as the abuse limits)."""
    reloj = RelojManual(dt.datetime(2021, 1, 15, 16, 0, tzinfo=dt.UTC))
    for proxies, esperado in (("127.0.0.1", "2001:db8::7"), ("", "127.0.0.1")):
        settings = Settings(
            database_url=await databases.new("registro"),
            kafka=offline_kafka,
            relay_enabled=False,
            consumers_enabled=False,
            proxies_confiables=proxies,
        )
        application = create_app(settings, reloj=reloj, proceso=PEL2021)
        async with serve(application) as client:
            r = await client.post(
                "/v1/solicitudes", json=solicitud(1), headers={"X-Forwarded-For": "198.51.100.4, 2001:db8::7"}
            )
            assert r.status_code == 201, r.text
            [alta] = await _filas(application)
        assert alta.origen == esperado


@pytest.fixture
def cli_registro(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Point ``vmre`` at a database (as VMRE_REGISTRO_DATABASE_URL would)."""

    def usar(url: str) -> None:
        monkeypatch.setenv("VMRE_REGISTRO_DATABASE_URL", url)
        get_settings.cache_clear()

    yield usar
    get_settings.cache_clear()


async def _filas(application: FastAPI) -> list[Bitacora]:
    async with application.state.runtime.maker() as session:
        return list((await session.execute(select(Bitacora).order_by(Bitacora.id))).scalars())


async def _vmre(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = await asyncio.to_thread(main, list(args))  # main() runs its own event loop
    return code, capsys.readouterr().out.strip()


async def test_cambios_y_lecturas_quedan_en_la_bitacora_sellada_y_exportable(
    app: tuple[FastAPI, httpx.AsyncClient], token: Headers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    application, client = app
    r = await client.post("/v1/solicitudes", json=solicitud(1))
    assert r.status_code == 201, r.text
    folio = r.json()["folio"]
    operador = token("ine-operador", sub="operadora-7")
    r = await client.get(f"/v1/solicitudes/{folio}/expediente", headers=operador)
    assert r.status_code == 200
    # A failing request leaves no record: the record lives in the transaction that rolled back.
    r = await client.post(
        "/v1/solicitudes/VMRE-NOEXISTE/dictamen", json={"resultado": "procedente"}, headers=operador
    )
    assert r.status_code == 404, r.text
    r = await client.get("/v1/revision/cola", headers=operador)  # reads without personal data: no record
    assert r.status_code == 200

    [alta, lectura] = await _filas(application)
    assert (alta.actor, alta.rol, alta.accion, alta.estado) == (
        "ciudadania",
        "ciudadania",
        "POST /v1/solicitudes",
        "ok",
    )
    assert (alta.origen, alta.hash, alta.seq) == ("127.0.0.1", None, None)  # not sealed yet
    assert (lectura.actor, lectura.rol) == ("operadora-7", "ine-operador")
    assert lectura.accion == "GET /v1/solicitudes/{folio}/expediente"
    # The folio is the applicant's secret and auditors read this log: only its SHA-256.
    assert lectura.objeto == {"folio_sha256": hashlib.sha256(folio.encode()).hexdigest()}
    assert lectura.detalle == {"lectura": "datos_personales", "recurso": "expediente"}
    datos = solicitud(1)
    texto = json.dumps([auditoria.como_dict(f) for f in (alta, lectura)], ensure_ascii=False)
    for personal in (datos["nombre"], datos["email"], datos["clave_elector"], datos["telefono"]):
        assert personal not in texto

    assert await auditoria.sellar(application.state.runtime.maker, Bitacora) == 2
    assert await auditoria.sellar(application.state.runtime.maker, Bitacora) == 0
    [alta, lectura] = await _filas(application)
    assert (alta.seq, alta.hash_previo) == (1, auditoria.GENESIS)
    assert (lectura.seq, lectura.hash_previo) == (2, alta.hash)

    assert (await client.get("/v1/auditoria", headers=operador)).status_code == 403
    assert (await client.get("/v1/auditoria")).status_code == 401
    r = await client.get("/v1/auditoria", headers=token("auditor"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lineas = r.text.splitlines()
    assert [json.loads(linea)["seq"] for linea in lineas] == [1, 2]
    r = await client.get("/v1/auditoria", params={"desde_seq": 2, "limite": 5}, headers=token("ine-admin"))
    assert [json.loads(linea)["seq"] for linea in r.text.splitlines()] == [2]

    archivo = tmp_path / "bitacora.jsonl"
    archivo.write_text("\n".join(lineas) + "\n", encoding="utf-8")
    assert await _vmre(capsys, "audit", "verify", "--archivo", str(archivo)) == (
        0,
        "cadena íntegra: 2 registros",
    )


async def test_verify_detecta_registro_editado_borrado_y_reordenado(
    app: tuple[FastAPI, httpx.AsyncClient],
    cli_registro: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    application, client = app
    for n in range(1, 6):
        assert (await client.post("/v1/solicitudes", json=solicitud(n))).status_code == 201
    maker = application.state.runtime.maker
    assert await auditoria.sellar(maker, Bitacora) == 5
    cli_registro(application.state.settings.database_url)
    assert await _vmre(capsys, "audit", "verify", "registro") == (0, "cadena íntegra: 5 registros")

    async def sql(*stmts: Any) -> None:
        async with maker() as session, session.begin():
            for stmt in stmts:
                await session.execute(stmt)

    # Edited: someone rewrites who did it.
    await sql(update(Bitacora).where(Bitacora.seq == 3).values(actor="nadie"))
    code, out = await _vmre(capsys, "audit", "verify", "registro")
    assert code == 1
    assert out.startswith("FALLA en el registro seq=3:")
    assert "editado" in out
    await sql(update(Bitacora).where(Bitacora.seq == 3).values(actor="ciudadania"))
    assert (await _vmre(capsys, "audit", "verify", "registro"))[0] == 0

    # Reordered: records 2 and 3 swap places (the unique seq needs a detour).
    await sql(
        update(Bitacora).where(Bitacora.seq == 2).values(seq=-2),
        update(Bitacora).where(Bitacora.seq == 3).values(seq=2),
        update(Bitacora).where(Bitacora.seq == -2).values(seq=3),
    )
    code, out = await _vmre(capsys, "audit", "verify", "registro")
    assert code == 1, out
    assert out.startswith("FALLA en el registro seq=2:"), out
    await sql(
        update(Bitacora).where(Bitacora.seq == 2).values(seq=-2),
        update(Bitacora).where(Bitacora.seq == 3).values(seq=2),
        update(Bitacora).where(Bitacora.seq == -2).values(seq=3),
    )
    assert (await _vmre(capsys, "audit", "verify", "registro"))[0] == 0

    # Deleted: record 4 disappears; and if the ones after are renumbered, the hashes give it away.
    await sql(delete(Bitacora).where(Bitacora.seq == 4))
    code, out = await _vmre(capsys, "audit", "verify", "registro")
    assert code == 1
    assert out.startswith("FALLA en el registro seq=4:")
    assert "falta" in out
    await sql(update(Bitacora).where(Bitacora.seq == 5).values(seq=4))
    code, out = await _vmre(capsys, "audit", "verify", "registro")
    assert code == 1, out
    assert out.startswith("FALLA en el registro seq=4:"), out


def _cadena(n: int) -> list[dict[str, Any]]:
    registros, previo = [], auditoria.GENESIS
    for seq in range(1, n + 1):
        r = {
            "seq": seq,
            "id": seq,
            "at": f"2021-06-0{seq}T12:00:00.000000+00:00",
            "actor": "ciudadania",
            "rol": "ciudadania",
            "accion": "POST /v1/solicitudes",
            "objeto": {},
            "origen": "127.0.0.1",
            "estado": "ok",
            "detalle": {},
            "hash_previo": previo,
        }
        r["hash"] = previo = auditoria.calcular_hash(r)
        registros.append(r)
    return registros


@pytest.mark.parametrize(
    ("alterar", "seq", "palabra"),
    [
        (lambda c: c[2].update(origen="10.0.0.1"), 3, "editado"),
        (lambda c: c.pop(1), 2, "falta"),
        (lambda c: c.insert(1, c.pop(2)), 2, "falta"),  # 1, 3, 2, 4: seq=2 is not where it should be
        (lambda c: c.pop(0), 1, "falta"),
        (lambda c: c.pop(), None, None),  # the tail is gone: only an anchor kept elsewhere would show it
    ],
    ids=["editado", "borrado", "reordenado", "primero-borrado", "cola-truncada"],
)
def test_verify_de_una_exportacion_nombra_el_primer_eslabon_roto(
    alterar: Callable[[list[dict[str, Any]]], Any],
    seq: int | None,
    palabra: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cadena = _cadena(4)
    assert auditoria.verificar(cadena) == 4
    alterar(cadena)
    archivo = tmp_path / "x.jsonl"
    archivo.write_text("".join(json.dumps(r) + "\n" for r in cadena), encoding="utf-8")
    code = main(["audit", "verify", "--archivo", str(archivo)])
    out = capsys.readouterr().out.strip()
    if seq is None:
        assert (code, out) == (0, "cadena íntegra: 3 registros")
    else:
        assert code == 1, out
        assert out.startswith(f"FALLA en el registro seq={seq}:"), out
        assert palabra is not None
        assert palabra in out, out


def test_verify_de_una_exportacion_detecta_reordenado_con_seq_reescrito() -> None:
    cadena = _cadena(4)
    cadena[1], cadena[2] = cadena[2] | {"seq": 2}, cadena[1] | {"seq": 3}
    with pytest.raises(auditoria.Falla) as e:
        auditoria.verificar(cadena)
    assert e.value.seq == 2
    assert "hash_previo" in e.value.motivo


async def test_sellador_en_segundo_plano_encadena_en_menos_de_un_segundo(
    databases: Databases, offline_kafka: KafkaSettings
) -> None:
    url = await databases.new("registro")
    settings = Settings(database_url=url, kafka=offline_kafka, relay_enabled=False)
    application = create_app(
        settings, reloj=RelojManual(dt.datetime(2021, 1, 15, 16, 0, tzinfo=dt.UTC)), proceso=PEL2021
    )
    async with serve(application) as client:
        assert (await client.post("/v1/solicitudes", json=solicitud(1))).status_code == 201
        for _ in range(40):
            [fila] = await _filas(application)
            if fila.hash is not None:
                break
            await asyncio.sleep(0.05)
        assert (fila.seq, fila.hash_previo) == (1, auditoria.GENESIS)
        assert fila.hash


async def test_un_id_menor_que_confirma_tarde_se_encadena_despues(databases: Databases) -> None:
    """PostgreSQL hands out ids before commit: the chain follows the order of sealing, never loses a row.
    (SQLite has one writer at a time, so there the late, lower id is written explicitly.)"""
    from shared.db import make_engine, make_sessionmaker

    engine = make_engine(await databases.new("registro"))
    maker = make_sessionmaker(engine)
    valores = {
        "actor": "a",
        "rol": "ine-admin",
        "accion": "POST /x",
        "objeto": {},
        "origen": "127.0.0.1",
        "estado": "ok",
        "detalle": {},
    }
    try:
        if databases.backend == "postgresql":
            async with maker() as lenta, lenta.begin():
                await lenta.execute(insert(Bitacora).values(**valores))  # id 1, not committed yet
                async with maker() as rapida, rapida.begin():
                    await rapida.execute(insert(Bitacora).values(**valores))  # id 2, committed
                assert await auditoria.sellar(maker, Bitacora) == 1
        else:
            async with maker() as rapida, rapida.begin():
                await rapida.execute(insert(Bitacora).values(id=2, **valores))
            assert await auditoria.sellar(maker, Bitacora) == 1
            async with maker() as lenta, lenta.begin():
                await lenta.execute(insert(Bitacora).values(id=1, **valores))
        assert await auditoria.sellar(maker, Bitacora) == 1
        async with maker() as session:
            filas = (await session.execute(select(Bitacora.id, Bitacora.seq).order_by(Bitacora.seq))).all()
        assert [tuple(f) for f in filas] == [(2, 1), (1, 2)]
        assert await auditoria.verificar_base(maker, Bitacora) == 2
    finally:
        await engine.dispose()
