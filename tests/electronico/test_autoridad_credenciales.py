"""The credential authority apart from the voting server (issue #22, part 4), attacked over the event stream
and over HTTP: electronico never holds a private credential, opens an election only with the list the
authority signed, and refuses a list signed by anyone else, an altered one, or an extra credential slipped in
beside it. The authority publishes how many credentials each election has, next to the LNERE's count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.credenciales import models as ca
from services.electronico.models import Credencial, Eleccion
from shared import firma
from shared.bus.envelope import Envelope
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodios
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.cripto.eleccion import (
    credencial_publica,
    generar_credencial,
    huella_credenciales,
    ordenar_credenciales,
)
from shared.cripto.urna import Urna
from shared.events import credenciales as eventos
from tests.support.electronico import Electronico, inscrito
from vmre.cli import main

OTRA_SEMILLA = "7" * 64  # an attacker's key (or a compromised electronico's own)


async def _preparada(e: Electronico, entidad: str = "09", n: int = 3) -> str:
    """n internet voters of the entidad, the list closed: the authority signed the election's list."""
    await e.entregar(*(inscrito(i, entidad) for i in range(1, n + 1)))
    await e.cerrar_lnere(entidad)
    return str((await e.elecciones(entidad))[0]["uuid"])


async def _lista(e: Electronico, uuid: str) -> dict[str, object]:
    async with e.app.state.runtime.maker() as s:
        fila = await s.get(Eleccion, uuid)
        assert fila is not None
        return dict(fila.lista_credenciales or {})


def _evento_lista(uuid: str, documento: dict[str, object]) -> Envelope:
    return Envelope.new(
        event_type=eventos.LISTA_FIRMADA,
        source="credenciales",
        aggregate_id=uuid,
        data=eventos.ListaFirmada(eleccion=uuid, entidad="09", documento=documento),
    )


@pytest.mark.slow
async def test_la_autoridad_emite_publica_y_firma_la_lista(electronico: Electronico) -> None:
    e = electronico
    await e.entregar(*(inscrito(i) for i in range(1, 4)))
    autoridad = e.autoridad.state.runtime
    uuid = str((await e.elecciones("09"))[0]["uuid"])
    # Before the LNERE closes, the authority does not know how many voters there are: no signed list.
    async with _cliente(e) as c:
        r = await c.get(f"/v1/elecciones/{uuid}/lista")
        assert r.status_code == 404
        assert "aún no se cierra la LNERE" in r.json()["detail"]
    await e.cerrar_lnere("09")
    async with _cliente(e) as c:
        resumen = [x for x in (await c.get("/v1/elecciones")).json() if x["eleccion"] == uuid]
        lista = (await c.get(f"/v1/elecciones/{uuid}/lista")).json()
        clave = (await c.get("/v1/clave-firma")).json()["clave_verificacion"]
    assert [(x["credenciales"], x["lnere_electronica"]) for x in resumen] == [(3, 3)]
    assert firma.verificar(lista, clave)
    assert lista["acta"]["credenciales"] == 3
    # The authority's key is its own: not electronico's.
    assert clave != (await e.client.get("/v1/clave-firma")).json()["clave_verificacion"]
    # What electronico keeps is exactly that list and the three public credentials it fixes.
    assert await _lista(e, uuid) == lista
    async with e.app.state.runtime.maker() as s:
        publicas = (await s.execute(select(Credencial.publica).where(Credencial.eleccion == uuid))).scalars()
        ordenadas = sorted(publicas, key=lambda p: gr.elemento(p))
    assert huella_credenciales([gr.s(gr.elemento(p)) for p in ordenadas]) == lista["acta"]["huella_lista"]
    # A replay of every event changes nothing: no second credential, no second message.
    async with autoridad.maker() as s:
        antes = (
            await s.scalar(select(func.count()).select_from(ca.Credencial)),
            await s.scalar(select(func.count()).select_from(ca.Notificacion)),
        )
    await e.entregar(*(inscrito(i) for i in range(1, 4)))
    await e.cerrar_lnere("09")
    async with autoridad.maker() as s:
        despues = (
            await s.scalar(select(func.count()).select_from(ca.Credencial)),
            await s.scalar(select(func.count()).select_from(ca.Notificacion)),
        )
    assert antes == despues
    assert antes[0] >= 3
    # The opening act carries the authority's signed list; the account message carries no credential.
    acta = await e.abrir(uuid)
    assert acta["acta"]["lista_credenciales"] == lista
    assert acta["acta"]["credenciales"] == 3


