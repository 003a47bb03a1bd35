"""The whole process as a drill (``make simulate``) on a small scenario: registration to acta de cómputo,
through the public HTTP APIs of the six services running as processes, on the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.hijos import free_port
from tests.support.comun import Databases
from tests.support.e2e import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


async def test_simulacro_pequeno_de_punta_a_punta(e2e_backend: str, tmp_path: Path) -> None:
    dbs = Databases(e2e_backend, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMRE_")}
    for servicio in ("registro", "postal", "electronico", "computo", "tablero"):
        # Fresh, empty databases (vmre run migrates them itself).
        env[f"VMRE_{servicio.upper()}_DATABASE_URL"] = await dbs.new(servicio, migrate=False)
        env[f"VMRE_{servicio.upper()}_PORT"] = str(free_port())
    actas = tmp_path / "actas.json"
    try:
        r = subprocess.run(
            [sys.executable, "-m", "simulacion", "escenarios/pequeno.json", "--datos", str(tmp_path / "sim"),
             "--salida", str(actas)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        await dbs.drop_all()
    log = (tmp_path / "sim" / "plataforma.log").read_text(errors="replace")[-4000:] if r.returncode else ""
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{log}"
    assert "coinciden con el escenario: LNERE 37, 22 votos, participación 59.46 %" in r.stdout
    for fase in (
        "solicitudes",
        "dictámenes",
        "ceremonia de llaves",
        "votos por internet",
        "cómputo de entidad",
        "destrucción de extemporáneos",
        "informe final",
    ):
        assert fase in r.stderr  # one progress line per phase
    # The peak resident memory of each service (its processes' VmHWM), read before the platform stops.
    pico = next(linea for linea in r.stderr.splitlines() if linea.startswith("memoria pico por servicio"))
    for servicio in ("registro", "postal", "electronico", "computo", "tablero", "credenciales"):
        assert f"{servicio} " in pico, pico
    por_entidad = json.loads(actas.read_text())
    cdmx = por_entidad["09"]
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
