from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.datos_personales import AjustesDatosPersonales
from shared.notificaciones import AjustesAvisos
from shared.settings import ServiceSettings

DEV_TRANSPORTISTAS = {"mensajeria": SecretStr("secreto-local-mensajeria")}


class Settings(AjustesAvisos, AjustesDatosPersonales, ServiceSettings):  # ServiceSettings checks first
    """Environment: `VMRE_POSTAL_*` (database_url, port, transportistas, smtp_host, sms_url, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_POSTAL_", extra="ignore")

    service: str = "postal"
    port: int = 8002
    # Carrier -> shared secret for the webhook signature (JSON: {"dhl": "…"}).
    transportistas: dict[str, SecretStr] = Field(default_factory=lambda: dict(DEV_TRANSPORTISTAS))

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
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
