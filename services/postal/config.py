from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.datos_personales import DEV_CLAVE_DATOS, DEV_CLAVE_INDICE, RETENCION_ANIOS, validar_claves
from shared.settings import ServiceSettings, data_dir

DEV_TRANSPORTISTAS = {"mensajeria": SecretStr("secreto-local-mensajeria")}


class Settings(ServiceSettings):
    """Environment: `VMRE_POSTAL_*` (database_url, port, transportistas, buzon, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_POSTAL_", extra="ignore")

    service: str = "postal"
    port: int = 8002
    # Carrier -> shared secret for the webhook signature (JSON: {"dhl": "…"}).
    transportistas: dict[str, SecretStr] = Field(default_factory=lambda: dict(DEV_TRANSPORTISTAS))
    buzon: Path = Field(default_factory=lambda: data_dir() / "buzon" / "postal.jsonl")
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
    def _sin_secretos_de_desarrollo(self) -> "Settings":
        if self.mode != "local" and any(
            v.get_secret_value() == DEV_TRANSPORTISTAS["mensajeria"].get_secret_value()
            for v in self.transportistas.values()
        ):
            raise ValueError(
                "VMRE_MODE=production con el secreto de desarrollo de transportistas: configure "
                "VMRE_POSTAL_TRANSPORTISTAS."
            )
        validar_claves(self.claves_datos, self.clave_indice, self.mode, "VMRE_POSTAL")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
