"""The counting rules (services.computo.domain): worked examples from the domain notes and properties."""

from __future__ import annotations

import random
import tomllib
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.computo import domain as reglas
from services.electronico import domain
from shared.proceso import NO_REGISTRADOS, NULOS, PROCESOS_DIR, Cargo, Coalicion, Entidad, cargar, opciones

PEL2021 = cargar("pel2021")
CDMX = PEL2021.entidades["09"]
CLAVES_ENTIDAD = sorted(PEL2021.entidades)


# --- strategies ---------------------------------------------------------------------------------------------

# Small counts make ties and remainders frequent; large ones check nothing overflows or drifts.
conteos = st.one_of(st.integers(0, 5), st.integers(0, 10**7))


@st.composite
def entidad_y_votos(draw: st.DrawFn) -> tuple[Entidad, dict[str, int]]:
    entidad = PEL2021.entidades[draw(st.sampled_from(CLAVES_ENTIDAD))]
    votos = draw(st.fixed_dictionaries(dict.fromkeys(opciones(entidad), conteos)))
    return entidad, votos


def _combinaciones(entidad: Entidad) -> list[tuple[str, ...]]:
    return [
        c
        for co in entidad.coaliciones
        for n in range(2, len(co.partidos) + 1)
        for c in combinations(co.partidos, n)
    ]


# --- properties ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(entidad_y_votos())
def test_distribuir_no_crea_ni_pierde_votos(caso: tuple[Entidad, dict[str, int]]) -> None:
    entidad, votos = caso
    por_partido = reglas.distribuir(votos, entidad)
    assert list(por_partido) == entidad.partidos
    assert sum(por_partido.values()) == sum(votos.values()) - votos[NO_REGISTRADOS] - votos[NULOS]


@settings(max_examples=300, deadline=None)
@given(entidad_y_votos())
def test_cada_partido_entre_sus_votos_y_todas_sus_combinaciones(caso: tuple[Entidad, dict[str, int]]) -> None:
    entidad, votos = caso
    por_partido = reglas.distribuir(votos, entidad)
    for partido in entidad.partidos:
        combinadas = sum(votos["+".join(c)] for c in _combinaciones(entidad) if partido in c)
        assert votos[partido] <= por_partido[partido] <= votos[partido] + combinadas


@settings(max_examples=300, deadline=None)
@given(entidad_y_votos())
def test_reparto_igualitario_y_resto_a_la_mayor_votacion(caso: tuple[Entidad, dict[str, int]]) -> None:
    entidad, votos = caso
    orden = entidad.partidos.index
    partes = reglas.reparto(votos, entidad)
    assert list(partes) == ["+".join(c) for c in _combinaciones(entidad)]
    for clave, parte in partes.items():
        assert list(parte) == clave.split("+")
        assert sum(parte.values()) == votos[clave]
        assert max(parte.values()) - min(parte.values()) <= 1
        # Whoever got the extra vote ranks above whoever did not: more own votes, or as many and earlier on
        # the ballot.
        for a in parte:
            for b in parte:
                if parte[a] > parte[b]:
                    assert (votos[a], -orden(a)) > (votos[b], -orden(b))


@settings(max_examples=300, deadline=None)
@given(entidad_y_votos())
def test_candidaturas_mas_nulos_es_el_total(caso: tuple[Entidad, dict[str, int]]) -> None:
    entidad, votos = caso
    por_candidatura = reglas.candidaturas(votos, entidad)
    assert sum(por_candidatura.values()) + votos[NULOS] == sum(votos.values())
    for coalicion in entidad.coaliciones:
        distribuidos = reglas.distribuir(votos, entidad)
        assert por_candidatura[coalicion.nombre] == sum(distribuidos[p] for p in coalicion.partidos)


@settings(max_examples=100, deadline=None)
@given(entidad_y_votos(), st.randoms(use_true_random=False))
def test_sumar_repartido_en_actas_da_lo_mismo(
    caso: tuple[Entidad, dict[str, int]], azar: random.Random
) -> None:
    entidad, votos = caso
    postal = {k: azar.randint(0, v) for k, v in votos.items()}
    electronico = {k: v - postal[k] for k, v in votos.items()}
    assert reglas.sumar(postal, electronico) == votos
    assert reglas.distribuir(reglas.sumar(electronico, postal), entidad) == reglas.distribuir(votos, entidad)


