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
from fastapi import FastAPI
from sqlalchemy import select

from services.computo.config import Settings as ComputoSettings
from services.computo.main import create_app as create_computo
from services.computo.models import Outbox as OutboxComputo
from services.computo.models import ProcessedEvent as ProcesadosComputo
from services.electronico.custodio import descifrar
from services.electronico.models import Outbox as OutboxElectronico
from services.electronico.models import ProcessedEvent as ProcesadosElectronico
from shared.bus.consumer import apply_once
from shared.bus.envelope import Envelope
from shared.cripto import escrutinio as es
from shared.cripto.custodios import Custodio
from shared.cripto.eleccion import Eleccion
from shared.cripto.verificador import verificar_archivo
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.conftest import Databases, serve
from tests.electronico.conftest import Electronico, inscrito
from tests.registro.conftest import PEL2021, centro


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
) -> None:
    e = electronico
    uuid = await urna_sellada_con_cinco_votos(e, token)
    computo = await computo_de_prueba(databases, offline_kafka)
    async with serve(computo) as c:
        tipo = eventos_electronico.URNA_SELLADA
        assert await pasar(e.app, OutboxElectronico, tipo, computo, ProcesadosComputo, "computo.mesas") == 1
        estado = (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json()
        assert (estado["boletas"], estado["necesarios"], estado["custodios"]) == (5, 3, 5)
        assert estado["votos"] is None and "faltan 3" in estado["mensaje"]

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
                    electronico=e.client,
                    avisar=lambda m: None,
                )

        # Another custodian's state file: the CLI sees its entries are not position 2's and sends nothing.
        ajena = json.loads((estados / f"custodio-{uuid}-1.json").read_text())
        (tmp_path / "ajeno.json").write_text(json.dumps(ajena | {"indice": 2}))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=token("custodio", sub="custodio-2")
        ) as cli:
            try:
                await descifrar(
                    cli, uuid, 2, tmp_path / "ajeno.json", electronico=e.client, avisar=lambda m: None
                )
                raise AssertionError("un descifrado con la clave de otro custodio fue aceptado")
            except RuntimeError as exc:
                assert "no incluyen, en la posición 2" in str(exc), exc
            # Sent anyway (by hand): its proof fails against custodian 2's key: refused, nothing stored.
            eleccion = Eleccion.leer(estado["eleccion_json"].encode())
            recuento = es.leer_recuento(estado["recuento"], [q.opciones for q in eleccion.preguntas])
            x1 = Custodio(ajena["semilla"], 1, 3, 5).clave_descifrado(ajena["clave_privada"])
            r = await cli.put(
                f"/v1/escrutinio-electronico/{uuid}/descifrados/2",
                content=es.descifrado_parcial(eleccion.huella, x1, recuento).encode(),
                headers={"content-type": "application/json"},
            )
            assert r.status_code == 422 and "no verifica" in r.text, r.text

        # Fewer than k: no result, and how many are missing.
        assert (await custodio(2))["votos"] is None
        dos = await custodio(5)
        assert dos["votos"] is None and dos["recibidos"] == [2, 5] and "faltan 1" in dos["mensaje"]
        tres = await custodio(4)
        votos = tres["votos"]
        assert (
            votos["MORENA"] == 2 and votos["PAN"] == 1 and votos["PAN+PRI+PRD"] == 1 and votos["nulos"] == 1
        )
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
