"""The acta de cómputo de entidad, fed with the CDMX 2021 Diputación Migrante result split across two postal
MEC (1,556 votes) and the electronic tally (7,350): exactly 8,906 votes with each party's published figure;
participation computed against the LNERE; signed; CSV and PDF; an OPL sees only its own entidad."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json

from services.computo.models import Entrega, EscrutinioElectronico, Suscripcion
from services.computo.schemas import AvisoActa
from shared import firma
from shared.actas import ActaComputoVista, ActaFirmada
from shared.bus.envelope import Envelope
from shared.events import registro as eventos_registro
from shared.webhooks import Despachador
from tests.shared.test_webhooks import Receptor
from tests.support.computo import Computo, acta, mesa_asignada

# Published per-party figures (dominio.md §6); parties only, no combinations.
CDMX = {
    "PAN": 4883, "MORENA": 1983, "PRI": 801, "MC": 431, "PRD": 308, "PT": 90, "PVEM": 74, "PELG": 56,
    "FXM": 54, "RSP": 45, "PES": 31, "no_registrados": 28, "nulos": 122,
}  # fmt: skip
# Postal votes, split over two mesas (sum 1,556); the rest came by internet (7,350).
MESA_1 = {"PAN": 520, "MORENA": 190, "PRI": 90, "MC": 45, "PRD": 30, "PT": 10, "PVEM": 8, "PELG": 6,
          "FXM": 6, "RSP": 5, "PES": 3, "no_registrados": 4, "nulos": 18}  # fmt: skip
MESA_2 = {"PAN": 330, "MORENA": 140, "PRI": 60, "MC": 30, "PRD": 22, "PT": 7, "PVEM": 6, "PELG": 4,
          "FXM": 3, "RSP": 3, "PES": 2, "no_registrados": 2, "nulos": 12}  # fmt: skip
LNERE = {"postal": 2386, "electronica": 9840}


def lnere_cerrada() -> Envelope:
    return Envelope.new(
        event_type=eventos_registro.LNERE_CERRADA,
        source="registro",
        aggregate_id="09",
        data=eventos_registro.LnereCerrada(
            entidad="09",
            total=sum(LNERE.values()),
            postal=LNERE["postal"],
            electronica=LNERE["electronica"],
            por_pais={},
            cerrada_at=dt.datetime(2021, 4, 10, 5, tzinfo=dt.UTC),
        ),
    )


async def test_cdmx_2021_da_8906_votos_con_cada_cifra(computo: Computo, receptor: Receptor) -> None:
    c = computo
    # The OPL of CDMX registers its system's endpoint; another OPL too (it must receive nothing).
    r = await c.client.post("/v1/webhooks", json={"url": receptor.url}, headers=c.token("opl", entidad="09"))
    assert r.status_code == 201
    assert r.json()["entidad"] == "09"
    assert r.json()["secreto"]
    receptor.secreto = r.json()["secreto"]
    otro = await c.client.post(
        "/v1/webhooks", json={"url": receptor.url + "/michoacan"}, headers=c.token("opl", entidad="16")
    )
    assert otro.status_code == 201
    ajena = await c.client.post(
        "/v1/webhooks", json={"url": receptor.url, "entidad": "09"}, headers=c.token("opl", entidad="16")
    )
    assert ajena.status_code == 403
    postal = {k: MESA_1[k] + MESA_2[k] for k in CDMX}
    electronica = {k: CDMX[k] - postal[k] for k in CDMX}
    assert sum(postal.values()) == 1556
    assert sum(electronica.values()) == 7350
    await c.entregar(
        lnere_cerrada(), mesa_asignada("09", 1, sum(MESA_1.values())), mesa_asignada("09", 2, 1556 - 932)
    )
    admin = c.token("ine-admin")

    # Nothing to close yet: the message says what is missing.
    r = await c.client.post("/v1/computos/09/cierre", headers=admin)
    assert r.status_code == 409
    assert "mesas 1, 2" in r.json()["detail"]
    uno, dos = c.token("ine-operador", sub="op-1"), c.token("ine-operador", sub="op-2")
    for numero, votos in ((1, MESA_1), (2, MESA_2)):
        for quien in (uno, dos):
            r = await c.client.post(f"/v1/mesas/09/{numero}/actas", json=acta(total_por=votos), headers=quien)
            assert r.status_code == 200, r.text
        assert r.json()["estado"] == "validada"
    r = await c.client.post("/v1/computos/09/cierre", headers=admin)
    assert r.status_code == 409
    assert "urna electrónica no se ha sellado" in r.json()["detail"]

    # The electronic MEC's decrypted tally (the decryption itself: test_escrutinio_electronico.py).
    async with c.app.state.runtime.maker() as s, s.begin():
        s.add(
            EscrutinioElectronico(
                eleccion="Cdmx2021Electronica",
                entidad="09",
                cargo="diputacion_migrante",
                simulacro=False,
                boletas=7350,
                sello="0" * 64,
                eleccion_json="{}",
                custodios_json="[]",
                recuento="[]",
                recuento_dimensionado="{}",
                votos={k: electronica.get(k, 0) for k in acta()["votos"]},
                publicado_at=dt.datetime(2021, 6, 6, 23, tzinfo=dt.UTC),
            )
        )
    r = await c.client.post("/v1/computos/09/cierre", headers=admin)
    assert r.status_code == 200, r.text
    doc = (await c.client.get("/v1/computos/09", headers=c.token("opl", entidad="09"))).json()
    ActaComputoVista.model_validate(doc)  # every field documented in OpenAPI, none undocumented
    assert doc["votos"] == {"postal": 1556, "electronica": 7350, "total": 8906}
    assert doc["lnere"] == {"postal": 2386, "electronica": 9840, "total": 12226}
    assert doc["participacion"] == "72.84"  # 8,906 / 12,226, half-up
    partidos = doc["resultados"]["partidos"]
    assert {k: partidos[k] for k in partidos if k in CDMX} == {k: v for k, v in CDMX.items() if k in partidos}
    assert (doc["resultados"]["no_registrados"], doc["resultados"]["nulos"]) == (28, 122)
    assert doc["distribucion"]["PAN"] == 4883
    assert sum(doc["distribucion"].values()) == 8906 - 28 - 122
    assert doc["candidaturas"]["Va por la CDMX"] == 4883 + 801 + 308
    assert [a["mesa"] for a in doc["actas"]] == [1, 2, 0]
    assert doc["actas"][2]["votos"] == 7350
    # Signed by INE: the signature covers the acta; a changed figure breaks it.
    clave = (await c.client.get("/v1/clave-firma")).json()["clave_verificacion"]
    documento = {"acta": {k: v for k, v in doc.items() if k != "firma"}, **doc["firma"]}
    assert firma.verificar(documento, clave)
    # The signed document, as its event carries it to tablero (GET /v1/entidades/{e}/actas serves it).
    ActaFirmada.model_validate({"cargo": doc["cargo"], **documento})
    alterado = copy.deepcopy(documento)
    alterado["acta"]["votos"]["total"] = 8907
    assert not firma.verificar(alterado, clave)
    # A forged acta signed with the forger's own key, which it carries: refused against INE's key.
    forjado = firma.firmar("5" * 64, alterado["acta"])
    assert not firma.verificar(forjado, clave)
    assert firma.verificar(forjado, forjado["clave_verificacion"])
    assert not firma.verificar({**forjado, "clave_verificacion": clave}, clave)

    # Another OPL: 403. Before a close: 404. CSV and PDF of the same acta.
    assert (await c.client.get("/v1/computos/09", headers=c.token("opl", entidad="16"))).status_code == 403
    assert (await c.client.get("/v1/computos/16", headers=c.token("opl", entidad="16"))).status_code == 404
    filas = list(
        csv.DictReader(io.StringIO((await c.client.get("/v1/computos/09/acta.csv", headers=admin)).text))
    )
    pan = next(f for f in filas if f["seccion"] == "votos" and f["clave"] == "PAN")
    assert (int(pan["postal"]), int(pan["electronica"]), int(pan["total"])) == (850, 4033, 4883)
    pdf = await c.client.get("/v1/computos/09/acta.pdf", headers=admin)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # Published once.
    assert (await c.client.post("/v1/computos/09/cierre", headers=admin)).status_code == 409

    # Delivered to the OPL's system, signed; its first answer is a 500, so it is retried.
    despachador = Despachador(c.app.state.runtime.maker, Entrega, Suscripcion, reloj=c.reloj)
    try:
        assert await despachador.entregar_pendientes() == 1
        c.reloj.avanzar(dt.timedelta(hours=2))
        assert await despachador.entregar_pendientes() == 1
    finally:
        await despachador.aclose()
    assert [(h["x-vmre-evento"], ok) for h, _, ok in receptor.recibidas] == [
        ("computo.acta.publicada", True)
    ] * 2
    cuerpo = json.loads(receptor.recibidas[-1][1])
    AvisoActa.model_validate(cuerpo)  # the payload OpenAPI documents under `webhooks`
    assert cuerpo["entidad"] == "09"
    assert cuerpo["datos"] == doc
    log = (await c.client.get("/v1/webhooks/entregas", headers=c.token("opl", entidad="09"))).json()
    assert [(e["estado"], e["intentos"], e["ultimo_codigo"]) for e in log] == [("entregada", 2, 200)]
    assert (await c.client.get("/v1/webhooks/entregas", headers=c.token("opl", entidad="16"))).json() == []
