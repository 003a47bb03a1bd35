"""Issue 22: one custodian cannot block the count, nor slip a false factor into it.

Belenios 3.0's decryption proof hashes only its commitments, so a custodian who holds their real key can
make a *false* factor whose Belenios proof verifies. Each delivery therefore also carries VMRE's strong proofs
(their challenge hashes the ciphertext and the factor), which cannot be made for a false factor: such a
delivery is refused on arrival with a 422, recorded in the bitácora, nothing stored, and the honest custodians
still publish the result. A delivery without strong proofs, or with another custodian's or another entry's,
is refused the same way. ine-admin may void a share (and nobody else may); its custodian may then deliver
again. The fallback stays for shares stored before the strong proofs existed: with k shares one of which is
false, the other k-subsets are tried, the count completes from one that works and the false share goes to
quarantine. No 500 anywhere; the public record still verifies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from clientes.custodio import leer_estado
from services.computo.models import Bitacora, DescifradoParcial
from services.computo.models import Outbox as OutboxComputo
from services.computo.models import ProcessedEvent as ProcesadosComputo
from services.electronico import service as servicio_electronico
from services.electronico.models import Outbox as OutboxElectronico
from services.electronico.models import ProcessedEvent as ProcesadosElectronico
from shared.bus.envelope import Envelope
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodio
from shared.cripto.eleccion import Eleccion
from shared.cripto.pruebas import (
    Prueba,
    cjson,
    prefijo_descifrado,
    prefijo_descifrado_fuerte,
    verifica_descifrado,
    verifica_descifrado_fuerte,
)
from shared.cripto.verificador import verificar_archivo
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.settings import KafkaSettings
from tests.computo.test_escrutinio_electronico import computo_de_prueba, pasar, urna_sellada_con_cinco_votos
from tests.support.comun import Databases, serve
from tests.support.electronico import FRASE, Electronico
from tests.support.registro import centro

RUTA = "/v1/escrutinio-electronico/{uuid}/descifrados/{i}"


def factor_falso(x: int, alfa: gr.Elemento, prefijo: str) -> tuple[gr.Elemento, Prueba]:
    """A factor ≠ α^x with a proof that verifies: the challenge c = H(prefix, A, B) does not bind the
    factor, so it is chosen *after* c. A = g^w₁, B = α^w₂ (w₁ ≠ w₂), r = w₁ − x·c, and
    f = (B·α^−r)^(1/c) = α^((w₂−r)/c): the verifier rebuilds g^r·X^c = A and α^r·f^c = B, hence the same c."""
    w1, w2 = gr.aleatorio(), gr.aleatorio()
    c = gr.hash_escalar(prefijo, [gr.gpot(w1), gr.pot(alfa, w2)])
    r = (w1 - x * c) % gr.L
    f = gr.pot(alfa, (w2 - r) * pow(c, -1, gr.L) % gr.L)
    return f, Prueba(c, r)


def entrega(parcial: str, fuertes: str) -> str:
    return cjson({"partial_decryption": json.loads(parcial), "strong_proofs": json.loads(fuertes)})


def fuertes_falsas(huella: str, x: int, recuento: es.Recuento, parcial: str) -> str:
    """The same trick against the strong proof: its prefix already names the false factor f, so the factor
    solved after the challenge is another one, f' ≠ f, and the proof does not verify for f."""
    factores = json.loads(parcial)["decryption_factors"]
    pruebas = []
    for q, fila in enumerate(recuento):
        pp = []
        for j, (a, b) in enumerate(fila):
            f = gr.elemento(factores[q][j])
            prefijo = prefijo_descifrado_fuerte(huella, gr.gpot(x), a, b, f)
            otro, p = factor_falso(x, a, prefijo)
            assert otro != f
            assert not verifica_descifrado_fuerte(huella, gr.gpot(x), a, b, f, p)
            pp.append(p.json())
        pruebas.append(pp)
    return cjson({"strong_decryption_proofs": pruebas})


