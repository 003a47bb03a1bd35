from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from pydantic import ValidationError

from shared.numeros import numero_adicional, numeros_adicionales
from shared.proceso import PROCESOS_DIR, cargar, parse


def test_pel2021_convierte_hora_del_centro_con_las_reglas_de_cada_fecha() -> None:
    p = cargar("pel2021")
    assert len(p.entidades) == 11
    assert p.entidades["09"].cargos[0].nombre == "Diputación Migrante"
    # 10 Mar 2021 12:00 Centro was UTC-6; 5 Jun 2021 08:00 Centro was UTC-5 (daylight saving until 2022).
    assert p.calendario.registro_fin == dt.datetime(2021, 3, 10, 18, 0, tzinfo=dt.UTC)
    assert p.calendario.recepcion_spv_limite == dt.datetime(2021, 6, 5, 13, 0, tzinfo=dt.UTC)
    assert p.calendario.voto_electronico_fin == dt.datetime(2021, 6, 6, 23, 0, tzinfo=dt.UTC)
    assert p.local(p.calendario.registro_fin).isoformat() == "2021-03-10T12:00:00-06:00"


def test_demo_es_relativo_al_ancla_y_comparte_entidades() -> None:
    ancla = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    demo = cargar("demo", ancla)
    assert demo.calendario.registro_inicio == ancla - dt.timedelta(days=1)
    assert demo.calendario.registro_fin == ancla + dt.timedelta(days=30)
    pel = cargar("pel2021")
    assert demo.entidades == pel.entidades
    assert demo.partidos == pel.partidos


def test_errores_de_configuracion_claros() -> None:
    with pytest.raises(ValueError, match="no existe el proceso"):
        cargar("pel1810")
    base = {
        "clave": "x",
        "nombre": "x",
        "zona_horaria": "America/Mexico_City",
        "modalidades": ["postal"],
        "partidos": {"PAN": "PAN"},
        "calendario": dict.fromkeys(
            (
                "registro_inicio",
                "registro_fin",
                "observaciones_inicio",
                "observaciones_fin",
                "cierre_lnere",
                "envio_pep_inicio",
                "envio_pep_fin",
                "recepcion_spv_limite",
                "voto_electronico_inicio",
                "voto_electronico_fin",
                "jornada",
            ),
            "2021-01-01T00:00",
        )
        | {"aclaracion_dias": 5},
        "entidades": {"99": {"nombre": "x", "cargos": [{"clave": "g", "nombre": "G"}], "partidos": ["PAN"]}},
    }
    with pytest.raises(ValidationError, match="registro_inicio < registro_fin"):
        parse(base, dt.datetime.now(dt.UTC))


def test_pef2024_cada_entidad_vota_la_presidencia_y_sus_cargos() -> None:
    p = cargar("pef2024")
    assert len(p.entidades) == 32
    # Every entidad: Presidencia (national, first on the ballot) and its Senaduría; CDMX also its two offices.
    for entidad in p.entidades.values():
        assert [c.clave for c in entidad.cargos][:2] == ["presidencia", "senaduria"]
        assert [c.nacional for c in entidad.cargos] == [True] + [False] * (len(entidad.cargos) - 1)
    assert [c.clave for c in p.entidades["09"].cargos] == [
        "presidencia",
        "senaduria",
        "jefatura_gobierno",
        "diputacion_migrante",
    ]
    assert sum(len(e.cargos) for e in p.entidades.values()) == 75
    # Mexico has had no daylight saving time since 2022: 18 May 2024 20:00 Centro is 19 May 02:00 UTC.
    assert p.calendario.voto_electronico_inicio == dt.datetime(2024, 5, 19, 2, 0, tzinfo=dt.UTC)
    assert p.calendario.recepcion_spv_limite == dt.datetime(2024, 6, 1, 14, 0, tzinfo=dt.UTC)


def test_un_cargo_repetido_en_una_entidad_se_rechaza() -> None:
    datos = tomllib.loads((PROCESOS_DIR / "pel2021.toml").read_text())
    datos["cargos_nacionales"] = [{"clave": "gubernatura", "nombre": "Gubernatura nacional"}]
    with pytest.raises(ValidationError, match="cargos repetidos"):
        parse(datos, dt.datetime.now(dt.UTC))


def test_pef2024_tiene_23_sedes_y_cada_horario_local_cae_en_su_dia() -> None:
    p = cargar("pef2024")
    assert "presencial" in p.modalidades
    assert len(p.sedes) == 23
    # 2 Jun 2024 08:00-18:00 Centro (UTC-6) is 07-17 in Los Angeles (PDT) and 10-20 in New York (EDT).
    for sede in ("los-angeles", "nueva-york", "phoenix"):
        assert p.horario(sede) == (
            dt.datetime(2024, 6, 2, 14, 0, tzinfo=dt.UTC),
            dt.datetime(2024, 6, 3, 0, 0, tzinfo=dt.UTC),
        )
    assert p.horario("madrid") == (
        dt.datetime(2024, 6, 2, 6, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 6, 2, 16, 0, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    ("cambio", "mensaje"),
    [
        ({"zona_horaria": "America/Atlantida"}, "zona horaria desconocida"),
        ({"apertura": "18:00", "cierre": "08:00"}, "la apertura"),
        ({"pais": "usa"}, "pais"),
        ({"boletas_adicionales": -1}, "boletas_adicionales"),
        ({"boletas_adicionales": 50}, "credenciales_adicionales no puede pasar de boletas_adicionales"),
        ({"credenciales_adicionales": 100_000}, "credenciales_adicionales"),
    ],
)
def test_una_sede_mal_declarada_se_rechaza(cambio: dict[str, object], mensaje: str) -> None:
    datos = tomllib.loads((PROCESOS_DIR / "pef2024.toml").read_text())
    datos["sedes"]["chicago"].update(cambio)
    with pytest.raises(ValidationError, match=mensaje):
        parse(datos, dt.datetime.now(dt.UTC))


def test_la_modalidad_presencial_y_las_sedes_van_juntas() -> None:
    datos = tomllib.loads((PROCESOS_DIR / "pef2024.toml").read_text())
    sin_sedes = {**datos, "sedes": {}}
    with pytest.raises(ValidationError, match="van juntas"):
        parse(sin_sedes, dt.datetime.now(dt.UTC))
    sin_modalidad = {**datos, "modalidades": ["postal", "electronica"]}
    with pytest.raises(ValidationError, match="van juntas"):
        parse(sin_modalidad, dt.datetime.now(dt.UTC))
    datos["sedes"]["Los Ángeles"] = datos["sedes"].pop("los-angeles")
    with pytest.raises(ValidationError, match="clave de sede inválida"):
        parse(datos, dt.datetime.now(dt.UTC))


def test_los_numeros_de_reserva_de_las_sedes_no_son_de_la_lnere_ni_se_repiten() -> None:
    """The sites' reserve credentials for extra ballots (#27): negative numbers, one per site and folio."""
    p = cargar("pef2024")
    numeros = [n for _, n in numeros_adicionales(p)]
    assert len(numeros) == len(set(numeros)) == 23 * 100
    assert max(numeros) == numero_adicional(p, next(iter(p.sedes)), 1) == -100_001
    assert min(numeros) == -23 * 100_000 - 100
