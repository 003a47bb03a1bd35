"""The booth's JavaScript (services/electronico/static/belenios.js) in a real headless Chromium: its ballots
must pass our verifier and count correctly once decrypted by the custodians."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.cripto import boleta as bo
from shared.cripto import grupo as gr
from shared.cripto import simulacro as si
from shared.cripto.eleccion import Pregunta, credencial_publica, es_credencial

RAIZ = Path(__file__).resolve().parents[2]
BUNDLE = RAIZ / "services/electronico/static/belenios.js"
CHROMIUM = Path(os.environ.get("VMRE_CHROMIUM", "/usr/bin/chromium"))
pytestmark = pytest.mark.externo

PREGUNTAS = [
    Pregunta(tuple(f"Candidatura {i}" for i in range(1, 13)), 1, 1, "P1: elija una de doce"),
    Pregunta(("Rojo", "Verde", "Azul", "Amarillo"), 1, 2, "P2: una o dos, o en blanco", blanco=True),
    Pregunta(("Norte", "Sur", "Este", "Oeste", "Centro"), 2, 3, "P3: dos o tres"),
]
VOTANTES = 16


@pytest.fixture(scope="module")
def simulacro() -> si.Simulacro:
    return si.preparar(PREGUNTAS, votantes=VOTANTES, nombre="Simulacro de la cabina (JS)")


@pytest.fixture(scope="module")
def pagina() -> Iterator[Any]:
    """A blank page in Debian's Chromium with the bundle loaded (global ``VMREBelenios``)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"falta Chromium en {CHROMIUM}: `.ci/run` lo instala (apt-get install -y chromium); "
            "en esta máquina: apt-get install -y chromium"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("falta el paquete playwright: make install (dependencia de desarrollo)")
    assert BUNDLE.is_file(), f"falta {BUNDLE}: make cabina"
    with sync_playwright() as p:
        navegador = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            pagina = navegador.new_page()
            pagina.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>")
            pagina.add_script_tag(path=str(BUNDLE))
            assert pagina.evaluate("typeof VMREBelenios.cifrar") == "function"
            yield pagina
        finally:
            navegador.close()


def cifrar_en_js(pagina: Any, eleccion_json: str, credenciales: list[str], votos: list[Any]) -> list[str]:
    return list(
        pagina.evaluate(
            "([e, cs, vs]) => vs.map((v, i) => VMREBelenios.cifrar(e, cs[i], v))",
            [eleccion_json, credenciales, votos],
        )
    )


def error_en_js(pagina: Any, eleccion_json: str, credencial: str, votos: Any) -> str | None:
    """The message of the Error that ``cifrar`` throws, or None if it returned a ballot."""
    return pagina.evaluate(
        """([e, c, v]) => {
            try { VMREBelenios.cifrar(e, c, v); return null; }
            catch (err) { return err instanceof Error ? err.message : "no es un Error: " + String(err); }
        }""",
        [eleccion_json, credencial, votos],
    )


def suma(votos: list[list[list[int]]]) -> list[list[int]]:
    return [[sum(v[q][j] for v in votos) for j in range(len(votos[0][q]))] for q in range(len(votos[0]))]


def test_boletas_del_navegador_verifican_y_se_cuentan(simulacro: si.Simulacro, pagina: Any) -> None:
    azar = random.Random(20240601)
    votos = [[si.voto_al_azar(q, azar) for q in PREGUNTAS] for _ in range(15)]
    # The edges of every proof: blank, last answer of twelve, both ends of each range.
    votos[0] = [[1] + [0] * 11, [1, 0, 0, 0, 0], [1, 1, 0, 0, 0]]
    votos[1] = [[0] * 11 + [1], [0, 1, 1, 0, 0], [0, 0, 1, 1, 1]]
    votos[2] = [[0, 1] + [0] * 10, [0, 0, 0, 0, 1], [1, 0, 0, 0, 1]]
    assert all(q.valida(v) for vs in votos for q, v in zip(PREGUNTAS, vs, strict=True))

    textos = cifrar_en_js(pagina, simulacro.eleccion.texto.decode(), simulacro.credenciales[:15], votos)
    assert len(textos) == 15
    for texto, cred in zip(textos, simulacro.credenciales, strict=False):
        b = bo.verificar(simulacro.eleccion, texto, simulacro.urna.pesos)
        assert json.loads(texto)["election_hash"] == simulacro.eleccion.huella
        assert b.credencial == gr.s(credencial_publica(simulacro.eleccion.uuid, cred))
        simulacro.urna.depositar(texto)

    simulacro.urna.cerrar()
    simulacro.descifrar([1, 2, 3])
    assert simulacro.urna.publicar() == suma(votos)


def test_votos_invalidos_lanzan_error(simulacro: si.Simulacro, pagina: Any) -> None:
    e = simulacro.eleccion.texto.decode()
    cred = simulacro.credenciales[-1]
    bueno = [[1] + [0] * 11, [0, 1, 0, 0, 0], [1, 1, 0, 0, 0]]
    invalidos: list[Any] = [
        [[1, 1] + [0] * 10, bueno[1], bueno[2]],  # two choices where max = 1
        [[0] * 12, bueno[1], bueno[2]],  # none where min = 1
        [bueno[0], [1, 1, 0, 0, 0], bueno[2]],  # blank and a choice
        [bueno[0], [0, 1, 1, 1, 0], bueno[2]],  # three where max = 2
        [bueno[0], bueno[1], [1, 0, 0, 0, 0]],  # one where min = 2
        [bueno[0], bueno[1], [2, 0, 0, 0, 0]],  # not 0/1
        [bueno[0], bueno[1], [1, 1, 0, 0]],  # wrong length
        [bueno[0], bueno[1]],  # a question missing
    ]
    for votos in invalidos:
        mensaje = error_en_js(pagina, e, cred, votos)
        assert mensaje is not None, votos
        assert "válida" in mensaje or "se esperaban" in mensaje, mensaje
    mensaje = error_en_js(pagina, e, "no-es-una-credencial", bueno)
    assert mensaje is not None
    assert "credencial con formato inválido" in mensaje
    assert error_en_js(pagina, e, cred, bueno) is None

    casos = [cred, "no-es-una-credencial", cred.replace("-", ""), cred[:-1] + "0", cred + "x", ""]
    assert pagina.evaluate("cs => cs.map(VMREBelenios.credencialValida)", casos) == [
        es_credencial(c) for c in casos
    ]
    assert pagina.evaluate("VMREBelenios.credencialValida(null)") is False


def test_dos_cifrados_del_mismo_voto_difieren(simulacro: si.Simulacro, pagina: Any) -> None:
    votos = [[0, 0, 1] + [0] * 9, [0, 1, 0, 0, 0], [0, 1, 1, 0, 0]]
    cred = simulacro.credenciales[-1]
    a, b = cifrar_en_js(pagina, simulacro.eleccion.texto.decode(), [cred, cred], [votos, votos])
    assert a != b
    ca, cb = (json.loads(t)["answers"][0]["choices"] for t in (a, b))
    assert all(x["alpha"] != y["alpha"] for x, y in zip(ca, cb, strict=True))
    for t in (a, b):
        bo.verificar(simulacro.eleccion, t, simulacro.urna.pesos)