def descifrado_falso(huella: str, x: int, recuento: es.Recuento) -> str:
    prefijo = prefijo_descifrado(huella, gr.gpot(x))
    factores, pruebas = [], []
    for fila in recuento:
        ff, pp = [], []
        for a, _ in fila:
            f, p = factor_falso(x, a, prefijo)
            assert f != gr.pot(a, x)  # a false factor…
            assert verifica_descifrado(gr.gpot(x), a, f, prefijo, p)  # …whose proof verifies
            ff.append(gr.s(f))
            pp.append(p.json())
        factores.append(ff)
        pruebas.append(pp)
    return cjson({"decryption_factors": factores, "decryption_proofs": pruebas})


@dataclass
class Escenario:
    """A sealed election at computo, served over HTTP, and what the tests need to play its custodians."""

    uuid: str
    computo: FastAPI
    c: httpx.AsyncClient
    eleccion: Eleccion
    recuento: es.Recuento
    clave: Callable[[int], int]
    token: Callable[..., dict[str, str]]
    respuestas: list[httpx.Response] = field(default_factory=list)

    def parcial(self, i: int) -> str:
        return es.descifrado_parcial(self.eleccion.huella, self.clave(i), self.recuento)

    def fuertes(self, i: int) -> str:
        return es.pruebas_fuertes(self.eleccion.huella, self.clave(i), self.recuento)

    def honesto(self, i: int) -> str:
        return es.entrega_descifrado(self.eleccion.huella, self.clave(i), self.recuento)

    async def entregar(self, i: int, texto: str) -> httpx.Response:
        r = await self.c.put(
            RUTA.format(uuid=self.uuid, i=i),
            content=texto.encode(),
            headers={"content-type": "application/json", **self.token("custodio", sub=f"custodio-{i}")},
        )
        self.respuestas.append(r)
        return r

    async def anular(
        self, i: int, quien: str, motivo: str = "el custodio reporta su equipo comprometido"
    ) -> Any:
        r = await self.c.post(
            RUTA.format(uuid=self.uuid, i=i) + "/anulacion",
            json={"motivo": motivo},
            headers=self.token(quien),
        )
        self.respuestas.append(r)
        return r

    async def bitacora(self) -> list[Bitacora]:
        async with self.computo.state.runtime.maker() as s:
            return list((await s.execute(select(Bitacora).order_by(Bitacora.id))).scalars().all())

    async def evento(self) -> dict[str, Any]:
        """The one escrutinio event computo staged."""
        async with self.computo.state.runtime.maker() as s:
            cargas = (
                (
                    await s.execute(
                        select(OutboxComputo.payload).where(
                            OutboxComputo.event_type == eventos_computo.ESCRUTINIO_PUBLICADO
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert len(cargas) == 1
        datos: dict[str, Any] = Envelope.model_validate_json(cargas[0]).data
        return datos


@asynccontextmanager
async def escenario(
    e: Electronico, databases: Databases, kafka: KafkaSettings, token: Callable[..., dict[str, str]]
) -> AsyncIterator[Escenario]:
    uuid = await urna_sellada_con_cinco_votos(e, token)
    computo = await computo_de_prueba(databases, kafka)
    async with serve(computo) as c:
        tipo = eventos_electronico.URNA_SELLADA
        assert await pasar(e.app, OutboxElectronico, tipo, computo, ProcesadosComputo, "computo.mesas") == 1
        info = (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json()
        k, n = int(info["necesarios"]), int(info["custodios"])
        assert (k, n) == (3, 5)
        eleccion = Eleccion.leer(info["eleccion_json"].encode())
        recuento = es.leer_recuento(info["recuento"], [q.opciones for q in eleccion.preguntas])

        def clave(i: int) -> int:
            estado = leer_estado(e.estados / f"custodio-{uuid}-{i}.json", FRASE)
            return Custodio(estado["semilla"], i, k, n).clave_descifrado(estado["clave_privada"])

        yield Escenario(uuid, computo, c, eleccion, recuento, clave, token)


async def registro_publico_verifica(
    e: Electronico, x: Escenario, votos: dict[str, int], belenios: Any, tmp_path: Path
) -> None:
    """The event goes to electronico: the record verifies, with its strong proofs, and with belenios-tool."""
    tipo = eventos_computo.ESCRUTINIO_PUBLICADO
    assert (
        await pasar(x.computo, OutboxComputo, tipo, e.app, ProcesadosElectronico, "electronico.votantes") == 1
    )
    uuid = x.uuid
    datos = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    fuertes = (await e.client.get(f"/v1/elecciones/{uuid}/pruebas-fuertes.json")).content
    informe = verificar_archivo(datos, un_voto=True, pruebas_fuertes=fuertes)
    claves = [o["clave"] for o in (await e.client.get(f"/v1/elecciones/{uuid}")).json()["opciones"]]
    assert informe.resultado == [[votos[k] for k in claves]]
    assert informe.fuertes == informe.descifrados == [2, 3, 5]
    d = tmp_path / "bel"
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(datos)
    salida = belenios("election", "verify", "--dir", str(d), cwd=d)
    assert "all checks passed" in salida.stderr


def _votos_esperados(votos: dict[str, int]) -> None:
    assert (votos["MORENA"], votos["PAN"], votos["PAN+PRI+PRD"], votos["nulos"]) == (2, 1, 1, 1)
    assert sum(votos.values()) == 5


async def test_un_factor_falso_se_rechaza_al_llegar_por_su_prueba_fuerte(
    electronico: Electronico,
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    belenios: Any,
    tmp_path: Path,
) -> None:
    e = electronico
    async with escenario(e, databases, offline_kafka, token) as x:
        huella, rechazos = x.eleccion.huella, []

        async def rechazada(i: int, texto: str, *fragmentos: str) -> None:
            r = await x.entregar(i, texto)
            assert r.status_code == 422, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["indice"] == i
            assert r.json()["type"].endswith("/descifrado-invalido")
            assert f"custodio {i}" in r.json()["detail"]
            for f in fragmentos:
                assert f in r.json()["detail"], (f, r.json()["detail"])
            rechazos.append((i, hashlib.sha256(texto.encode()).hexdigest()))
            estado = (await x.c.get(f"/v1/escrutinio-electronico/{x.uuid}")).json()
            assert estado["cuarentena"] == []
            assert estado["votos"] is None

        # A Belenios proof that does not verify (custodian 3's, one response altered).
        mala = json.loads(x.honesto(3))
        p = mala["partial_decryption"]["decryption_proofs"][0][0]
        p["response"] = str((int(p["response"]) + 1) % gr.L)
        await rechazada(3, cjson(mala), "no verifica")

        # Custodian 1 forges false factors whose Belenios proofs verify…
        falso = descifrado_falso(huella, x.clave(1), x.recuento)
        es.verificar_descifrado(huella, gr.gpot(x.clave(1)), x.recuento, falso)  # passes
        # …but no strong proof can be made for them: neither its honest ones (they are for α^x) nor ones
        # forged the same way. Refused on arrival, nothing stored.
        await rechazada(
            1, entrega(falso, x.fuertes(1)), "pregunta 1, opción 1", "prueba fuerte", "no verifica"
        )
        await rechazada(
            1, entrega(falso, fuertes_falsas(huella, x.clave(1), x.recuento, falso)), "prueba fuerte"
        )

        # Without strong proofs: the bare Belenios partial decryption (the old body), or the new body
        # without them; the message says what is missing.
        await rechazada(2, x.parcial(2), "faltan las pruebas fuertes")
        await rechazada(2, cjson({"partial_decryption": json.loads(x.parcial(2))}), "falta strong_proofs")
        sin = json.loads(x.honesto(2))
        sin["strong_proofs"] = {"strong_decryption_proofs": []}
        await rechazada(2, cjson(sin), "forma del recuento")

        # Strong proofs copied from another custodian, or from another entry of its own.
        await rechazada(2, entrega(x.parcial(2), x.fuertes(4)), "prueba fuerte", "no verifica")
        otra = json.loads(x.honesto(2))
        fila = otra["strong_proofs"]["strong_decryption_proofs"][0]
        fila[0], fila[1] = fila[1], fila[0]
        await rechazada(2, cjson(otra), "pregunta 1, opción 1", "prueba fuerte")

        # Only ine-admin voids a share; custodian 2's is voided with its reason and then delivered again.
        anulado = x.honesto(2)
        r = await x.entregar(2, anulado)
        assert r.status_code == 200, r.text
        assert r.json()["recibidos"] == [2], r.text
        assert r.json()["votos"] is None, r.text
        for quien in ("ine-operador", "custodio", "auditor"):
            assert (await x.anular(2, quien)).status_code == 403, quien
        assert (await x.anular(2, "ine-admin", "corto")).status_code == 422  # the reason is required
        r = await x.anular(2, "ine-admin")
        assert r.status_code == 200, r.text
        assert r.json()["recibidos"] == []
        assert [a["indice"] for a in r.json()["anulados"]] == [2]
        assert r.json()["anulados"][0]["motivo"] == "el custodio reporta su equipo comprometido"
        assert (await x.anular(2, "ine-admin")).status_code == 409  # already voided
        assert (await x.anular(4, "ine-admin")).status_code == 404  # nothing delivered
        assert (await x.entregar(2, x.honesto(2))).json()["recibidos"] == [2]

        # The honest custodians publish the result.
        parcial3 = x.parcial(3)
        cuerpo3 = {"partial_decryption": json.loads(parcial3), "strong_proofs": json.loads(x.fuertes(3))}
        r = await x.entregar(3, json.dumps(cuerpo3, indent=2))
        assert r.status_code == 200
        assert r.json()["recibidos"] == [2, 3]
        assert "faltan 1" in r.json()["mensaje"]
        r = await x.entregar(5, x.honesto(5))
        assert r.status_code == 200, r.text
        estado = r.json()
        votos = estado["votos"]
        assert votos is not None
        _votos_esperados(votos)
        assert estado["recibidos"] == [2, 3, 5]
        assert estado["cuarentena"] == []
        assert (await x.entregar(1, x.honesto(1))).status_code == 409  # the result is out
        assert (await x.anular(3, "ine-admin")).status_code == 409

        assert all(r.status_code != 500 for r in x.respuestas), [r.status_code for r in x.respuestas]

        # The bitácora: each refusal with its reason and the SHA-256 of what arrived (never a key); the
        # voiding.
        registros = await x.bitacora()
        rechazo = [b for b in registros if b.estado == "rechazado"]
        assert [(int(b.objeto["indice"]), b.detalle["sha256"]) for b in rechazo] == rechazos
        assert all(b.objeto["eleccion"] == x.uuid for b in rechazo)
        assert "no verifica" in rechazo[0].detalle["motivo"]
        assert "prueba fuerte" in rechazo[1].detalle["motivo"]
        assert "prueba fuerte" in rechazo[2].detalle["motivo"]
        assert "faltan las pruebas fuertes" in rechazo[3].detalle["motivo"]
        anulacion = [b for b in registros if b.accion.endswith("/anulacion") and b.estado == "ok"]
        assert len(anulacion) == 1
        assert anulacion[0].rol == "ine-admin"
        assert (
            anulacion[0].detalle["sha256"] == hashlib.sha256(es.leer_entrega(anulado)[0].encode()).hexdigest()
        )

        # Stored: the Belenios part byte for byte as descifrado_parcial writes it (custodian 3's body came
        # indented), the strong proofs next to it.
        async with x.computo.state.runtime.maker() as s:
            filas = (
                (await s.execute(select(DescifradoParcial).order_by(DescifradoParcial.owner))).scalars().all()
            )
        assert [f.owner for f in filas] == [2, 3, 5]
        assert filas[1].texto == parcial3
        for f in filas:
            publica = gr.gpot(x.clave(f.owner))
            assert f.pruebas_fuertes is not None
            es.verificar_pruebas_fuertes(
                huella,
                publica,
                x.recuento,
                es.verificar_descifrado(huella, publica, x.recuento, f.texto),
                f.pruebas_fuertes,
            )
            assert list(json.loads(f.texto)) == ["decryption_factors", "decryption_proofs"]
        # The event carries the strong proofs with each share.
        evento = await x.evento()
        assert [d["owner"] for d in evento["descifrados"]] == [2, 3, 5]
        # electronico checks them again: one event with two custodians' strong proofs swapped is refused.
        cambiado = eventos_computo.EscrutinioPublicado.model_validate(evento)
        a, b = cambiado.descifrados[0], cambiado.descifrados[1]
        a.pruebas_fuertes, b.pruebas_fuertes = b.pruebas_fuertes, a.pruebas_fuertes
        async with e.app.state.runtime.maker() as s:
            with pytest.raises(es.EscrutinioInvalido, match="prueba fuerte"):
                await servicio_electronico.registrar_escrutinio(s, cambiado)
            await s.rollback()
        assert all(
            d["pruebas_fuertes"] == f.pruebas_fuertes
            for d, f in zip(evento["descifrados"], filas, strict=True)
        )
        await registro_publico_verifica(e, x, votos, belenios, tmp_path)


async def test_sin_pruebas_fuertes_un_factor_falso_queda_en_cuarentena(
    electronico: Electronico,
    databases: Databases,
    offline_kafka: KafkaSettings,
    token: Callable[..., dict[str, str]],
    belenios: Any,
    tmp_path: Path,
) -> None:
    """The fallback: a false share stored before the strong proofs existed (written as the earlier code
    stored it: the Belenios text, no strong proofs) does not block the count."""
    e = electronico
    async with escenario(e, databases, offline_kafka, token) as x:
        falso = descifrado_falso(x.eleccion.huella, x.clave(1), x.recuento)
        async with x.computo.state.runtime.maker() as s, s.begin():
            s.add(
                DescifradoParcial(
                    eleccion=x.uuid,
                    owner=1,
                    texto=falso,
                    custodio="custodio-1",
                    recibido_at=centro(2021, 6, 6, 18, 20),
                )
            )
        assert (await x.c.get(f"/v1/escrutinio-electronico/{x.uuid}")).json()["recibidos"] == [1]
        assert (await x.entregar(2, x.honesto(2))).json()["recibidos"] == [1, 2]

        # k shares, one false: no combination works; everything is kept, no 500, the state says why.
        r = await x.entregar(3, x.honesto(3))
        assert r.status_code == 200, r.text
        assert r.json()["votos"] is None
        assert r.json()["recibidos"] == [1, 2, 3]
        assert "ninguna combinación" in r.json()["mensaje"]
        # Custodian 1 cannot swap its share silently.
        assert (await x.entregar(1, x.honesto(1))).status_code == 409

        # One more honest share: the count completes from {2, 3, 5}; custodian 1's share is in quarantine.
        r = await x.entregar(5, x.honesto(5))
        assert r.status_code == 200, r.text
        estado = r.json()
        votos = estado["votos"]
        assert votos is not None
        _votos_esperados(votos)
        assert estado["recibidos"] == [2, 3, 5]
        assert [q["indice"] for q in estado["cuarentena"]] == [1]
        assert "factor" in estado["cuarentena"][0]["motivo"]
        publico = (await x.c.get(f"/v1/escrutinio-electronico/{x.uuid}")).json()
        assert [q["indice"] for q in publico["cuarentena"]] == [1]
        assert publico["votos"] == votos
        assert all(r.status_code != 500 for r in x.respuestas), [r.status_code for r in x.respuestas]

        cuarentena = [b for b in await x.bitacora() if b.detalle.get("cuarentena")]
        assert len(cuarentena) == 1
        assert cuarentena[0].detalle["cuarentena"] == [1]
        assert cuarentena[0].objeto["indice"] == "5"
        # The event carries only the valid shares: the public record verifies.
        assert sorted(d["owner"] for d in (await x.evento())["descifrados"]) == [2, 3, 5]
        await registro_publico_verifica(e, x, votos, belenios, tmp_path)
