from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment: `VMRE_COMPUTO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_COMPUTO_", extra="ignore")

    service: str = "computo"
    port: int = 8004


@lru_cache
def get_settings() -> Settings:
    return Settings()
