"""The whole process as a drill (``make simulate``) on a small scenario: registration to acta de cómputo,
through the public HTTP APIs of the six services running as processes, on the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.hijos import free_port
from tests.support.comun import Databases
from tests.support.e2e import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


async def _simulacro(backend: str, tmp_path: Path, escenario: str) -> tuple[str, str, dict[str, Any]]:
    """``python -m simulacion ESCENARIO`` on fresh databases: its output and the actas it saved."""
    dbs = Databases(backend, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
    for servicio in ("registro", "postal", "electronico", "computo", "tablero"):
        # Fresh, empty databases (vmre run migrates them itself).
        env[f"VMRE_{servicio.upper()}_DATABASE_URL"] = await dbs.new(servicio, migrate=False)
        env[f"VMRE_{servicio.upper()}_PORT"] = str(free_port())
    actas = tmp_path / "actas.json"
    try:
        r = subprocess.run(
            [sys.executable, "-m", "simulacion", escenario, "--datos", str(tmp_path / "sim"),
             "--salida", str(actas)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        await dbs.drop_all()
    log = (tmp_path / "sim" / "plataforma.log").read_text(errors="replace")[-4000:] if r.returncode else ""
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{log}"
    return r.stdout, r.stderr, json.loads(actas.read_text())


async def test_simulacro_pequeno_de_punta_a_punta(e2e_backend: str, tmp_path: Path) -> None:
    stdout, stderr, por_entidad = await _simulacro(e2e_backend, tmp_path, "escenarios/pequeno.json")
    assert "coinciden con el escenario: LNERE 37, 22 votos, participación 59.46 %" in stdout
    for fase in (
        "solicitudes",
        "dictámenes",
        "ceremonia de llaves",
        "votos por internet",
        "cómputo de entidad",
        "destrucción de extemporáneos",
        "informe final",
    ):
        assert fase in stderr  # one progress line per phase
    # The peak resident memory of each service (its processes' VmHWM), read before the platform stops.
    pico = next(linea for linea in stderr.splitlines() if linea.startswith("memoria pico por servicio"))
    for servicio in ("registro", "postal", "electronico", "computo", "tablero", "credenciales"):
        assert f"{servicio} " in pico, pico
    cdmx = por_entidad["09"]
    assert cdmx["personas_candidatas"] == {}  # 2021's file has no candidacies: the acta names parties only
    assert cdmx["lnere"] == {"postal": 14, "electronica": 12, "total": 26}
    assert cdmx["votos"] == {"postal": 8, "electronica": 8, "total": 16}
    assert cdmx["por_modalidad"]["electronica"]["PT+MORENA"] == 1  # a combination kept apart in the tally
    assert cdmx["por_modalidad"]["postal"]["PAN+PRI"] == 1
    assert [a["tipo"] for a in cdmx["actas"]] == ["postal", "electronica"]
    assert cdmx["actas"][1]["boletas"] == 8
    assert por_entidad["16"]["participacion"] == "54.55"
    # tablero's closing report: the actas' figures (the drill checked each), every late envelope destroyed.
    final = json.loads((tmp_path / "sim" / "informe-final.json").read_text())
    assert {e: final["entidades"][e]["votos"]["fuente"] for e in por_entidad} == dict.fromkeys(
        por_entidad, "acta"
    )
    assert (final["totales"]["lnere"], final["totales"]["votos"], final["totales"]["participacion"]) == (
        37,
        22,
        "59.46",
    )
    assert final["entidades"]["09"]["votos"]["total"] == cdmx["votos"]["total"]
    tardios = sum(
        e["sobres"]["por_clasificacion"].get("extemporaneo", 0) for e in final["entidades"].values()
    )
    assert tardios == sum(e["sobres"]["extemporaneos_destruidos"] for e in final["entidades"].values())


async def test_simulacro_pef2024_varios_cargos(e2e_backend: str, tmp_path: Path) -> None:
    """The 2024 shape: every voter votes every office of their entidad (Presidencia, national, first), one
    session and one ballot per office online, one acta per office from each MEC and one cómputo per office;
    each acta equals the scenario and tablero's closing report copies all of them. In-person registrations
    (with their consular site) join the list, and on election day vote at their site's kiosk: the door looks
    the voter ID up, the staff open a turn, the kiosk opens the sealed credentials and casts every office.
    Three people not on the list get an extra ballot at a site's door and vote the Presidencia at its kiosk,
    with the site's reserve credentials, counted in their entidad's acta."""
    stdout, _, actas = await _simulacro(e2e_backend, tmp_path, "escenarios/pef2024-pequeno.json")
    assert "coinciden con el escenario: LNERE 27, 21 votos, participación 77.78 %" in stdout
    assert sorted(actas) == [
        "01/presidencia",
        "01/senaduria",
        "09/diputacion_migrante",
        "09/jefatura_gobierno",
        "09/presidencia",
        "09/senaduria",
    ]
    assert {a["cargo"] for a in actas.values()} == {
        "presidencia",
        "senaduria",
        "jefatura_gobierno",
        "diputacion_migrante",
    }
    # The same voters, a different choice per office: each acta its own figures.
    assert actas["09/jefatura_gobierno"]["por_modalidad"]["electronica"]["PT+MORENA"] == 1
    assert actas["09/presidencia"]["por_modalidad"]["electronica"]["PAN+PRI"] == 1
    # Each ballot's approved candidacies (the drill loads them: the OPL, and INE the Presidencia's) name the
    # person of each candidacy in its acta.
    for a in actas.values():
        assert set(a["personas_candidatas"]) == set(a["candidaturas"]) - {"no_registrados"}
    assert actas["09/jefatura_gobierno"]["personas_candidatas"]["MC"] == "Candidatura de Movimiento Ciudadano"
    assert {k: a["votos"]["total"] for k, a in actas.items() if k.startswith("09/")} == {
        "09/presidencia": 13,  # the two extra ballots of the Ciudad de México vote the national office only
        "09/senaduria": 11,
        "09/jefatura_gobierno": 11,
        "09/diputacion_migrante": 11,
    }
    final = json.loads((tmp_path / "sim" / "informe-final.json").read_text())
    assert [c["cargo"] for c in final["entidades"]["09"]["cargos"]] == [
        "presidencia",
        "senaduria",
        "jefatura_gobierno",
        "diputacion_migrante",
    ]
    # Its Presidencia acta: the LNERE's 7 and an extra ballot at a site.
    assert final["entidades"]["01"]["votos"]["total"] == 8
    # Three registered in person at a consular site (#27): on the list, counted per site; two of them voted
    # at their site's kiosk, into the same urn as the internet ballots (one tally), counted apart.
    lnere_09 = final["entidades"]["09"]["lnere"]
    assert (lnere_09["total"], lnere_09["presencial"]) == (16, 3)
    assert actas["09/presidencia"]["lnere"] == {"postal": 6, "electronica": 7, "presencial": 3, "total": 16}
    assert "presencial" not in actas["01/presidencia"]["lnere"]  # nobody from 01 votes in person
    # At the kiosks: the two on the list and the two extra ballots, in the same urn.
    assert actas["09/presidencia"]["votos"] == {"postal": 4, "electronica": 5, "presencial": 4, "total": 13}
    assert actas["09/presidencia"]["por_modalidad"]["electronica"]["PAN"] == 2  # a kiosk's and an extra's
    assert actas["09/senaduria"]["votos"] == {"postal": 4, "electronica": 5, "presencial": 2, "total": 11}
    assert actas["01/presidencia"]["votos"] == {"postal": 3, "electronica": 4, "presencial": 1, "total": 8}
    assert "presencial" not in actas["01/senaduria"]["votos"]
    assert actas["09/presidencia"]["participacion"] == "81.25"
    # The national office: one acta per entidad, and the report's national result is their sum.
    (presidencia,) = final["cargos_nacionales"]
    assert (presidencia["actas"], presidencia["de"], presidencia["completo"]) == (2, 32, False)
    assert presidencia["votos"]["total"] == 21
    por_partido = {
        p: actas["01/presidencia"]["distribucion"][p] + actas["09/presidencia"]["distribucion"][p]
        for p in actas["09/presidencia"]["distribucion"]
    }
    assert presidencia["distribucion"] == por_partido
    assert sorted(presidencia["por_entidad"]) == ["01", "09"]
