from functools import lru_cache

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.firma import SEMILLA_DE_DESARROLLO, validar_semilla
from shared.settings import ServiceSettings

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "computo"


class Settings(ServiceSettings):
    """Environment: `VMRE_COMPUTO_*` (database_url, port, clave_firma, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_COMPUTO_", extra="ignore")

    service: str = SERVICIO
    port: int = 8004
    # Seed (hex, 32 bytes) of the Ed25519 key that signs the actas de cómputo; the default only in local mode.
    clave_firma: SecretStr = SecretStr(SEMILLA_DE_DESARROLLO)

    @model_validator(mode="after")
    def _secretos(self) -> "Settings":
        validar_semilla(self.clave_firma.get_secret_value(), self.mode, "VMRE_COMPUTO_CLAVE_FIRMA")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
