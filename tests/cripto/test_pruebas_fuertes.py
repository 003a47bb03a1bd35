"""``vmre verificar --pruebas-fuertes``: the strong decryption proofs published next to a record (VMRE's
extension; the .bel keeps only Belenios 3.0's proofs). An honest record and its document pass; a tampered,
incomplete or foreign document fails with exit code 1 naming the custodian; a record whose partial decryption
carries a false factor with a Belenios proof that verifies passes without the option, and fails with it."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto import simulacro as si
from shared.cripto.pruebas import Prueba, cjson, prefijo_descifrado
from tests.support.cripto import PREGUNTAS
from vmre.cli import main as vmre


def _claves(s: si.Simulacro) -> dict[int, int]:
    return {c.indice: c.clave_descifrado(s.claves_privadas[c.indice - 1]) for c in s.custodios}


def _documento(s: si.Simulacro, claves: dict[int, int], owners: list[int]) -> dict[str, Any]:
    """What ``GET /v1/elecciones/{uuid}/pruebas-fuertes.json`` serves for these custodians."""
    r, huella = s.urna.recuento, s.eleccion.huella
    assert r is not None
    return {
        "eleccion": s.eleccion.uuid,
        "huella": huella,
        "descifrados": [
            {"owner": j, "strong_proofs": json.loads(es.pruebas_fuertes(huella, claves[j], r))}
            for j in owners
        ],
    }


def _cerrada(votantes: int = 4) -> si.Simulacro:
    s = si.preparar(PREGUNTAS, votantes=votantes)
    azar = random.Random(7)
    for b in si.boletas(s, [[si.voto_al_azar(q, azar) for q in PREGUNTAS] for _ in range(votantes)]):
        s.urna.depositar(b)
    s.urna.cerrar()
    return s


def _falso(x: int, alfa: gr.Elemento, prefijo: str) -> tuple[gr.Elemento, Prueba]:
    """Belenios 3.0's weak Fiat–Shamir: the factor is solved after the challenge (see pruebas.py)."""
    w1, w2 = gr.aleatorio(), gr.aleatorio()
    c = gr.hash_escalar(prefijo, [gr.gpot(w1), gr.pot(alfa, w2)])
    r = (w1 - x * c) % gr.L
    return gr.pot(alfa, (w2 - r) * pow(c, -1, gr.L) % gr.L), Prueba(c, r)


def test_vmre_verificar_con_pruebas_fuertes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = _cerrada()
    claves = _claves(s)
    s.descifrar([1, 3, 5])
    s.urna.publicar()
    bel = tmp_path / f"{s.eleccion.uuid}.bel"
    bel.write_bytes(s.urna.archivo.bytes())
    doc = _documento(s, claves, [1, 3, 5])
    pf = tmp_path / "pruebas-fuertes.json"

    def corre(o: object | None) -> tuple[int, str]:
        if o is None:
            codigo = vmre(["verificar", str(bel)])
        else:
            pf.write_text(json.dumps(o))
            codigo = vmre(["verificar", str(bel), "--pruebas-fuertes", str(pf)])
        return codigo, capsys.readouterr().out

    codigo, salida = corre(doc)
    assert codigo == 0, salida
    assert "pruebas fuertes de descifrado: custodios 1, 3, 5 (cada una verificada)" in salida
    assert "no se revisaron" not in salida
    assert "todo correcto" in salida
    codigo, salida = corre(None)
    assert codigo == 0
    assert "nota: no se revisaron las pruebas fuertes" in salida

    alterado = json.loads(json.dumps(doc))
    p = alterado["descifrados"][1]["strong_proofs"]["strong_decryption_proofs"][1][2]
    p["challenge"] = str((int(p["challenge"]) + 1) % gr.L)
    codigo, salida = corre(alterado)
    assert codigo == 1, salida
    assert "FALLA en pruebas fuertes del custodio 3: pregunta 2, opción 3" in salida, salida

    codigo, salida = corre(doc | {"descifrados": doc["descifrados"][:2]})
    assert codigo == 1, salida
    assert "FALLA en pruebas fuertes del custodio 5: faltan" in salida, salida
    ajeno = _documento(s, claves, [1, 3, 4])  # custodian 4's proofs, claimed for a share it did not make
    ajeno["descifrados"][2]["owner"] = 5
    codigo, salida = corre(ajeno)
    assert codigo == 1, salida
    assert "custodio 5: pregunta 1, opción 1: la prueba fuerte" in salida, salida
    codigo, salida = corre(doc | {"huella": "otra"})
    assert codigo == 1, salida
    assert "otra elección" in salida, salida
    codigo, salida = corre([1, 2, 3])
    assert codigo == 1, salida
    assert "FALLA en pruebas fuertes" in salida, salida

    assert vmre(["verificar", str(bel), "--pruebas-fuertes", str(tmp_path / "no-existe.json")]) == 2


def test_un_factor_falso_pasa_sin_pruebas_fuertes_y_falla_con_ellas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record with custodian 1's false factors (their Belenios proofs verify), before its Result."""
    s = _cerrada()
    claves = _claves(s)
    r = s.urna.recuento
    assert r is not None
    huella, x = s.eleccion.huella, claves[1]
    prefijo = prefijo_descifrado(huella, gr.gpot(x))
    falsos = [[_falso(x, a, prefijo) for a, _ in fila] for fila in r]
    texto = cjson(
        {
            "decryption_factors": [[gr.s(f) for f, _ in fila] for fila in falsos],
            "decryption_proofs": [[p.json() for _, p in fila] for fila in falsos],
        }
    )
    s.urna.agregar_descifrado(1, texto)  # Belenios' check passes
    bel = tmp_path / "falso.bel"
    bel.write_bytes(s.urna.archivo.bytes())
    assert vmre(["verificar", str(bel)]) == 0
    assert "no se revisaron las pruebas fuertes" in capsys.readouterr().out
    pf = tmp_path / "pruebas-fuertes.json"
    pf.write_text(json.dumps(_documento(s, claves, [1])))  # the honest strong proofs are for α^x
    assert vmre(["verificar", str(bel), "--pruebas-fuertes", str(pf)]) == 1
    assert "FALLA en pruebas fuertes del custodio 1: pregunta 1, opción 1" in capsys.readouterr().out
