"""The voter numbers that are not on the LNERE (#27), the same in every service: the list's own numbers are
1, 2, …; the drills' outside testers take -1 … -99,999 (registro: ``-id`` of its row); each consular site's
reserve credentials for extra ballots take -100,001 and below (``numero_adicional``)."""

from __future__ import annotations

from shared.proceso import Proceso

PROBADORES_MAX = 99_999


def es_probador(numero: int) -> bool:
    """An outside tester of the drills: an account and drill credentials only, never a real election's."""
    return -PROBADORES_MAX <= numero < 0


def numero_adicional(proceso: Proceso, sede: str, folio: int) -> int:
    """The voter number of a site's ``folio``-th extra ballot of an entidad (1 …
    ``credenciales_adicionales``): negative, so never a number of the LNERE; the site's place in the process
    file keeps sites apart. The credential authority issues the site's reserve credentials under these
    numbers, electronico binds each extra ballot handed to one."""
    return -(list(proceso.sedes).index(sede) + 1) * 100_000 - folio


def numeros_adicionales(proceso: Proceso) -> list[tuple[str, int]]:
    """Every site's reserve numbers for one entidad, as (site, number)."""
    return [
        (clave, numero_adicional(proceso, clave, k))
        for clave, s in proceso.sedes.items()
        for k in range(1, s.credenciales_adicionales + 1)
    ]
