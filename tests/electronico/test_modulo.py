"""Voting in person at a consular site (#27), over HTTP: the site's staff open a turn, the kiosk redeems its
code for a session and the voter's credentials sealed to the site's key, the voter votes in the same ballot
box. And what an attacker tries: staff of another site, someone not on the site's list, a code used twice or
in a burst, an expired or replaced code, the site closed, a seal moved to another voter, the development key
in production. The real kiosk in Chromium: tests/electronico/test_modulo_navegador.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.credenciales.config import Settings as AjustesAutoridad
from services.credenciales.main import create_app as create_autoridad
from services.electronico import models as em
from shared.bus.envelope import Envelope
from shared.cripto import boleta as bo
from shared.cripto import sede as sello
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.events import electronico as eventos_electronico
from shared.events import registro as eventos_registro
from shared.numeros import numero_adicional
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases
from tests.support.electronico import (
    Electronico,
    ajustes_de_produccion,
    electronico_2024,
    sede_2024,
)
from tests.support.registro import PEF2024, centro

EN_LA_JORNADA = centro(2024, 6, 2, 10, 0)  # 09:00 in Los Ángeles: its site is open (07:00-17:00 local)
LA = "los-angeles"
JWK = sello.jwk_de_desarrollo(LA)  # what the kiosks of the site hold (local mode: the development key)


@pytest.fixture
async def sede(
    databases: Databases,
    offline_kafka: KafkaSettings,
    tmp_path: Path,
    token: Callable[..., dict[str, str]],
    buzon: Buzon,
) -> AsyncIterator[Electronico]:
    """The 2024 process on election day, entidad 01 open (``sede_2024``)."""
    async with electronico_2024(databases, offline_kafka, buzon, token, tmp_path, EN_LA_JORNADA) as (_, e):
        await sede_2024(e)
        yield e


def personal(e: Electronico, sede: str | None = LA, rol: str = "ine-operador") -> dict[str, str]:
    return e.token(rol, sede=sede, sub=f"operadora-{sede}")


async def turno(
    e: Electronico, numero: int, headers: dict[str, str] | None = None, entidad: str = "01"
) -> httpx.Response:
    return await e.client.post(
        f"/v1/modulo/{LA}/turnos",
        json={"entidad": entidad, "numero": numero},
        headers=personal(e) if headers is None else headers,
    )


async def canjear(e: Electronico, codigo: str) -> httpx.Response:
    return await e.client.post("/v1/modulo/turno", json={"codigo": codigo})


def slug(r: httpx.Response) -> str:
    return str(r.json()["type"]).rsplit("/", 1)[-1]


async def turnos(e: Electronico) -> int:
    return await e.count(em.Turno)


async def test_el_personal_abre_un_turno_y_en_el_modulo_la_persona_vota_con_sus_credenciales_selladas(
    sede: Electronico,
) -> None:
    e = sede
    elecciones = {x["uuid"]: x for x in await e.elecciones("01")}
    r = await turno(e, 1)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    assert sorted(r.json()["elecciones"]) == sorted(x["nombre"] for x in elecciones.values())
    codigo = r.json()["codigo"]

    r = await canjear(
        e, codigo.lower().replace("-", " ")
    )  # as typed on the kiosk: case and spaces do not matter
    assert r.status_code == 200, r.text
    canje = r.json()
    assert (canje["sede"], canje["entidad"], canje["numero"]) == (LA, "01", 1)
    assert set(canje["credenciales"]) == set(elecciones)
    sesion = {"Authorization": f"Bearer {canje['sesion']}"}

    # The kiosk opens each credential with the site's key; the server only ever had the seal.
    async with e.app.state.runtime.maker() as s:
        guardadas = dict(
            (
                await s.execute(
                    select(em.Credencial.eleccion, em.Credencial.sellada).where(em.Credencial.numero == 1)
                )
            )
            .tuples()
            .all()
        )
    for uuid, sellada in canje["credenciales"].items():
        assert guardadas[uuid] == sellada
        privada = sello.abrir(JWK, sellada, sello.contexto(LA, uuid, 1))
        assert privada not in json.dumps(canje)
        # Moved to another voter or election, or opened with another site's key, the seal does not open.
        with pytest.raises(sello.SelloInvalido):
            sello.abrir(JWK, sellada, sello.contexto(LA, uuid, 2))
        with pytest.raises(sello.SelloInvalido):
            sello.abrir(sello.generar("chicago")[0], sellada, sello.contexto(LA, uuid, 1))
        detalle = (await e.client.get(f"/v1/elecciones/{uuid}")).json()
        eleccion = EleccionBelenios.leer(detalle["eleccion_json"].encode())
        voto = [[int(i == 0) for i in range(len(detalle["opciones"]))]]
        r = await e.client.post(
            f"/v1/elecciones/{uuid}/boletas",
            content=bo.cifrar(eleccion, privada, voto).encode(),
            headers={**sesion, "content-type": "application/json"},
        )
        assert r.status_code == 201, r.text
    assert await e.count(em.Boleta) == 2

    # The kiosk closes the session: it no longer works; the code was used; the voter gets no other turn.
    assert (await e.client.delete("/v1/acceso", headers=sesion)).status_code == 204
    assert (await e.client.get("/v1/votante", headers=sesion)).status_code == 401
    r = await canjear(e, codigo)
    assert (r.status_code, slug(r)) == (401, "turno-invalido")
    r = await turno(e, 1)
    assert (r.status_code, slug(r)) == (409, "ya-voto")
    assert await turnos(e) == 0


async def test_solo_el_personal_de_la_sede_abre_turnos(sede: Electronico) -> None:
    e = sede
    for headers, estado in (
        (personal(e, "chicago"), 403),  # staff of another site
        (personal(e, None), 403),  # staff with no site
        (personal(e, LA, "ine-admin"), 403),
        (personal(e, LA, "auditor"), 403),
        (e.token("opl", entidad="01"), 403),
        ({}, 401),
        ({"Authorization": "Bearer no-es-un-token"}, 401),
    ):
        r = await turno(e, 1, headers)
        assert r.status_code == estado, (headers, r.text)
    r = await e.client.post(
        "/v1/modulo/no-existe/turnos", json={"entidad": "01", "numero": 1}, headers=personal(e, "no-existe")
    )
    assert r.status_code == 404
    assert await turnos(e) == 0


async def test_quien_no_esta_en_la_lista_de_la_sede_recibe_el_mismo_404(sede: Electronico) -> None:
    e = sede
    respuestas = []
    for numero, entidad in ((3, "01"), (4, "01"), (99, "01"), (1, "02")):  # Chicago, internet, nobody, 02
        r = await turno(e, numero, entidad=entidad)
        assert r.status_code == 404, r.text
        respuestas.append(r.json())
    assert {x["type"].rsplit("/", 1)[-1] for x in respuestas} == {"fuera-de-la-lista-de-la-sede"}
    for x in respuestas:  # where the person votes is not said
        assert "chicago" not in x["detail"].lower()
        assert "internet" not in x["detail"].lower()
    r = await turno(e, 0)
    assert r.status_code == 422
    assert await turnos(e) == 0


async def test_un_codigo_abre_una_sola_sesion_aun_en_rafaga(sede: Electronico) -> None:
    e = sede
    codigo = (await turno(e, 2)).json()["codigo"]
    respuestas = await asyncio.gather(*(canjear(e, codigo) for _ in range(10)))
    assert sorted(r.status_code for r in respuestas) == [200] + [401] * 9
    async with e.app.state.runtime.maker() as s:
        v = (await s.execute(select(em.Votante).where(em.Votante.numero == 2))).scalar_one()
        sesiones = (await s.execute(select(em.Sesion).where(em.Sesion.votante_id == v.id))).scalars().all()
    assert len(sesiones) == 1


async def test_el_codigo_vence_y_un_turno_nuevo_anula_el_anterior(sede: Electronico) -> None:
    e = sede
    primero = (await turno(e, 1)).json()["codigo"]
    segundo = (await turno(e, 1)).json()["codigo"]
    assert (await canjear(e, primero)).status_code == 401
    e.reloj.avanzar(dt.timedelta(minutes=11))
    r = await canjear(e, segundo)
    assert (r.status_code, slug(r)) == (401, "turno-invalido")
    for basura in ("AAAAA-AAAAA", "x" * 20):
        assert (await canjear(e, basura)).status_code == 401
    assert (await canjear(e, "corto")).status_code == 422
    assert await e.count(em.Sesion) == 0


async def test_fuera_del_horario_de_la_sede_no_se_abre_turno(sede: Electronico) -> None:
    e = sede
    for hora in (centro(2024, 6, 2, 7, 59), centro(2024, 6, 2, 18, 0), centro(2024, 6, 1, 12, 0)):
        e.reloj.ajustar(hora)
        r = await turno(e, 1)
        assert (r.status_code, slug(r)) == (409, "sede-cerrada"), hora
        assert "07:00 a 17:00, hora local" in r.json()["detail"]
    assert await turnos(e) == 0


def test_produccion_exige_la_clave_de_cada_sede_y_rechaza_la_de_desarrollo() -> None:
    produccion = ajustes_de_produccion()
    with pytest.raises(ValueError, match="clave de desarrollo de la sede los-angeles"):
        AjustesAutoridad(**produccion, claves_sedes={LA: sello.PUBLICA_DE_DESARROLLO})
    with pytest.raises(ValueError, match="punto P-256"):
        AjustesAutoridad(**produccion, claves_sedes={LA: "no-es-una-clave"})
    publica = sello.generar(LA)[1]
    ajustes = AjustesAutoridad(**produccion, claves_sedes={LA: publica})
    with pytest.raises(ValueError, match="sin la clave pública de las sedes atlanta"):
        create_autoridad(ajustes, proceso=PEF2024)


async def test_turnos_abiertos_a_la_vez_dejan_un_solo_codigo_vivo(sede: Electronico) -> None:
    """Two staff members open a turn for the same person at once: one live code remains (the others are
    replaced or refused with 409), so one kiosk session at the most."""
    e = sede
    respuestas = await asyncio.gather(*(turno(e, 2) for _ in range(6)))
    assert {r.status_code for r in respuestas} <= {201, 409}
    codigos = [r.json()["codigo"] for r in respuestas if r.status_code == 201]
    assert codigos
    assert await turnos(e) == 1
    canjes = [await canjear(e, c) for c in codigos]
    assert sorted(r.status_code for r in canjes) == [200] + [401] * (len(codigos) - 1)


def adicional(folio: int, entidad: str = "01", sede: str = LA) -> Envelope:
    """registro's event when ``sede`` hands its ``folio``-th extra ballot of ``entidad`` (#27)."""
    return Envelope.new(
        event_type=eventos_registro.BOLETA_ADICIONAL_EN_MODULO,
        source="registro",
        aggregate_id=f"{sede}/{entidad}",
        data=eventos_registro.BoletaAdicionalEnModulo(sede=sede, entidad=entidad, folio=folio),
    )


