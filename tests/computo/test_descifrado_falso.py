"""Issue 22: one custodian cannot block the count.

Belenios 3.0's decryption proof hashes only its commitments, so a custodian who holds their real key can
publish a *false* factor whose proof verifies. computo takes it (nothing on arrival can tell it apart), and
when the k-th share arrives the combination fails: the other k-subsets are tried, the count completes from
one that works and the false share goes to quarantine. A share whose proof does not verify is refused with a
422, recorded in the bitácora. ine-admin may void a share (and nobody else may); its custodian may then
deliver again. No 500 anywhere; the public record still verifies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from services.computo.models import Bitacora
from services.computo.models import Outbox as OutboxComputo
from services.computo.models import ProcessedEvent as ProcesadosComputo
from services.electronico.models import Outbox as OutboxElectronico
from services.electronico.models import ProcessedEvent as ProcesadosElectronico
from shared.bus.envelope import Envelope
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodio
from shared.cripto.eleccion import Eleccion
from shared.cripto.pruebas import Prueba, cjson, prefijo_descifrado, verifica_descifrado
from shared.cripto.verificador import verificar_archivo
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos_electronico
from shared.settings import KafkaSettings
from tests.computo.test_escrutinio_electronico import computo_de_prueba, pasar, urna_sellada_con_cinco_votos
from tests.conftest import Databases, serve
from tests.electronico.conftest import Electronico

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


async def test_un_custodio_con_un_factor_falso_no_bloquea_el_computo(
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
        info = (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json()
        k, n = int(info["necesarios"]), int(info["custodios"])
        assert (k, n) == (3, 5)
        eleccion = Eleccion.leer(info["eleccion_json"].encode())
        recuento = es.leer_recuento(info["recuento"], [q.opciones for q in eleccion.preguntas])

        def clave(i: int) -> int:
            estado = json.loads((e.estados / f"custodio-{uuid}-{i}.json").read_text())
            return Custodio(estado["semilla"], i, k, n).clave_descifrado(estado["clave_privada"])

        def honesto(i: int) -> str:
            return es.descifrado_parcial(eleccion.huella, clave(i), recuento)

        respuestas: list[httpx.Response] = []

        async def entregar(i: int, texto: str) -> httpx.Response:
            r = await c.put(
                RUTA.format(uuid=uuid, i=i),
                content=texto.encode(),
                headers={"content-type": "application/json", **token("custodio", sub=f"custodio-{i}")},
            )
            respuestas.append(r)
            return r

        async def anular(
            i: int, quien: str, motivo: str = "el custodio reporta su equipo comprometido"
        ) -> Any:
            r = await c.post(
                RUTA.format(uuid=uuid, i=i) + "/anulacion", json={"motivo": motivo}, headers=token(quien)
            )
            respuestas.append(r)
            return r

        # A share whose proof does not verify (custodian 3's honest factors, one response altered): 422
        # problem+json naming the custodian and why; nothing stored; the refusal is in the bitácora.
        mala = json.loads(honesto(3))
        p = mala["decryption_proofs"][0][0]
        p["response"] = str((int(p["response"]) + 1) % gr.L)
        r = await entregar(3, cjson(mala))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["indice"] == 3 and r.json()["type"].endswith("/descifrado-invalido")
        assert "custodio 3" in r.json()["detail"] and "no verifica" in r.json()["detail"]

        # Custodian 1 publishes false factors with proofs that verify: computo cannot tell, and keeps it.
        falso = descifrado_falso(eleccion.huella, clave(1), recuento)
        es.verificar_descifrado(eleccion.huella, gr.gpot(clave(1)), recuento, falso)  # passes
        r = await entregar(1, falso)
        assert r.status_code == 200 and r.json()["recibidos"] == [1], r.text
        anulado = honesto(2)
        r = await entregar(2, anulado)
        assert r.status_code == 200 and r.json()["recibidos"] == [1, 2] and r.json()["votos"] is None

        # Only ine-admin voids a share; custodian 2's is voided with its reason and then delivered again.
        for quien in ("ine-operador", "custodio", "auditor"):
            assert (await anular(2, quien)).status_code == 403, quien
        assert (await anular(2, "ine-admin", "corto")).status_code == 422  # the reason is required
        r = await anular(2, "ine-admin")
        assert r.status_code == 200, r.text
        assert r.json()["recibidos"] == [1]
        assert [a["indice"] for a in r.json()["anulados"]] == [2]
        assert r.json()["anulados"][0]["motivo"] == "el custodio reporta su equipo comprometido"
        assert (await anular(2, "ine-admin")).status_code == 409  # already voided
        assert (await anular(4, "ine-admin")).status_code == 404  # nothing delivered
        assert (await entregar(2, honesto(2))).json()["recibidos"] == [1, 2]

        # k shares, one false: no combination works; everything is kept, no 500, the state says why.
        r = await entregar(3, honesto(3))
        assert r.status_code == 200, r.text
        assert r.json()["votos"] is None and r.json()["recibidos"] == [1, 2, 3]
        assert "ninguna combinación" in r.json()["mensaje"]
        # Custodian 1 cannot swap its share silently.
        assert (await entregar(1, honesto(1))).status_code == 409

        # One more honest share: the count completes from {2, 3, 5}; custodian 1's share is in quarantine.
        r = await entregar(5, honesto(5))
        assert r.status_code == 200, r.text
        estado = r.json()
        votos = estado["votos"]
        assert votos is not None
        assert (votos["MORENA"], votos["PAN"], votos["PAN+PRI+PRD"], votos["nulos"]) == (2, 1, 1, 1)
        assert sum(votos.values()) == 5
        assert estado["recibidos"] == [2, 3, 5]
        assert [q["indice"] for q in estado["cuarentena"]] == [1]
        assert "factor" in estado["cuarentena"][0]["motivo"]
        publico = (await c.get(f"/v1/escrutinio-electronico/{uuid}")).json()
        assert [q["indice"] for q in publico["cuarentena"]] == [1] and publico["votos"] == votos
        assert (await anular(3, "ine-admin")).status_code == 409  # the result is out

        assert all(r.status_code != 500 for r in respuestas), [r.status_code for r in respuestas]

        # The bitácora: the refusal (reason and SHA-256, never a key), the voiding, the quarantine.
        async with computo.state.runtime.maker() as s:
            registros = (await s.execute(select(Bitacora).order_by(Bitacora.id))).scalars().all()
        rechazo = [b for b in registros if b.estado == "rechazado"]
        assert len(rechazo) == 1 and rechazo[0].objeto == {"eleccion": uuid, "indice": "3"}
        assert "no verifica" in rechazo[0].detalle["motivo"]
        assert rechazo[0].detalle["sha256"] == hashlib.sha256(cjson(mala).encode()).hexdigest()
        anulacion = [b for b in registros if b.accion.endswith("/anulacion") and b.estado == "ok"]
        assert len(anulacion) == 1 and anulacion[0].rol == "ine-admin"
        assert anulacion[0].detalle["motivo"] == "el custodio reporta su equipo comprometido"
        assert anulacion[0].detalle["sha256"] == hashlib.sha256(anulado.encode()).hexdigest()
        cuarentena = [b for b in registros if b.detalle.get("cuarentena")]
        assert len(cuarentena) == 1 and cuarentena[0].detalle["cuarentena"] == [1]
        assert cuarentena[0].objeto["indice"] == "5"

        # The event carries only the valid shares: the public record verifies, also with belenios-tool.
        async with computo.state.runtime.maker() as s:
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
        datos_evento = Envelope.model_validate_json(cargas[0]).data
        assert sorted(d["owner"] for d in datos_evento["descifrados"]) == [2, 3, 5]
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
