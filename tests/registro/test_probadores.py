"""The drills' outside testers (#27): the list ``ine-admin`` uploads to registro, over HTTP. Each new e-mail
gets a negative number (never the LNERE's) and one event for electronico and the credential authority, with
its contact and no name; the same list again, or a burst of it, changes nothing; other roles and bad rows
change nothing. What they can vote: tests/electronico/test_probadores.py."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import text

from services.registro.models import Outbox, Probador
from shared.auth import Rol, mint_token
from shared.events import registro as eventos
from shared.settings import AuthSettings
from tests.support.registro import Registro

URL = "/v1/probadores"


def token(rol: Rol = Rol.INE_ADMIN, entidad: str | None = None, partido: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AuthSettings(), rol, entidad=entidad, partido=partido)}"}


def fila(n: int, entidad: str = "09", **cambios: str) -> dict[str, str]:
    return {
        "entidad": entidad,
        "nombre": f"Observadora de Prueba {n}",
        "email": f"observadora{n}@example.org",
        "telefono": "+525512345678",
        **cambios,
    }


async def cargar(
    r: Registro, filas: list[dict[str, str]], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await r.client.post(URL, json={"probadores": filas}, headers=headers or token())


async def eventos_de(r: Registro) -> list[dict[str, object]]:
    filas = await r.rows(Outbox, Outbox.event_type == eventos.PROBADOR_INSCRITO, order=Outbox.id)
    assert {f.topic for f in filas} <= {"vmre.registro.lnere_electronica"}
    return [json.loads(f.payload)["data"] for f in filas]


async def test_ine_admin_carga_la_lista_y_cada_probador_recibe_un_numero_fuera_de_la_lnere(
    registro: Registro,
) -> None:
    r = await cargar(registro, [fila(1), fila(2), fila(3, "16")])
    assert r.status_code == 200, r.text
    assert r.json() == {"inscritos": 3, "ya_estaban": 0, "por_entidad": {"09": 2, "16": 1}}
    datos = await eventos_de(registro)
    assert sorted(d["numero"] for d in datos) == [-3, -2, -1]  # type: ignore[type-var]
    assert {k for d in datos for k in d} == {"entidad", "numero", "email", "telefono"}  # no name
    # At rest, the name, the e-mail and the phone are encrypted: plain SQL shows none of them.
    async with registro.app.state.runtime.engine.connect() as conn:
        crudo = " ".join(
            str(v) for f in (await conn.execute(text("SELECT * FROM probadores"))).all() for v in f
        )
    for x in ("Observadora", "observadora1@example.org", "+525512345678"):
        assert x not in crudo

    # The same list again (an e-mail's case does not matter): nothing new, no event.
    r = await cargar(registro, [fila(1, email="OBSERVADORA1@example.org"), fila(2), fila(3, "16")])
    assert r.json() == {"inscritos": 0, "ya_estaban": 3, "por_entidad": {"09": 2, "16": 1}}
    assert len(await eventos_de(registro)) == 3
    cuenta = await registro.client.get(URL, headers=token(Rol.AUDITOR))
    assert cuenta.json() == {"09": 2, "16": 1}


async def test_diez_cargas_a_la_vez_de_la_misma_persona_dan_una_cuenta(registro: Registro) -> None:
    respuestas = await asyncio.gather(*(cargar(registro, [fila(9)]) for _ in range(10)))
    assert sorted(r.status_code for r in respuestas) == [200] * 10
    assert sum(r.json()["inscritos"] for r in respuestas) == 1
    assert await registro.count(Probador) == 1
    assert len(await eventos_de(registro)) == 1


async def test_solo_ine_admin_carga_y_nada_cambia_si_no(registro: Registro) -> None:
    for headers, estado in (
        (token(Rol.INE_OPERADOR), 403),
        (token(Rol.AUDITOR), 403),
        (token(Rol.OPL, entidad="09"), 403),
        (token(Rol.PARTIDO, partido="PAN"), 403),
        ({"Authorization": "Bearer no-es-un-token"}, 401),
    ):
        r = await cargar(registro, [fila(1)], headers)
        assert r.status_code == estado, (headers, r.text)
    assert (await registro.client.post(URL, json={"probadores": [fila(1)]})).status_code == 401
    assert (await registro.client.get(URL, headers=token(Rol.INE_OPERADOR))).status_code == 403
    assert await registro.count(Probador) == 0
    assert await eventos_de(registro) == []


async def test_una_fila_mal_escrita_dice_cual_y_no_carga_ninguna(registro: Registro) -> None:
    for filas, campo in (
        ([fila(1), fila(2, email="no-es-correo")], "email"),
        ([fila(1), fila(2, telefono="5512345678")], "telefono"),
        ([fila(1, entidad="99")], "entidad"),
        ([fila(1, nombre="")], "nombre"),
    ):
        r = await cargar(registro, filas)
        assert r.status_code == 422, r.text
        assert campo in r.text
    # An entidad that does not vote in this process (pel2021: 01 does not).
    r = await cargar(registro, [fila(1), fila(2, "01")])
    assert r.status_code == 422
    assert "probadores[1].entidad" in r.text
    assert (await cargar(registro, [])).status_code == 422
    assert await registro.count(Probador) == 0
    assert await eventos_de(registro) == []