async def turno_adicional(e: Electronico, folio: int, sede: str = LA, entidad: str = "01") -> httpx.Response:
    return await e.client.post(
        f"/v1/modulo/{sede}/turnos", json={"entidad": entidad, "adicional": folio}, headers=personal(e, sede)
    )


async def test_con_una_boleta_adicional_se_vota_en_el_modulo_la_presidencia_con_una_credencial_de_reserva(
    sede: Electronico,
) -> None:
    e = sede
    elecciones = {x["cargo"]: x for x in await e.elecciones("01")}
    presidencia, senaduria = elecciones["presidencia"], elecciones["senaduria"]
    # The signed lists, fixed at the opening: the national office carries every site's reserve for the
    # entidad (23 sites × 100 in 2024), the entidad's own office only its four voters of the LNERE.
    reserva = sum(s.credenciales_adicionales for s in PEF2024.sedes.values())
    assert reserva == 2300
    actas = {}
    for cargo, x in elecciones.items():
        async with e.app.state.runtime.maker() as s:
            actas[cargo] = (await s.get(em.Eleccion, x["uuid"])).lista_credenciales["acta"]
    assert (actas["presidencia"]["credenciales"], actas["presidencia"]["reserva_sedes"]) == (
        4 + reserva,
        reserva,
    )
    assert actas["senaduria"]["credenciales"] == 4
    assert "reserva_sedes" not in actas["senaduria"]

    # Before registro says the site handed it, the folio opens nothing: the same 404 as anyone off the list.
    r = await turno_adicional(e, 1)
    assert (r.status_code, slug(r)) == (404, "fuera-de-la-lista-de-la-sede")
    evento = adicional(1)
    assert await e.entregar(evento) == 1
    assert (
        await e.entregar(evento, adicional(1)) == 1
    )  # a replay is skipped, the same folio again adds nobody
    numero = numero_adicional(PEF2024, LA, 1)
    assert await e.count(em.Votante, em.Votante.numero == numero) == 1
    for otra in (
        await turno_adicional(e, 2),  # a folio the site has not handed
        await turno_adicional(e, 1, entidad="09"),  # another entidad's folio 1
        await turno_adicional(e, 101),  # past the site's reserve
        await turno_adicional(e, 1, sede="chicago"),  # Chicago (open) never handed its folio 1 of 01
    ):
        assert (otra.status_code, slug(otra)) == (404, "fuera-de-la-lista-de-la-sede"), otra.text
    r = await e.client.post(
        f"/v1/modulo/{LA}/turnos", json={"entidad": "01", "adicional": 1}, headers=personal(e, "chicago")
    )
    assert r.status_code == 403
    for cuerpo in (
        {"entidad": "01"},
        {"entidad": "01", "numero": 1, "adicional": 1},
        {"entidad": "01", "adicional": 0},
    ):
        r = await e.client.post(f"/v1/modulo/{LA}/turnos", json=cuerpo, headers=personal(e))
        assert r.status_code == 422, cuerpo
    assert await turnos(e) == 0

    r = await turno_adicional(e, 1)
    assert r.status_code == 201, r.text
    assert r.json()["elecciones"] == [presidencia["nombre"]]  # the national office only
    canje = (await canjear(e, r.json()["codigo"])).json()
    assert (canje["sede"], canje["entidad"], canje["numero"]) == (LA, "01", numero)
    assert numero < 0  # never a number of the LNERE
    assert list(canje["credenciales"]) == [presidencia["uuid"]]
    sesion = {"Authorization": f"Bearer {canje['sesion']}"}
    uuid = presidencia["uuid"]
    privada = sello.abrir(JWK, canje["credenciales"][uuid], sello.contexto(LA, uuid, numero))
    detalle = (await e.client.get(f"/v1/elecciones/{uuid}")).json()
    eleccion = EleccionBelenios.leer(detalle["eleccion_json"].encode())
    voto = [[int(i == 1) for i in range(len(detalle["opciones"]))]]
    r = await e.client.post(
        f"/v1/elecciones/{uuid}/boletas",
        content=bo.cifrar(eleccion, privada, voto).encode(),
        headers={**sesion, "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    # Its session holds no other election: a Senaduría ballot with the credential it holds is refused.
    n = len((await e.client.get(f"/v1/elecciones/{senaduria['uuid']}")).json()["opciones"])
    ajena = bo.cifrar(await e.eleccion_belenios(senaduria["uuid"]), privada, [[1] + [0] * (n - 1)])
    r = await e.client.post(
        f"/v1/elecciones/{senaduria['uuid']}/boletas",
        content=ajena.encode(),
        headers={**sesion, "content-type": "application/json"},
    )
    assert (r.status_code, slug(r)) == (403, "fuera-de-lista"), r.text
    assert await e.count(em.Boleta) == 1
    [emitido] = [
        json.loads(o.payload)["data"]
        for o in await e.rows(em.Outbox, em.Outbox.event_type == eventos_electronico.VOTO_EMITIDO)
    ]
    assert (emitido["numero"], emitido["sede"]) == (numero, LA)  # counted with the site's votes
    r = await turno_adicional(e, 1)
    assert (r.status_code, slug(r)) == (409, "ya-voto")
