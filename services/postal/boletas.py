"""The paper ballot of each office, as the postal package carries it (#27): every party of the entidad in
ballot order with the name of the person it nominated (from the candidacies ``ine-admin`` approved in
electronico, received as an event), and the space for a non-registered candidate. Without approved
candidacies the ballot shows the parties alone, and says so."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.postal.models import CandidaturasBoleta
from services.postal.schemas import Boleta, CasillaBoleta
from shared.db import insert_if_absent
from shared.documento_pdf import Documento
from shared.events import electronico as eventos
from shared.problems import Problem
from shared.proceso import NO_REGISTRADOS, Proceso

NACIONAL = "nacional"


async def guardar(session: AsyncSession, d: eventos.CandidaturasAprobadas) -> None:
    """Approved candidacies are locked: the first copy is the one (a replay changes nothing)."""
    await insert_if_absent(
        session,
        CandidaturasBoleta,
        {"ambito": d.ambito, "cargo": d.cargo, "huella": d.huella, "lista": d.candidaturas},
        ["ambito", "cargo"],
    )


async def boleta(session: AsyncSession, proceso: Proceso, entidad: str, cargo: str) -> Boleta:
    ent = proceso.entidades.get(entidad)
    if ent is None:
        raise Problem(404, f"La entidad {entidad} no vota desde el extranjero en {proceso.nombre}.")
    oficio = next((c for c in ent.cargos if c.clave == cargo), None)
    if oficio is None:
        cargos = ", ".join(c.clave for c in ent.cargos)
        raise Problem(404, f"{ent.nombre} no vota el cargo {cargo!r} (cargos: {cargos}).")
    c = await session.get(CandidaturasBoleta, (NACIONAL if oficio.nacional else entidad, cargo))
    por_partido = {p: (x["nombre"], x["partidos"]) for x in (c.lista if c else []) for p in x["partidos"]}
    coaliciones = {frozenset(k.partidos): k.nombre for k in ent.coaliciones}
    casillas = []
    for partido in ent.partidos:
        nombre, postulantes = por_partido.get(partido, (None, [partido]))
        casillas.append(
            CasillaBoleta(
                opcion=partido,
                partido=proceso.partidos[partido],
                candidatura=nombre,
                coalicion=coaliciones.get(frozenset(postulantes)) if len(postulantes) > 1 else None,
            )
        )
    casillas.append(CasillaBoleta(opcion=NO_REGISTRADOS, partido="Candidatura no registrada"))
    return Boleta(
        entidad=entidad,
        entidad_nombre=ent.nombre,
        cargo=cargo,
        cargo_nombre=oficio.nombre,
        proceso=proceso.nombre,
        huella_candidaturas=c.huella if c else None,
        casillas=casillas,
    )


def pdf(b: Boleta) -> bytes:
    """The printable ballot: a box per party, in ballot order, with its candidate."""
    doc = Documento(f"Boleta · {b.cargo_nombre} · {b.entidad_nombre}")
    doc.parrafo(f"{b.proceso}. Voto de las y los mexicanos residentes en el extranjero.")
    doc.parrafo(
        "Marque un solo recuadro; si su candidatura la postula una coalición, puede marcar uno o varios de "
        "los partidos que la forman: cuenta una vez para esa candidatura."
    )
    doc.tabla(
        ("", "Partido", "Candidatura"),
        [
            (
                "[  ]",
                c.partido,
                (c.candidatura or ("(escriba el nombre)" if c.opcion == NO_REGISTRADOS else ""))
                + (f" · {c.coalicion}" if c.coalicion else ""),
            )
            for c in b.casillas
        ],
        (14, 70, 110),
    )
    if b.huella_candidaturas:
        doc.parrafo(f"Candidaturas aprobadas, huella SHA-256: {b.huella_candidaturas}", tamano=7)
    else:
        doc.parrafo("SIN CANDIDATURAS APROBADAS: la boleta muestra solo los partidos.", tamano=8)
    return doc.bytes()
