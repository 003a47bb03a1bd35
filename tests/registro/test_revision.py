"""Review: work queue, dictamen, aclaración, correction, baja, change of modality, documents, roles."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from services.registro.models import Historial, Outbox, Solicitud
from shared.events import registro as eventos
from tests.factories import solicitud
from tests.support.registro import Registro

Token = Callable[..., dict[str, str]]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"1 0 obj\n" * 20


async def nueva(registro: Registro, n: int, **kw: Any) -> str:
    r = await registro.client.post("/v1/solicitudes", json=solicitud(n, **kw))
    assert r.status_code == 201, r.text
    return str(r.json()["folio"])


async def eventos_de(registro: Registro, folio: str) -> list[str]:
    return [row.event_type for row in await registro.rows(Outbox, Outbox.key == folio, order=Outbox.id)]


async def test_dictamen_procedente_e_improcedente(registro: Registro, token: Token) -> None:
    op = token("ine-operador")
    a, b = await nueva(registro, 1), await nueva(registro, 2)
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/dictamen", json={"resultado": "procedente", "motivos": []}, headers=op
    )
    assert r.status_code == 200
    assert r.json()["estado"] == "procedente"
    r = await registro.client.post(
        f"/v1/solicitudes/{b}/dictamen",
        json={"resultado": "improcedente", "motivos": ["firma", "comprobante_domicilio"]},
        headers=op,
    )
    body = r.json()
    assert body["estado"] == "improcedente"
    assert body["motivos"] == ["firma", "comprobante_domicilio"]
    assert body["motivos_detalle"][0]["descripcion"].startswith("La firma")
    assert body["plazo_aclaracion"] is not None
    assert await eventos_de(registro, b) == [eventos.SOLICITUD_RECIBIDA, eventos.SOLICITUD_DICTAMINADA]
    [row] = await registro.rows(Outbox, Outbox.event_type == eventos.SOLICITUD_DICTAMINADA, Outbox.key == b)
    envelope = json.loads(row.payload)
    assert envelope["aggregate_version"] == 2
    assert envelope["data"]["estado"] == "improcedente"
    audit = await registro.rows(Historial, Historial.folio == b, Historial.accion == "dictamen")
    assert audit[0].actor == "ine-operador-local"
    assert audit[0].detalle["motivos"] == [
        "firma",
        "comprobante_domicilio",
    ]

    # Already decided: a second dictamen is refused and changes nothing.
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/dictamen", json={"resultado": "improcedente", "motivos": ["firma"]}, headers=op
    )
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/transicion-invalida"
    assert (await registro.client.get(f"/v1/solicitudes/{a}")).json()["estado"] == "procedente"


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({"resultado": "improcedente", "motivos": []}, "motivos"),
        ({"resultado": "procedente", "motivos": ["firma"]}, "motivos"),
        ({"resultado": "improcedente", "motivos": ["inventado"]}, "motivos.0"),
        ({"resultado": "quizas", "motivos": []}, "resultado"),
    ],
)
async def test_dictamen_invalido_422(
    registro: Registro, token: Token, cuerpo: dict[str, object], campo: str
) -> None:
    folio = await nueva(registro, 1)
    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/dictamen", json=cuerpo, headers=token("ine-operador")
    )
    assert r.status_code == 422
    assert campo in [e["campo"] for e in r.json()["errors"]]
    assert (await registro.client.get(f"/v1/solicitudes/{folio}")).json()["estado"] == "recibida"


async def test_dictamenes_en_lote_todo_o_nada(registro: Registro, token: Token) -> None:
    op = token("ine-operador")
    a, b, c = await nueva(registro, 1), await nueva(registro, 2), await nueva(registro, 3)
    lote = {
        "dictamenes": [
            {"folio": a, "resultado": "procedente", "motivos": []},
            {"folio": b, "resultado": "improcedente", "motivos": ["firma"]},
            {
                "folio": c,
                "resultado": "procedente",
                "motivos": ["firma"],
            },  # procedente with a motivo: invalid
            {"folio": "NO-EXISTE", "resultado": "procedente", "motivos": []},
            {"folio": a, "resultado": "procedente", "motivos": []},  # the same folio twice
        ]
    }
    r = await registro.client.post("/v1/solicitudes/dictamenes", json=lote, headers=op)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    campos = sorted(e["campo"] for e in r.json()["errors"])
    assert campos == ["dictamenes[2]", "dictamenes[3]", "dictamenes[4].folio"], r.json()
    # Nothing applied: not a, not b, and no event for them.
    for folio in (a, b, c):
        assert (await registro.client.get(f"/v1/solicitudes/{folio}")).json()["estado"] == "recibida"
        assert await eventos_de(registro, folio) == [eventos.SOLICITUD_RECIBIDA]

    lote["dictamenes"] = lote["dictamenes"][:2]
    r = await registro.client.post("/v1/solicitudes/dictamenes", json=lote, headers=op)
    assert r.status_code == 200, r.text
    assert r.json() == {"recibidos": 2, "aplicados": 2, "sin_cambio": 0}
    assert (await registro.client.get(f"/v1/solicitudes/{a}")).json()["estado"] == "procedente"
    assert (await registro.client.get(f"/v1/solicitudes/{b}")).json()["motivos"] == ["firma"]
    assert await eventos_de(registro, b) == [eventos.SOLICITUD_RECIBIDA, eventos.SOLICITUD_DICTAMINADA]
    assert len(await registro.rows(Historial, Historial.folio == a, Historial.accion == "dictamen")) == 1

    # The same batch again (a retry after a cut): nothing repeats; a different dictamen is still refused.
    r = await registro.client.post("/v1/solicitudes/dictamenes", json=lote, headers=op)
    assert r.json() == {"recibidos": 2, "aplicados": 0, "sin_cambio": 2}
    assert await eventos_de(registro, b) == [eventos.SOLICITUD_RECIBIDA, eventos.SOLICITUD_DICTAMINADA]
    r = await registro.client.post(
        "/v1/solicitudes/dictamenes",
        json={"dictamenes": [{"folio": a, "resultado": "improcedente", "motivos": ["firma"]}]},
        headers=op,
    )
    assert r.status_code == 422
    assert "dictamenes[0]" in r.json()["errors"][0]["campo"]
    assert (await registro.client.get(f"/v1/solicitudes/{a}")).json()["estado"] == "procedente"
    r = await registro.client.post(
        "/v1/solicitudes/dictamenes", json={"dictamenes": lote["dictamenes"]}, headers=token("opl", "09")
    )
    assert r.status_code == 403
    r = await registro.client.post("/v1/solicitudes/dictamenes", json={"dictamenes": []}, headers=op)
    assert r.status_code == 422


async def test_roles_de_revision(registro: Registro, token: Token) -> None:
    folio = await nueva(registro, 1)
    url = f"/v1/solicitudes/{folio}/dictamen"
    cuerpo = {"resultado": "procedente", "motivos": []}
    assert (await registro.client.post(url, json=cuerpo)).status_code == 401
    for rol, extra in (
        ("opl", {"entidad": "09"}),
        ("custodio", {}),
        ("auditor", {}),
        ("partido", {"partido": "PAN"}),
    ):
        r = await registro.client.post(url, json=cuerpo, headers=token(rol, **extra))
        assert r.status_code == 403, rol
    assert (await registro.client.get("/v1/revision/cola", headers=token("opl", "09"))).status_code == 403
    assert (await registro.client.get(f"/v1/solicitudes/{folio}/expediente")).status_code == 401


async def test_aclaracion_correccion_y_vuelta_a_revision(registro: Registro, token: Token) -> None:
    op = token("ine-operador")
    folio = await nueva(registro, 1)
    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/aclaracion", json={"motivos": ["comprobante_domicilio"]}, headers=op
    )
    assert r.status_code == 200
    assert r.json()["estado"] == "en_aclaracion"
    cola = (await registro.client.get("/v1/revision/cola", headers=op)).json()["solicitudes"]
    assert folio not in [c["folio"] for c in cola]

    r = await registro.client.patch(f"/v1/solicitudes/{folio}", json={})
    assert r.status_code == 422
    pedido = await registro.client.patch(
        f"/v1/solicitudes/{folio}",
        json={
            "domicilio": {
                "calle_numero": "742 Evergreen Ter",
                "ciudad": "Springfield",
                "region": "OR",
                "codigo_postal": "97477",
            }
        },
    )
    assert pedido.status_code == 202, pedido.text
    assert pedido.json()["enviado_a"] == ["p***@example.com"]
    [s] = await registro.rows(Solicitud)
    assert s.calle_numero == solicitud(1)["domicilio"]["calle_numero"]  # nothing changes before the code
    r = await registro.confirmar(folio, pedido, "persona1@example.com")
    assert r.status_code == 200, r.text
    assert r.json()["estado"] == "recibida"
    assert r.json()["motivos"] == []
    [s] = await registro.rows(Solicitud)
    assert (s.calle_numero, s.ciudad) == ("742 Evergreen Ter", "Springfield")
    cola = (await registro.client.get("/v1/revision/cola", headers=op)).json()["solicitudes"]
    assert folio in [c["folio"] for c in cola]
    assert await eventos_de(registro, folio) == [
        eventos.SOLICITUD_RECIBIDA,
        eventos.SOLICITUD_ACLARACION_SOLICITADA,
        eventos.SOLICITUD_CORREGIDA,
    ]
    # Back in recibida: a correction now is not allowed.
    assert (
        await registro.client.patch(f"/v1/solicitudes/{folio}", json={"nombre": "Ana"})
    ).status_code == 409
    audit = await registro.rows(Historial, Historial.folio == folio, Historial.accion == "cambio_confirmado")
    assert audit[0].detalle["campos"] == ["domicilio"]
    assert audit[0].detalle["canal"] == "email"


async def test_correccion_tras_el_plazo_se_rechaza(registro: Registro, token: Token) -> None:
    folio = await nueva(registro, 1)
    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/dictamen",
        json={"resultado": "improcedente", "motivos": ["firma"]},
        headers=token("ine-operador"),
    )
    plazo = dt.datetime.fromisoformat(r.json()["plazo_aclaracion"])
    registro.reloj.ajustar(plazo.astimezone(dt.UTC) - dt.timedelta(seconds=10))
    # Within the deadline the improcedente can be corrected (procedente por rectificación path)...
    pedido = await registro.client.patch(f"/v1/solicitudes/{folio}", json={"nombre": "Ana"})
    assert (await registro.confirmar(folio, pedido, "persona1@example.com")).status_code == 200
    folio2 = await nueva(registro, 2)
    r = await registro.client.post(
        f"/v1/solicitudes/{folio2}/dictamen",
        json={"resultado": "improcedente", "motivos": ["firma"]},
        headers=token("ine-operador"),
    )
    # ...and a correction asked for in time is refused if the code comes after the deadline.
    plazo2 = dt.datetime.fromisoformat(r.json()["plazo_aclaracion"]).astimezone(dt.UTC)
    registro.reloj.ajustar(plazo2 - dt.timedelta(minutes=5))
    pedido = await registro.client.patch(f"/v1/solicitudes/{folio2}", json={"nombre": "Ana"})
    assert pedido.status_code == 202
    registro.reloj.ajustar(plazo2)
    r = await registro.confirmar(folio2, pedido, "persona2@example.com")
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/plazo-vencido"
    registro.reloj.avanzar(dt.timedelta(days=registro.proceso.calendario.aclaracion_dias))
    r = await registro.client.patch(f"/v1/solicitudes/{folio2}", json={"nombre": "Ana"})
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/plazo-vencido"
    assert (await registro.client.get(f"/v1/solicitudes/{folio2}")).json()["estado"] == "improcedente"
    assert (await registro.solicitud(folio2)).nombre == solicitud(2)["nombre"]


async def test_correccion_que_deja_incompleta_la_modalidad(registro: Registro, token: Token) -> None:
    folio = await nueva(registro, 1, modalidad="postal")
    await registro.client.post(
        f"/v1/solicitudes/{folio}/aclaracion", json={"motivos": ["requisitos"]}, headers=token("ine-operador")
    )
    r = await registro.client.patch(f"/v1/solicitudes/{folio}", json={"domicilio": {"calle_numero": None}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "domicilio.calle_numero"
    assert (await registro.client.get(f"/v1/solicitudes/{folio}")).json()["estado"] == "en_aclaracion"
    # Nor may a correction leave the application without any contact.
    r = await registro.client.patch(f"/v1/solicitudes/{folio}", json={"email": None, "telefono": None})
    assert r.status_code == 422
    assert {e["campo"] for e in r.json()["errors"]} == {"email", "telefono"}
    assert not await registro.avisos("codigo_confirmacion")  # refused before any code went out


async def test_baja(registro: Registro, token: Token) -> None:
    op = token("ine-operador")
    folio = await nueva(registro, 1)
    # A motivo outside the catalogue, on an application that may still be dropped: only the motivo is wrong.
    r = await registro.client.post(f"/v1/solicitudes/{folio}/baja", json={"motivo": "porque_si"}, headers=op)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["campo"] for e in r.json()["errors"]] == ["motivo"]
    assert (await registro.client.get(f"/v1/solicitudes/{folio}")).json()["estado"] == "recibida"
    assert await eventos_de(registro, folio) == [eventos.SOLICITUD_RECIBIDA]

    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/baja", json={"motivo": "solicitud_ciudadana"}, headers=op
    )
    assert r.status_code == 200
    assert r.json()["estado"] == "baja"
    assert r.json()["motivos"] == ["solicitud_ciudadana"]
    # Already dropped: a second baja, with a valid motivo, is a refused transition.
    r = await registro.client.post(f"/v1/solicitudes/{folio}/baja", json={"motivo": "defuncion"}, headers=op)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/transicion-invalida"
    assert await eventos_de(registro, folio) == [eventos.SOLICITUD_RECIBIDA, eventos.SOLICITUD_DADA_DE_BAJA]


async def test_cambio_de_modalidad_antes_del_corte(registro: Registro) -> None:
    folio = await nueva(registro, 1, modalidad="electronica", domicilio={})
    r = await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json={"modalidad": "postal"})
    assert r.status_code == 422  # postal needs the address abroad
    assert {e["campo"] for e in r.json()["errors"]} >= {"domicilio.calle_numero", "domicilio.codigo_postal"}
    pedido = await registro.client.post(
        f"/v1/solicitudes/{folio}/modalidad",
        json={
            "modalidad": "postal",
            "domicilio": {"calle_numero": "1 Rue de Rivoli", "ciudad": "Paris", "codigo_postal": "75001"},
        },
    )
    assert pedido.status_code == 202, pedido.text
    assert await eventos_de(registro, folio) == [eventos.SOLICITUD_RECIBIDA]  # nothing yet
    r = await registro.confirmar(folio, pedido, "persona1@example.com")
    assert r.status_code == 200
    assert r.json()["modalidad"] == "postal"
    assert await eventos_de(registro, folio) == [
        eventos.SOLICITUD_RECIBIDA,
        eventos.SOLICITUD_MODALIDAD_CAMBIADA,
    ]
    registro.reloj.ajustar(registro.proceso.calendario.cierre_lnere)
    r = await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json={"modalidad": "electronica"})
    assert r.status_code == 409


async def test_cola_en_orden_de_llegada_con_paginas(registro: Registro, token: Token) -> None:
    op = token("ine-operador")
    folios = []
    for n in range(7):
        folios.append(await nueva(registro, n, entidad="14" if n % 2 else "09"))
        registro.reloj.avanzar(dt.timedelta(minutes=1))
    vistos, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limite": 3}
        if cursor:
            params["despues"] = cursor
        page = (await registro.client.get("/v1/revision/cola", params=params, headers=op)).json()
        vistos += [s["folio"] for s in page["solicitudes"]]
        cursor = page["siguiente"]
        if not cursor:
            break
    assert vistos == folios
    solo14 = (await registro.client.get("/v1/revision/cola", params={"entidad": "14"}, headers=op)).json()
    assert [s["folio"] for s in solo14["solicitudes"]] == folios[1::2]
    bad = await registro.client.get("/v1/revision/cola", params={"despues": "!!"}, headers=op)
    assert bad.status_code == 422


async def test_documentos_por_contenido_tamano_y_comprobante_reutilizado(
    registro: Registro, token: Token
) -> None:
    op = token("ine-operador")
    a, b = await nueva(registro, 1), await nueva(registro, 2)
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/documentos",
        data={"tipo": "credencial_frente"},
        files={"archivo": ("frente.jpg", JPEG, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/jpeg"
    # A text file named .jpg and declared image/jpeg is refused: the content decides.
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/documentos",
        data={"tipo": "credencial_reverso"},
        files={"archivo": ("reverso.jpg", b"hola, no soy imagen", "image/jpeg")},
    )
    assert r.status_code == 415
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/documentos",
        data={"tipo": "credencial_reverso"},
        files={"archivo": ("r.jpg", JPEG + b"\x00" * (5 * 1024 * 1024), "image/jpeg")},
    )
    assert r.status_code == 413
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/documentos",
        data={"tipo": "selfie"},
        files={"archivo": ("s.jpg", JPEG, "image/jpeg")},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["campo"] == "tipo"
    for folio in (a, b):
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/documentos",
            data={"tipo": "comprobante_domicilio"},
            files={"archivo": ("recibo.pdf", PDF, "application/pdf")},
        )
        assert r.status_code == 201
    expediente = (await registro.client.get(f"/v1/solicitudes/{a}/expediente", headers=op)).json()
    assert expediente["documentos"] == ["comprobante_domicilio", "credencial_frente"]
    assert any(al.startswith("comprobante_reutilizado") for al in expediente["alertas"])
    assert expediente["clave_elector"] == solicitud(1)["clave_elector"]  # operators see the data
    doc = await registro.client.get(f"/v1/solicitudes/{a}/documentos/credencial_frente", headers=op)
    assert doc.status_code == 200
    assert doc.content == JPEG
    assert doc.headers["content-type"] == "image/jpeg"
    assert (await registro.client.get(f"/v1/solicitudes/{a}/documentos/credencial_frente")).status_code == 401
