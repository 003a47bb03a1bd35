"""postal: integration from registro's events, shipping, carrier tracking, SPV reception and its deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tomllib
from collections.abc import Callable

import pytest
from sqlalchemy import select

from services.postal.domain import mesas
from services.postal.models import Notificacion, Outbox, Paquete, Sobre
from services.postal.service import recibir_sobre
from shared.auth import Principal, Rol
from shared.events import postal as eventos
from shared.notificaciones import ASUNTO_GENERICO, ASUNTOS, Notificador
from shared.proceso import PROCESOS_DIR, parse
from tests.factories import clave
from tests.support.postal import Postal, firmar, inscrito
from tests.support.registro import centro

Token = Callable[..., dict[str, str]]


async def enviar(postal: Postal, token: Token, numeros: list[int], entidad: str = "09") -> None:
    r = await postal.client.post(
        "/v1/envios",
        headers=token("ine-operador"),
        json={
            "transportista": "mensajeria",
            "paquetes": [{"entidad": entidad, "numero": n, "guia": f"G{entidad}{n:07d}"} for n in numeros],
        },
    )
    assert r.status_code == 200, r.text


async def test_integracion_idempotente_con_boletas_por_cargo(postal: Postal) -> None:
    envs = [inscrito(n) for n in range(1, 4)] + [inscrito(1, entidad="14")]
    assert await postal.entregar(*envs) == 4
    assert await postal.entregar(*envs) == 0  # a replayed close creates nothing twice
    assert await postal.count(Paquete) == 4
    async with postal.app.state.runtime.maker() as session:
        p = (
            await session.execute(select(Paquete).where(Paquete.entidad == "09", Paquete.numero == 1))
        ).scalar_one()
    assert p.boletas == ["diputacion_migrante"]
    assert p.sobres_voto == 1
    assert p.lote == 1
    assert p.clave_elector == clave(1)  # printed on the return envelope
    staged = [json.loads(r.payload) for r in await _outbox(postal)]
    assert [e["event_type"] for e in staged] == ["postal.paquete.integrado"] * 4
    assert "Main St" not in json.dumps(staged)
    assert clave(1) not in json.dumps(staged)


async def _outbox(postal: Postal) -> list[Outbox]:
    async with postal.app.state.runtime.maker() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def test_envio_rastreo_fuera_de_orden_y_avisos(postal: Postal, token: Token) -> None:
    await postal.entregar(*(inscrito(n) for n in range(1, 4)))
    await enviar(postal, token, [1, 2, 3])
    r = await postal.client.post(
        "/v1/envios",
        headers=token("ine-operador"),
        json={"transportista": "mensajeria", "paquetes": [{"entidad": "09", "numero": 1, "guia": "OTRA"}]},
    )
    assert r.status_code == 409  # already shipped

    t = centro(2021, 4, 25, 12, 0)
    entregado = {
        "evento_id": "e2",
        "guia": "G090000001",
        "estado": "entregado",
        "ocurrido_at": (t + dt.timedelta(days=3)).isoformat(),
    }
    transito = {
        "evento_id": "e1",
        "guia": "G090000001",
        "estado": "en_transito",
        "ocurrido_at": t.isoformat(),
    }
    r = await postal.webhook(entregado)
    assert r.status_code == 200
    assert r.json()["aplicados"] == 1
    r = await postal.webhook(transito)  # arrives late: must not move the package back
    assert r.json() == {"aplicados": 0, "ignorados": 1, "duplicados": 0, "sin_paquete": 0}
    r = await postal.webhook(entregado)  # the carrier retries
    assert r.json()["duplicados"] == 1
    r = await postal.webhook(
        {
            "eventos": [
                {**transito, "evento_id": "x1", "guia": "G090000002"},
                {
                    "evento_id": "x2",
                    "guia": "G090000002",
                    "estado": "no_entregado",
                    "ocurrido_at": (t + dt.timedelta(days=2)).isoformat(),
                },
                {
                    "evento_id": "x3",
                    "guia": "NOEXISTE",
                    "estado": "en_transito",
                    "ocurrido_at": t.isoformat(),
                },
            ]
        }
    )
    assert r.json() == {"aplicados": 2, "ignorados": 0, "duplicados": 0, "sin_paquete": 1}
    estados = {p.numero: p.estado for p in await _paquetes(postal)}
    assert estados == {1: "entregado", 2: "no_entregado", 3: "enviado"}

    # A second attempt succeeds: same rank, later carrier time.
    r = await postal.webhook(
        {
            "evento_id": "x4",
            "guia": "G090000002",
            "estado": "entregado",
            "ocurrido_at": (t + dt.timedelta(days=4)).isoformat(),
        }
    )
    assert r.json()["aplicados"] == 1

    # Notices: shipped (3 × email and sms), delivered (2 × 2), not delivered (1 × 2). They leave by SMTP and
    # by the SMS provider's API, and arrive at the local mailbox.
    assert await postal.count(Notificacion) == 3 * 2 + 2 * 2 + 2
    notificador = Notificador(postal.app.state.runtime.maker, Notificacion, postal.settings)
    assert await notificador.enviar_pendientes() == 12
    enviado = "Su Paquete Electoral Postal fue enviado (mensajeria, guía G09{:07d})."
    aviso_entregado = (
        "Su Paquete Electoral Postal fue entregado. "
        "Devuelva su voto antes del 05/06/2021 08:00 (hora del Centro)."
    )
    no_entregado = "No se pudo entregar su Paquete Electoral Postal. Revise su domicilio con el INE."
    esperados: dict[str, list[tuple[str, str]]] = {
        "p1@example.com": [("paquete_enviado", enviado.format(1)), ("paquete_entregado", aviso_entregado)],
        "p2@example.com": [
            ("paquete_enviado", enviado.format(2)),
            ("paquete_no_entregado", no_entregado),
            ("paquete_entregado", aviso_entregado),
        ],
        "p3@example.com": [("paquete_enviado", enviado.format(3))],
    }
    for email, avisos in esperados.items():
        correos = postal.buzon.mensajes(email)
        assert [c["asunto"] for c in correos] == [ASUNTOS.get(p, ASUNTO_GENERICO) for p, _ in avisos], email
        # The text as sent (SMTP carries CRLF), before the signature.
        textos = [c["texto"].replace("\r\n", "\n").split("\n\n--\n")[0] for c in correos]
        assert textos == [t for _, t in avisos], email
    assert postal.buzon.mensajes("p3@example.com")[0]["asunto"] == "Su Paquete Electoral Postal va en camino"
    # Every package has the same phone: one SMS per notice, the bare text.
    sms = postal.buzon.mensajes("+13105550000")
    assert all(s["canal"] == "sms" for s in sms)
    assert sorted(s["texto"] for s in sms) == sorted(t for avisos in esperados.values() for _, t in avisos)
    assert len(postal.buzon.mensajes()) == 12
    async with postal.app.state.runtime.maker() as session:
        estados = (await session.execute(select(Notificacion.estado))).scalars().all()
    assert estados == ["enviada"] * 12
    assert await notificador.enviar_pendientes() == 0  # nothing twice


async def test_envio_todo_o_nada(postal: Postal, token: Token) -> None:
    """A file with one bad package changes nothing: no package, no event, no notice."""
    await postal.entregar(*(inscrito(n) for n in range(1, 6)))
    await enviar(postal, token, [1])
    antes = (await postal.count(Outbox), await postal.count(Notificacion))

    async def archivo(paquetes: list[tuple[int, str]]):  # type: ignore[no-untyped-def]
        return await postal.client.post(
            "/v1/envios",
            headers=token("ine-operador"),
            json={
                "transportista": "mensajeria",
                "paquetes": [{"entidad": "09", "numero": n, "guia": g} for n, g in paquetes],
            },
        )

    r = await archivo([(2, "NUEVA2"), (3, "NUEVA3"), (1, "NUEVA1")])  # the last one is already shipped
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/transicion-invalida"
    assert r.json()["numero"] == 1
    r = await archivo([(2, "NUEVA2"), (3, "G090000001")])  # a tracking number of another package
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/guia-duplicada"
    assert "G090000001" in r.json()["detail"]
    r = await archivo([(2, "NUEVA2"), (99, "NUEVA99")])
    assert r.status_code == 404
    assert "99" in r.json()["detail"]
    r = await archivo([(2, "NUEVA2"), (2, "NUEVA2b")])  # the same package twice in one file
    assert r.status_code == 409
    assert r.json()["numero"] == 2
    assert (await postal.count(Outbox), await postal.count(Notificacion)) == antes
    assert {p.numero: p.estado for p in await _paquetes(postal)} == {
        1: "enviado", 2: "integrado", 3: "integrado", 4: "integrado", 5: "integrado"
    }  # fmt: skip

    r = await archivo([(5, "NUEVA5"), (2, "NUEVA2"), (4, "NUEVA4")])
    assert r.status_code == 200
    enviados = {p.numero: (p.estado, p.guia, p.version) for p in await _paquetes(postal) if p.numero != 3}
    assert enviados == {
        1: ("enviado", "G090000001", 2),
        2: ("enviado", "NUEVA2", 2),
        4: ("enviado", "NUEVA4", 2),
        5: ("enviado", "NUEVA5", 2),
    }
    staged = [json.loads(o.payload) for o in await _outbox(postal)][antes[0] :]
    assert [(e["data"]["numero"], e["aggregate_version"]) for e in staged] == [(5, 2), (2, 2), (4, 2)]
    assert await postal.count(Notificacion) == antes[1] + 3 * 2  # email and sms each


async def test_archivo_del_transportista_en_lote(postal: Postal, token: Token) -> None:
    """One file: reports applied in the order they happened whatever the file's order, a report repeated
    inside the file counted once; the same file sent twice at once applies once."""
    await postal.entregar(*(inscrito(n) for n in range(1, 4)))
    await enviar(postal, token, [1, 2, 3])
    antes = await postal.count(Outbox)
    t = centro(2021, 4, 25, 12, 0)

    def reporte(i: str, n: int, estado: str, dias: int) -> dict[str, str]:
        ocurrido = (t + dt.timedelta(days=dias)).isoformat()
        return {"evento_id": i, "guia": f"G09{n:07d}", "estado": estado, "ocurrido_at": ocurrido}

    archivo = [
        reporte("a2", 1, "entregado", 3),
        reporte("a1", 1, "en_transito", 1),
        reporte("a1", 1, "en_transito", 1),
        reporte("b1", 2, "en_transito", 1),
    ]
    r = await postal.webhook({"eventos": archivo})
    assert r.json() == {"aplicados": 3, "ignorados": 0, "duplicados": 1, "sin_paquete": 0}
    staged = [json.loads(o.payload) for o in await _outbox(postal)][antes:]
    assert [(e["event_type"], e["data"]["numero"], e["aggregate_version"]) for e in staged] == [
        ("postal.paquete.en_transito", 1, 3),
        ("postal.paquete.en_transito", 2, 3),
        ("postal.paquete.entregado", 1, 4),
    ]

    otro = [reporte("c1", 3, "en_transito", 1), reporte("c2", 3, "entregado", 2)]
    r1, r2 = await asyncio.gather(postal.webhook({"eventos": otro}), postal.webhook({"eventos": otro}))
    aplico = [r for r in (r1, r2) if r.status_code == 200 and r.json()["aplicados"]]
    assert len(aplico) == 1
    assert aplico[0].json() == {
        "aplicados": 2,
        "ignorados": 0,
        "duplicados": 0,
        "sin_paquete": 0,
    }
    (perdio,) = [r for r in (r1, r2) if r is not aplico[0]]
    # The loser either waited and saw the reports as already received, or raced and is told to retry.
    assert (perdio.status_code, perdio.json().get("duplicados")) == (200, 2) or (
        perdio.status_code == 409 and perdio.json()["type"] == "/problemas/evento-concurrente"
    ), perdio.text
    r = await postal.webhook({"eventos": otro})  # the carrier's retry
    assert r.json() == {"aplicados": 0, "ignorados": 0, "duplicados": 2, "sin_paquete": 0}
    assert await postal.count(Outbox) == antes + 5
    assert {p.numero: (p.estado, p.version) for p in await _paquetes(postal)} == {
        1: ("entregado", 4), 2: ("en_transito", 3), 3: ("entregado", 4)
    }  # fmt: skip


async def _paquetes(postal: Postal) -> list[Paquete]:
    async with postal.app.state.runtime.maker() as session:
        return list((await session.execute(select(Paquete).order_by(Paquete.numero))).scalars())


async def test_webhook_exige_firma_del_transportista(postal: Postal) -> None:
    raw = json.dumps(
        {"evento_id": "e", "guia": "G", "estado": "en_transito", "ocurrido_at": "2021-05-01T10:00:00-05:00"}
    ).encode()
    r = await postal.client.post(
        "/v1/transportistas/mensajeria/eventos", content=raw, headers=firmar(raw, "otro-secreto")
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    r = await postal.client.post("/v1/transportistas/mensajeria/eventos", content=raw)
    assert r.status_code == 401
    r = await postal.client.post("/v1/transportistas/fantasma/eventos", content=raw, headers=firmar(raw))
    assert r.status_code == 404
    bad = json.dumps(
        {"evento_id": "e", "guia": "GGG", "estado": "perdido", "ocurrido_at": "2021-05-01T10:00:00"}
    ).encode()
    r = await postal.client.post("/v1/transportistas/mensajeria/eventos", content=bad, headers=firmar(bad))
    assert r.status_code == 422
    assert {e["campo"] for e in r.json()["errors"]} == {"estado", "ocurrido_at"}


async def test_reenvio_a_domicilio_corregido_y_destruccion(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(1), inscrito(2))
    await enviar(postal, token, [1, 2])
    t = centro(2021, 4, 26, 9, 0).isoformat()
    await postal.webhook(
        {"evento_id": "d1", "guia": "G090000001", "estado": "no_entregado", "ocurrido_at": t}
    )
    await postal.webhook({"evento_id": "d2", "guia": "G090000002", "estado": "devuelto", "ocurrido_at": t})
    op = token("ine-operador")
    r = await postal.client.post(
        "/v1/paquetes/09/1/reenvio",
        headers=op,
        json={
            "transportista": "mensajeria",
            "guia": "G09R0000001",
            "domicilio": {"calle_numero": "55 Water St", "codigo_postal": "10041"},
        },
    )
    assert r.status_code == 200
    assert r.json()["estado"] == "enviado"
    assert r.json()["envios"] == 2
    # A late report about the old tracking number no longer concerns the package.
    r = await postal.webhook(
        {"evento_id": "d3", "guia": "G090000001", "estado": "entregado", "ocurrido_at": t}
    )
    assert r.json()["sin_paquete"] == 1
    assert (
        await postal.client.post("/v1/paquetes/09/1/destruccion", headers=token("ine-admin"))
    ).status_code == 409
    r = await postal.client.post("/v1/paquetes/09/2/destruccion", headers=token("ine-admin"))
    assert r.status_code == 200
    assert r.json()["estado"] == "destruido"


@pytest.mark.parametrize(
    ("limite", "antes_utc"),
    [
        (
            "2021-06-05T08:00",
            dt.datetime(2021, 6, 5, 12, 59, 59, tzinfo=dt.UTC),
        ),  # 2021: daylight saving, UTC-5
        (
            "2024-06-01T08:00",
            dt.datetime(2024, 6, 1, 13, 59, 59, tzinfo=dt.UTC),
        ),  # after 2022: UTC-6 all year
    ],
)
async def test_limite_de_recepcion_exacto_al_segundo_en_hora_del_centro(
    postal: Postal, limite: str, antes_utc: dt.datetime
) -> None:
    with (PROCESOS_DIR / "pel2021.toml").open("rb") as f:
        datos = tomllib.load(f)
    datos["calendario"]["recepcion_spv_limite"] = limite
    proceso = parse(datos, dt.datetime.now(dt.UTC))
    await postal.entregar(inscrito(1), inscrito(2))
    operador = Principal(sub="op", rol=Rol.INE_OPERADOR)
    async with postal.app.state.runtime.maker() as session, session.begin():
        a = await recibir_sobre(session, clave(1), proceso, operador, antes_utc)
        b = await recibir_sobre(session, clave(2), proceso, operador, antes_utc + dt.timedelta(seconds=1))
    assert (a.clasificacion, b.clasificacion) == ("en_tiempo", "extemporaneo")


async def test_sobres_cuentan_una_vez_y_solo_de_la_lnere(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(1), inscrito(2))
    op = token("ine-operador")
    postal.reloj.ajustar(centro(2021, 5, 20, 10, 0))
    r = await postal.client.post("/v1/sobres", json={"clave_elector": clave(1)}, headers=op)
    assert r.status_code == 201
    assert r.json()["clasificacion"] == "en_tiempo"
    assert r.json()["cuenta"] is True
    r = await postal.client.post("/v1/sobres", json={"clave_elector": clave(1).lower()}, headers=op)
    assert r.json()["clasificacion"] == "duplicado"
    assert r.json()["cuenta"] is False
    r = await postal.client.post("/v1/sobres", json={"clave_elector": clave(999)}, headers=op)
    assert r.json()["clasificacion"] == "desconocido"
    postal.reloj.ajustar(centro(2021, 6, 5, 8, 0))
    r = await postal.client.post("/v1/sobres", json={"clave_elector": clave(2)}, headers=op)
    assert r.json()["clasificacion"] == "extemporaneo"
    assert (await postal.client.post("/v1/sobres", json={"clave_elector": clave(2)})).status_code == 401
    assert (
        await postal.client.post("/v1/sobres", json={"clave_elector": "corta"}, headers=op)
    ).status_code == 422

    votos = [json.loads(r.payload) for r in await _outbox(postal) if r.topic == "vmre.postal.voto"]
    assert [(v["event_type"], v["data"]["entidad"], v["data"]["numero"]) for v in votos] == [
        (eventos.VOTO_REGISTRADO, "09", 1)
    ]
    assert await postal.count(Sobre) == 4

    r = await postal.client.get(f"/v1/paquetes/{inscrito(1).data['folio']}")
    assert r.status_code == 200
    assert r.json()["voto_recibido"] is True
    assert r.json()["limite_recepcion"].startswith("2021-06-05T08:00:00-05:00")
    assert (await postal.client.get("/v1/paquetes/NOEXISTE")).status_code == 404


def test_mesas_de_hasta_1500() -> None:
    assert mesas(0) == []
    assert mesas(1500) == [1500]
    assert mesas(1501) == [751, 750]
    assert mesas(5623) == [1406, 1406, 1406, 1405]
    for n in range(1, 7000, 97):
        reparto = mesas(n)
        assert sum(reparto) == n
        assert max(reparto) <= 1500
        assert max(reparto) - min(reparto) <= 1


async def test_asignacion_a_mesas_el_dia_de_la_jornada(postal: Postal, token: Token) -> None:
    await postal.entregar(*(inscrito(n) for n in range(1, 6)))
    postal.reloj.ajustar(centro(2021, 5, 20, 10, 0))
    for n in range(1, 6):
        await postal.client.post(
            "/v1/sobres", json={"clave_elector": clave(n)}, headers=token("ine-operador")
        )
    admin = token("ine-admin")
    assert (await postal.client.post("/v1/mesas/09/asignacion", headers=admin)).status_code == 409
    postal.reloj.ajustar(centro(2021, 6, 6, 17, 0))
    r = await postal.client.post("/v1/mesas/09/asignacion", headers=admin)
    assert r.status_code == 200
    assert r.json()["mesas"] == [5]
    assert (await postal.client.post("/v1/mesas/09/asignacion", headers=admin)).json()["mesas"] == [5]
    assert len([o for o in await _outbox(postal) if o.topic == "vmre.postal.mesa"]) == 1


async def test_archivo_masivo_csv_del_transportista(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(1), inscrito(2))
    await enviar(postal, token, [1, 2])
    csv = (
        "evento_id,guia,estado,ocurrido_at,detalle\n"
        "c1,G090000001,en_transito,2021-04-27T10:00:00-05:00,\n"
        "c2,G090000002,entregado,2021-04-28T10:00:00-05:00,Firmó\n"
        "c1,G090000001,en_transito,2021-04-27T10:00:00-05:00,\n"
    ).encode()
    headers = {**firmar(csv), "content-type": "text/csv"}
    r = await postal.client.post("/v1/transportistas/mensajeria/eventos", content=csv, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"aplicados": 2, "ignorados": 0, "duplicados": 1, "sin_paquete": 0}
    bad = b"evento_id,guia,estado,ocurrido_at,detalle\nc9,G090000001,perdido,ayer,\n"
    r = await postal.client.post(
        "/v1/transportistas/mensajeria/eventos",
        content=bad,
        headers={**firmar(bad), "content-type": "text/csv"},
    )
    assert r.status_code == 422
    assert {e["campo"] for e in r.json()["errors"]} == {"eventos.0.estado", "eventos.0.ocurrido_at"}


async def test_aviso_de_retraso_una_sola_vez(postal: Postal, token: Token) -> None:
    await postal.entregar(inscrito(1), inscrito(2))
    await enviar(postal, token, [1, 2])
    await postal.webhook(
        {
            "evento_id": "r1",
            "guia": "G090000002",
            "estado": "entregado",
            "ocurrido_at": centro(2021, 4, 22, 9, 0).isoformat(),
        }
    )
    op = token("ine-operador")
    assert (await postal.client.post("/v1/avisos/retraso?dias=14", headers=op)).json() == {"avisados": 0}
    postal.reloj.avanzar(dt.timedelta(days=15))
    assert (await postal.client.post("/v1/avisos/retraso?dias=14", headers=op)).json() == {"avisados": 1}
    assert (await postal.client.post("/v1/avisos/retraso?dias=14", headers=op)).json() == {"avisados": 0}
    async with postal.app.state.runtime.maker() as session:
        avisos = list(
            (
                await session.execute(
                    select(Notificacion).where(Notificacion.plantilla == "paquete_retrasado")
                )
            ).scalars()
        )
    assert len(avisos) == 2
    assert {a.canal for a in avisos} == {"email", "sms"}
    assert all(a.referencia == inscrito(1).data["folio"] for a in avisos)
