"""The acta de cómputo of a 2024 entidad with in-person voters (#27): its LNERE says how many vote in person,
in the JSON, the CSV and the PDF; an acta of a list without them keeps the shape earlier actas have."""

from __future__ import annotations

import csv
import io

from services.computo.acta import csv_de, pdf_de
from shared.actas import PorModalidad
from tests.postal.test_boletas import texto_del_pdf
from tests.support.registro import PEF2024


def documento(lnere: dict[str, int], votos: dict[str, int] | None = None) -> dict[str, object]:
    return {
        "acta": {
            "documento": "Acta de cómputo de entidad",
            "entidad": "09",
            "entidad_nombre": "Ciudad de México",
            "cargo": "presidencia",
            "lnere": lnere,
            "votos": votos or {"postal": 1, "electronica": 1, "total": 2},
            "participacion": "12.50",
            "por_modalidad": {"postal": {"PAN": 1}, "electronica": {"MORENA": 1}},
            "distribucion": {"PAN": 1, "MORENA": 1},
            "candidaturas": {"PAN": 1, "MORENA": 1},
            "recuento": [],
        },
        "firma": "0" * 128,
        "clave_verificacion": "1" * 64,
    }


def texto(pdf: bytes) -> str:
    return texto_del_pdf(pdf).replace("\\(", "(").replace("\\)", ")")  # PDF escapes parentheses


def test_la_lnere_del_acta_dice_quienes_votan_en_persona() -> None:
    con = documento({"postal": 6, "electronica": 7, "presencial": 3, "total": 16})
    filas = list(csv.reader(io.StringIO(csv_de(con, PEF2024))))
    assert [f for f in filas if f[0] == "lnere"] == [
        ["lnere", "postal", "", "", "6"],
        ["lnere", "electronica", "", "", "7"],
        ["lnere", "presencial", "", "", "3"],
        ["lnere", "total", "", "", "16"],
    ]
    assert "LNERE: 16 (postal 6, por internet 7, en persona 3)" in texto(pdf_de(con, PEF2024))
    assert PorModalidad.model_validate(con["acta"]["lnere"]).presencial == 3  # type: ignore[index]

    # Ballots cast at the sites' kiosks: counted apart in the votes (their options: in the one urn's tally).
    votos = {"postal": 1, "electronica": 1, "presencial": 2, "total": 4}
    con_votos = documento({"postal": 6, "electronica": 7, "presencial": 3, "total": 16}, votos)
    assert "Votos: 4 (postal 1, por internet 1, en persona 2)" in texto(pdf_de(con_votos, PEF2024))
    assert PorModalidad.model_validate(votos).presencial == 2

    sin = documento({"postal": 6, "electronica": 7, "total": 13})
    assert "presencial" not in csv_de(sin, PEF2024)
    assert "LNERE: 13 (postal 6, por internet 7)" in texto(pdf_de(sin, PEF2024))
