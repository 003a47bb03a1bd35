from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.registro import domain
from shared.datos_personales import enmascarar_nombre


def test_clave_coherente_con_fecha_y_sexo() -> None:
    assert domain.errores_clave("GOMZAN85031209M700", dt.date(1985, 3, 12), "M") == []
    assert len(domain.errores_clave("GOMZAN85031209M700", dt.date(1985, 3, 13), "H")) == 2
    assert domain.errores_clave("GOMZAN850312", dt.date(1985, 3, 12), "M")[0].startswith("Formato")


def test_edad_y_rangos() -> None:
    assert domain.edad(dt.date(2003, 6, 6), dt.date(2021, 6, 6)) == 18
    assert domain.edad(dt.date(2003, 6, 7), dt.date(2021, 6, 6)) == 17
    assert [domain.rango_edad(a) for a in (18, 24, 25, 64, 65, 99)] == [
        "18-24",
        "18-24",
        "25-34",
        "55-64",
        "65+",
        "65+",
    ]


def test_enmascarar() -> None:
    assert enmascarar_nombre("José  Ángel Núñez") == "J*** Á*** N***"


@given(st.dictionaries(st.sampled_from(list("abcdefgh")), st.integers(min_value=0, max_value=30), min_size=1))
def test_supresion_nunca_deja_una_sola_celda_pequena_deducible(conteos: dict[str, int]) -> None:
    out = domain.suprimir_celdas(conteos)
    ocultas = [k for k, v in out.items() if v is None]
    assert all(out[k] == v for k, v in conteos.items() if k not in ocultas)
    assert all(conteos[k] >= 5 or conteos[k] == 0 for k, v in out.items() if v is not None)
    if any(0 < v < 5 for v in conteos.values()) and len(conteos) > 1:
        assert len(ocultas) >= 2
