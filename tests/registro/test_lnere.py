"""The list: party observations (masked), the close and what each consumer receives, figures, bulk load."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

from services.registro.models import Outbox, Solicitud
from shared.events import registro as eventos
from tests.factories import solicitud
from tests.registro.test_revision import nueva
from tests.support.registro import Registro, centro

Token = Callable[..., dict[str, str]]


async def procedente(registro: Registro, token: Token, n: int, **kw: object) -> str:
    folio = await nueva(registro, n, **kw)
    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/dictamen",
        json={"resultado": "procedente", "motivos": []},
        headers=token("ine-operador"),
    )
    assert r.status_code == 200
    return folio


async def test_observaciones_de_partidos_con_datos_enmascarados(registro: Registro, token: Token) -> None:
    folio = await procedente(registro, token, 1)
    pan, pri = token("partido", partido="PAN", sub="rep-pan"), token("partido", partido="PRI", sub="rep-pri")
    lista = (await registro.client.get("/v1/lnere/09", headers=pan)).json()
    assert lista["total"] == 1
    [persona] = lista["personas"]
    assert persona["nombre"] == "M*** J*** N*** P***"
    # The party sees an opaque referencia, never the folio (the applicant's key).
    assert "folio" not in persona
    assert re.fullmatch(r"R-[0-9A-Z]{12}", persona["referencia"])
    texto = json.dumps(lista)
    for personal in (solicitud(1)["clave_elector"], solicitud(1)["email"], "Main St", "Núñez", folio):
        assert personal not in texto
    # INE operators see both.
    [operativa] = (await registro.client.get("/v1/lnere/09", headers=token("ine-operador"))).json()[
        "personas"
    ]
    assert (operativa["folio"], operativa["referencia"]) == (folio, persona["referencia"])

    cuerpo = {"referencia": persona["referencia"], "descripcion": "Posible duplicado con otra persona."}
    r = await registro.client.post("/v1/lnere/09/observaciones", json=cuerpo, headers=pan)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/fuera-de-plazo"
    registro.reloj.ajustar(centro(2021, 2, 20, 10, 0))
    r = await registro.client.post("/v1/lnere/09/observaciones", json=cuerpo, headers=pan)
    assert r.status_code == 201, r.text
    obs = r.json()
    assert (obs["partido"], obs["estado"], obs["referencia"]) == ("PAN", "pendiente", persona["referencia"])
    assert "folio" not in obs
    r = await registro.client.post("/v1/lnere/14/observaciones", json=cuerpo, headers=pan)
    assert r.status_code == 422  # the person is not on Jalisco's list
    assert r.json()["errors"][0]["campo"] == "referencia"
    r = await registro.client.post(
        "/v1/lnere/09/observaciones", json={**cuerpo, "referencia": folio}, headers=pan
    )
    assert r.status_code == 422  # a folio is no referencia
    assert (await registro.client.get("/v1/lnere/09/observaciones", headers=pri)).json() == []
    [propia] = (await registro.client.get("/v1/lnere/09/observaciones", headers=pan)).json()
    assert propia["referencia"] == persona["referencia"]
    assert "folio" not in propia
    [vista] = (await registro.client.get("/v1/lnere/09/observaciones", headers=token("auditor"))).json()
    assert "folio" not in vista
    [vista] = (await registro.client.get("/v1/lnere/09/observaciones", headers=token("ine-operador"))).json()
    assert vista["folio"] == folio
    assert (
        await registro.client.post("/v1/lnere/09/observaciones", json=cuerpo, headers=token("ine-operador"))
    ).status_code == 403

    op = token("ine-operador")
    r = await registro.client.post(
        f"/v1/observaciones/{obs['id']}/resolucion",
        json={"resultado": "improcedente", "respuesta": "Son dos personas distintas."},
        headers=op,
    )
    assert r.status_code == 200
    assert r.json()["estado"] == "improcedente"
    r = await registro.client.post(
        f"/v1/observaciones/{obs['id']}/resolucion",
        json={"resultado": "procedente", "respuesta": "otra vez"},
        headers=op,
    )
    assert r.status_code == 409
    assert (
        await registro.client.post(
            "/v1/observaciones/999/resolucion",
            json={"resultado": "procedente", "respuesta": "nada"},
            headers=op,
        )
    ).status_code == 404


async def test_cierre_numera_publica_lo_minimo_y_es_idempotente(registro: Registro, token: Token) -> None:
    admin = token("ine-admin")
    folios = []
    for n in range(6):
        folios.append(
            await procedente(
                registro,
                token,
                n,
                modalidad="postal" if n % 3 == 0 else "electronica",
                pais="CA" if n == 5 else "US",
            )
        )
        registro.reloj.avanzar(dt.timedelta(minutes=1))
    pendiente = await nueva(registro, 50)
    await procedente(registro, token, 60, entidad="14")

    r = await registro.client.post("/v1/lnere/09/cierre", headers=admin)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/periodo-abierto"
    assert (
        await registro.client.post("/v1/lnere/09/cierre", headers=token("ine-operador"))
    ).status_code == 403

    registro.reloj.ajustar(registro.proceso.calendario.cierre_lnere)
    r = await registro.client.post("/v1/lnere/09/cierre", headers=admin)
    assert r.status_code == 200, r.text
    cierre = r.json()
    assert (cierre["total"], cierre["postal"], cierre["electronica"], cierre["pendientes"]) == (6, 2, 4, 1)

    inscritas = await registro.rows(Solicitud, Solicitud.estado == "inscrita", order=Solicitud.numero_lnere)
    assert [s.folio for s in inscritas] == folios  # numbered in order of receipt
    assert [s.numero_lnere for s in inscritas] == [1, 2, 3, 4, 5, 6]

    postal = [
        json.loads(r.payload)
        for r in await registro.rows(Outbox, Outbox.topic == "vmre.registro.lnere_postal")
    ]
    electronica = [
        json.loads(r.payload)
        for r in await registro.rows(Outbox, Outbox.topic == "vmre.registro.lnere_electronica")
    ]
    assert len(postal) == 2
    assert len(electronica) == 4
    assert set(postal[0]["data"]) == {
        "entidad",
        "numero",
        "folio",
        "clave_elector",
        "nombre",
        "apellido_paterno",
        "apellido_materno",
        "domicilio",
        "email",
        "telefono",
    }
    assert (
        postal[0]["data"]["clave_elector"] == solicitud(0)["clave_elector"]
    )  # printed on the return envelope
    assert set(electronica[0]["data"]) == {
        "entidad",
        "numero",
        "nombre",
        "apellido_paterno",
        "apellido_materno",
        "email",
        "telefono",
    }  # no address, no clave
    [cerrada] = [
        json.loads(r.payload) for r in await registro.rows(Outbox, Outbox.topic == "vmre.registro.lnere")
    ]
    assert cerrada["event_type"] == eventos.LNERE_CERRADA
    assert cerrada["data"]["por_pais"] == {"CA": {"electronica": 1}, "US": {"postal": 2, "electronica": 3}}

    antes = await registro.count(Outbox)
    r = await registro.client.post("/v1/lnere/09/cierre", headers=admin)  # again: a no-op
    assert r.status_code == 200
    assert r.json()["total"] == 6
    assert await registro.count(Outbox) == antes

    # After the close: applications for 09 are extemporáneas; the list admits no changes.
    registro.reloj.ajustar(centro(2021, 3, 1, 9, 0))  # even inside the window, 09 is closed
    r = await registro.client.post("/v1/solicitudes", json=solicitud(99))
    assert r.status_code == 422
    assert r.json()["type"].endswith("/extemporanea")
    r = await registro.client.post(
        f"/v1/solicitudes/{pendiente}/dictamen",
        json={"resultado": "procedente", "motivos": []},
        headers=token("ine-operador"),
    )
    assert r.status_code == 409
    # Jalisco is still open.
    assert (
        await registro.client.post("/v1/solicitudes", json=solicitud(98, entidad="14"))
    ).status_code == 201
    assert (await registro.client.get(f"/v1/solicitudes/{folios[0]}")).json()["estado"] == "inscrita"


async def test_estadisticas_publicas_suprimen_celdas_pequenas(registro: Registro) -> None:
    for n in range(16):
        entidad = "09" if n < 6 else "14" if n < 9 else "16"
        await nueva(registro, n, entidad=entidad, pais="CA" if n < 2 else "US")
    r = await registro.client.get("/v1/estadisticas")
    assert r.status_code == 200
    s = r.json()["solicitudes"]
    assert s["total"] == 16
    # 14 has 3 (hidden); hiding only it would reveal it as 16 - 6 - 7: the next smallest hides too.
    assert s["por_entidad"] == {"09": None, "14": None, "16": 7}
    assert s["por_pais"] == {"CA": None, "US": None}
    assert s["por_estado"] == {"recibida": 16}
    assert r.json()["lnere"]["total"] == 0
    assert set(s) == {
        "total",
        "por_entidad",
        "por_pais",
        "por_modalidad",
        "por_estado",
        "por_sexo",
        "por_edad",
        "por_dia",
    }
    assert set(r.json()["lnere"]) == set(s) - {"por_estado"}  # schemas.Estadisticas drops nothing


async def test_carga_masiva_estricta_y_parcial(registro: Registro, token: Token) -> None:
    from services.registro.service import COLUMNAS

    def fila(datos: dict[str, object]) -> str:
        dom = datos.get("domicilio") or {}
        plano = {**datos, **dom}  # type: ignore[dict-item]
        return ",".join(str(plano.get(c) or "") for c in COLUMNAS)

    buenas = [fila(solicitud(n, modalidad="postal" if n % 2 else "electronica")) for n in range(1, 5)]
    mala = fila(solicitud(9, pais="XX"))
    repetida = buenas[0]
    nulo = fila(solicitud(10, nombre="Ana\x00"))  # as the JSON route: refused, never stored
    csv = "\n".join([",".join(COLUMNAS), *buenas, mala, repetida, nulo]).encode()
    op = {**token("ine-operador"), "content-type": "text/csv"}

    r = await registro.client.post("/v1/solicitudes/lote", content=csv, headers=op)
    assert r.status_code == 422
    reporte = r.json()["reporte"]
    assert reporte["aplicado"] is False
    assert reporte["cargadas"] == 0
    assert reporte["recibidas"] == 7
    assert [(x["fila"], x["errores"][0]["campo"]) for x in reporte["rechazadas"]] == [
        (6, "pais"),
        (7, "clave_elector"),
        (8, "nombre"),
    ]
    assert "U+0000" in reporte["rechazadas"][2]["errores"][0]["mensaje"]
    assert await registro.count(Solicitud) == 0  # nothing half-loaded

    r = await registro.client.post("/v1/solicitudes/lote?parcial=true", content=csv, headers=op)
    assert r.status_code == 200, r.text
    assert (r.json()["cargadas"], len(r.json()["rechazadas"])) == (4, 3)
    assert await registro.count(Solicitud) == 4
    assert {s.canal for s in await registro.rows(Solicitud)} == {"inetel"}

    # Loading the same file again: every row is now a duplicate of an existing application.
    r = await registro.client.post("/v1/solicitudes/lote?parcial=true", content=csv, headers=op)
    assert r.json()["cargadas"] == 0
    assert all("Folio" in x["errores"][0]["mensaje"] or x["fila"] >= 6 for x in r.json()["rechazadas"])
    r = await registro.client.post("/v1/solicitudes/lote", content=b"a,b\n1,2\n", headers=op)
    assert r.status_code == 422
    assert "Faltan columnas" in r.json()["detail"]
    assert (
        await registro.client.post("/v1/solicitudes/lote", content=csv, headers={"content-type": "text/csv"})
    ).status_code == 401
