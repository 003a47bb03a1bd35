from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment: `VMRE_POSTAL_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_POSTAL_", extra="ignore")

    service: str = "postal"
    port: int = 8002


@lru_cache
def get_settings() -> Settings:
    return Settings()
