"""The drill's report: computo's actas against the scenario's figures, and the summary table."""

from __future__ import annotations

from typing import Any

from shared.proceso import Proceso, opciones
from simulacion.escenario import MODALIDADES, Escenario, porcentaje


def diferencias(escenario: Escenario, proceso: Proceso, actas: dict[str, dict[str, Any]]) -> list[str]:
    """Every figure of computo's actas that differs from the scenario's."""
    errores = []
    for entidad in sorted(escenario.entidades):
        esperado, acta = escenario.esperado(entidad), actas.get(entidad)
        if acta is None:
            errores.append(f"{entidad}: sin acta de cómputo")
            continue
        for campo in ("lnere", "votos", "participacion"):
            if acta.get(campo) != esperado[campo]:
                errores.append(f"{entidad} {campo}: acta {acta.get(campo)} ≠ escenario {esperado[campo]}")
        for modalidad in MODALIDADES:
            validas = opciones(proceso.entidades[entidad])
            real = acta.get("por_modalidad", {}).get(modalidad, {})
            quiere = esperado["por_modalidad"][modalidad]
            for opcion in validas:
                if real.get(opcion, 0) != quiere.get(opcion, 0):
                    errores.append(
                        f"{entidad} {modalidad} {opcion}: acta {real.get(opcion, 0)} "
                        f"≠ escenario {quiere.get(opcion, 0)}"
                    )
    return errores


def informe(escenario: Escenario, proceso: Proceso, actas: dict[str, dict[str, Any]]) -> str:
    lineas = [
        f"{'entidad':<22}{'modalidad':<12}{'LNERE':>8}{'votos':>8}{'particip.':>11}  "
        "votos por partido tras coaliciones (acta)"
    ]
    total_lnere = total_votos = 0
    for entidad in sorted(escenario.entidades):
        acta = actas.get(entidad, {})
        nombre = f"{entidad} {proceso.entidades[entidad].nombre}"[:21]
        for modalidad in (*MODALIDADES, "total"):
            lnere = acta.get("lnere", {}).get(modalidad, 0)
            votos = acta.get("votos", {}).get(modalidad, 0)
            if modalidad == "total":
                resultados = acta.get("distribucion", {})
                primeros = sorted(resultados.items(), key=lambda kv: -kv[1])[:4]
                texto = " · ".join(f"{k} {v:,}" for k, v in primeros)
                total_lnere += lnere
                total_votos += votos
            else:
                texto = ""
            lineas.append(
                f"{nombre if modalidad == 'postal' else '':<22}{modalidad:<12}{lnere:>8,}{votos:>8,}"
                f"{porcentaje(votos, lnere) + ' %':>11}  {texto}"
            )
    lineas.append(
        f"{'TOTAL':<34}{total_lnere:>8,}{total_votos:>8,}{porcentaje(total_votos, total_lnere) + ' %':>11}"
    )
    return "\n".join(lineas)
