from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.datos_personales import AjustesDatosPersonales
from shared.notificaciones import AjustesAvisos
from shared.settings import ServiceSettings

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "registro"


class Settings(AjustesAvisos, AjustesDatosPersonales, ServiceSettings):  # ServiceSettings checks first
    """Environment: `VMRE_REGISTRO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_REGISTRO_", extra="ignore")

    service: str = SERVICIO
    port: int = 8001


@lru_cache
def get_settings() -> Settings:
    return Settings()
