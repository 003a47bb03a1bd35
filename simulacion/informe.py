"""The drill's report: computo's actas against the scenario's figures, and the summary table."""

from __future__ import annotations

from typing import Any

from shared.proceso import Proceso, opciones
from simulacion.escenario import MODALIDADES, URNAS, Escenario, porcentaje
from simulacion.escenario import actas as claves_de_actas


def diferencias(escenario: Escenario, proceso: Proceso, actas: dict[str, dict[str, Any]]) -> list[str]:
    """Every figure of computo's actas (one per entidad and office) that differs from the scenario's."""
    errores = []
    for clave, entidad, cargo in claves_de_actas(escenario, proceso):
        esperado, acta = escenario.esperado(entidad, cargo), actas.get(clave)
        if acta is None:
            errores.append(f"{clave}: sin acta de cómputo")
            continue
        for campo in ("lnere", "votos", "participacion"):
            if acta.get(campo) != esperado[campo]:
                errores.append(f"{clave} {campo}: acta {acta.get(campo)} ≠ escenario {esperado[campo]}")
        for modalidad in URNAS:
            validas = opciones(proceso.entidades[entidad])
            real = acta.get("por_modalidad", {}).get(modalidad, {})
            quiere = esperado["por_modalidad"][modalidad]
            for opcion in validas:
                if real.get(opcion, 0) != quiere.get(opcion, 0):
                    errores.append(
                        f"{clave} {modalidad} {opcion}: acta {real.get(opcion, 0)} "
                        f"≠ escenario {quiere.get(opcion, 0)}"
                    )
    return errores


def informe(escenario: Escenario, proceso: Proceso, actas: dict[str, dict[str, Any]]) -> str:
    """One block per entidad (LNERE, votes and participation by modality: every office of an entidad has the
    same voters), with the leading parties of each office's acta."""
    lineas = [
        f"{'entidad':<22}{'modalidad':<12}{'LNERE':>8}{'votos':>8}{'particip.':>11}  "
        "votos por partido tras coaliciones (acta)"
    ]
    total_lnere = total_votos = 0
    por_entidad: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for clave, entidad, cargo in claves_de_actas(escenario, proceso):
        por_entidad.setdefault(entidad, []).append((cargo, actas.get(clave, {})))
    for entidad, de_cargos in por_entidad.items():
        acta = de_cargos[0][1]
        nombre = f"{entidad} {proceso.entidades[entidad].nombre}"[:21]
        for modalidad in MODALIDADES:
            lnere = acta.get("lnere", {}).get(modalidad, 0)
            votos = acta.get("votos", {}).get(modalidad, 0)
            if modalidad == "presencial" and not lnere:
                continue  # 2021: nobody in person
            lineas.append(
                f"{nombre if modalidad == 'postal' else '':<22}{modalidad:<12}{lnere:>8,}{votos:>8,}"
                f"{porcentaje(votos, lnere) + ' %':>11}"
            )
        lnere = acta.get("lnere", {}).get("total", 0)
        votos = acta.get("votos", {}).get("total", 0)
        total_lnere += lnere
        total_votos += votos
        for i, (cargo, a) in enumerate(de_cargos):
            primeros = sorted(a.get("distribucion", {}).items(), key=lambda kv: -kv[1])[:4]
            texto = " · ".join(f"{k} {v:,}" for k, v in primeros)
            if len(de_cargos) > 1:
                texto = f"{cargo}: {texto}"
            cifras = f"{lnere:>8,}{votos:>8,}{porcentaje(votos, lnere) + ' %':>11}" if i == 0 else " " * 27
            lineas.append(f"{'':<22}{'total' if i == 0 else '':<12}{cifras}  {texto}")
    lineas.append(
        f"{'TOTAL':<34}{total_lnere:>8,}{total_votos:>8,}{porcentaje(total_votos, total_lnere) + ' %':>11}"
    )
    return "\n".join(lineas)
