"""Every HTML page (the voting booth, the dashboard, the local mailbox) sends the page headers: a policy that
admits only the page's own files and no framing, no MIME sniffing, no Referer. The browser tests
(tests/electronico/test_cabina_navegador.py, tests/tablero/test_tablero_navegador.py) load the same pages
under this policy in Chromium and fail on any violation."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.paginas import CABECERAS, Paginas, enlaces
from tests.support.comun import Buzon
from tests.support.electronico import Electronico, electronico  # noqa: F401  (fixture)
from tests.support.tablero import tablero  # noqa: F401  (fixture)


def _cabeceras_de_pagina(r: httpx.Response) -> None:
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    politica = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in politica
    assert "script-src 'self'" in politica
    assert "unsafe-inline" not in politica
    assert "unsafe-eval" not in politica
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert {k.lower(): v for k, v in CABECERAS.items()}.items() <= dict(r.headers.items()).items()


async def test_la_cabina_envia_las_cabeceras(electronico: Electronico) -> None:  # noqa: F811
    _cabeceras_de_pagina(await electronico.client.get("/cabina"))


async def test_el_tablero_envia_las_cabeceras(tablero: tuple[Any, httpx.AsyncClient]) -> None:  # noqa: F811
    _, client = tablero
    _cabeceras_de_pagina(await client.get("/"))


async def test_el_buzon_local_envia_las_cabeceras(buzon: Buzon) -> None:
    async with httpx.AsyncClient(base_url=buzon.http) as c:
        _cabeceras_de_pagina(await c.get("/"))
        css = await c.get("/buzon.css")
        assert css.headers["content-type"].startswith("text/css")
        assert "font-family" in css.text


async def test_el_inicio_enlaza_cada_pagina_de_la_ciudadania(
    tablero: tuple[Any, httpx.AsyncClient],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Local mode: each link carries the port of the service that serves the page (VMRE_<S>_PORT)."""
    monkeypatch.setenv("VMRE_REGISTRO_PORT", "18001")
    _, client = tablero
    html = (await client.get("/")).text
    for pagina in ("inscripcion", "mi_solicitud", "mi_paquete", "verificar", "cabina"):
        assert f'href="{enlaces("local")[pagina]}"' in html, pagina
    assert 'href="http://127.0.0.1:18001/inscripcion"' in html


def test_en_produccion_los_enlaces_son_rutas_del_mismo_host() -> None:
    assert enlaces("production")["inscripcion"] == "/inscripcion"
    assert enlaces("production", "https://vmre.ine.mx")["verificar"] == "https://vmre.ine.mx/verificar"
    assert enlaces("local", "https://vmre.ine.mx")["mi_paquete"] == "https://vmre.ine.mx/mi-paquete"


RAIZ = Path(__file__).resolve().parents[2]
CON_PAGINAS = sorted(p.parent.parent.name for p in RAIZ.glob("services/*/paginas/__init__.py"))


def test_hay_servicios_con_paginas() -> None:
    assert {"registro", "postal", "electronico"} <= set(CON_PAGINAS)


@pytest.mark.parametrize("servicio", CON_PAGINAS)
def test_los_catalogos_tienen_los_mismos_textos(servicio: str) -> None:
    """Every key in Spanish has its English text and the other way round (else Spanish would show), and every
    text a template asks for exists."""
    paginas: Paginas = importlib.import_module(f"services.{servicio}.paginas").PAGINAS
    es, en = paginas.catalogos["es"], paginas.catalogos["en"]
    assert set(es) == set(en), set(es) ^ set(en)
    usados: set[str] = set()
    for plantilla in paginas.entorno.list_templates():
        fuente = paginas.entorno.loader.get_source(paginas.entorno, plantilla)[0]  # type: ignore[union-attr]
        usados |= set(re.findall(r'\bt\(["\']([a-z_.]+[a-z_])["\']\s*[,)]', fuente))
    assert len(usados) > 15
    assert usados <= set(es), usados - set(es)
