"""The electronic MEC: the sealed box's encrypted tally goes to computo; custodians decrypt it with the keys
on their own machines (``vmre custodio descifrar``); with fewer than k there is no result and the message says
how many are missing; with k the result exists, and the public record at electronico — with every partial
decryption and the result — passes ``vmre verificar`` and ``belenios-tool election verify``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from clientes.custodio import descifrar, leer_estado
from services.computo.config import Settings as ComputoSettings
from services.computo.main import create_app as create_computo
from services.computo.models import Outbox as OutboxComputo
from services.computo.models import ProcessedEvent as ProcesadosComputo
from services.electronico.models import Outbox as OutboxElectronico
from services.electronico.models import ProcessedEvent as ProcesadosElectronico
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.cripto import archivo as ar
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodio
from shared.cripto.eleccion import Eleccion
from shared.cripto.verificador import verificar_archivo
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Databases, serve
from tests.support.electronico import FRASE, Electronico, inscrito
from tests.support.registro import PEL2021, centro
from vmre.cli import main as vmre


async def pasar(
    origen: FastAPI, outbox: Any, tipo: str, destino: FastAPI, procesados: Any, nombre: str
) -> int:
    """Deliver the events of one type from a service's outbox to another's handler, as the consumer does."""
    async with origen.state.runtime.maker() as s:
        filas = (await s.execute(select(outbox.payload).where(outbox.event_type == tipo))).scalars().all()
    n = 0
    async with destino.state.runtime.maker() as s, s.begin():
        for payload in filas:
            env = Envelope.model_validate_json(payload)
            n += await apply_once(s, procesados, nombre, env, destino.state.handlers[tipo])
    return n


async def urna_sellada_con_cinco_votos(e: Electronico, token: Callable[..., dict[str, str]]) -> str:
    """Entidad 09's election opened by five custodians, five voters (MORENA, PAN, PAN+PRI+PRD, MORENA, nulos),
    sealed at the close of the vote; its uuid."""
    await e.entregar(*(inscrito(n) for n in range(1, 6)))
    uuid: str = (await e.elecciones("09"))[0]["uuid"]
    await e.abrir(uuid)
    await e.cuentas_del_buzon()
    elegidas = ["MORENA", "PAN", "PAN+PRI+PRD", "MORENA", "nulos"]
    for cuenta, opcion in zip(sorted(e.cuentas.values(), key=lambda c: c.usuario), elegidas, strict=True):
        await e.primer_acceso_e_ingreso(cuenta)
        assert (await e.votar(uuid, cuenta, await e.boleta(uuid, cuenta, opcion))).status_code == 201
    e.reloj.ajustar(centro(2021, 6, 6, 18, 0))
    assert (
        await e.client.post(f"/v1/elecciones/{uuid}/cierre", headers=token("ine-admin"))
    ).status_code == 200
    return uuid


def setup_eleccion(datos: bytes) -> bytes:
    """The election's text in a record's Setup event."""
    return ar.leer(datos).de_tipo("Setup")[0].datos[0]


async def computo_de_prueba(databases: Databases, kafka: KafkaSettings) -> FastAPI:
    """computo on a fresh database, election night (no relay, no consumers: events are passed by hand)."""
    return create_computo(
        ComputoSettings(
            database_url=await databases.new("computo"),
            kafka=kafka,
            relay_enabled=False,
            consumers_enabled=False,
        ),
        reloj=RelojManual(centro(2021, 6, 6, 18, 30)),
        proceso=PEL2021,
    )


async def test_custodios_descifran_y_el_registro_completo_verifica(
    electronico: Electronico,
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    belenios: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = electronico
    uuid = await urna_sellada_con_cinco_votos(e, token)
    computo = await computo_de_prueba(databases, offline_kafka)
    async with serve(computo) as c:
        tipo = eventos_electronico.URNA_SELLADA
        assert await pasar(e.app, OutboxElectronico, tipo, computo, ProcesadosComputo, "computo.mesas") == 1
        estado = (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json()
        assert (estado["boletas"], estado["necesarios"], estado["custodios"]) == (5, 3, 5)
        assert estado["votos"] is None
        assert "faltan 3" in estado["mensaje"]

        estados = e.estados  # where the custodians' state files are
        transport = httpx.ASGITransport(app=computo)

        async def custodio(i: int) -> dict[str, Any]:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=token("custodio", sub=f"custodio-{i}")
            ) as cli:
                return await descifrar(
                    cli,
                    uuid,
                    i,
                    estados / f"custodio-{uuid}-{i}.json",
                    frase=FRASE,
                    electronico=e.client,
                    avisar=lambda _m: None,
                )

        # Another custodian's state file: the CLI sees its entries are not position 2's and sends nothing.
        ajena = json.loads((estados / f"custodio-{uuid}-1.json").read_text())
        (tmp_path / "ajeno.json").write_text(json.dumps(ajena | {"indice": 2}))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=token("custodio", sub="custodio-2")
        ) as cli:
            with pytest.raises(RuntimeError, match="no incluyen, en la posición 2"):
                await descifrar(
                    cli,
                    uuid,
                    2,
                    tmp_path / "ajeno.json",
                    frase=FRASE,
                    electronico=e.client,
                    avisar=lambda _m: None,
                )
            # Sent anyway (by hand): its proof fails against custodian 2's key: refused, nothing stored.
            eleccion = Eleccion.leer(estado["eleccion_json"].encode())
            recuento = es.leer_recuento(estado["recuento"], [q.opciones for q in eleccion.preguntas])
            abierta = leer_estado(estados / f"custodio-{uuid}-1.json", FRASE)
            x1 = Custodio(abierta["semilla"], 1, 3, 5).clave_descifrado(abierta["clave_privada"])
            r = await cli.put(
                f"/v1/escrutinio-electronico/{uuid}/descifrados/2",
                content=es.entrega_descifrado(eleccion.huella, x1, recuento).encode(),
                headers={"content-type": "application/json"},
            )
            assert r.status_code == 422, r.text
            assert "no verifica" in r.text, r.text

        # No strong proofs are published before the result.
        r = await e.client.get(f"/v1/elecciones/{uuid}/pruebas-fuertes.json")
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json", r.text

        # Fewer than k: no result, and how many are missing.
        assert (await custodio(2))["votos"] is None
        dos = await custodio(5)
        assert dos["votos"] is None
        assert dos["recibidos"] == [2, 5]
        assert "faltan 1" in dos["mensaje"]
        tres = await custodio(4)
        assert "mensaje" not in tres  # only while there is no result (schemas.EstadoEscrutinio)
        votos = tres["votos"]
        assert votos["MORENA"] == 2
        assert votos["PAN"] == 1
        assert votos["PAN+PRI+PRD"] == 1
        assert votos["nulos"] == 1
        assert sum(votos.values()) == 5

        tipo = eventos_computo.ESCRUTINIO_PUBLICADO
        assert (
            await pasar(computo, OutboxComputo, tipo, e.app, ProcesadosElectronico, "electronico.votantes")
            == 1
        )

    datos = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    informe = verificar_archivo(datos, un_voto=True)
    claves = [o["clave"] for o in (await e.client.get(f"/v1/elecciones/{uuid}")).json()["opciones"]]
    assert informe.resultado == [[votos[k] for k in claves]]
    d = tmp_path / "bel"
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(datos)
    salida = belenios("election", "verify", "--dir", str(d), cwd=d)
    assert "all checks passed" in salida.stderr

    # The strong proofs, published next to the record: `vmre verificar --pruebas-fuertes` checks them.
    r = await e.client.get(f"/v1/elecciones/{uuid}/pruebas-fuertes.json")
    assert r.status_code == 200, r.text
    fuertes = r.json()
    assert fuertes["eleccion"] == uuid
    assert fuertes["huella"] == Eleccion.leer(setup_eleccion(datos)).huella
    assert [d["owner"] for d in fuertes["descifrados"]] == [2, 4, 5]
    assert all(list(d["strong_proofs"]) == ["strong_decryption_proofs"] for d in fuertes["descifrados"])
    assert informe.descifrados == [2, 4, 5]
    bel = d / f"{uuid}.bel"
    pf = tmp_path / "pruebas-fuertes.json"
    pf.write_text(json.dumps(fuertes))
    assert vmre(["verificar", str(bel), "--pruebas-fuertes", str(pf)]) == 0
    salida_ok = capsys.readouterr().out
    assert "pruebas fuertes de descifrado: custodios 2, 4, 5" in salida_ok
    assert "todo correcto" in salida_ok
    assert vmre(["verificar", str(bel)]) == 0  # without the option: the same, and a note
    assert "no se revisaron las pruebas fuertes" in capsys.readouterr().out

    def alterado(cambio: Callable[[dict[str, Any]], None]) -> str:
        o = json.loads(json.dumps(fuertes))
        cambio(o)
        pf.write_text(json.dumps(o))
        assert vmre(["verificar", str(bel), "--pruebas-fuertes", str(pf)]) == 1
        return capsys.readouterr().out

    def respuesta_alterada(o: dict[str, Any]) -> None:
        p = o["descifrados"][1]["strong_proofs"]["strong_decryption_proofs"][0][2]
        p["response"] = str((int(p["response"]) + 1) % gr.L)

    def intercambiadas(o: dict[str, Any]) -> None:  # custodian 2's proofs claimed as 5's and vice versa
        a, b = o["descifrados"][0], o["descifrados"][2]
        a["strong_proofs"], b["strong_proofs"] = b["strong_proofs"], a["strong_proofs"]

    salida = alterado(respuesta_alterada)
    assert "FALLA en pruebas fuertes del custodio 4" in salida
    assert "pregunta 1, opción 3" in salida
    assert "FALLA en pruebas fuertes del custodio 2" in alterado(intercambiadas)
    salida = alterado(lambda o: o["descifrados"].pop(1))
    assert "FALLA en pruebas fuertes del custodio 4: faltan" in salida
    salida = alterado(lambda o: o["descifrados"][2].update(strong_proofs=None))
    assert "FALLA en pruebas fuertes del custodio 5: faltan" in salida
    assert "otra elección" in alterado(lambda o: o.update(huella="x" * 43))