# --- worked examples ----------------------------------------------------------------------------------------


def test_ejemplo_del_articulo_311() -> None:
    """dominio.md §6: PAN 100, PRI 80, PRD 20, PAN-PRI-PRD 11, PAN-PRI 5 → PAN 107, PRI 86, PRD 23; 216."""
    votos = {"PAN": 100, "PRI": 80, "PRD": 20, "PAN+PRI+PRD": 11, "PAN+PRI": 5}
    assert reglas.reparto(votos, CDMX)["PAN+PRI+PRD"] == {"PAN": 4, "PRI": 4, "PRD": 3}
    assert reglas.reparto(votos, CDMX)["PAN+PRI"] == {"PAN": 3, "PRI": 2}
    por_partido = reglas.distribuir(votos, CDMX)
    assert (por_partido["PAN"], por_partido["PRI"], por_partido["PRD"]) == (107, 86, 23)
    assert reglas.candidaturas(votos, CDMX)["Va por la CDMX"] == 216


def test_empate_lo_gana_el_primero_en_la_boleta() -> None:
    votos = {"PAN": 10, "PRI": 10, "PRD": 10, "PAN+PRI+PRD": 2, "PRI+PRD": 1, "PT+MORENA": 1}
    partes = reglas.reparto(votos, CDMX)
    assert partes["PAN+PRI+PRD"] == {"PAN": 1, "PRI": 1, "PRD": 0}
    assert partes["PRI+PRD"] == {"PRI": 1, "PRD": 0}
    assert partes["PT+MORENA"] == {"PT": 1, "MORENA": 0}  # both 0 own votes: PT comes first on the ballot
    # More own votes beats ballot order.
    assert reglas.reparto({**votos, "PRD": 11}, CDMX)["PRI+PRD"] == {"PRI": 0, "PRD": 1}


def test_empate_sigue_la_boleta_y_no_el_orden_de_la_coalicion() -> None:
    entidad = Entidad(
        nombre="Prueba",
        cargos=[Cargo(clave="gubernatura", nombre="Gubernatura")],
        partidos=["A", "B", "C"],
        coaliciones=[Coalicion(nombre="Alianza", partidos=["C", "A"])],
    )
    # Combinations are keyed in the process file's party order (the cómputo contract), whatever the coalition.
    assert opciones(entidad) == ["A", "B", "C", "A+C", NO_REGISTRADOS, NULOS]
    assert reglas.reparto({"A": 5, "C": 5, "A+C": 3}, entidad) == {"A+C": {"A": 2, "C": 1}}
    assert reglas.candidaturas({"A": 5, "B": 9, "C": 5, "A+C": 3, NULOS: 4}, entidad) == {
        "Alianza": 13,
        "B": 9,
        NO_REGISTRADOS: 0,
    }


# CDMX, Diputación Migrante 2021 (dominio.md §6), read as party-only votes. The postal/internet split per
# option is illustrative; its totals (1,556 postal, 7,350 internet) and the sums are the published ones.
CDMX_2021 = {
    "PAN": 4883, "MORENA": 1983, "PRI": 801, "MC": 431, "PRD": 308, "PT": 90, "PVEM": 74, "PELG": 56,
    "FXM": 54, "RSP": 45, "PES": 31, NO_REGISTRADOS: 28, NULOS: 122,
}  # fmt: skip
CDMX_2021_POSTAL = {
    "PAN": 850, "MORENA": 350, "PRI": 140, "MC": 75, "PRD": 55, "PT": 16, "PVEM": 13, "PELG": 10,
    "FXM": 9, "RSP": 8, "PES": 5, NO_REGISTRADOS: 5, NULOS: 20,
}  # fmt: skip
CDMX_2021_INTERNET = {
    "PAN": 4033, "MORENA": 1633, "PRI": 661, "MC": 356, "PRD": 253, "PT": 74, "PVEM": 61, "PELG": 46,
    "FXM": 45, "RSP": 37, "PES": 26, NO_REGISTRADOS: 23, NULOS: 102,
}  # fmt: skip
# dominio.md §2: e-voters on the CDMX LNERE.
CDMX_2021_LNERE_INTERNET = 9840


