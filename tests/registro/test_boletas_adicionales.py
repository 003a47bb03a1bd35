"""Election day at a consular site (#27): the extra ballots for citizens with a valid voter ID who are not on
the LNERE. Capped per site and one per clave de elector, by the database (parallel bursts over HTTP); only the
site's own staff hand them out, during the site's hours; a person on the list votes with the list."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from services.registro.config import Settings
from services.registro.domain import Estado
from services.registro.main import create_app
from services.registro.models import BoletaAdicional, BoletasSede, Outbox, Solicitud
from shared.auth import Rol, mint_token
from shared.events import registro as eventos
from shared.reloj import RelojManual
from shared.settings import AuthSettings, KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Databases, serve
from tests.support.registro import PEF2024, Registro, centro

URL = "/v1/sedes/los-angeles/boletas-adicionales"
# 2 Jun 2024, 10:00 Centro = 09:00 in Los Angeles (PDT), open 07:00-17:00 local.
JORNADA = centro(2024, 6, 2, 10, 0)


def clave(n: int) -> str:
    return f"PRUEBA850312{n:02d}H{n:03d}"


def cuerpo(n: int, entidad: str = "09") -> dict[str, str]:
    return {"clave_elector": clave(n), "entidad": entidad}


def personal(sede: str | None = "los-angeles", rol: Rol = Rol.INE_OPERADOR) -> dict[str, str]:
    jwt = mint_token(AuthSettings(), rol, sede=sede, sub=f"operadora-{sede}")
    return {"Authorization": f"Bearer {jwt}"}


@pytest.fixture
async def sede_chica(databases: Databases, offline_kafka: KafkaSettings) -> AsyncIterator[Registro]:
    """2024's process on election day, with Los Angeles holding 3 extra ballots instead of 1,500, and 2
    reserve credentials per entidad for its kiosks instead of 100."""
    sedes = {
        **PEF2024.sedes,
        "los-angeles": PEF2024.sedes["los-angeles"].model_copy(
            update={"boletas_adicionales": 3, "credenciales_adicionales": 2}
        ),
    }
    proceso = PEF2024.model_copy(update={"sedes": sedes})
    reloj = RelojManual(JORNADA)
    url = await databases.new("registro")
    app = create_app(
        Settings(database_url=url, kafka=offline_kafka, relay_enabled=False), reloj=reloj, proceso=proceso
    )
    async with serve(app) as client:
        yield Registro(app, client, reloj, proceso)


async def entregar(r: Registro, n: int, headers: dict[str, str] | None = None, entidad: str = "09") -> int:
    respuesta = await r.client.post(
        URL, json={"clave_elector": clave(n), "entidad": entidad}, headers=headers or personal()
    )
    return respuesta.status_code


async def test_una_boleta_adicional_cuenta_en_la_sede_y_guarda_la_clave_cifrada(sede_chica: Registro) -> None:
    r = await sede_chica.client.post(
        URL, json={"clave_elector": clave(1).lower(), "entidad": "16"}, headers=personal()
    )
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("sede", "entidad", "numero", "tope", "restantes")} == {
        "sede": "los-angeles",
        "entidad": "16",
        "numero": 1,
        "tope": 3,
        "restantes": 2,
    }
    [fila] = await sede_chica.rows(BoletaAdicional)
    assert fila.clave_elector == clave(1)  # stored encrypted, read back through the service's keys
    assert fila.clave_elector_indice != clave(1)
    assert fila.entregada_por == "operadora-los-angeles"
    [evento] = await sede_chica.rows(Outbox, Outbox.event_type == eventos.BOLETA_ADICIONAL_ENTREGADA)
    assert evento.topic == "vmre.registro.lnere"
    assert json.loads(evento.payload)["data"]["entregadas"] == 1
    assert clave(1) not in evento.payload  # nobody is named in the event
    estado = await sede_chica.client.get(URL, headers=personal(sede=None, rol=Rol.AUDITOR))
    assert estado.json() == {
        "sede": "los-angeles",
        "tope": 3,
        "entregadas": 1,
        "restantes": 2,
        "por_entidad": {"16": 1},
    }


async def test_diez_entregas_a_la_vez_de_la_misma_clave_dan_una_boleta(sede_chica: Registro) -> None:
    codigos = await asyncio.gather(*(entregar(sede_chica, 7) for _ in range(10)))
    assert sorted(codigos) == [201] + [409] * 9
    assert await sede_chica.count(BoletaAdicional) == 1
    [fila] = await sede_chica.rows(BoletasSede)
    assert fila.entregadas == 1  # a repeated clave touched no counter
    r = await sede_chica.client.post(
        "/v1/sedes/madrid/boletas-adicionales",
        json={"clave_elector": clave(7), "entidad": "09"},
        headers=personal("madrid"),
    )
    assert r.status_code == 409  # Madrid is closed at this hour anyway; the clave has had its ballot


async def test_cada_boleta_toma_una_credencial_de_reserva_de_su_entidad_para_el_modulo(
    sede_chica: Registro,
) -> None:
    """Each ballot handed gets the next folio of its entidad at the site (its kiosk credential); past the
    site's reserve for that entidad no ballot is handed, and nothing changes — another entidad still gets one.
    A burst of the same entidad takes each folio once."""
    codigos = await asyncio.gather(*(entregar(sede_chica, n, entidad="14") for n in range(40, 46)))
    assert sorted(codigos) == [201] * 2 + [409] * 4
    folios = sorted(f.folio for f in await sede_chica.rows(BoletaAdicional))
    assert folios == [1, 2]
    [fila] = await sede_chica.rows(BoletasSede)
    assert fila.entregadas == 2  # the refused four touched no counter
    r = await sede_chica.client.post(URL, json=cuerpo(50, "14"), headers=personal())
    assert (r.status_code, r.json()["type"]) == (409, "/problemas/sin-boletas-adicionales")
    assert "credenciales_adicionales" in r.json()["detail"]
    assert await sede_chica.count(BoletaAdicional) == 2
    r = await sede_chica.client.post(URL, json=cuerpo(51, "16"), headers=personal())
    assert r.status_code == 201, r.text
    assert (r.json()["entidad"], r.json()["folio"], r.json()["numero"]) == ("16", 1, 3)
    # electronico hears of each on the internet list's topic: site, entidad and folio, nobody named.
    eventos_modulo = await sede_chica.rows(
        Outbox, Outbox.event_type == eventos.BOLETA_ADICIONAL_EN_MODULO, order=Outbox.id
    )
    assert [e.topic for e in eventos_modulo] == ["vmre.registro.lnere_electronica"] * 3
    datos = [json.loads(e.payload)["data"] for e in eventos_modulo]
    assert sorted((d["entidad"], d["folio"]) for d in datos) == [("14", 1), ("14", 2), ("16", 1)]
    assert {k for d in datos for k in d} == {"sede", "entidad", "folio"}


async def test_ocho_personas_a_la_vez_y_tres_boletas_entregan_tres(sede_chica: Registro) -> None:
    codigos = await asyncio.gather(
        *(entregar(sede_chica, n, entidad=str(n % 3 + 1).zfill(2)) for n in range(10, 18))
    )
    assert sorted(codigos) == [201] * 3 + [409] * 5
    assert await sede_chica.count(BoletaAdicional) == 3
    [fila] = await sede_chica.rows(BoletasSede)
    assert (fila.entregadas, fila.tope) == (3, 3)
    r = await sede_chica.client.post(
        URL, json={"clave_elector": clave(30), "entidad": "09"}, headers=personal()
    )
    assert r.json()["type"] == "/problemas/sin-boletas-adicionales"
    assert await sede_chica.count(Outbox, Outbox.event_type == eventos.BOLETA_ADICIONAL_ENTREGADA) == 3


async def test_quien_esta_en_la_lnere_vota_con_la_lista(sede_chica: Registro) -> None:
    datos = solicitud(5, modalidad="presencial", domicilio={}, telefono=None)
    datos["sede"] = "los-angeles"
    sede_chica.reloj.ajustar(centro(2024, 1, 15, 10, 0))
    folio = (await sede_chica.client.post("/v1/solicitudes", json=datos)).json()["folio"]
    sede_chica.reloj.ajustar(JORNADA)
    async with sede_chica.app.state.runtime.maker() as session, session.begin():
        await session.execute(
            update(Solicitud).where(Solicitud.folio == folio).values(estado=Estado.INSCRITA)
        )
    r = await sede_chica.client.post(
        URL, json={"clave_elector": datos["clave_elector"], "entidad": "09"}, headers=personal()
    )
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/en-la-lnere"
    assert await sede_chica.count(BoletaAdicional) == 0
    assert await sede_chica.count(BoletasSede) == 0


async def test_fuera_del_horario_de_la_sede_no_entrega(sede_chica: Registro) -> None:
    sede_chica.reloj.ajustar(centro(2024, 6, 2, 7, 30))  # 06:30 in Los Angeles: opens at 07:00
    r = await sede_chica.client.post(
        URL, json={"clave_elector": clave(2), "entidad": "09"}, headers=personal()
    )
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/sede-cerrada"
    assert "de 07:00 a 17:00, hora local" in r.json()["detail"]
    sede_chica.reloj.ajustar(centro(2024, 6, 2, 18, 0))  # 17:00 there: closed
    assert await entregar(sede_chica, 2) == 409
    assert await sede_chica.count(BoletaAdicional) == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (personal("madrid"), 403),  # staff of another site
        (personal(None), 403),  # staff with no site
        (personal(None, Rol.INE_ADMIN), 403),  # the ballots are handed at the site, by its staff
        (personal(None, Rol.AUDITOR), 403),
        ({}, 401),
    ],
)
async def test_solo_el_personal_de_la_sede_entrega(
    sede_chica: Registro, headers: dict[str, str], status: int
) -> None:
    r = await sede_chica.client.post(URL, json={"clave_elector": clave(3), "entidad": "09"}, headers=headers)
    assert r.status_code == status, r.text
    assert await sede_chica.count(BoletaAdicional) == 0
    # Reading the count: the site's staff, INE's admin and the auditor; another site's staff, no.
    assert (await sede_chica.client.get(URL, headers=personal("madrid"))).status_code == 403
    assert (await sede_chica.client.get(URL, headers=personal())).status_code == 200
    assert (await sede_chica.client.get(URL, headers=personal(None, Rol.INE_ADMIN))).status_code == 200


@pytest.mark.parametrize(
    ("cuerpo", "campo"),
    [
        ({"clave_elector": "NO-ES-UNA-CLAVE", "entidad": "09"}, "clave_elector"),
        ({"clave_elector": clave(4), "entidad": "33"}, "entidad"),
        ({"clave_elector": clave(4)}, "entidad"),
        ({"clave_elector": clave(4), "entidad": "09", "nombre": "X"}, "nombre"),
    ],
)
async def test_datos_invalidos_dicen_el_campo_y_no_cambian_nada(
    sede_chica: Registro, cuerpo: dict[str, str], campo: str
) -> None:
    r = await sede_chica.client.post(URL, json=cuerpo, headers=personal())
    assert r.status_code == 422
    assert campo in [e["campo"] for e in r.json()["errors"]]
    assert await sede_chica.count(BoletaAdicional) == 0


async def test_una_sede_que_no_existe_es_404(sede_chica: Registro, registro: Registro) -> None:
    r = await sede_chica.client.post(
        "/v1/sedes/tijuana/boletas-adicionales",
        json={"clave_elector": clave(5), "entidad": "09"},
        headers=personal("tijuana"),
    )
    assert r.status_code == 404
    # 2021's process had no in-person voting: no site at all.
    r = await registro.client.get(URL, headers=personal())
    assert r.status_code == 404
    assert "no tiene voto en persona" in r.json()["detail"]


async def inscrita(r: Registro, n: int, modalidad: str, sede: str | None, numero: int) -> str:
    """An application made during registration, then on the closed list (its state set as the close does)."""
    if sede:
        datos = solicitud(n, modalidad=modalidad, domicilio={}, telefono=None)
        datos["sede"] = sede
    else:
        datos = solicitud(n, modalidad=modalidad)
    r.reloj.ajustar(centro(2024, 1, 15, 10, 0))
    respuesta = await r.client.post("/v1/solicitudes", json=datos)
    assert respuesta.status_code == 201, respuesta.text
    r.reloj.ajustar(JORNADA)
    async with r.app.state.runtime.maker() as session, session.begin():
        await session.execute(
            update(Solicitud)
            .where(Solicitud.folio == respuesta.json()["folio"])
            .values(estado=Estado.INSCRITA, numero_lnere=numero)
        )
    return str(datos["clave_elector"])


async def test_a_la_entrada_la_consulta_dice_que_puede_hacer_cada_quien(sede_chica: Registro) -> None:
    aqui = await inscrita(sede_chica, 21, "presencial", "los-angeles", 7)
    en_madrid = await inscrita(sede_chica, 22, "presencial", "madrid", 8)
    por_internet = await inscrita(sede_chica, 23, "electronica", None, 9)
    assert await entregar(sede_chica, 24) == 201

    async def consulta(clave_elector: str, headers: dict[str, str] | None = None) -> dict[str, object]:
        r = await sede_chica.client.post(
            "/v1/sedes/los-angeles/consultas",
            json={"clave_elector": clave_elector},
            headers=headers or personal(),
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    nombre = " ".join(solicitud(21)[k] for k in ("nombre", "apellido_paterno", "apellido_materno"))
    assert await consulta(aqui) == {"situacion": "en_lista", "nombre": nombre, "entidad": "09", "numero": 7}
    # Anyone else: where they vote, never their name.
    assert await consulta(en_madrid) == {"situacion": "otra_sede", "sede": "madrid"}
    assert await consulta(por_internet) == {"situacion": "otra_modalidad", "modalidad": "electronica"}
    # An extra ballot handed here: its entidad and folio, so a lost kiosk turn can be opened again.
    assert await consulta(clave(24)) == {
        "situacion": "boleta_adicional_entregada",
        "sede": "los-angeles",
        "entidad": "09",
        "folio": 1,
    }
    # Another site's staff learn only where it was handed.
    r = await sede_chica.client.post(
        "/v1/sedes/madrid/consultas", json={"clave_elector": clave(24)}, headers=personal("madrid")
    )
    assert {k: v for k, v in r.json().items() if v is not None} == {
        "situacion": "boleta_adicional_entregada",
        "sede": "los-angeles",
    }
    assert await consulta(clave(25)) == {"situacion": "no_esta_en_la_lnere"}
    # Only the site's own staff ask; Madrid's staff learn nothing of Los Angeles' list.
    r = await sede_chica.client.post(
        "/v1/sedes/los-angeles/consultas", json={"clave_elector": aqui}, headers=personal("madrid")
    )
    assert r.status_code == 403
    assert "nombre" not in r.text
    r = await sede_chica.client.post(
        "/v1/sedes/los-angeles/consultas", json={"clave_elector": "X"}, headers=personal()
    )
    assert r.status_code == 422
    assert [e["campo"] for e in r.json()["errors"]] == ["clave_elector"]
