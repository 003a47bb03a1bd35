"""The closing report of the process: the document INE and the OPLs sign at the end, built from the read
model only (events), as JSON and PDF.

Votes, participation and results are copied from the published actas de cómputo (``Resultado.documento``),
never recounted here: the report's figures are the actas'. Where an office has no acta yet, its ``acta`` is
null and only the live counters (``votos_recibidos``) appear, marked as such. Everything else — LNERE,
packages, envelopes, drills, the timeline — comes from the counters the projections keep."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.tablero import repository
from services.tablero.models import Conteo
from shared.documento_pdf import Documento
from shared.proceso import Proceso


def _suma(filas: list[Conteo], entidad: str, dimension: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for f in filas:
        if f.entidad == entidad and f.dimension == dimension and f.total:
            out[f.valor] += f.total
    return dict(sorted(out.items()))


def _dias(filas: list[Conteo], dimension: str) -> tuple[str, str] | None:
    dias = sorted({f.valor for f in filas if f.dimension == dimension and f.total})
    return (dias[0], dias[-1]) if dias else None


def _extremos(instantes: Sequence[dt.datetime | None], proceso: Proceso) -> tuple[str, str] | None:
    presentes = sorted(i for i in instantes if i is not None)
    if not presentes:
        return None
    return proceso.local(presentes[0]).isoformat(), proceso.local(presentes[-1]).isoformat()


def _etapa(
    etapa: str,
    desde: dt.datetime | None,
    hasta: dt.datetime | None,
    observado: tuple[str, str] | None,
    p: Proceso,
) -> dict[str, Any]:
    return {
        "etapa": etapa,
        "previsto": {
            "desde": p.local(desde).isoformat() if desde else None,
            "hasta": p.local(hasta).isoformat() if hasta else None,
        },
        "observado": {"desde": observado[0], "hasta": observado[1]} if observado else None,
    }


def _porcentaje(parte: int, todo: int | None) -> str | None:
    return repository.porcentaje(parte, todo or 0)


def _sumar(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two figures of the same shape (numbers, or dicts of them) added key by key."""
    return {k: _sumar(a.get(k, {}), v) if isinstance(v, dict) else a.get(k, 0) + v for k, v in b.items()} | {
        k: v for k, v in a.items() if k not in b
    }


def nacionales(proceso: Proceso, detalle: dict[str, Any]) -> list[dict[str, Any]]:
    """Each national office (Presidencia): the sum of its published actas de cómputo, one per entidad, with
    each entidad's own figures beside it. ``completo`` once every entidad's acta is in; until then the sums
    cover the actas listed in ``por_entidad``."""
    out = []
    for cargo in proceso.cargos_nacionales:
        suma: dict[str, Any] = {}
        por_entidad = {}
        for e, d in detalle.items():
            acta = next((c["acta"] for c in d["cargos"] if c["cargo"] == cargo.clave), None)
            if acta is None:
                continue
            cifras = {k: acta[k] for k in ("lnere", "votos", "resultados", "distribucion", "candidaturas")}
            suma = _sumar(suma, cifras)
            por_entidad[e] = {
                "votos": acta["votos"]["total"],
                "participacion": acta["participacion"],
                "distribucion": acta["distribucion"],
            }
        lnere_total = suma.get("lnere", {}).get("total", 0)
        out.append(
            {
                "cargo": cargo.clave,
                "nombre": cargo.nombre,
                "actas": len(por_entidad),
                "de": len(detalle),
                "completo": len(por_entidad) == len(detalle),
                **suma,
                "participacion": _porcentaje(suma.get("votos", {}).get("total", 0), lnere_total),
                "por_entidad": por_entidad,
            }
        )
    return out