def test_cdmx_2021_diputacion_migrante() -> None:
    assert sum(CDMX_2021_POSTAL.values()) == 1556
    assert sum(CDMX_2021_INTERNET.values()) == 7350
    total = reglas.sumar(CDMX_2021_POSTAL, CDMX_2021_INTERNET)
    assert total == CDMX_2021
    assert sum(total.values()) == 8906
    por_partido = reglas.distribuir(total, CDMX)
    assert por_partido == {p: CDMX_2021.get(p, 0) for p in CDMX.partidos}
    assert sum(por_partido.values()) + total[NO_REGISTRADOS] + total[NULOS] == 8906
    por_candidatura = reglas.candidaturas(total, CDMX)
    assert por_candidatura["Va por la CDMX"] == 4883 + 801 + 308
    assert por_candidatura["Juntos Hacemos Historia en la Ciudad de México"] == 90 + 1983
    assert reglas.motivos_de_recuento(total, CDMX, acta_inconsistente=False) == []
    # 7,350 / 9,840 = 74.695…%
    assert reglas.participacion(sum(CDMX_2021_INTERNET.values()), CDMX_2021_LNERE_INTERNET) == "74.70"


# --- participación ------------------------------------------------------------------------------------------


def test_participacion_pel2021_se_calcula_no_se_copia() -> None:
    # dominio.md §1: 5,623 postal + 12,456 electronic of an LNERE of 32,305; the reported 55.97 % was wrong.
    assert reglas.participacion(5623 + 12456, 32305) == "55.96"


@pytest.mark.parametrize(
    ("votos", "lnere", "esperado"),
    [(0, 0, "0.00"), (5, 0, "0.00"), (0, 10, "0.00"), (1, 800, "0.13"), (1, 1, "100.00"), (2, 3, "66.67"),
     (1, 3, "33.33"), (3, 800, "0.38"), (1, 16, "6.25"), (1, 40000, "0.00"), (1, 20000, "0.01")],
)  # fmt: skip
def test_participacion_redondea_hacia_arriba_el_medio(votos: int, lnere: int, esperado: str) -> None:
    assert reglas.participacion(votos, lnere) == esperado


def test_participacion_rechaza_negativos() -> None:
    with pytest.raises(ValueError, match="cifras negativas"):
        reglas.participacion(-1, 10)


# --- validation ---------------------------------------------------------------------------------------------


def test_opciones_son_las_de_la_boleta_electronica() -> None:
    """Cómputo counts exactly what the internet ballot offers, in its order (the electronic tally is a vector
    in ballot order), and that is what the process file declares: each party, each combination of two or more
    parties of one coalition, candidato no registrado and nulo."""
    crudo = tomllib.loads((PROCESOS_DIR / "pel2021.toml").read_text(encoding="utf-8"))["entidades"]
    assert sorted(crudo) == CLAVES_ENTIDAD
    for clave, entidad in PEL2021.entidades.items():
        claves = list(reglas.validar({}, entidad))
        # The question electronico puts in the Belenios election of every office of the entidad.
        for cargo in entidad.cargos:
            boleta = domain.pregunta(entidad, cargo, PEL2021)
            assert boleta.respuestas == tuple(domain.texto_opcion(c, PEL2021) for c in claves), clave
        # The process file as written, read here without shared.proceso.
        partidos = crudo[clave]["partidos"]
        esperadas = {*partidos, NO_REGISTRADOS, NULOS}
        for coalicion in crudo[clave].get("coaliciones", []):
            suyos = [p for p in partidos if p in coalicion["partidos"]]
            esperadas |= {"+".join(c) for n in range(2, len(suyos) + 1) for c in combinations(suyos, n)}
        assert len(claves) == len(esperadas), clave
        assert set(claves) == esperadas, clave
        assert claves[: len(partidos)] == partidos, clave
        assert claves[-2:] == [NO_REGISTRADOS, NULOS], clave
    # Worked example: Ciudad de México, two coalitions.
    assert list(reglas.validar({}, CDMX)) == [
        "PAN", "PRI", "PRD", "PT", "PVEM", "MC", "MORENA", "PES", "RSP", "FXM", "PELG",
        "PAN+PRI", "PAN+PRD", "PRI+PRD", "PAN+PRI+PRD", "PT+MORENA",
        NO_REGISTRADOS, NULOS,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("votos", "clave"),
    [({"PAN+MC": 1}, "PAN+MC"), ({"PRI+PAN": 1}, "PRI+PAN"), ({"PAN": -1}, "PAN"), ({"nulos": 1.5}, "nulos"),
     ({"PRD": True}, "PRD")],
)  # fmt: skip
def test_validar_nombra_la_opcion_con_problemas(votos: dict[str, object], clave: str) -> None:
    with pytest.raises(ValueError, match=repr(clave).replace("+", r"\+")):
        reglas.validar(votos, CDMX)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=repr(clave).replace("+", r"\+")):
        reglas.distribuir(votos, CDMX)  # type: ignore[arg-type]


