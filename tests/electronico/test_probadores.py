"""The drills' outside testers (#27: OPL staff, observers), over HTTP with electronico and the credential
authority: registro's list (its events) gives each tester an account and, for the drills of its entidad, a
drill credential; never one of the real election, where the ballot box refuses them. A drill's list waits for
the testers electronico counted when it was created, whatever order the events arrive in. The upload itself:
tests/registro/test_probadores.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from services.credenciales import models as ca
from services.electronico import models as em
from shared.bus.envelope import Envelope
from shared.events import electronico as eventos_electronico
from shared.events import registro as eventos_registro
from tests.support.electronico import Electronico, _aplicar, bombear, inscrito


def probador(n: int, entidad: str = "09") -> Envelope:
    return Envelope.new(
        event_type=eventos_registro.PROBADOR_INSCRITO,
        source="registro",
        aggregate_id=f"{entidad}-probador-{n}",
        data=eventos_registro.ProbadorInscrito(
            entidad=entidad, numero=-n, email=f"probador{n}@example.org", telefono="+525512345678"
        ),
    )


async def simulacro(e: Electronico, entidad: str = "09") -> list[dict[str, Any]]:
    r = await e.client.post(
        "/v1/simulacros",
        json={"entidad": entidad, "inicio": "2021-05-01T00:00:00Z", "fin": "2021-05-30T00:00:00Z"},
        headers=e.token("ine-admin"),
    )
    assert r.status_code == 201, r.text
    return list(r.json())


async def lista_de(e: Electronico, uuid: str) -> dict[str, Any] | None:
    async with e.autoridad.state.runtime.maker() as s:
        x = await s.get(ca.Eleccion, uuid)
        return None if x is None or x.lista is None else dict(x.lista["acta"])


async def test_un_probador_vota_en_el_simulacro_y_nunca_en_la_eleccion_real(
    abierta: tuple[Electronico, str],
) -> None:
    e, real = abierta  # 09 open with four voters of its LNERE
    await e.entregar(probador(1), probador(2))
    # A tester enrolled before an entidad's real election exists gets no credential for it either.
    await e.entregar(probador(3, "14"), inscrito(1, "14"))
    async with e.autoridad.state.runtime.maker() as s:
        reales = (
            (await s.execute(select(ca.Eleccion.uuid).where(ca.Eleccion.entidad == "14"))).scalars().all()
        )
        assert len(reales) == 1
        numeros = (
            (await s.execute(select(ca.Credencial.numero).where(ca.Credencial.eleccion == reales[0])))
            .scalars()
            .all()
        )
    assert numeros == [1]

    [sim] = await simulacro(e)
    async with e.app.state.runtime.maker() as s:
        [preparada] = [
            o
            for o in (await s.execute(select(em.Outbox))).scalars()
            if o.event_type == eventos_electronico.ELECCION_PREPARADA and sim["uuid"] in o.payload
        ]
    assert json.loads(preparada.payload)["data"]["probadores"] == 2  # electronico's count of 09's testers
    await e.abrir(sim["uuid"])
    acta = await lista_de(e, sim["uuid"])
    assert acta is not None
    assert (acta["credenciales"], acta["lnere_electronica"], acta["probadores"]) == (6, 4, 2)
    real_acta = await lista_de(e, real)
    assert real_acta is not None
    assert (real_acta["credenciales"], "probadores" in real_acta) == (4, False)

    e.cuentas.clear()
    await e.cuentas_del_buzon()
    probadores = sorted((c for u, c in e.cuentas.items() if u.startswith("T09")), key=lambda c: c.usuario)
    assert len(probadores) == 2
    t = probadores[0]
    assert list(t.credenciales) == [sim["nombre"]]  # the drill's credential only
    t = await e.primer_acceso_e_ingreso(t)
    votante = (await e.client.get("/v1/votante", headers=t.headers)).json()
    assert [x["uuid"] for x in votante["elecciones"]] == [sim["uuid"]]
    assert (await e.votar(sim["uuid"], t, await e.boleta(sim["uuid"], t, "PAN"))).status_code == 201
    # The real election: with the drill's credential (all it has), the box refuses it.
    t.credenciales[(await e.client.get(f"/v1/elecciones/{real}")).json()["nombre"]] = t.credenciales[
        sim["nombre"]
    ]
    r = await e.votar(real, t, await e.boleta(real, t, "PAN"))
    assert (r.status_code, r.json()["type"].rsplit("/", 1)[-1]) == (403, "fuera-de-lista")
    participacion = (await e.client.get("/v1/participacion")).json()
    assert [(p["simulacro"], p["votos"]) for p in participacion] == [(True, 1)]


async def test_la_lista_del_simulacro_espera_a_los_probadores_que_conto_electronico(
    abierta: tuple[Electronico, str],
) -> None:
    """registro's tester reaches electronico first; the drill is created; the authority hears of the drill
    before the tester: it does not sign a list without the tester's credential, and signs once it has it."""
    e, _ = abierta
    tarde = probador(7)
    assert await _aplicar(e.app, "electronico.votantes", [tarde]) == 1
    [sim] = await simulacro(e)
    await bombear(e.app, e.autoridad)
    assert await lista_de(e, sim["uuid"]) is None  # 4 of the 5 credentials it waits for
    assert await _aplicar(e.autoridad, "credenciales.credenciales", [tarde]) == 1
    await bombear(e.app, e.autoridad)
    acta = await lista_de(e, sim["uuid"])
    assert acta is not None
    assert (acta["credenciales"], acta["probadores"]) == (5, 1)
    await e.abrir(sim["uuid"])  # electronico got the five: the drill opens