async def construir(
    session: AsyncSession, proceso: Proceso, entidad: str | None, ahora: dt.datetime
) -> dict[str, Any]:
    """The report of the whole process (``entidad`` None) or of one entidad (what its OPL signs)."""
    entidades = [entidad] if entidad else sorted(proceso.entidades)
    solicitudes = await repository.conteos(session, "solicitudes", entidad)
    paquetes = await repository.conteos(session, "paquetes", entidad)
    sobres = await repository.conteos(session, "sobres", entidad)
    votos = await repository.conteos(session, "votos", entidad)
    por_hora = await repository.conteos(session, "votos_electronica", entidad)
    participantes = await repository.conteos(session, "simulacros", entidad)
    listas = {x.entidad: x for x in await repository.listas(session, entidad)}
    actas = {(r.entidad, r.cargo): r.documento for r in await repository.resultados_de(session, entidad)}
    elecciones = await repository.elecciones(session, entidad)

    por_pais: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    detalle: dict[str, Any] = {}
    incidentes: list[dict[str, Any]] = []
    recuentos: list[dict[str, Any]] = []
    totales = {
        "lnere": 0,
        "lnere_postal": 0,
        "lnere_electronica": 0,
        "lnere_presencial": 0,
        "votos": 0,
        "postal": 0,
        "electronica": 0,
        "presencial": 0,  # at the consular sites' kiosks (2024 on)
    }
    for e in entidades:
        ent = proceso.entidades[e]
        lista = listas.get(e)
        if lista is not None:
            for pais, modalidades in lista.por_pais.items():
                for modalidad, n in modalidades.items():
                    por_pais[pais][modalidad] += n
        cargos: list[dict[str, Any]] = []
        for cargo in ent.cargos:
            documento = actas.get((e, cargo.clave))
            acta = documento.get("acta") if documento else None
            cargos.append(
                {
                    "cargo": cargo.clave,
                    "acta": None
                    if acta is None
                    else {
                        "documento": acta["documento"],
                        "publicada_at": acta["publicada_at"],
                        "lnere": acta["lnere"],
                        "votos": acta["votos"],
                        "participacion": acta["participacion"],
                        "resultados": acta["resultados"],
                        "distribucion": acta["distribucion"],
                        "candidaturas": acta["candidaturas"],
                        "personas_candidatas": acta.get("personas_candidatas", {}),
                        "recuento": acta["recuento"],
                        "firma": documento.get("firma") if documento else None,
                    },
                }
            )
            if acta is None:
                continue
            for mesa in acta["actas"]:
                for texto in mesa.get("incidentes") or []:
                    incidentes.append(
                        {"entidad": e, "cargo": cargo.clave, "mesa": mesa["mesa"], "incidente": texto}
                    )
            if acta["recuento"]:
                recuentos.append({"entidad": e, "cargo": cargo.clave, "motivos": acta["recuento"]})
        # Who voted: the acta of the entidad's first office (every voter of the entidad holds every office's
        # ballot); without it, the live counters.
        primera: dict[str, Any] | None = cargos[0]["acta"] if cargos else None
        recibidos = _suma(votos, e, "modalidad")
        emitidos: dict[str, int]
        if primera is not None:
            emitidos = primera["votos"]
        else:
            emitidos = {
                "postal": recibidos.get("postal", 0),
                "electronica": recibidos.get("electronica", 0),
                "total": sum(recibidos.values()),
            }
        lnere: dict[str, Any] = {
            "total": lista.total if lista else 0,
            "postal": lista.postal if lista else 0,
            "electronica": lista.electronica if lista else 0,
            "presencial": lista.presencial if lista else 0,
            "cerrada_at": proceso.local(lista.cerrada_at).isoformat() if lista and lista.cerrada_at else None,
        }
        totales["lnere"] += lnere["total"]
        totales["lnere_postal"] += lnere["postal"]
        totales["lnere_electronica"] += lnere["electronica"]
        totales["lnere_presencial"] += lnere["presencial"]
        for clave in ("postal", "electronica", "presencial"):
            totales[clave] += emitidos.get(clave, 0)
        totales["votos"] += emitidos["total"]
        detalle[e] = {
            "nombre": ent.nombre,
            "solicitudes": {
                "total": sum(_suma(solicitudes, e, "total").values()),
                "por_modalidad": _suma(solicitudes, e, "modalidad"),
                "por_estado": _suma(solicitudes, e, "estado"),
            },
            "lnere": lnere,
            "paquetes": _suma(paquetes, e, "estado"),
            "sobres": {
                "por_clasificacion": _suma(sobres, e, "clasificacion"),
                "extemporaneos_destruidos": _suma(sobres, e, "destruccion").get("sobres", 0),
                "actas_de_destruccion": _suma(sobres, e, "destruccion").get("actas", 0),
            },
            "votos": {
                "fuente": "acta" if primera is not None else "votos_recibidos",
                **emitidos,
                "participacion": primera["participacion"]
                if primera
                else _porcentaje(emitidos["total"], lnere["total"]),
                "participacion_por_modalidad": {
                    "postal": _porcentaje(emitidos["postal"], lnere["postal"]),
                    "electronica": _porcentaje(emitidos["electronica"], lnere["electronica"]),
                    **(
                        {"presencial": _porcentaje(emitidos.get("presencial", 0), lnere["presencial"])}
                        if lnere["presencial"]
                        else {}
                    ),
                },
            },
            "cargos": cargos,
        }

    reales = [x for x in elecciones if not x.simulacro]
    simulacros = [
        {
            "eleccion": x.eleccion,
            "entidad": x.entidad,
            "cargo": x.cargo,
            "nombre": x.nombre,
            "abierta_at": proceso.local(x.abierta_at).isoformat() if x.abierta_at else None,
            "sellada_at": proceso.local(x.sellada_at).isoformat() if x.sellada_at else None,
            "credenciales": x.credenciales,
            "participantes": n,
            "participacion": _porcentaje(n, x.credenciales),
        }
        for x in elecciones
        if x.simulacro
        for n in [_suma(participantes, x.entidad, "eleccion").get(x.eleccion, 0)]
    ]
    cal = proceso.calendario
    actas_publicadas = [
        dt.datetime.fromisoformat(d["acta"]["publicada_at"]) for d in actas.values() if d.get("acta")
    ]
    horas = sorted({f.valor for f in por_hora if f.total})
    cronologia = [
        _etapa(
            "registro de solicitudes",
            cal.registro_inicio,
            cal.registro_fin,
            _dias(solicitudes, "dia"),
            proceso,
        ),
        _etapa(
            "cierre de la LNERE",
            None,
            cal.cierre_lnere,
            _extremos([x.cerrada_at for x in listas.values()], proceso),
            proceso,
        ),
        _etapa(
            "envío de paquetes",
            cal.envio_pep_inicio,
            cal.envio_pep_fin,
            _dias(paquetes, "dia_enviado"),
            proceso,
        ),
        _etapa("entrega de paquetes", cal.envio_pep_inicio, None, _dias(paquetes, "dia_entregado"), proceso),
        _etapa("recepción de sobres", None, cal.recepcion_spv_limite, _dias(sobres, "dia"), proceso),
        _etapa(
            "destrucción de sobres extemporáneos",
            cal.recepcion_spv_limite,
            None,
            _dias(sobres, "dia_destruccion"),
            proceso,
        ),
        _etapa(
            "simulacros",
            None,
            cal.voto_electronico_inicio,
            _extremos([x.abierta_at for x in elecciones if x.simulacro], proceso),
            proceso,
        ),
        _etapa(
            "voto por internet",
            cal.voto_electronico_inicio,
            cal.voto_electronico_fin,
            (horas[0], horas[-1]) if horas else None,
            proceso,
        ),
        _etapa(
            "urnas electrónicas (apertura y sellado)",
            cal.voto_electronico_inicio,
            cal.voto_electronico_fin,
            _extremos([x.abierta_at for x in reales] + [x.sellada_at for x in reales], proceso),
            proceso,
        ),
        _etapa(
            "cómputo (actas publicadas)", cal.jornada, None, _extremos(actas_publicadas, proceso), proceso
        ),
    ]
    return {
        "documento": "Informe final del voto de las y los mexicanos residentes en el extranjero",
        "proceso": proceso.clave,
        "proceso_nombre": proceso.nombre,
        "alcance": entidad or "nacional",
        "generado_at": proceso.local(ahora).isoformat(),
        "version_modelo": await repository.version(session),
        "completo": all(c["acta"] is not None for d in detalle.values() for c in d["cargos"]),
        "totales": {
            **totales,
            "participacion": _porcentaje(totales["votos"], totales["lnere"]),
        },
        "lnere_por_pais": {p: dict(sorted(m.items())) for p, m in sorted(por_pais.items())},
        "entidades": detalle,
        "cargos_nacionales": nacionales(proceso, detalle) if entidad is None else [],
        "simulacros": simulacros,
        "cronologia": cronologia,
        "incidentes": incidentes,
        "recuentos": recuentos,
    }


