"""The scenario file: validated against its process with clear errors; the figures it expects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from simulacion.__main__ import main
from simulacion.escenario import EscenarioInvalido, escalar, leer, porcentaje, validar
from simulacion.informe import diferencias

ROOT = Path(__file__).resolve().parents[2]
PEQUENO = json.loads((ROOT / "escenarios" / "pequeno.json").read_text())


def test_pel2021_da_las_cifras_del_informe() -> None:
    escenario, proceso = leer(ROOT / "escenarios" / "pel2021.json")
    assert len(escenario.entidades) == 11 == len(proceso.entidades)
    lnere = {
        m: sum(getattr(e.lnere, m) for e in escenario.entidades.values()) for m in ("postal", "electronica")
    }
    assert lnere == {"postal": 10_720, "electronica": 21_585}
    assert sum(escenario.votantes(e, "postal") for e in escenario.entidades) == 5_623
    assert sum(escenario.votantes(e, "electronica") for e in escenario.entidades) == 12_456
    assert escenario.totales() == {"lnere": 32_305, "votos": 18_079, "participacion": "55.96"}
    # The internet LNERE per entidad of the domain notes.
    assert {c: e.lnere.electronica for c, e in escenario.entidades.items()} == {
        "03": 105, "08": 1355, "09": 9840, "06": 386, "12": 1328, "14": 3308,
        "16": 2139, "18": 551, "22": 729, "24": 968, "32": 876,
    }  # fmt: skip
    assert escenario.entidades["16"].lnere.postal == 1840
    # Published by INE: Ciudad de México's Diputación Migrante (per option, both modalities together).
    cdmx = escenario.esperado("09")
    assert cdmx["votos"] == {"postal": 1_556, "electronica": 7_350, "total": 8_906}
    assert cdmx["participacion"] == "72.84"
    por_opcion = {
        o: cdmx["por_modalidad"]["postal"].get(o, 0) + cdmx["por_modalidad"]["electronica"].get(o, 0)
        for o in {*cdmx["por_modalidad"]["postal"], *cdmx["por_modalidad"]["electronica"]}
    }
    assert por_opcion == {
        "PAN": 4883, "MORENA": 1983, "PRI": 801, "MC": 431, "PRD": 308, "PT": 90, "PVEM": 74, "PELG": 56,
        "FXM": 54, "RSP": 45, "PES": 31, "no_registrados": 28, "nulos": 122,
    }  # fmt: skip
    assert escenario.esperado("32")["votos"]["total"] == 654


def test_porcentaje_redondea_a_la_mitad_hacia_arriba() -> None:
    assert porcentaje(18_079, 32_305) == "55.96"
    assert porcentaje(1, 8) == "12.50"
    assert porcentaje(1, 200) == "0.50"
    assert porcentaje(1, 400) == "0.25"
    assert porcentaje(1, 800) == "0.13"  # 0.125 → half-up
    assert porcentaje(0, 0) == "0.00"


def _con(**cambios: Any) -> dict[str, Any]:
    datos = copy.deepcopy(PEQUENO)
    for ruta, valor in cambios.items():
        d = datos
        *camino, ultimo = ruta.split("__")
        for parte in camino:
            d = d[parte]
        d[ultimo] = valor
    return datos


@pytest.mark.parametrize(
    ("datos", "esperado"),
    [
        (_con(entidades__09__votos__postal={"PANN": 1}), "entidades.09.votos.postal.PANN: no es una opción"),
        (_con(entidades__09__votos__electronica={"PAN": 13}), "13 votos para una LNERE electronica de 12"),
        (_con(entidades__09__sobres_extemporaneos=7), "15 votos postales más sobres extemporáneos"),
        (_con(entidades__01={"lnere": {"postal": 1}}), "entidades.01: la entidad no participa en pel2021"),
        (_con(entidades__09__lnere={"postal": -1}), "entidades.09.lnere.postal: Input should be greater"),
        (
            _con(entidades__09__lnere={"postal": 15, "electronica": 12, "presencial": 2}),
            "entidades.09.lnere.presencial: el proceso no tiene la modalidad presencial",
        ),
        (_con(semilla="siete"), "semilla: Input should be a valid integer"),
        (_con(proceso="pel1999"), "proceso: no se pudo cargar 'pel1999'"),
        (_con(entidades__09__votoz={}), "entidades.09.votoz: Extra inputs are not permitted"),
    ],
)
def test_escenario_invalido_nombra_el_campo(datos: dict[str, Any], esperado: str) -> None:
    with pytest.raises(EscenarioInvalido) as exc:
        validar(datos)
    assert any(esperado in e for e in exc.value.errores), exc.value.errores


def test_make_simulate_con_escenario_invalido_sale_con_2_y_explica(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ruta = tmp_path / "malo.json"
    ruta.write_text(json.dumps(_con(entidades__16__votos__postal={"PRI": 2, "MORENAA": 1})))
    assert main([str(ruta), "--datos", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "entidades.16.votos.postal.MORENAA: no es una opción de la boleta de Michoacán" in err
    assert not (tmp_path / "d").exists()  # nothing started
    ruta.write_text("{ no es json")
    assert main([str(ruta)]) == 2
    assert "JSON inválido en la línea 1" in capsys.readouterr().err


def test_diferencias_nombra_cada_cifra_distinta() -> None:
    escenario, proceso = validar(PEQUENO)
    actas = {c: escenario.esperado(c) for c in escenario.entidades}
    assert diferencias(escenario, proceso, actas) == []
    actas["09"] = copy.deepcopy(actas["09"])
    actas["09"]["por_modalidad"]["electronica"]["MORENA"] = 5
    actas["09"]["participacion"] = "65.38"
    del actas["16"]
    assert diferencias(escenario, proceso, actas) == [
        "09 participacion: acta 65.38 ≠ escenario 61.54",
        "09 electronica MORENA: acta 5 ≠ escenario 4",
        "16: sin acta de cómputo",
    ]


def test_varios_cargos_cada_uno_con_sus_votos_y_los_mismos_votantes() -> None:
    base = json.loads((ROOT / "escenarios" / "pef2024-pequeno.json").read_text())
    escenario, proceso = validar(base)
    assert escenario.esperado("09", "jefatura_gobierno")["por_modalidad"]["postal"]["PAN+PRI+PRD"] == 1
    assert escenario.votantes("09", "electronica") == 5
    datos = copy.deepcopy(base)
    del datos["entidades"]["09"]["cargos"]["senaduria"]  # an office left out
    datos["entidades"]["01"]["cargos"]["senaduria"]["postal"]["MC"] = (
        2  # one voter more than the other office
    )
    datos["entidades"]["01"]["votos"] = {"postal": {"PAN": 1}}  # votes outside the offices
    with pytest.raises(EscenarioInvalido) as err:
        validar(datos, proceso)
    assert err.value.errores == [
        "entidades.01.votos: con «cargos», los votos van en cada cargo",
        "entidades.01.cargos: quien vota, vota todos los cargos; los votos postal deben sumar lo mismo en "
        "cada uno (presidencia 3, senaduria 4)",
        "entidades.09.cargos: Ciudad de México vota presidencia, senaduria, jefatura_gobierno, "
        "diputacion_migrante; el escenario declara presidencia, jefatura_gobierno, diputacion_migrante "
        "(declare los votos de cada cargo en «cargos»)",
    ]
    # An entidad of several offices declared the old way (one ``votos``) is refused the same way.
    datos = copy.deepcopy(base)
    datos["entidades"]["01"] = {"lnere": {"postal": 1}, "votos": {"postal": {"PAN": 1}}}
    with pytest.raises(EscenarioInvalido, match=r"entidades\.01\.cargos: Aguascalientes vota presidencia"):
        validar(datos, proceso)


def test_pef2024_da_las_cifras_publicadas_y_escala_con_la_misma_forma() -> None:
    escenario, proceso = leer(ROOT / "escenarios" / "pef2024.json")
    assert len(escenario.entidades) == 32
    lnere = {
        m: sum(getattr(e.lnere, m) for e in escenario.entidades.values())
        for m in ("postal", "electronica", "presencial")
    }
    assert lnere == {"postal": 56_249, "electronica": 151_989, "presencial": 15_723}
    assert escenario.totales()["lnere"] == 223_961  # the published LNERE
    assert sum(escenario.votantes(e, "postal") for e in escenario.entidades) == 39_634
    assert sum(escenario.votantes(e, "electronica") for e in escenario.entidades) == 122_496
    # Published: Estado de México's acta (its in-person votes: of the list, the national internet turnout;
    # the rest of its published 1,704 site votes, extra ballots for the Presidencia).
    assert (escenario.votantes("15", "electronica"), escenario.votantes("15", "postal")) == (10_501, 1_987)
    assert escenario.votantes("15", "presencial") + escenario.adicionales("15") == 1_704
    # The sites' 22,238 published votes: the list's and the extra ballots', all in the Presidencia's actas;
    # 184,368 votes in all (122,496 + 39,634 + 22,238).
    adicionales = sum(escenario.adicionales(e) for e in escenario.entidades)
    assert (
        sum(escenario.esperado(e, "presidencia")["votos"]["presencial"] for e in escenario.entidades)
        == 22_238
    )
    assert escenario.totales()["votos"] == 184_368
    assert sum(escenario.esperado(e, "senaduria")["votos"]["presencial"] for e in escenario.entidades) == (
        22_238 - adicionales
    )
    en_sede = sum(escenario.votantes(e, "presencial") for e in escenario.entidades)
    assert en_sede == pytest.approx(15_723 * 122_496 / 151_989, abs=16)
    edomex = escenario.entidades["15"].lnere.presencial
    assert escenario.votantes("15", "presencial") == round(edomex * 122_496 / 151_989)
    # Every office of an entidad, the same in-person voters of the list (the Presidencia, the extra ballots
    # too); the acta's electronic urn holds internet and kiosks.
    esperado = escenario.esperado("15", "presidencia")
    assert esperado["votos"]["presencial"] == 1_704
    assert sum(esperado["por_modalidad"]["electronica"].values()) == 10_501 + 1_704
    assert escenario.esperado("15", "senaduria")["votos"]["presencial"] == escenario.votantes(
        "15", "presencial"
    )
    # A tenth of it: valid against the process, the same offices, each office the same voters.
    decima = escalar(escenario, 0.1)
    validar(decima.model_dump(), proceso)
    assert decima.totales()["lnere"] == pytest.approx(22_396, abs=48)
    assert decima.totales()["votos"] == pytest.approx(18_437, abs=40)
    assert sum(decima.adicionales(e) for e in decima.entidades) == pytest.approx(957, abs=16)
    for clave, e in decima.entidades.items():
        assert set(e.cargos) == {c.clave for c in proceso.entidades[clave].cargos}
        for m in ("postal", "electronica", "presencial"):
            assert len({sum(getattr(v, m).values()) for v in e.cargos.values()}) == 1
    with pytest.raises(EscenarioInvalido, match=r"escala: debe estar en \(0, 1\]"):
        escalar(escenario, 0)


def _pef2024_pequeno(cargos: dict[str, dict[str, int]]) -> dict[str, Any]:
    datos = json.loads((ROOT / "escenarios" / "pef2024-pequeno.json").read_text())
    for ruta, adicional in cargos.items():
        entidad, cargo = ruta.split("__")
        datos["entidades"][entidad]["cargos"][cargo]["adicional"] = adicional
    return datos


@pytest.mark.parametrize(
    ("cargos", "esperado"),
    [
        (
            {"09__senaduria": {"PAN": 1}},
            "entidades.09.cargos.senaduria.adicional: con boleta adicional solo se votan los cargos "
            "nacionales",
        ),
        (
            {"09__presidencia": {"PANN": 1}},
            "entidades.09.cargos.presidencia.adicional.PANN: no es una opción",
        ),
        ({"09__presidencia": {"PAN": -1}}, "entidades.09.cargos.presidencia.adicional.PAN: debe ser ≥ 0"),
        # 23 sites × 100 reserve credentials per entidad, in turn from Chicago on (01's one went to Atlanta).
        (
            {"09__presidencia": {"PAN": 2_301}},
            "101 boletas adicionales en chicago, que tiene 100 credenciales",
        ),
    ],
)
def test_votos_de_boletas_adicionales_invalidos_nombran_el_campo(
    cargos: dict[str, dict[str, int]], esperado: str
) -> None:
    datos = _pef2024_pequeno(cargos)
    with pytest.raises(EscenarioInvalido) as exc:
        validar(datos)
    assert any(esperado in e for e in exc.value.errores), exc.value.errores
