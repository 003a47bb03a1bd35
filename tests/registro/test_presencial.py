"""The in-person modality (#27): a registration chooses one of the process's consular sites; the list closes
with them counted per site, and no package or remote credential goes out for them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from services.registro.models import CierreLnere, Outbox, Solicitud
from shared.events import registro as eventos
from tests.factories import solicitud
from tests.support.registro import PEF2024, Registro

Token = Callable[..., dict[str, str]]


def en_persona(n: int, sede: str | None = "los-angeles", **cambios: Any) -> dict[str, Any]:
    """An in-person application: no address and no phone needed (the folio and notices go to the email)."""
    datos = solicitud(n, modalidad="presencial", domicilio={}, telefono=None, **cambios)
    if sede is not None:
        datos["sede"] = sede
    return datos


async def test_el_catalogo_dice_cada_sede_con_su_hora_local_y_la_del_centro(
    registro_2024: Registro, registro: Registro
) -> None:
    r = await registro_2024.client.get("/v1/catalogos/sedes")
    assert r.status_code == 200
    catalogo = r.json()
    assert catalogo["modalidad_presencial"] is True
    sedes = {s["clave"]: s for s in catalogo["sedes"]}
    assert len(sedes) == 23
    la, ny = sedes["los-angeles"], sedes["nueva-york"]
    # 2 Jun 2024: Los Angeles on PDT (UTC-7), New York on EDT (UTC-4), Centro on UTC-6 all year.
    assert (la["apertura_local"], la["cierre_local"]) == ("07:00", "17:00")
    assert (la["apertura"], la["cierre"]) == ("2024-06-02T08:00:00-06:00", "2024-06-02T18:00:00-06:00")
    assert (ny["apertura_local"], ny["apertura"]) == ("10:00", "2024-06-02T08:00:00-06:00")
    assert sedes["madrid"]["apertura"] == "2024-06-02T00:00:00-06:00"  # 08:00 in Madrid (CEST)
    # 2021's process had no in-person voting.
    sin = (await registro.client.get("/v1/catalogos/sedes")).json()
    assert sin == {"modalidad_presencial": False, "sedes": []}


async def test_solicitud_presencial_con_sede_sin_domicilio_ni_telefono(registro_2024: Registro) -> None:
    r = await registro_2024.client.post("/v1/solicitudes", json=en_persona(1, sede="nueva-york"))
    assert r.status_code == 201, r.text
    folio = r.json()["folio"]
    s = await registro_2024.solicitud(folio)
    assert (s.modalidad, s.sede, s.calle_numero, s.telefono) == ("presencial", "nueva-york", None, None)
    [recibida] = await registro_2024.rows(Outbox, Outbox.key == folio)
    assert json.loads(recibida.payload)["data"]["modalidad"] == "presencial"
    [aviso] = await registro_2024.avisos("solicitud_recibida")
    assert aviso.mensaje is not None
    assert "en persona, en una sede consular" in aviso.mensaje


@pytest.mark.parametrize(
    ("cambios", "campo", "texto"),
    [
        ({"sede": None}, "sede", "Elija la sede consular"),
        ({"sede": "tijuana"}, "sede", "No es una sede de este proceso"),
        ({"sede": "Los Angeles"}, "sede", ""),  # not a site key at all (format)
        (
            {"modalidad": "postal", "domicilio": solicitud(1)["domicilio"]},
            "sede",
            "Solo para votar en persona",
        ),
    ],
)
async def test_una_sede_que_falta_sobra_o_no_existe_es_un_422_que_no_guarda_nada(
    registro_2024: Registro, cambios: dict[str, Any], campo: str, texto: str
) -> None:
    datos = {**en_persona(2), **cambios}
    if datos.get("sede") is None:
        datos.pop("sede", None)
    if datos["modalidad"] == "postal":
        datos["sede"] = "los-angeles"
    r = await registro_2024.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 422, r.text
    errores = {e["campo"]: e["mensaje"] for e in r.json()["errors"]}
    assert campo in errores, r.json()
    assert texto in errores[campo]
    assert await registro_2024.count(Solicitud) == 0


async def test_un_proceso_sin_voto_presencial_lo_rechaza(registro: Registro) -> None:
    r = await registro.client.post("/v1/solicitudes", json=en_persona(3))
    assert r.status_code == 422
    assert [e["campo"] for e in r.json()["errors"]] == ["modalidad"]
    assert await registro.count(Solicitud) == 0


async def test_cambiar_a_presencial_pide_sede_y_cambiar_de_sede_se_confirma_con_codigo(
    registro_2024: Registro,
) -> None:
    folio = (await registro_2024.client.post("/v1/solicitudes", json=solicitud(4))).json()["folio"]
    r = await registro_2024.client.post(
        f"/v1/solicitudes/{folio}/modalidad", json={"modalidad": "presencial"}
    )
    assert r.status_code == 422
    assert [e["campo"] for e in r.json()["errors"]] == ["sede"]
    pedido = await registro_2024.client.post(
        f"/v1/solicitudes/{folio}/modalidad", json={"modalidad": "presencial", "sede": "chicago"}
    )
    s = await registro_2024.solicitud(folio)
    assert (s.modalidad, s.sede) == ("electronica", None)  # nothing changes before the code
    r = await registro_2024.confirmar(folio, pedido, solicitud(4)["email"])
    assert r.status_code == 200, r.text
    assert (await registro_2024.client.get(f"/v1/solicitudes/{folio}")).json()["sede"] == "chicago"
    # Back to the internet: the site goes with the modality.
    pedido = await registro_2024.client.post(
        f"/v1/solicitudes/{folio}/modalidad", json={"modalidad": "electronica"}
    )
    assert (await registro_2024.confirmar(folio, pedido, solicitud(4)["email"])).status_code == 200
    s = await registro_2024.solicitud(folio)
    assert (s.modalidad, s.sede) == ("electronica", None)


async def test_el_cierre_cuenta_por_sede_y_de_quien_vota_en_persona_solo_manda_numero_y_sede(
    registro_2024: Registro, token: Token
) -> None:
    op, admin = token("ine-operador"), token("ine-admin")
    cuerpos = [
        solicitud(10, modalidad="postal"),
        solicitud(11),
        en_persona(12, sede="los-angeles"),
        en_persona(13, sede="los-angeles"),
        en_persona(14, sede="madrid", pais="ES"),
    ]
    for cuerpo in cuerpos:
        r = await registro_2024.client.post("/v1/solicitudes", json=cuerpo)
        assert r.status_code == 201, r.text
        r = await registro_2024.client.post(
            f"/v1/solicitudes/{r.json()['folio']}/dictamen",
            json={"resultado": "procedente", "motivos": []},
            headers=op,
        )
        assert r.status_code == 200, r.text
    registro_2024.reloj.ajustar(PEF2024.calendario.cierre_lnere)
    r = await registro_2024.client.post("/v1/lnere/09/cierre", headers=admin)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("total", "postal", "electronica", "presencial")} == {
        "total": 5,
        "postal": 1,
        "electronica": 1,
        "presencial": 3,
    }
    [cierre] = await registro_2024.rows(CierreLnere)
    assert cierre.presencial == 3
    por_topico: dict[str, list[dict[str, Any]]] = {}
    for fila in await registro_2024.rows(Outbox, order=Outbox.id):
        por_topico.setdefault(fila.topic, []).append(json.loads(fila.payload))
    assert len(por_topico["vmre.registro.lnere_postal"]) == 1
    electronica = {e["event_type"]: e for e in por_topico["vmre.registro.lnere_electronica"]}
    por_tipo = [e["event_type"] for e in por_topico["vmre.registro.lnere_electronica"]]
    assert sorted(por_tipo) == sorted(
        [eventos.LNERE_ELECTRONICA_INSCRITO] + [eventos.LNERE_PRESENCIAL_INSCRITO] * 3
    )
    # In person: no name, no contact, no clave: what the authority seals to and the kiosk's account need.
    en_sede = [
        e["data"]
        for e in por_topico["vmre.registro.lnere_electronica"]
        if e["event_type"] == eventos.LNERE_PRESENCIAL_INSCRITO
    ]
    assert all(set(d) == {"entidad", "numero", "sede"} for d in en_sede)
    assert sorted(d["sede"] for d in en_sede) == ["los-angeles", "los-angeles", "madrid"]
    assert electronica[eventos.LNERE_ELECTRONICA_INSCRITO]["data"]["email"]
    [cerrada] = por_topico["vmre.registro.lnere"]
    assert cerrada["event_type"] == eventos.LNERE_CERRADA
    assert (cerrada["data"]["presencial"], cerrada["data"]["por_sede"]) == (
        3,
        {"los-angeles": 2, "madrid": 1},
    )
    assert cerrada["data"]["por_pais"] == {
        "ES": {"presencial": 1},
        "US": {"postal": 1, "electronica": 1, "presencial": 2},
    }
    inscripciones = [a for a in await registro_2024.avisos("inscripcion") if "persona" in (a.mensaje or "")]
    assert len(inscripciones) == 3
    la = next(a for a in inscripciones if "Los Ángeles" in (a.mensaje or ""))
    assert "de 07:00 a 17:00, hora local" in (la.mensaje or "")
