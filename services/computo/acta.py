"""The acta de cómputo de entidad: postal actas plus the electronic tally, per office, under the counting
rules; signed, published once, delivered as an event (and by webhook); served as JSON, CSV and PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncSession

from services.computo import domain, repository
from services.computo.config import Settings
from services.computo.models import (
    ActaComputo,
    Entrega,
    Suscripcion,
    emisor,
)
from shared import firma, webhooks
from shared.bus.topics import COMPUTO_ACTA
from shared.documento_pdf import texto as _texto
from shared.events import computo as eventos
from shared.problems import Problem
from shared.proceso import NO_REGISTRADOS, NULOS, Proceso, opciones

CERRADAS = ("validada", "corregida")


def cargo_de(proceso: Proceso, entidad: str, cargo: str | None) -> str:
    ent = proceso.entidades.get(entidad)
    if ent is None:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")
    claves = [c.clave for c in ent.cargos]
    if cargo is None:
        return claves[0]
    if cargo not in claves:
        raise Problem(404, f"El cargo {cargo!r} no se elige en la entidad {entidad} ({', '.join(claves)}).")
    return cargo


async def cerrar(
    session: AsyncSession, entidad: str, cargo: str, proceso: Proceso, settings: Settings, ahora: dt.datetime
) -> dict[str, Any]:
    """Close the entidad's cómputo of an office, or say exactly what is still missing (409)."""
    if await repository.acta_computo(session, entidad, cargo) is not None:
        raise Problem(409, f"El acta de cómputo de {entidad} ({cargo}) ya se publicó.")
    ent = proceso.entidades[entidad]
    lnere = await repository.lnere(session, entidad)
    if lnere is None:
        raise Problem(409, f"Aún no se recibe el cierre de la LNERE de la entidad {entidad}.")
    mesas = await repository.mesas_postales(session, entidad)
    actas = await repository.actas(session, entidad, cargo)
    faltan = [m.numero for m in mesas if m.numero not in actas or actas[m.numero].estado == "capturada"]
    revision = [m.numero for m in mesas if m.numero in actas and actas[m.numero].estado == "revision"]
    if faltan or revision:
        partes = []
        if faltan:
            partes.append(
                "faltan las actas (o su segunda captura) de las mesas " + ", ".join(map(str, faltan))
            )
        if revision:
            partes.append("están en revisión las actas de las mesas " + ", ".join(map(str, revision)))
        raise Problem(409, "No se puede cerrar el cómputo: " + "; ".join(partes) + ".")
    escrutinio = await repository.escrutinio_real(session, entidad, cargo)
    if lnere.electronica + lnere.presencial > 0 and (escrutinio is None or escrutinio.votos is None):
        detalle = (
            "la urna electrónica no se ha sellado"
            if escrutinio is None
            else "el cómputo electrónico aún no tiene resultado (faltan descifrados de custodios)"
        )
        raise Problem(409, f"No se puede cerrar el cómputo: {detalle}.")

    postal = domain.sumar(*(actas[m.numero].datos["votos"] for m in mesas))  # type: ignore[index]
    electronica = domain.validar(escrutinio.votos if escrutinio and escrutinio.votos else {}, ent)
    total = domain.validar(domain.sumar(postal, electronica), ent)
    inconsistentes = [m.numero for m in mesas if (actas[m.numero].datos or {}).get("advertencias")]
    # One electronic urn holds the internet ballots and those of the sites' kiosks (one tally): its seal says
    # how many came from the kiosks. In person only where there were such ballots (2021's actas keep their
    # shape).
    presencial = escrutinio.presenciales if escrutinio is not None else 0
    votos = {
        "postal": sum(postal.values()),
        "electronica": sum(electronica.values()) - presencial,
        **({"presencial": presencial} if presencial else {}),
        "total": sum(total.values()),
    }
    combinaciones = {k: v for k, v in total.items() if "+" in k}
    contenido: dict[str, Any] = {
        "documento": "Acta de cómputo de entidad del voto de las y los mexicanos residentes en el extranjero",
        "proceso": proceso.clave,
        "entidad": entidad,
        "entidad_nombre": ent.nombre,
        "cargo": cargo,
        # In person (2024 on): only where the list has such voters, so that earlier actas keep their shape.
        "lnere": {
            "postal": lnere.postal,
            "electronica": lnere.electronica,
            **({"presencial": lnere.presencial} if lnere.presencial else {}),
            "total": lnere.total,
        },
        "votos": votos,
        "participacion": domain.participacion(votos["total"], lnere.total),
        "resultados": {
            "partidos": {p: total.get(p, 0) for p in ent.partidos},
            "combinaciones": combinaciones,
            "no_registrados": total.get(NO_REGISTRADOS, 0),
            "nulos": total.get(NULOS, 0),
        },
        "por_modalidad": {"postal": postal, "electronica": electronica},
        "distribucion": domain.distribuir(total, ent),
        "candidaturas": domain.candidaturas(total, ent),
        "personas_candidatas": domain.personas_candidatas(
            await repository.candidaturas_boleta(session, entidad, cargo), ent
        ),
        "actas": [
            {
                "mesa": m.numero,
                "tipo": "postal",
                "estado": actas[m.numero].estado,
                "version": actas[m.numero].version,
                "votos": sum(actas[m.numero].datos["votos"].values()),  # type: ignore[index]
                "incidentes": (actas[m.numero].datos or {}).get("advertencias", []),
            }
            for m in mesas
        ]
        + (
            [
                {
                    "mesa": 0,
                    "tipo": "electronica",
                    "eleccion": escrutinio.eleccion,
                    "sello": escrutinio.sello,
                    "boletas": escrutinio.boletas,
                    "votos": sum(electronica.values()),
                }
            ]
            if escrutinio is not None
            else []
        ),
        "recuento": domain.motivos_de_recuento(total, ent, acta_inconsistente=bool(inconsistentes)),
        "reglas": "Coaliciones: LGIPE 311.1.c; el resto de cada combinación, un voto a cada partido de mayor "
        "votación propia; empate: el primero en el orden de la boleta.",
        "publicada_at": ahora.isoformat(),
    }
    documento = firma.firmar(settings.clave_firma.get_secret_value(), contenido)
    session.add(ActaComputo(entidad=entidad, cargo=cargo, documento=documento, publicada_at=ahora))
    await webhooks.encolar(
        session,
        Entrega,
        Suscripcion,
        entidad=entidad,
        evento=eventos.ACTA_PUBLICADA,
        evento_id=f"acta-{entidad}-{cargo}",
        datos=vista(documento),
        ahora=ahora,
    )
    await emisor.emitir(
        session,
        COMPUTO_ACTA,
        event_type=eventos.ACTA_PUBLICADA,
        aggregate_id=f"{entidad}-{cargo}",
        data=eventos.ActaPublicada(entidad=entidad, cargo=cargo, documento=documento),
    )
    return documento


