from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.datos_personales import AjustesDatosPersonales
from shared.notificaciones import AjustesAvisos
from shared.settings import ServiceSettings

DEV_TRANSPORTISTAS = {"mensajeria": SecretStr("secreto-local-mensajeria")}
# The carriers' bulk file (JSON or CSV), at most: 5,000 events are about 1 MB.
MAX_EVENTOS = 16 * 1024 * 1024

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "postal"


class Settings(AjustesAvisos, AjustesDatosPersonales, ServiceSettings):  # ServiceSettings checks first
    """Environment: `VMRE_POSTAL_*` (database_url, port, transportistas, smtp_host, sms_url, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_POSTAL_", extra="ignore")

    service: str = SERVICIO
    port: int = 8002
    # Carrier -> shared secret for the webhook signature (JSON: {"dhl": "…"}); the scheme is shared.webhooks'.
    transportistas: dict[str, SecretStr] = Field(default_factory=lambda: dict(DEV_TRANSPORTISTAS))
    # Carrier -> largest body it may send, in bytes (JSON: {"dhl": 2097152}); without an entry, MAX_EVENTOS.
    transportistas_max_cuerpo: dict[str, int] = Field(default_factory=dict)
    # Requests a minute from one client (its IP, as shared.limites.cliente) refused by the carriers' webhook
    # (unknown carrier, signature missing, stale or wrong) before the next ones get 429 unread.
    transportistas_fallos_por_minuto: int = Field(default=30, gt=0)

    def max_cuerpo_de(self, transportista: str) -> int:
        return min(self.transportistas_max_cuerpo.get(transportista, MAX_EVENTOS), MAX_EVENTOS)

    @model_validator(mode="after")
    def _topes_de_transportistas(self) -> "Settings":
        for nombre, tope in self.transportistas_max_cuerpo.items():
            if nombre not in self.transportistas:
                raise ValueError(f"VMRE_POSTAL_TRANSPORTISTAS_MAX_CUERPO: {nombre} no es un transportista.")
            if not 0 < tope <= MAX_EVENTOS:
                raise ValueError(
                    f"VMRE_POSTAL_TRANSPORTISTAS_MAX_CUERPO: el tope de {nombre} debe estar entre 1 y "
                    f"{MAX_EVENTOS} bytes."
                )
        return self

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
