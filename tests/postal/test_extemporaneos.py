"""The late envelopes (LGIPE 345.2): listed by sender, destroyed unopened once in an act with who attended.
Who may read the list (and how much of each name), what a replay or a burst of acts does, bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from sqlalchemy import select

from services.postal import retencion
from services.postal.models import ActaDestruccion, Outbox, Sobre
from shared.events import postal as eventos
from tests.factories import clave
from tests.support.postal import Postal, inscrito
from tests.support.registro import centro

Token = Callable[..., dict[str, str]]
ACTA = {
    "lugar": "Local Único, Ciudad de México",
    "asistentes": [
        {"nombre": "María López Ruiz", "cargo": "Vocal Ejecutiva del INE"},
        {"nombre": "Juan Pérez Gómez", "cargo": "Representante del PAN"},
    ],
}


async def _tardios(postal: Postal, token: Token) -> None:
    """09: 1 on time, 2 and 3 late; 14: 1 late. An unknown clave late is not a sender of the list."""
    await postal.entregar(*(inscrito(n) for n in range(1, 4)), inscrito(4, entidad="14"))
    op = token("ine-operador")
    postal.reloj.ajustar(centro(2021, 5, 20, 10, 0))
    assert (await postal.client.post("/v1/sobres", json={"clave_elector": clave(1)}, headers=op)).is_success
    postal.reloj.ajustar(centro(2021, 6, 5, 9, 0))
    for c in (clave(3), clave(2), clave(4 + 14_000_000), clave(999)):
        r = await postal.client.post("/v1/sobres", json={"clave_elector": c}, headers=op)
        assert r.status_code == 201, r.text


async def test_relacion_por_remitente_y_acta_de_destruccion(postal: Postal, token: Token) -> None:
    await _tardios(postal, token)
    admin = token("ine-admin")
    r = await postal.client.get("/v1/extemporaneos/09", headers=admin)
    assert r.status_code == 200, r.text
    relacion = r.json()
    assert relacion["total"] == 2
    assert relacion["pendientes_de_destruir"] == 2
    assert [x["numero"] for x in relacion["remitentes"]] == [3, 2]  # in order of reception
    assert relacion["remitentes"][0]["nombre"] == "María Núñez Peña"  # in full for INE's admin
    assert relacion["limite_recepcion"].startswith("2021-06-05T08:00:00-05:00")

    # The OPL of the entidad and the auditor: names masked; another entidad's OPL: 403; others: 403/401.
    for quien in (token("opl", entidad="09"), token("auditor")):
        r = await postal.client.get("/v1/extemporaneos/09", headers=quien)
        assert r.status_code == 200
        assert {x["nombre"] for x in r.json()["remitentes"]} == {"M*** N*** P***"}, r.json()
    assert (
        await postal.client.get("/v1/extemporaneos/09", headers=token("opl", entidad="14"))
    ).status_code == 403
    assert (await postal.client.get("/v1/extemporaneos/09", headers=token("ine-operador"))).status_code == 403
    assert (await postal.client.get("/v1/extemporaneos/09")).status_code == 401
    assert (await postal.client.get("/v1/extemporaneos/31", headers=admin)).status_code == 404

    # Only INE's admin records an act; the OPL cannot, even for its own entidad.
    r = await postal.client.post(
        "/v1/extemporaneos/09/destrucciones", json=ACTA, headers=token("opl", entidad="09")
    )
    assert r.status_code == 403
    r = await postal.client.post("/v1/extemporaneos/09/destrucciones", json=ACTA, headers=admin)
    assert r.status_code == 201, r.text
    acta = r.json()
    assert acta["sobres"] == 2
    assert acta["entidad"] == "09"
    assert acta["asistentes"] == ACTA["asistentes"]
    assert acta["celebrada_at"].startswith("2021-06-05T09:00:00-05:00")

    # A replay destroys nothing twice: 409, and no second act.
    r = await postal.client.post("/v1/extemporaneos/09/destrucciones", json=ACTA, headers=admin)
    assert r.status_code == 409
    assert r.json()["type"].endswith("nada-que-destruir"), r.text
    assert await postal.count(ActaDestruccion) == 1

    r = await postal.client.get("/v1/extemporaneos/09", headers=admin)
    assert r.json()["pendientes_de_destruir"] == 0
    assert {x["acta_destruccion"] for x in r.json()["remitentes"]} == {acta["acta"]}
    r = await postal.client.get("/v1/extemporaneos/09/destrucciones", headers=token("opl", entidad="09"))
    assert [a["acta"] for a in r.json()] == [acta["acta"]]
    assert (
        await postal.client.get("/v1/extemporaneos/09/destrucciones", headers=token("opl", entidad="14"))
    ).status_code == 403

    # The printable act: for the admin and the OPL; another entidad's act number is 404 here.
    r = await postal.client.get(f"/v1/extemporaneos/09/destrucciones/{acta['acta']}.pdf", headers=admin)
    assert r.status_code == 200
    assert r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    r = await postal.client.get(
        f"/v1/extemporaneos/14/destrucciones/{acta['acta']}.pdf", headers=token("opl", entidad="14")
    )
    assert r.status_code == 404

    # The event carries the count, never a sender.
    async with postal.app.state.runtime.maker() as session:
        salida = [json.loads(o.payload) for o in (await session.scalars(select(Outbox))).all()]
    destruidos = [e for e in salida if e["event_type"] == eventos.SOBRES_DESTRUIDOS]
    assert [(e["data"]["entidad"], e["data"]["sobres"]) for e in destruidos] == [("09", 2)]
    texto = json.dumps(destruidos, ensure_ascii=False)
    assert "Núñez" not in texto
    assert clave(2) not in texto


async def test_con_la_recepcion_abierta_o_datos_malos_no_se_registra_nada(
    postal: Postal, token: Token
) -> None:
    await postal.entregar(inscrito(1))
    admin = token("ine-admin")
    postal.reloj.ajustar(centro(2021, 6, 5, 7, 59))
    r = await postal.client.post("/v1/extemporaneos/09/destrucciones", json=ACTA, headers=admin)
    assert r.status_code == 409
    assert "sigue abierta" in r.json()["detail"]
    postal.reloj.ajustar(centro(2021, 6, 5, 9, 0))
    malos = [
        {**ACTA, "asistentes": ACTA["asistentes"][:1]},  # nobody to witness
        {**ACTA, "lugar": ""},
        {**ACTA, "asistentes": [{"nombre": "X", "cargo": "Y"}] * 2},
        {**ACTA, "extra": 1},
    ]
    for cuerpo in malos:
        r = await postal.client.post("/v1/extemporaneos/09/destrucciones", json=cuerpo, headers=admin)
        assert r.status_code == 422, (cuerpo, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await postal.client.post("/v1/extemporaneos/09/destrucciones", json=ACTA, headers=admin)
    assert r.status_code == 409  # nothing late yet
    assert await postal.count(ActaDestruccion) == 0


async def test_actas_en_paralelo_destruyen_cada_sobre_una_vez(postal: Postal, token: Token) -> None:
    await _tardios(postal, token)
    admin = token("ine-admin")
    respuestas = await asyncio.gather(
        *(
            postal.client.post("/v1/extemporaneos/09/destrucciones", json=ACTA, headers=admin)
            for _ in range(6)
        )
    )
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos == [201, 409, 409, 409, 409, 409], [r.text for r in respuestas]
    assert await postal.count(ActaDestruccion) == 1
    async with postal.app.state.runtime.maker() as session:
        actas = {
            s.acta_destruccion_id for s in (await session.scalars(select(Sobre))).all() if s.entidad == "09"
        }
    assert len(actas - {None}) == 1


async def test_la_retencion_borra_las_actas_con_sus_sobres(postal: Postal, token: Token) -> None:
    await _tardios(postal, token)
    r = await postal.client.post("/v1/extemporaneos/09/destrucciones", json=ACTA, headers=token("ine-admin"))
    assert r.status_code == 201
    async with postal.app.state.runtime.maker() as session, session.begin():
        antes = await retencion.depurar(session, centro(2021, 6, 5, 9, 0))  # the act itself is not older
    assert antes["actas_destruccion"] == 0
    assert await postal.count(ActaDestruccion) == 1
    async with postal.app.state.runtime.maker() as session, session.begin():
        despues = await retencion.depurar(session, centro(2030, 1, 1, 0, 0))
    assert despues["actas_destruccion"] == 1
    assert await postal.count(ActaDestruccion) == 0