async def test_el_informe_del_simulacro_da_participacion_por_hora_tiempo_para_votar_y_errores(
    abierta: tuple[Electronico, str],
) -> None:
    e, real = abierta
    await e.entregar(probador(1), probador(2))
    [sim] = await simulacro(e)
    await e.abrir(sim["uuid"])
    e.cuentas.clear()
    await e.cuentas_del_buzon()
    uuid, nombre = sim["uuid"], sim["nombre"]
    t1, t2 = sorted((c for u, c in e.cuentas.items() if u.startswith("T09")), key=lambda c: c.usuario)
    a = sorted((c for u, c in e.cuentas.items() if u.startswith("V09")), key=lambda c: c.usuario)[0]
    inicio = e.reloj.ahora()
    # A tester takes 90 s from login to ballot; a voter of the list, 30 s, then tries a second ballot.
    t1 = await e.primer_acceso_e_ingreso(t1)
    e.reloj.ajustar(inicio + dt.timedelta(seconds=90))
    assert (await e.votar(uuid, t1, await e.boleta(uuid, t1, "PAN"))).status_code == 201
    a = await e.primer_acceso_e_ingreso(a)
    e.reloj.ajustar(inicio + dt.timedelta(seconds=120))
    assert (await e.votar(uuid, a, await e.boleta(uuid, a, "MORENA"))).status_code == 201
    assert (await e.votar(uuid, a, await e.boleta(uuid, a, "PRI"))).status_code == 409
    # The other tester signs with a credential that is not theirs: the box refuses it.
    t2 = await e.primer_acceso_e_ingreso(t2)
    t2.credenciales[nombre] = t1.credenciales[nombre]
    r = await e.votar(uuid, t2, await e.boleta(uuid, t2, "PAN"))
    assert r.status_code == 422, r.text
    # A refusal in the real election is not the drill's.
    assert (await e.votar(real, t2, await e.boleta(uuid, t2, "PAN"))).status_code == 403

    r = await e.client.get("/v1/simulacros/informe", headers=e.token("auditor"))
    assert r.status_code == 200, r.text
    [informe] = r.json()
    assert informe["eleccion"] == uuid
    assert informe["credenciales"] == {"lnere": 4, "probadores": 2}
    assert informe["votos"] == {"total": 2, "lnere": 1, "probadores": 1}
    assert informe["participacion"] == "33.33"
    assert informe["por_hora"] == [{"hora": "2021-05-25T10:00:00-05:00", "votos": 2}]
    assert informe["tiempo_para_votar"] == {"medidos": 2, "mediana_s": 60.0, "p90_s": 84.0, "maximo_s": 90.0}
    assert informe["errores"] == {"boleta-invalida": 1, "ya-voto": 1}
    assert "MORENA" not in r.text  # counts only, never a choice
    assert "PAN" not in r.text

    # Who reads it: INE and auditors all; an OPL its own entidad's only.
    assert (await e.client.get("/v1/simulacros/informe", headers=e.token("ine-admin"))).json() == [informe]
    propio = await e.client.get("/v1/simulacros/informe", headers=e.token("opl", entidad="09"))
    assert propio.json() == [informe]
    assert (await e.client.get("/v1/simulacros/informe", headers=e.token("opl", entidad="16"))).json() == []
    ajeno = await e.client.get(
        "/v1/simulacros/informe", params={"entidad": "09"}, headers=e.token("opl", entidad="16")
    )
    assert ajeno.status_code == 403
    for headers, estado in ((e.token("ine-operador"), 403), (t1.headers, 401), ({}, 401)):
        r = await e.client.get("/v1/simulacros/informe", headers=headers)
        assert r.status_code == estado, (headers, r.text)


async def test_una_rafaga_en_el_simulacro_da_un_voto_y_cuenta_cada_rechazo(
    abierta: tuple[Electronico, str],
) -> None:
    """Five ballots of the same tester at once: one is stored, four get 409, and the report counts the four
    (a refusal after a lost race to store the ballot included: its request lets go of the database first)."""
    e, _ = abierta
    await e.entregar(probador(1))
    [sim] = await simulacro(e)
    await e.abrir(sim["uuid"])
    e.cuentas.clear()
    await e.cuentas_del_buzon()
    [t] = [c for u, c in e.cuentas.items() if u.startswith("T09")]
    t = await e.primer_acceso_e_ingreso(t)
    boletas = [await e.boleta(sim["uuid"], t, o) for o in ("PAN", "PRI", "MORENA", "MC", "PT")]
    respuestas = await asyncio.gather(*(e.votar(sim["uuid"], t, b) for b in boletas))
    assert sorted(r.status_code for r in respuestas) == [201, 409, 409, 409, 409]
    [informe] = (await e.client.get("/v1/simulacros/informe", headers=e.token("auditor"))).json()
    assert informe["votos"]["probadores"] == 1
    assert informe["errores"] == {"ya-voto": 4}
