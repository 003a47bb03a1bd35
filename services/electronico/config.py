from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment: `VMRE_ELECTRONICO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_ELECTRONICO_", extra="ignore")

    service: str = "electronico"
    port: int = 8003


@lru_cache
def get_settings() -> Settings:
    return Settings()
