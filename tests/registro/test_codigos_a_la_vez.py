"""Issue 23, the confirmation codes of changes: only the newest code works, also when the requests that issue
them, or a confirmation and a newer request, arrive at the same time. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from services.registro.models import CambioPendiente
from tests.registro.test_ataques import VICTIMA, confirmar_con, datos_de
from tests.registro.test_revision import nueva
from tests.support.registro import Registro

# The message shows only a city's initial: one initial per change, so each code can be told from the others.
CIUDADES = ["Anaheim", "Boston", "Chicago", "Dallas", "Fresno", "Houston", "Irvine", "Jersey"]


def _cambio(i: int) -> dict[str, Any]:
    return {
        "modalidad": "postal",
        "domicilio": {"calle_numero": f"{i} Elm St", "ciudad": CIUDADES[i], "codigo_postal": "92173"},
    }


async def _pedir(registro: Registro, folio: str, i: int) -> Any:
    return await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json=_cambio(i))


async def _codigo_de(registro: Registro, i: int, destino: str = VICTIMA) -> str:
    mensajes = [a.mensaje or "" for a in await registro.avisos("codigo_confirmacion", destino)]
    [mensaje] = [m for m in mensajes if f"(ahora en {CIUDADES[i][0]}***)" in m]
    codigo = mensaje.split("es: ")[1][:6]
    assert codigo.isdigit()
    return codigo


async def test_cinco_pedidos_a_la_vez_solo_vale_el_ultimo(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    pedidos = await asyncio.gather(*(_pedir(registro, folio, i) for i in range(5)))
    assert [r.status_code for r in pedidos] == [202] * 5, [r.text for r in pedidos]
    # One pending code is left, the last one issued: every other one was voided by a newer request.
    vigentes = await registro.rows(
        CambioPendiente, CambioPendiente.anulado_at.is_(None), order=CambioPendiente.id
    )
    assert len(vigentes) == 1
    assert vigentes[0].id == max(c.id for c in await registro.rows(CambioPendiente))
    # Each code with its own confirmation: only the newest applies, the older ones are void.
    respuestas = [
        await confirmar_con(registro, folio, r.json()["confirmacion"], await _codigo_de(registro, i))
        for i, r in enumerate(pedidos)
    ]
    assert sorted(r.status_code for r in respuestas) == [200] + [409] * 4, [r.text for r in respuestas]
    anulados = {r.json()["type"] for r in respuestas if r.status_code == 409}
    assert anulados == {"/problemas/confirmacion-anulada"}
    [aplicado] = [i for i, r in enumerate(pedidos) if r.json()["confirmacion"] == vigentes[0].confirmacion]
    assert respuestas[aplicado].status_code == 200
    assert (await registro.solicitud(folio)).ciudad == CIUDADES[aplicado]


async def test_confirmar_el_codigo_viejo_mientras_se_pide_otro(registro: Registro) -> None:
    """The older code and a newer request at once: either the older one applied before the newer request
    (which then leaves its own code pending) or the newer request voided it. Never both voided and applied,
    never an error."""
    for ronda in range(4):  # the race goes either way: a few rounds, each on its own application
        folio, destino = await nueva(registro, ronda + 1), f"persona{ronda + 1}@example.com"
        viejo = await _pedir(registro, folio, 2 * ronda)
        assert viejo.status_code == 202, viejo.text
        codigo_viejo = await _codigo_de(registro, 2 * ronda, destino)
        confirmado, nuevo = await asyncio.gather(
            confirmar_con(registro, folio, viejo.json()["confirmacion"], codigo_viejo),
            _pedir(registro, folio, 2 * ronda + 1),
        )
        assert nuevo.status_code == 202, nuevo.text
        [fila_vieja] = await registro.rows(
            CambioPendiente, CambioPendiente.confirmacion == viejo.json()["confirmacion"]
        )
        if confirmado.status_code == 200:
            assert fila_vieja.usado_at is not None
            assert fila_vieja.anulado_at is None
            assert (await registro.solicitud(folio)).ciudad == CIUDADES[2 * ronda]
        else:
            assert confirmado.status_code == 409, confirmado.text
            assert confirmado.json()["type"] == "/problemas/confirmacion-anulada"
            assert fila_vieja.usado_at is None
            assert fila_vieja.anulado_at is not None
        # The newer code still works, and the older one no longer does.
        r = await confirmar_con(
            registro, folio, nuevo.json()["confirmacion"], await _codigo_de(registro, 2 * ronda + 1, destino)
        )
        assert r.status_code == 200, r.text
        antes = await datos_de(registro, folio)
        r = await confirmar_con(registro, folio, viejo.json()["confirmacion"], codigo_viejo)
        assert r.status_code == 409
        assert await datos_de(registro, folio) == antes