def test_sumar_rechaza_negativos_y_acepta_cero_actas() -> None:
    assert reglas.sumar() == {}
    assert reglas.sumar({"PAN": 1}, {"PRI": 2, "PAN": 3}) == {"PAN": 4, "PRI": 2}
    with pytest.raises(ValueError, match="'PRI'"):
        reglas.sumar({"PAN": 1}, {"PRI": -2})


def test_candidaturas_sin_coaliciones_y_con_partido_repetido() -> None:
    queretaro = PEL2021.entidades["22"]
    assert reglas.candidaturas({"PAN": 3, NO_REGISTRADOS: 1, NULOS: 7}, queretaro) == {
        **dict.fromkeys(queretaro.partidos, 0),
        "PAN": 3,
        NO_REGISTRADOS: 1,
    }
    doble = CDMX.model_copy(
        update={"coaliciones": [*CDMX.coaliciones, Coalicion(nombre="X", partidos=["MC", "PAN"])]}
    )
    with pytest.raises(ValueError, match="'PAN'"):
        reglas.candidaturas({}, doble)


# --- recuento -----------------------------------------------------------------------------------------------


def test_motivos_de_recuento() -> None:
    # Va por la CDMX 300 vs MORENA+PT 200: margin 100 of 600 votes (16.67 %), nulos 50.
    holgado = {"PAN": 300, "MORENA": 200, NO_REGISTRADOS: 50, NULOS: 50}
    assert reglas.motivos_de_recuento(holgado, CDMX, acta_inconsistente=False) == []
    [inconsistente] = reglas.motivos_de_recuento(holgado, CDMX, acta_inconsistente=True)
    assert "inconsistencias" in inconsistente
    # nulos 101 > margin 100
    [nulos] = reglas.motivos_de_recuento({**holgado, NULOS: 101}, CDMX, acta_inconsistente=False)
    assert "nulos (101)" in nulos
    assert "(100)" in nulos
    # margin 10 of 1,000 votes = exactly 1 pp; 11 of 1,000 is above.
    cerrado = {"PAN": 500, "PRI": 5, "MORENA": 495, NULOS: 0}
    assert reglas.candidaturas(cerrado, CDMX)["Va por la CDMX"] == 505
    [margen] = reglas.motivos_de_recuento(cerrado, CDMX, acta_inconsistente=False)
    assert "(10 votos, 1.00 %)" in margen


def test_margen_justo_por_encima_de_un_punto() -> None:
    # 506 vs 495: margin 11 of 1,001 votes = 1.10 pp → no recount.
    assert reglas.motivos_de_recuento({"PAN": 506, "MORENA": 495}, CDMX, acta_inconsistente=False) == []


