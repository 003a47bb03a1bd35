"""Election day at a consular site (#27), what every service that serves a site checks: the site exists in the
process, the token is of its own staff, and the site is open (its hours are in its local time)."""

from __future__ import annotations

import datetime as dt

from shared.auth import Principal, Rol
from shared.problems import Problem
from shared.proceso import Proceso, Sede


def sede_o_404(proceso: Proceso, sede: str) -> Sede:
    s = proceso.sedes.get(sede)
    if s is None:
        hay = ", ".join(proceso.sedes) or "ninguna: este proceso no tiene voto en persona"
        raise Problem(404, f"{sede} no es una sede de este proceso (sedes: {hay}).")
    return s


def personal_de(principal: Principal, sede: str) -> None:
    """Site staff act only at their own site: the token's ``sede`` claim says which."""
    if principal.rol == Rol.INE_OPERADOR and principal.sede != sede:
        donde = f"la sede {principal.sede}" if principal.sede else "ninguna sede (falta el claim sede)"
        raise Problem(403, f"Este token es del personal de {donde}; no puede actuar en la sede {sede}.")


def abierta(proceso: Proceso, sede: str, ahora: dt.datetime, que: str) -> Sede:
    """The site, if it is open now; else 409 ``sede-cerrada`` with its hours, local and Centro."""
    s = sede_o_404(proceso, sede)
    abre, cierra = proceso.horario(sede)
    if not abre <= ahora < cierra:
        raise Problem(
            409,
            f"La sede {s.nombre} {que} el día de la jornada de {s.apertura:%H:%M} a "
            f"{s.cierre:%H:%M}, hora local ({proceso.local(abre):%Y-%m-%d %H:%M} a "
            f"{proceso.local(cierra):%H:%M} del Centro).",
            slug="sede-cerrada",
        )
    return s
