from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "tablero"


class Settings(ServiceSettings):
    """Environment: `VMRE_TABLERO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_TABLERO_", extra="ignore")

    service: str = SERVICIO
    port: int = 8000
    aviso_intervalo: float = Field(default=5.0, gt=0, description="Segundos entre avisos a los webhooks")
    cache_segundos: float = Field(
        default=0.25, ge=0, description="Cada cuánto se relee la versión del modelo de lectura (0: siempre)"
    )
    # The live stream (GET /v1/tablero/stream): services/tablero/difusion.py.
    flujo_por_cliente: int = Field(
        default=10, ge=1, description="Conexiones simultáneas al flujo en vivo por cliente (IP; IPv6 por /64)"
    )
    flujo_maximo: int = Field(
        default=1000, ge=1, description="Conexiones simultáneas al flujo en este proceso"
    )
    flujo_sondeo: float = Field(
        default=1.0,
        gt=0,
        description="Segundos entre lecturas de la versión mientras alguien escucha el flujo",
    )
    flujo_latido: float = Field(
        default=15.0, gt=0, description="Segundos sin enviar nada tras los que el flujo envía un latido"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
