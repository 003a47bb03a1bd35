from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.datos_personales import DEV_CLAVE_DATOS, DEV_CLAVE_INDICE, RETENCION_ANIOS, validar_claves
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment: `VMRE_REGISTRO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_REGISTRO_", extra="ignore")

    service: str = "registro"
    port: int = 8001
    # Personal data at rest (shared/datos_personales.py): Fernet keys, comma-separated (first encrypts, all
    # decrypt: rotation), and the HMAC key of the blind indexes. The defaults only in local mode.
    claves_datos: SecretStr = SecretStr(DEV_CLAVE_DATOS)
    clave_indice: SecretStr = SecretStr(DEV_CLAVE_INDICE)
    retencion_anios: int = Field(
        default=RETENCION_ANIOS,
        ge=1,
        description="Años que se guardan los datos personales (`vmre datos depurar`)",
    )

    @model_validator(mode="after")
    def _claves(self) -> "Settings":
        validar_claves(self.claves_datos, self.clave_indice, self.mode, "VMRE_REGISTRO")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
