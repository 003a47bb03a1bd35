"""postal's pure rules: the package lifecycle, its order, and the SPV deadline."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class EstadoPaquete(StrEnum):
    INTEGRADO = "integrado"
    ENVIADO = "enviado"
    EN_TRANSITO = "en_transito"
    ENTREGADO = "entregado"
    NO_ENTREGADO = "no_entregado"
    DEVUELTO = "devuelto"
    DESTRUIDO = "destruido"


# Rank in the lifecycle: a carrier event only moves a package forward. Entregado and no_entregado share a
# rank:
# between them, the later one (by the carrier's own time) wins — a second delivery attempt can succeed.
RANGO = {
    EstadoPaquete.INTEGRADO: 0,
    EstadoPaquete.ENVIADO: 1,
    EstadoPaquete.EN_TRANSITO: 2,
    EstadoPaquete.ENTREGADO: 3,
    EstadoPaquete.NO_ENTREGADO: 3,
    EstadoPaquete.DEVUELTO: 4,
    EstadoPaquete.DESTRUIDO: 5,
}
DE_TRANSPORTISTA = {
    EstadoPaquete.EN_TRANSITO,
    EstadoPaquete.ENTREGADO,
    EstadoPaquete.NO_ENTREGADO,
    EstadoPaquete.DEVUELTO,
}


def avanza(
    actual: EstadoPaquete, actual_at: dt.datetime | None, nuevo: EstadoPaquete, nuevo_at: dt.datetime
) -> bool:
    """Whether a carrier report moves the package: never backwards, whatever order reports arrive in."""
    if RANGO[nuevo] != RANGO[actual]:
        return RANGO[nuevo] > RANGO[actual]
    return nuevo != actual and (actual_at is None or nuevo_at > actual_at)


class Clasificacion(StrEnum):
    EN_TIEMPO = "en_tiempo"
    EXTEMPORANEO = "extemporaneo"
    DESCONOCIDO = "desconocido"  # not on the postal LNERE
    DUPLICADO = "duplicado"  # a second SPV from the same voter


def clasificar(recibido_at: dt.datetime, limite: dt.datetime, conocido: bool, ya_voto: bool) -> Clasificacion:
    """An SPV counts only if received strictly before the deadline (08:00 Centro on the eve), once."""
    if not conocido:
        return Clasificacion.DESCONOCIDO
    if ya_voto:
        return Clasificacion.DUPLICADO
    return Clasificacion.EN_TIEMPO if recibido_at < limite else Clasificacion.EXTEMPORANEO


def mesas(n: int, maximo: int = 1500) -> list[int]:
    """How many SPVs each MEC gets: as few mesas as the maximum allows, as even as possible."""
    if n <= 0:
        return []
    k = -(-n // maximo)
    base, resto = divmod(n, k)
    return [base + (1 if i < resto else 0) for i in range(k)]


# A package on its way this many days or more may not let the vote come back in time: the default of
# ``POST /v1/avisos/retraso`` (which warns each such person once) and the warning on «mi paquete».
DIAS_RETRASO = 14