def pdf(informe: dict[str, Any]) -> bytes:
    """The report ready to print and sign: the same figures as the JSON."""
    alcance = "todas las entidades" if informe["alcance"] == "nacional" else f"entidad {informe['alcance']}"
    doc = Documento(f"{informe['documento']} · {informe['proceso_nombre']}")
    doc.parrafo(
        f"Alcance: {alcance}. Generado el {informe['generado_at']} (hora del Centro) desde el modelo de "
        "lectura, "
        f"versión {informe['version_modelo']}. "
        + (
            "Todas las actas de cómputo están publicadas."
            if informe["completo"]
            else "FALTAN ACTAS DE CÓMPUTO: las cifras de votos sin acta son preliminares."
        )
    )  # fmt: skip
    t = informe["totales"]
    doc.parrafo(
        f"LNERE: {t['lnere']} (postal {t['lnere_postal']}, por internet {t['lnere_electronica']}"
        + (f", en persona {t['lnere_presencial']}" if t.get("lnere_presencial") else "")
        + "). "
        f"Votos: {t['votos']} (postal {t['postal']}, por internet {t['electronica']}"
        + (f", en persona {t['presencial']}" if t.get("presencial") else "")
        + "). "
        f"Participación: {t['participacion'] or '-'} %."
    )
    doc.seccion("LNERE, votos y participación por entidad")
    filas = []
    for clave, e in informe["entidades"].items():
        v = e["votos"]
        filas.append(
            (
                f"{clave} {e['nombre']}",
                e["lnere"]["postal"],
                e["lnere"]["electronica"],
                e["lnere"]["total"],
                v["postal"],
                v["electronica"],
                v["total"],
                f"{v['participacion'] or '-'} %",
                v["fuente"],
            )
        )
    doc.tabla(
        (
            "Entidad",
            "LNERE post.",
            "LNERE int.",
            "LNERE",
            "Votos post.",
            "Votos int.",
            "Votos",
            "Part.",
            "Fuente",
        ),
        filas,
        (44, 18, 18, 16, 18, 18, 16, 18, 30),
    )
    doc.seccion("Paquetes y sobres por entidad")
    doc.tabla(
        (
            "Entidad",
            "Enviados",
            "Entregados",
            "Devueltos",
            "En tiempo",
            "Extemp.",
            "Destruidos",
            "Duplic.",
            "Desconoc.",
        ),
        [
            (
                clave,
                e["paquetes"].get("enviado", 0),
                e["paquetes"].get("entregado", 0),
                e["paquetes"].get("devuelto", 0),
                e["sobres"]["por_clasificacion"].get("en_tiempo", 0),
                e["sobres"]["por_clasificacion"].get("extemporaneo", 0),
                e["sobres"]["extemporaneos_destruidos"],
                e["sobres"]["por_clasificacion"].get("duplicado", 0),
                e["sobres"]["por_clasificacion"].get("desconocido", 0),
            )
            for clave, e in informe["entidades"].items()
        ],
        (20, 22, 22, 22, 22, 22, 22, 20, 22),
    )
    for n in informe.get("cargos_nacionales", []):
        doc.seccion(f"{n['nombre']}: resultado nacional (suma de las actas de cada entidad)")
        if not n["actas"]:
            doc.parrafo("Sin actas de cómputo publicadas.")
            continue
        estado = "todas" if n["completo"] else f"FALTAN {n['de'] - n['actas']}: la suma es preliminar"
        doc.parrafo(
            f"Actas: {n['actas']} de {n['de']} ({estado}). Votos {n['votos']['total']} (postal "
            f"{n['votos']['postal']}, por internet {n['votos']['electronica']}); participación "
            f"{n['participacion'] or '-'} %; nulos {n['resultados']['nulos']}; no registrados "
            f"{n['resultados']['no_registrados']}."
        )
        doc.parrafo("Por candidatura: " + ", ".join(f"{k} {v}" for k, v in n["candidaturas"].items()))
        doc.parrafo("Por partido: " + ", ".join(f"{k} {v}" for k, v in n["distribucion"].items()))
    doc.seccion("Resultados de cada acta de cómputo (distribución tras coaliciones)")
    for clave, e in informe["entidades"].items():
        for c in e["cargos"]:
            if c["acta"] is None:
                doc.parrafo(f"{clave} {c['cargo']}: sin acta de cómputo publicada.")
                continue
            a = c["acta"]
            distribucion = ", ".join(f"{k} {v}" for k, v in a["distribucion"].items())
            doc.parrafo(
                f"{clave} {c['cargo']} · votos {a['votos']['total']} · participación "
                f"{a['participacion']} % · nulos {a['resultados']['nulos']} · no registrados "
                f"{a['resultados']['no_registrados']}: {distribucion}"
            )
    doc.seccion("Simulacros")
    if informe["simulacros"]:
        doc.tabla(
            ("Entidad", "Simulacro", "Apertura", "Credenciales", "Participantes", "Part."),
            [
                (
                    s["entidad"],
                    s["nombre"] or s["eleccion"],
                    (s["abierta_at"] or "-")[:16],
                    s["credenciales"] if s["credenciales"] is not None else "-",
                    s["participantes"],
                    f"{s['participacion'] or '-'} %",
                )
                for s in informe["simulacros"]
            ],
            (18, 62, 36, 26, 26, 22),
        )
    else:
        doc.parrafo("No se registraron simulacros.")
    doc.seccion("Cronología (hora del Centro)")
    doc.tabla(
        ("Etapa", "Previsto", "Observado"),
        [
            (
                x["etapa"],
                " a ".join(v[:16] for v in (x["previsto"]["desde"], x["previsto"]["hasta"]) if v) or "-",
                " a ".join(v[:16] for v in (x["observado"]["desde"], x["observado"]["hasta"]))
                if x["observado"]
                else "-",
            )
            for x in informe["cronologia"]
        ],
        (66, 64, 64),
    )
    doc.seccion("Incidentes y recuentos")
    for i in informe["incidentes"]:
        doc.parrafo(f"{i['entidad']} {i['cargo']}, mesa {i['mesa']}: {i['incidente']}")
    for r in informe["recuentos"]:
        doc.parrafo(f"{r['entidad']} {r['cargo']}: recuento — {' '.join(r['motivos'])}")
    if not informe["incidentes"] and not informe["recuentos"]:
        doc.parrafo("Sin incidentes registrados en las actas ni causales de recuento.")
    doc.seccion("Firmas")
    doc.firmas([("", "Instituto Nacional Electoral"), ("", "Organismo Público Local")])
    return doc.bytes()