async def test_una_lista_firmada_por_otro_no_se_acepta(electronico: Electronico) -> None:
    e = electronico
    await e.entregar(*(inscrito(i) for i in range(1, 3)))
    uuid = str((await e.elecciones("09"))[0]["uuid"])
    # An attacker on the bus (or electronico itself) signs a list with its own key: refused, not kept.
    forjada = firma.firmar(
        OTRA_SEMILLA,
        {"documento": "x", "eleccion": uuid, "entidad": "09", "credenciales": 2, "huella_lista": "0" * 64},
    )
    await e.entregar(_evento_lista(uuid, forjada))
    assert await _lista(e, uuid) == {}
    r = await e.client.post(f"/v1/elecciones/{uuid}/apertura", headers=e.token("ine-admin"))
    assert r.status_code == 409
    assert "Falta la lista de credenciales firmada" in r.json()["detail"]


async def test_una_lista_alterada_no_se_acepta(electronico: Electronico) -> None:
    e = electronico
    await e.entregar(*(inscrito(i) for i in range(1, 3)))
    uuid = str((await e.elecciones("09"))[0]["uuid"])
    autentica = firma.firmar(
        e.autoridad.state.settings.clave_firma.get_secret_value(),
        {"documento": "x", "eleccion": uuid, "entidad": "09", "credenciales": 2, "huella_lista": "0" * 64},
    )
    alterada = json.loads(json.dumps(autentica))
    alterada["acta"]["credenciales"] = 3  # one more, with the authority's signature kept
    await e.entregar(_evento_lista(uuid, alterada))
    assert await _lista(e, uuid) == {}
    # The authority's signature on another election's list does not open this one either.
    otra = firma.firmar(
        e.autoridad.state.settings.clave_firma.get_secret_value(),
        {
            "documento": "x",
            "eleccion": "otra" + uuid[4:],
            "entidad": "09",
            "credenciales": 2,
            "huella_lista": "0",
        },
    )
    await e.entregar(_evento_lista(uuid, otra))
    assert await _lista(e, uuid) == {}


@pytest.mark.slow
@pytest.mark.parametrize("como", ["extra", "cambiada"])
async def test_una_credencial_de_mas_o_cambiada_impide_abrir(electronico: Electronico, como: str) -> None:
    """A compromised electronico (or the bus) adds a credential of its own — to vote for someone who
    abstains — or swaps a voter's: the credentials no longer hash to the signed list; the election does not
    open, and nothing of it is published."""
    e = electronico
    uuid = await _preparada(e)
    propia = gr.s(credencial_publica(uuid, generar_credencial()))
    if como == "extra":
        lote = [eventos.CredencialPublica(numero=99, publica=propia)]
        # Slipped in over the bus (unsigned, like any batch): stored, and then the list does not match.
        await e.entregar(
            Envelope.new(
                event_type=eventos.CREDENCIALES_EMITIDAS,
                source="credenciales",
                aggregate_id=uuid,
                data=eventos.CredencialesEmitidas(eleccion=uuid, entidad="09", credenciales=lote),
            )
        )
        assert await e.count(Credencial, Credencial.eleccion == uuid) == 4
    else:
        async with e.app.state.runtime.maker() as s, s.begin():
            fila = await s.get(Credencial, (uuid, 1))
            assert fila is not None
            fila.publica = propia
    await e.ceremonia(uuid)
    r = await e.client.post(f"/v1/elecciones/{uuid}/apertura", headers=e.token("ine-admin"))
    assert r.status_code == 409, r.text
    assert "no son las de la lista firmada por la autoridad" in r.json()["detail"]
    assert (await e.client.get(f"/v1/elecciones/{uuid}")).json()["estado"] == "preparacion"
    assert (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).status_code != 200


