"""Writes ``escenarios/pef2024.json``: the 2023-2024 federal process at full size, from its published national
figures (``python escenarios/pef2024.py``; the JSON is committed, this is how it was made).

Published (the project's domain notes, §2.3): LNERE 151,989 internet + 56,249 postal; 122,496 internet votes
and 39,634 postal votes; Estado de México's acta: 10,501 internet + 1,987 postal votes. Not published, so
apportioned here and said so in the scenario: each other entidad's share (the illustrative weights below),
each option's votes (illustrative shares, different per office), late and unknown envelopes. The in-person
modality: its 15,723 on the LNERE register (each with a consular site), close the list and vote at their
site's kiosk on election day. How many of the sites' 22,238 votes were theirs is not published: each
entidad's in-person voters turn out as the national internet vote did (80.6 %), and the rest of the 22,238
came from the sites' extra ballots, for people not on the list, who vote the Presidencia at a kiosk (Estado de
México's with its published 1,704 site votes, the others' split by the same weights).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RAIZ = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RAIZ))

from shared.proceso import cargar, opciones  # noqa: E402
from simulacion.escenario import repartir, validar  # noqa: E402

LNERE = {"electronica": 151_989, "postal": 56_249}
VOTOS = {"electronica": 122_496, "postal": 39_634}
MEXICO = {"electronica": 10_501, "postal": 1_987}  # Estado de México (15), published
PRESENCIAL = {"lnere": 15_723, "votos": 22_238, "mexico": 1_704}  # votes at the 23 sites; Edomex's, published
# Illustrative weights (in tenths) of each other entidad in the LNERE: where the diaspora comes from, roughly.
PESOS = {
    "01": 10, "02": 40, "03": 5, "04": 5, "05": 20, "06": 10, "07": 10, "08": 40, "09": 90, "10": 30,
    "11": 90, "12": 50, "13": 30, "14": 120, "16": 110, "17": 20, "18": 20, "19": 30, "20": 50, "21": 50,
    "22": 20, "23": 10, "24": 30, "25": 20, "26": 20, "27": 5, "28": 20, "29": 10, "30": 40, "31": 10,
    "32": 40,
}  # fmt: skip
# Illustrative shares (per mille) of each way of voting; each office rotates them so its acta differs.
REPARTO = {
    "MORENA": 330, "PAN": 230, "MC": 120, "PRI": 70, "PVEM": 40, "PT": 30, "PRD": 25,
    "PVEM+PT+MORENA": 40, "PAN+PRI+PRD": 35, "PT+MORENA": 15, "PAN+PRI": 15, "PVEM+MORENA": 10,
    "PAN+PRD": 5, "PRI+PRD": 5, "PVEM+PT": 5, "no_registrados": 5, "nulos": 25,
}  # fmt: skip
EXTEMPORANEOS = 0.02  # of the postal LNERE that did not vote in time
DESCONOCIDOS = 0.001  # of the postal votes


def main() -> None:
    proceso = cargar("pef2024")
    votos = {m: repartir(VOTOS[m] - MEXICO[m], PESOS) | {"15": MEXICO[m]} for m in VOTOS}
    # Estado de México's LNERE keeps the national turnout of each modality; the others share what is left.
    lnere = {}
    for m in LNERE:
        propio = round(MEXICO[m] * LNERE[m] / VOTOS[m])
        lnere[m] = repartir(LNERE[m] - propio, PESOS) | {"15": propio}
    # In person: Estado de México keeps its published share of the sites' votes; the others share the rest.
    propio = round(PRESENCIAL["mexico"] * PRESENCIAL["lnere"] / PRESENCIAL["votos"])
    lnere["presencial"] = repartir(PRESENCIAL["lnere"] - propio, PESOS) | {"15": propio}
    tasa = VOTOS["electronica"] / LNERE["electronica"]  # not published for the sites: the internet turnout
    votos["presencial"] = {c: round(n * tasa) for c, n in lnere["presencial"].items()}
    # The sites' other votes: extra ballots (the national office only). Estado de México's complete its 1,704.
    propios = PRESENCIAL["mexico"] - votos["presencial"]["15"]
    resto = PRESENCIAL["votos"] - sum(votos["presencial"].values()) - propios
    adicionales = repartir(resto, PESOS) | {"15": propios}
    nacionales = {c.clave for c in proceso.cargos_nacionales}
    opciones_de = list(REPARTO)
    entidades = {}
    for clave in sorted(proceso.entidades):
        ent = proceso.entidades[clave]
        assert set(opciones_de) <= set(opciones(ent)), clave
        cargos = {}
        for i, cargo in enumerate(ent.cargos):
            pesos = dict(
                zip(opciones_de, [REPARTO[o] for o in opciones_de[i:] + opciones_de[:i]], strict=True)
            )
            cargos[cargo.clave] = {
                m: {o: n for o, n in repartir(votos[m][clave], pesos).items() if n}
                for m in ("postal", "electronica", "presencial")
            }
            if cargo.clave in nacionales:
                cargos[cargo.clave]["adicional"] = {
                    o: n for o, n in repartir(adicionales[clave], pesos).items() if n
                }
        postal_lnere = lnere["postal"][clave]
        entidades[clave] = {
            "lnere": {
                "postal": postal_lnere,
                "electronica": lnere["electronica"][clave],
                "presencial": lnere["presencial"][clave],
            },
            "cargos": cargos,
            "sobres_extemporaneos": round((postal_lnere - votos["postal"][clave]) * EXTEMPORANEOS),
            "sobres_desconocidos": round(votos["postal"][clave] * DESCONOCIDOS),
        }
    escenario = {
        "proceso": "pef2024",
        "semilla": 2024,
        "descripcion": (
            "PEF 2023-2024 a tamaño real: LNERE 223,961 (151,989 por internet, 56,249 postales, 15,723 "
            "en persona en 23 sedes consulares), 122,496 votos por internet y 39,634 postales, todos"
            " publicados. Publicado y usado tal cual: el Estado de México (15), 10,501 votos por internet"
            " y 1,987 postales. No publicado, prorrateado (escenarios/pef2024.py): la parte de cada otra "
            "entidad (pesos ilustrativos), la LNERE del Estado de México (con la participación nacional "
            "de cada modalidad), los votos de cada opción (repartos ilustrativos, distintos por cargo), "
            "los sobres extemporáneos (2 % de quien no votó por correo) y desconocidos, la LNERE presencial "
            "de cada entidad (la del Estado de México, con su parte publicada de los votos en sede: 1,704 de "
            "22,238), la sede de cada persona (por turnos) y cuántas de ellas votan en el módulo de su sede "
            f"(no publicado: la participación nacional por internet, {tasa * 100:.1f} %, en cada entidad; "
            f"{sum(votos['presencial'].values()):,} votos). El resto de los 22,238 votos en las sedes "
            f"({sum(adicionales.values()):,}) son de boletas adicionales, de quien no estaba en la LNERE y "
            "votó la Presidencia en el módulo de una sede (no publicado: su entidad; la del Estado de México "
            "completa sus 1,704, las demás con los mismos pesos; su sede, por turnos)."
        ),
        "entidades": entidades,
    }
    validar(escenario, proceso)
    destino = RAIZ / "escenarios" / "pef2024.json"
    texto = json.dumps(escenario, ensure_ascii=False, indent=1)
    destino.write_text(texto + "\n", encoding="utf-8")
    print(f"{destino}: {len(entidades)} entidades")


if __name__ == "__main__":
    main()
