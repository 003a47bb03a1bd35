"""Applying and following: every validation rule, the window, duplicates, the public view."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from services.registro.models import Historial, Outbox, Solicitud
from shared.events.registro import SOLICITUD_RECIBIDA
from tests.factories import solicitud
from tests.support.registro import Registro, centro


async def test_solicitud_valida_se_guarda_y_deja_un_evento_minimo(registro: Registro) -> None:
    datos = solicitud(1)
    r = await registro.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["estado"] == "recibida"
    assert body["folio"].startswith("VMRE-")
    assert len(body["folio"]) == 28

    [row] = await registro.rows(Outbox)
    envelope = json.loads(row.payload)
    assert envelope["event_type"] == SOLICITUD_RECIBIDA
    assert envelope["aggregate_id"] == body["folio"]
    assert envelope["correlation_id"] == r.headers["x-correlation-id"]
    assert envelope["data"] == {
        "folio": body["folio"],
        "entidad": "09",
        "modalidad": "electronica",
        "pais": "US",
        "recibida_at": envelope["data"]["recibida_at"],
    }
    for personal in (datos["clave_elector"], datos["email"], datos["telefono"], "Núñez"):
        assert personal not in row.payload  # personal data stays in registro
    [audit] = await registro.rows(Historial)
    assert (audit.folio, audit.accion, audit.actor) == (body["folio"], "solicitud_recibida", "ciudadania")


async def test_nombres_con_acentos_enie_y_largos_son_datos_normales(registro: Registro) -> None:
    nombre = "María de los Ángeles Guadalupe del Sagrado Corazón de Jesús " * 2
    datos = solicitud(
        2,
        nombre=nombre.strip()[:120],
        apellido_paterno="Ñúñez-Muñoz y Peñaloza",
        apellido_materno="",
        clave_elector=solicitud(2)["clave_elector"].lower(),
    )
    r = await registro.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 201, r.text
    [s] = await registro.rows(Solicitud)
    assert s.nombre == nombre.strip()[:120].strip()
    assert s.apellido_paterno == "Ñúñez-Muñoz y Peñaloza"
    assert s.apellido_materno == ""
    assert s.clave_elector == datos["clave_elector"].upper()  # typed in lowercase: normalised


async def test_correlation_id_del_cliente_llega_al_evento(registro: Registro) -> None:
    r = await registro.client.post(
        "/v1/solicitudes", json=solicitud(1), headers={"X-Correlation-ID": "mesa-7"}
    )
    assert r.status_code == 201
    assert r.headers["x-correlation-id"] == "mesa-7"
    [row] = await registro.rows(Outbox)
    assert json.loads(row.payload)["correlation_id"] == "mesa-7"


def _sin(campo: str) -> dict[str, object]:
    datos = solicitud(3)
    del datos[campo]
    return datos


CASOS = [
    ({"clave_elector": "GOMZAN8503120"}, "clave_elector"),
    ({"clave_elector": "GOMZAN850312O9M700"}, "clave_elector"),
    ({"fecha_nacimiento": "1985-03-13"}, "clave_elector"),  # clave says another birth date
    ({"sexo": "H"}, "clave_elector"),  # clave says M (n=3 → H; factory alternates: force mismatch below)
    ({"entidad": "33"}, "entidad"),
    ({"entidad": "01"}, "entidad"),  # Aguascalientes: no office voted from abroad in pel2021
    ({"pais": "XX"}, "pais"),
    ({"pais": "MX"}, "pais"),
    ({"pais": "USA"}, "pais"),
    ({"email": "no-es-correo"}, "email"),
    ({"telefono": "3105551234"}, "telefono"),
    ({"modalidad": "presencial"}, "modalidad"),
    ({"sexo": "X"}, "sexo"),
    ({"fecha_nacimiento": "1985-02-30"}, "fecha_nacimiento"),
    ({"nombre": ""}, "nombre"),
    ({"nombre": "x" * 121}, "nombre"),
    ({"modalidad": "electronica", "email": None}, "email"),
    ({"modalidad": "electronica", "telefono": None}, "telefono"),
    (
        {"modalidad": "postal", "domicilio": {"calle_numero": "1 Main St", "ciudad": "LA"}},
        "domicilio.codigo_postal",
    ),
    ({"modalidad": "postal", "domicilio": {}}, "domicilio.calle_numero"),
]


@pytest.mark.parametrize(("cambio", "campo"), CASOS)
async def test_dato_invalido_422_nombra_el_campo_y_no_guarda_nada(
    registro: Registro, cambio: dict[str, object], campo: str
) -> None:
    datos = {**solicitud(4), **cambio}
    if cambio == {"sexo": "H"}:
        datos["sexo"] = "M" if solicitud(4)["sexo"] == "H" else "H"
    r = await registro.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "/problemas/validacion"
    assert campo in [e["campo"] for e in problem["errors"]], problem
    assert all(e["mensaje"] for e in problem["errors"])
    assert await registro.count(Solicitud) == 0
    assert await registro.count(Outbox) == 0


async def test_menor_de_edad_el_dia_de_la_jornada(registro: Registro) -> None:
    nacimiento = dt.date(2003, 6, 7)  # turns 18 on 7 June 2021, a day after the jornada
    datos = solicitud(5, fecha_nacimiento=nacimiento.isoformat())
    datos["clave_elector"] = (
        datos["clave_elector"][:6] + nacimiento.strftime("%y%m%d") + datos["clave_elector"][12:]
    )
    r = await registro.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 422
    assert [e["campo"] for e in r.json()["errors"]] == ["fecha_nacimiento"]


async def test_campos_faltantes_y_json_roto(registro: Registro) -> None:
    r = await registro.client.post("/v1/solicitudes", json={})
    assert r.status_code == 422
    faltan = {e["campo"] for e in r.json()["errors"]}
    assert faltan >= {
        "clave_elector",
        "nombre",
        "apellido_paterno",
        "fecha_nacimiento",
        "sexo",
        "entidad",
        "pais",
        "modalidad",
    }
    r = await registro.client.post(
        "/v1/solicitudes", content=b"{no es json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_periodo_exacto_al_segundo_en_hora_del_centro(registro: Registro) -> None:
    # Window: 1 Sep 2020 00:00 → 10 Mar 2021 12:00 Centro (then UTC-6).
    registro.reloj.ajustar(centro(2021, 3, 10, 11, 59, 59))
    assert (await registro.client.post("/v1/solicitudes", json=solicitud(10))).status_code == 201
    registro.reloj.ajustar(centro(2021, 3, 10, 12, 0, 0))
    r = await registro.client.post("/v1/solicitudes", json=solicitud(11))
    assert r.status_code == 422
    assert r.json()["type"].endswith("/extemporanea")
    assert "10/03/2021 12:00" in r.json()["detail"]
    registro.reloj.ajustar(centro(2020, 8, 31, 23, 59, 59))
    assert (
        (await registro.client.post("/v1/solicitudes", json=solicitud(12)))
        .json()["type"]
        .endswith("/extemporanea")
    )
    registro.reloj.ajustar(centro(2020, 9, 1, 0, 0, 0))
    assert (await registro.client.post("/v1/solicitudes", json=solicitud(13))).status_code == 201
    assert await registro.count(Solicitud) == 2


async def test_duplicada_409_sin_folio_que_se_reenvia_al_contacto_registrado(registro: Registro) -> None:
    primera = (await registro.client.post("/v1/solicitudes", json=solicitud(1))).json()
    otra = solicitud(1, entidad="14", modalidad="postal", email="intruso@example.org")
    r = await registro.client.post("/v1/solicitudes", json=otra)
    assert r.status_code == 409
    cuerpo = r.json()
    assert cuerpo["type"] == "/problemas/solicitud-duplicada"
    assert primera["folio"] not in r.text
    assert "folio" not in cuerpo
    assert "estado" not in cuerpo
    assert cuerpo["contacto"] == ["p***@example.com"]
    assert cuerpo["reenviado"] is True
    assert "p***@example.com" in cuerpo["detail"]
    assert await registro.count(Solicitud) == 1
    assert await registro.count(Outbox) == 1
    # The folio went to the contact on file (never to the one in the duplicate), as a secret message.
    [reenvio] = await registro.avisos("folio_reenviado")
    assert (reenvio.canal, reenvio.destino, reenvio.secreto) == ("email", "persona1@example.com", True)
    assert reenvio.mensaje is not None
    assert primera["folio"] in reenvio.mensaje
    assert not await registro.avisos(destino="intruso@example.org")


async def test_cincuenta_duplicadas_concurrentes_dejan_un_registro(registro: Registro) -> None:
    respuestas = await asyncio.gather(
        *(registro.client.post("/v1/solicitudes", json=solicitud(7)) for _ in range(50))
    )
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos.count(201) == 1, codigos
    assert codigos.count(409) == 49, codigos
    folio = next(r.json()["folio"] for r in respuestas if r.status_code == 201)
    assert all(folio not in r.text for r in respuestas if r.status_code == 409)
    assert await registro.count(Solicitud) == 1
    assert await registro.count(Outbox) == 1
    # One receipt, and of 49 duplicates at once a single re-send (the rest are told it was just sent).
    assert len(await registro.avisos("solicitud_recibida")) == 1
    assert len(await registro.avisos("folio_reenviado")) == 1
    assert sum(r.json()["reenviado"] for r in respuestas if r.status_code == 409) == 1


async def test_consulta_por_folio_sin_datos_personales(registro: Registro) -> None:
    datos = solicitud(1)
    folio = (await registro.client.post("/v1/solicitudes", json=datos)).json()["folio"]
    r = await registro.client.get(f"/v1/solicitudes/{folio}")
    assert r.status_code == 200
    body = r.json()
    assert body["estado"] == "recibida"
    assert body["motivos"] == []
    assert "revisión" in body["siguiente_paso"]
    assert body["recibida_at"].endswith("-06:00")  # shown in Centro time
    texto = r.text
    for personal in (datos["clave_elector"], datos["email"], datos["telefono"], datos["nombre"], "Main St"):
        assert personal not in texto


async def test_folio_inexistente_404_problem(registro: Registro) -> None:
    r = await registro.client.get("/v1/solicitudes/VMRE-XXXXX-XXXXX-XXXXX-XXXXX")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_ruta_inexistente_y_metodo_no_permitido_son_problem_json(registro: Registro) -> None:
    r = await registro.client.get("/v1/nada")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = await registro.client.delete("/v1/solicitudes")
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"


async def test_openapi_describe_cada_ruta_con_ejemplos(registro: Registro) -> None:
    spec = (await registro.client.get("/openapi.json")).json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method.upper()} {path} sin resumen"
    esquema = spec["components"]["schemas"]["SolicitudIn"]
    assert esquema["examples"][0]["clave_elector"]
