"""An ``opl`` token of entidad 09 gets 403 on every other entidad's resource of tablero: the test walks every
route that takes an entidad (path or query) rather than a hand-kept list, so a new route is covered too."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import evento_recibida
from tests.support.tablero import deliver

EJEMPLOS = {"serie": "solicitudes", "id": "1", "formato": "json"}


def _rutas_con_entidad(app: Any) -> list[str]:
    """Every GET route of the published API whose path names an entidad."""
    return [ruta for ruta, ops in app.openapi()["paths"].items() if "get" in ops and "{entidad}" in ruta]


def _url(ruta: str, entidad: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: entidad if m[1] == "entidad" else EJEMPLOS[m[1]], ruta)


async def test_opl_de_09_recibe_403_en_cada_ruta_de_otra_entidad(tablero: Any, token: Any) -> None:
    app, client = tablero
    await deliver(app, evento_recibida("09", "postal", "A"))
    rutas = _rutas_con_entidad(app)
    assert len(rutas) >= 4, rutas
    opl = token("opl", "09")
    for ruta in rutas:
        for entidad, esperado in (("16", 403), ("09", 200), ("32", 403)):
            url = _url(ruta, entidad)
            r = await client.get(url, headers=opl)
            assert r.status_code == esperado, (url, r.status_code, r.text[:200])
            if esperado == 403:
                assert r.headers["content-type"] == "application/problem+json"
    # INE roles see every entidad.
    for ruta in rutas:
        url = _url(ruta, "16")
        assert (await client.get(url, headers=token("auditor"))).status_code == 200, url