def test_recuento_sin_votos_y_con_una_sola_candidatura() -> None:
    assert reglas.motivos_de_recuento({}, CDMX, acta_inconsistente=False) == []
    # Only one candidacy with votes: the margin is all its votes (2 of 5 = 40 pp); 3 nulos > 2.
    [nulos] = reglas.motivos_de_recuento({"PAN": 2, NULOS: 3}, CDMX, acta_inconsistente=False)
    assert "nulos (3)" in nulos
    assert "(2)" in nulos
    # Every vote nulo: margin 0, both reasons.
    [nulos, margen] = reglas.motivos_de_recuento({NULOS: 3}, CDMX, acta_inconsistente=False)
    assert "nulos (3)" in nulos
    assert "(0 votos, 0.00 %)" in margen


def test_no_registrados_no_es_candidatura_para_el_margen() -> None:
    # no registrados 900 would be "first"; the margin is PAN 100 vs MORENA 0.
    assert reglas.motivos_de_recuento({"PAN": 100, NO_REGISTRADOS: 900}, CDMX, acta_inconsistente=False) == []


# --- revisión de acta postal --------------------------------------------------------------------------------


def test_revisar_acta_correcta() -> None:
    revision = reglas.revisar_acta(
        CDMX_2021_POSTAL, CDMX, total_capturado=1556, sobres_recibidos=1556, marcas_voto=1556
    )
    assert revision == reglas.Revision()
    assert revision.aceptable
    assert not revision.inconsistente


def test_revisar_acta_suma_distinta_bloquea() -> None:
    revision = reglas.revisar_acta(
        CDMX_2021_POSTAL, CDMX, total_capturado=1560, sobres_recibidos=1560, marcas_voto=1560
    )
    assert not revision.aceptable
    assert revision.errores == (
        "La suma de los votos por opción (1556) no coincide con el total de votos capturado (1560).",
    )


def test_revisar_acta_sobres_y_marcas_son_incidentes() -> None:
    revision = reglas.revisar_acta(
        CDMX_2021_POSTAL, CDMX, total_capturado=1556, sobres_recibidos=1557, marcas_voto=1558
    )
    assert revision.aceptable
    assert revision.inconsistente
    assert revision.incidentes == (
        "Se recibieron 1557 sobres, pero la lista de la mesa tiene 1558 marcas de «votó».",
        "El total de votos (1556) no coincide con los sobres recibidos (1557): cada sobre cuenta como un "
        "voto (vacío o con varias boletas, como nulo).",
    )
    assert reglas.motivos_de_recuento(CDMX_2021_POSTAL, CDMX, acta_inconsistente=revision.inconsistente)


def test_revisar_acta_captura_invalida() -> None:
    [error] = reglas.revisar_acta(
        {"PAN+MC": 3}, CDMX, total_capturado=3, sobres_recibidos=3, marcas_voto=3
    ).errores
    assert "'PAN+MC'" in error
    revision = reglas.revisar_acta({}, CDMX, total_capturado=-1, sobres_recibidos=0, marcas_voto=0)
    assert revision.errores == ("El total de votos debe ser un número entero no negativo (se capturó -1).",)


def test_personas_candidatas_con_las_claves_de_las_candidaturas() -> None:
    """Each approved candidacy's name under the key the acta's ``candidaturas`` gives it: the coalition's
    name for a common candidacy, the party's key for one party alone."""
    ent = cargar("pef2024").entidades["09"]
    lista = [
        {"nombre": "Santiago Taboada Cortina", "partidos": ["PAN", "PRI", "PRD"]},
        {"nombre": "Clara Brugada Molina", "partidos": ["PVEM", "PT", "MORENA"]},
        {"nombre": "Salomón Chertorivski Woldenberg", "partidos": ["MC"]},
    ]
    nombres = reglas.personas_candidatas(lista, ent)
    assert nombres == {
        "Fuerza y Corazón por México": "Santiago Taboada Cortina",
        "Sigamos Haciendo Historia": "Clara Brugada Molina",
        "MC": "Salomón Chertorivski Woldenberg",
    }
    votos = dict.fromkeys(opciones(ent), 1)
    assert set(nombres) <= set(reglas.candidaturas(votos, ent))
    assert reglas.personas_candidatas([], ent) == {}