@pytest.mark.slow
async def test_un_lote_que_llega_despues_de_la_lista_cuenta(electronico: Electronico) -> None:
    """A broker that restarts empty gets the authority's history again, and a batch may then arrive after the
    signed list (seen in tests/e2e/test_fallas.py): it still counts, and the election opens with the list."""
    e = electronico
    uuid = await _preparada(e, n=2)
    async with e.app.state.runtime.maker() as s, s.begin():
        fila = await s.get(Credencial, (uuid, 2))
        assert fila is not None
        lote = [eventos.CredencialPublica(numero=2, publica=fila.publica)]
        await s.delete(fila)  # voter 2's batch has not arrived yet
    await e.entregar(
        Envelope.new(
            event_type=eventos.CREDENCIALES_EMITIDAS,
            source="credenciales",
            aggregate_id=uuid,
            data=eventos.CredencialesEmitidas(eleccion=uuid, entidad="09", credenciales=lote),
        )
    )
    assert await e.count(Credencial, Credencial.eleccion == uuid) == 2
    acta = await e.abrir(uuid)
    assert acta["acta"]["credenciales"] == 2


def _cliente(e: Electronico):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=e.autoridad), base_url="http://autoridad")


@pytest.mark.slow
async def test_vmre_verificar_ve_una_credencial_que_agrego_el_servidor(
    electronico: Electronico, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A compromised electronico publishes a record with one credential of its own (it would vote with it for
    someone who abstains). Belenios' checks cannot see it; the authority's signed list can."""
    e = electronico
    uuid = await _preparada(e)
    await e.abrir(uuid)
    async with _cliente(e) as c:
        lista = tmp_path / "lista.json"
        lista.write_bytes((await c.get(f"/v1/elecciones/{uuid}/lista")).content)
        clave = (await c.get("/v1/clave-firma")).json()["clave_verificacion"]
    honesto = tmp_path / "honesto.bel"
    honesto.write_bytes((await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content)
    opciones = ["--lista-credenciales", str(lista), "--clave-autoridad", clave]
    assert main(["verificar", str(honesto), *opciones]) == 0
    assert "credenciales: 3, las de la lista firmada por la autoridad" in capsys.readouterr().out

    async with e.app.state.runtime.maker() as s:
        fila = await s.get(Eleccion, uuid)
        assert fila
        assert fila.eleccion_json
        assert fila.custodios_json
        assert fila.credenciales_json
        eleccion = EleccionBelenios.leer(fila.eleccion_json.encode())
        custodios = Custodios.leer(json.loads(fila.custodios_json))
        propia = credencial_publica(uuid, generar_credencial())
        todas = [gr.elemento(c) for c in json.loads(fila.credenciales_json)] + [propia]
        forjado = tmp_path / "forjado.bel"
        forjado.write_bytes(
            Urna.abrir(eleccion, custodios, ordenar_credenciales(todas), fila.marca).archivo.bytes()
        )
    assert main(["verificar", str(forjado)]) == 0  # a valid Belenios record: nothing else sees it
    capsys.readouterr()
    assert main(["verificar", str(forjado), *opciones]) == 1
    salida = capsys.readouterr().out
    assert "FALLA en lista de credenciales" in salida
    assert "4 credenciales públicas" in salida
    assert "agregó, quitó o cambió credenciales" in salida
    # A list signed by anyone else (or checked against another key) fails too.
    otra = firma.clave_verificacion(OTRA_SEMILLA)
    assert (
        main(["verificar", str(honesto), "--lista-credenciales", str(lista), "--clave-autoridad", otra]) == 1
    )
    assert "la firma no es de la autoridad de credenciales" in capsys.readouterr().out


@pytest.mark.slow
async def test_vmre_verificar_un_voto_no_admite_credenciales_con_peso(
    electronico: Electronico, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Belenios allows weighted credentials; one vote per citizen does not: a credential weighing 2 is two
    votes for one person."""
    e = electronico
    uuid = await _preparada(e)
    await e.abrir(uuid)
    async with e.app.state.runtime.maker() as s:
        fila = await s.get(Eleccion, uuid)
        assert fila
        assert fila.eleccion_json
        assert fila.custodios_json
        assert fila.credenciales_json
        eleccion = EleccionBelenios.leer(fila.eleccion_json.encode())
        custodios = Custodios.leer(json.loads(fila.custodios_json))
        credenciales = json.loads(fila.credenciales_json)
    credenciales[0] += ",2"
    pesado = tmp_path / "pesado.bel"
    pesado.write_bytes(Urna.abrir(eleccion, custodios, credenciales, fila.marca).archivo.bytes())
    assert main(["verificar", str(pesado)]) == 0  # Belenios' rule: weights are allowed
    capsys.readouterr()
    assert main(["verificar", "--un-voto", str(pesado)]) == 1
    assert "credenciales con peso 2" in capsys.readouterr().out