def vista(documento: dict[str, Any]) -> dict[str, Any]:
    """The contract OPL systems read: the acta's figures at the top level, plus its signature."""
    return {**documento["acta"], "firma": {k: v for k, v in documento.items() if k != "acta"}}


def csv_de(documento: dict[str, Any], proceso: Proceso) -> str:
    acta = documento["acta"]
    salida = io.StringIO()
    w = csv.writer(salida, lineterminator="\n")
    w.writerow(["seccion", "clave", "postal", "electronica", "total"])
    postal, electronica = acta["por_modalidad"]["postal"], acta["por_modalidad"]["electronica"]
    for clave in opciones(proceso.entidades[acta["entidad"]]):
        total = postal.get(clave, 0) + electronica.get(clave, 0)
        w.writerow(["votos", clave, postal.get(clave, 0), electronica.get(clave, 0), total])
    for partido, n in acta["distribucion"].items():
        w.writerow(["distribucion", partido, "", "", n])
    for candidatura, n in acta["candidaturas"].items():
        w.writerow(["candidaturas", candidatura, "", "", n])
    for modalidad in ("postal", "electronica", "presencial", "total"):
        if modalidad in acta["lnere"]:
            w.writerow(["lnere", modalidad, "", "", acta["lnere"][modalidad]])
    w.writerow(["participacion", "porcentaje", "", "", acta["participacion"]])
    return salida.getvalue()


def pdf_de(documento: dict[str, Any], proceso: Proceso) -> bytes:
    acta = documento["acta"]
    pdf = FPDF(format="Letter")
    pdf.set_title(_texto(f"Acta de cómputo {acta['entidad']} {acta['cargo']}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _texto(acta["documento"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    lineas = [
        f"Proceso: {proceso.nombre}",
        f"Entidad: {acta['entidad']} {acta['entidad_nombre']} · Cargo: {acta['cargo']}",
        f"LNERE: {acta['lnere']['total']} (postal {acta['lnere']['postal']}, "
        f"por internet {acta['lnere']['electronica']}"
        + (f", en persona {acta['lnere']['presencial']}" if "presencial" in acta["lnere"] else "")
        + ")",
        f"Votos: {acta['votos']['total']} (postal {acta['votos']['postal']}, "
        f"por internet {acta['votos']['electronica']}"
        + (f", en persona {acta['votos']['presencial']}" if "presencial" in acta["votos"] else "")
        + f") · Participación: {acta['participacion']} %",
    ]
    for linea in lineas:
        pdf.multi_cell(0, 6, _texto(linea), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    for titulo, ancho in (("Opción", 80), ("Postal", 30), ("Internet", 30), ("Total", 30)):
        pdf.cell(ancho, 7, _texto(titulo), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    postal, electronica = acta["por_modalidad"]["postal"], acta["por_modalidad"]["electronica"]
    for clave in opciones(proceso.entidades[acta["entidad"]]):
        p, e = postal.get(clave, 0), electronica.get(clave, 0)
        for valor, ancho in ((clave, 80), (str(p), 30), (str(e), 30), (str(p + e), 30)):
            pdf.cell(ancho, 6, _texto(valor), border=1)
        pdf.ln()
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(
        0, 7, _texto("Distribución por partido (coaliciones) y candidaturas"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 10)
    distribucion = ", ".join(f"{k} {v}" for k, v in acta["distribucion"].items())
    nombres = acta.get("personas_candidatas") or {}
    candidaturas = "; ".join(
        f"{k} ({nombres[k]}): {v}" if k in nombres else f"{k}: {v}" for k, v in acta["candidaturas"].items()
    )
    pdf.multi_cell(0, 5, _texto(distribucion), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, _texto(candidaturas), new_x="LMARGIN", new_y="NEXT")
    if acta["recuento"]:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, _texto("Recuento: " + " ".join(acta["recuento"])), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Courier", "", 7)
    pdf.multi_cell(0, 4, f"Firma Ed25519: {documento['firma']}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0, 4, f"Clave de verificación: {documento['clave_verificacion']}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0,
        4,
        _texto(
            "La firma cubre el JSON del acta (GET /v1/computos/{entidad}); la clave pública del INE está en "
            "GET /v1/clave-firma. Este impreso es una vista de ese documento."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
