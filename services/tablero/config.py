from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment: `VMRE_TABLERO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_TABLERO_", extra="ignore")

    service: str = "tablero"
    port: int = 8000
    aviso_intervalo: float = Field(default=5.0, gt=0, description="Segundos entre avisos a los webhooks")
    cache_segundos: float = Field(
        default=0.25, ge=0, description="Cada cuánto se relee la versión del modelo de lectura (0: siempre)"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
