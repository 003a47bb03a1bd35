"""tablero's console: the closing report («informe final») and its PDF, behind the real OpenID Connect sign-in
(the local identity provider as a process), over HTTP. The figures are the read model's, fed with the events
of tests/tablero/test_informe.py (09 with its published acta de cómputo); ine-admin and the auditor choose the
scope, an OPL reads only its entidad's, other roles are refused. The same page in Chromium:
tests/tablero/test_consola_navegador.py."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.support.comun import Databases, serve
from tests.support.consola import Identidad, cabecera, ingresar
from tests.support.registro import PEL2021
from tests.support.tablero import app_de_prueba, deliver
from tests.tablero.test_informe import T, _acta, _eventos

INFORME = "/consola/tablero/informe"
PDF = INFORME + ".pdf"


@pytest.fixture
async def consola(
    databases: Databases, offline_kafka: KafkaSettings, identidad: Identidad
) -> AsyncIterator[httpx.AsyncClient]:
    app = await app_de_prueba(databases, offline_kafka, reloj=RelojManual(T), consola=identidad.ajustes())
    async with serve(app) as client:
        for evento in _eventos():
            assert await deliver(app, evento)
        yield client


def _texto(fragmento: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragmento)).split())


def fila(html: str, atributo: str, valor: str) -> str:
    """The text of the table row marked ``data-<atributo>="<valor>"``."""
    m = re.search(rf'<tr[^>]*data-{atributo}="{re.escape(valor)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"sin fila {atributo}={valor}"
    return _texto(m.group(1))


def _por_id(html: str, etiqueta: str, ident: str) -> str:
    m = re.search(rf'<{etiqueta}[^>]*id="{ident}"[^>]*>(.*?)</{etiqueta}>', html, re.S)
    assert m, f"sin {etiqueta}#{ident}"
    return _texto(m.group(1))


async def _pedir(
    client: httpx.AsyncClient, sesion: dict[str, str], url: str, **params: Any
) -> httpx.Response:
    return await client.get(url, params=params, headers=cabecera(sesion))


async def test_la_administradora_ve_el_informe_nacional_y_el_de_una_entidad(
    consola: httpx.AsyncClient,
) -> None:
    sesion, vuelta = await ingresar(consola, "tablero", "administradora", siguiente=INFORME)
    assert vuelta.status_code == 200, vuelta.text
    assert f'content="0;url={INFORME}"' in vuelta.text
    r = await _pedir(consola, sesion, INFORME)
    assert r.status_code == 200, r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert "Administradora del INE (local) · ine-admin" in html
    assert "<h1>Informe final del proceso</h1>" in html
    assert _por_id(html, "p", "alcance") == (
        "Proceso Electoral Local 2020-2021 · Alcance: nacional (todas las entidades)"
    )
    # Only 09 has its acta: the national report is not complete.
    assert _por_id(html, "p", "completo").startswith("Incompleto: faltan actas de cómputo")
    # The totals and 09's row: the acta's figures (LNERE 2 + 2, votes 1 + 2, 75.00 %).
    assert _texto(_por_id(html, "dl", "cifras-totales")) == (
        "LNERE 4 (postal 2, por internet 2) Votos 3 (postal 1, por internet 2) Participación 75.00 %"
    )
    assert fila(html, "entidad", "09") == "09 Ciudad de México 2 2 4 1 2 3 75.00 % acta de cómputo"
    # Every entidad of the process; one without events reads zeros, its votes preliminary.
    assert re.findall(r'data-entidad="(\d\d)"', html) == list(PEL2021.entidades)
    assert fila(html, "entidad", "14") == "14 Jalisco 0 0 0 0 0 0 — votos recibidos (preliminar)"
    # Packages and envelopes (integrated, sent, delivered, returned; on time, late, destroyed, acts, …).
    assert fila(html, "paquetes", "09") == "09 Ciudad de México 2 2 2 0"
    assert fila(html, "sobres", "09") == "09 Ciudad de México 1 1 1 1 0 0"
    # The acta's distribution, its incident and its recount; the drill and its turnout.
    acta = re.search(r'<table[^>]*data-acta="09-diputacion_migrante"[^>]*>(.*?)</table>', html, re.S)
    assert acta, html
    texto_acta = _texto(acta.group(1))
    # Published at 03:00 UTC on 7 June: 22:00 on the 6th, Centro time.
    assert "3 votos, participación 75.00 %, publicada el 2021-06-06 22:00 (hora del Centro)" in texto_acta
    assert "PAN 2 MORENA 1 Candidaturas no registradas 0 Votos nulos 0" in texto_acta
    assert "sin acta de cómputo publicada" in _texto(html)  # the other entidades
    assert "Sobre roto" in _por_id(html, "ul", "lista-incidentes")
    assert _acta()["acta"]["recuento"][0] in _por_id(html, "ul", "lista-recuentos")
    assert fila(html, "simulacro", "Simulacro0000A1").endswith("2 1 50.00 %")
    # The timeline: planned and observed.
    assert len(re.findall(r'data-etapa="\d+"', html)) == 10
    assert (
        fila(html, "etapa", "3")
        == "envío de paquetes 2021-04-21 00:00 – 2021-05-10 23:59 2021-05-23 – 2021-05-23"
    )
    assert fila(html, "etapa", "2") == (
        "cierre de la LNERE hasta 2021-04-10 00:00 2021-03-24 10:30 – 2021-03-24 10:30"
    )
    # Tables that a screen reader can follow; the PDF link; the scope form.
    assert html.count("<caption>") == html.count("<table")
    assert 'href="/consola/tablero/informe.pdf"' in html
    assert '<form method="get" action="/consola/tablero/informe"' in html
    assert '<option value="" selected>Nacional (todas las entidades)</option>' in html

    # One entidad, as its OPL signs it: the link to the PDF keeps the scope.
    r = await _pedir(consola, sesion, INFORME, entidad="09")
    assert r.status_code == 200, r.text
    assert _por_id(r.text, "p", "alcance").endswith("Alcance: entidad 09, Ciudad de México")
    assert _por_id(r.text, "p", "completo").startswith("Completo")
    assert re.findall(r'data-entidad="(\d\d)"', r.text) == ["09"]
    assert 'href="/consola/tablero/informe.pdf?entidad=09"' in r.text
    assert '<option value="09" selected>' in r.text
    # The form's «Nacional» sends an empty entidad: the national report.
    r = await _pedir(consola, sesion, INFORME, entidad="")
    assert r.status_code == 200
    assert "Alcance: nacional" in r.text
    # An entidad outside the process, or not a key: said, with the form to choose again, no report.
    r = await _pedir(consola, sesion, INFORME, entidad="31")
    assert r.status_code == 404
    assert "La entidad 31 no participa en este proceso." in r.text
    assert 'data-entidad="' not in r.text
    assert '<form method="get"' in r.text
    r = await _pedir(consola, sesion, INFORME, entidad="<x>")
    assert r.status_code == 422
    assert "«&lt;x&gt;» no es una clave de entidad" in r.text
    # The same screen in English.
    r = await _pedir(consola, sesion, INFORME, lang="en")
    assert "<h1>Closing report of the process</h1>" in r.text
    assert fila(r.text, "entidad", "09").endswith("75.00 % acta de cómputo")


async def test_la_auditora_y_el_opl(consola: httpx.AsyncClient) -> None:
    auditora, _ = await ingresar(consola, "tablero", "auditora")
    r = await _pedir(consola, auditora, INFORME)
    assert r.status_code == 200, r.text
    assert fila(r.text, "entidad", "09").endswith("3 75.00 % acta de cómputo")
    r = await _pedir(consola, auditora, INFORME, entidad="14")
    assert r.status_code == 200
    assert re.findall(r'data-entidad="(\d\d)"', r.text) == ["14"]

    opl, _ = await ingresar(consola, "tablero", "opl-09")
    r = await _pedir(consola, opl, INFORME)
    assert r.status_code == 200, r.text
    # Its own entidad, always; no scope to choose.
    assert re.findall(r'data-entidad="(\d\d)"', r.text) == ["09"]
    assert _por_id(r.text, "p", "alcance").endswith("Alcance: entidad 09, Ciudad de México")
    assert 'name="entidad"' not in r.text
    assert 'href="/consola/tablero/informe.pdf?entidad=09"' in r.text
    assert (await _pedir(consola, opl, INFORME, entidad="09")).status_code == 200
    for url in (INFORME, PDF):
        r = await _pedir(consola, opl, url, entidad="14")
        assert r.status_code == 403, r.text
        assert "Su cuenta solo consulta la entidad 09." in r.text
        assert 'data-entidad="' not in r.text
    pdf = await _pedir(consola, opl, PDF)
    assert pdf.status_code == 200
    assert pdf.headers["content-disposition"] == 'inline; filename="informe-final-pel2021-09.pdf"'


async def test_otros_roles_y_sin_sesion(consola: httpx.AsyncClient) -> None:
    for url in (INFORME, PDF):
        r = await consola.get(url)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/consola/tablero/entrar?siguiente=")
    r = await consola.get(INFORME, params={"entidad": "09"})
    assert (
        r.headers["location"]
        == "/consola/tablero/entrar?siguiente=%2Fconsola%2Ftablero%2Finforme%3Fentidad%3D09"
    )
    r = await consola.get(INFORME, headers=cabecera({"vmre_consola": "no.es.firma"}))
    assert r.status_code == 303
    operadora, _ = await ingresar(consola, "tablero", "operadora")
    for url in (INFORME, PDF):
        r = await _pedir(consola, operadora, url)
        assert r.status_code == 403, r.text
        assert "Su rol (ine-operador) no usa esta pantalla." in r.text
        assert not r.content.startswith(b"%PDF")


async def test_el_pdf(consola: httpx.AsyncClient) -> None:
    sesion, _ = await ingresar(consola, "tablero", "administradora")
    r = await _pedir(consola, sesion, PDF)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="informe-final-pel2021-nacional.pdf"'
    assert r.content.startswith(b"%PDF")
    r = await _pedir(consola, sesion, PDF, entidad="09")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'inline; filename="informe-final-pel2021-09.pdf"'
    assert r.content.startswith(b"%PDF")
    assert (await _pedir(consola, sesion, PDF, entidad="31")).status_code == 404
