from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.cripto import sede as sello
from shared.datos_personales import AjustesDatosPersonales
from shared.firma import SEMILLA_DE_DESARROLLO_AUTORIDAD, validar_semilla
from shared.notificaciones import AjustesAvisos
from shared.settings import ServiceSettings

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "credenciales"


class Settings(AjustesAvisos, AjustesDatosPersonales, ServiceSettings):  # ServiceSettings checks first
    """Environment: `VMRE_CREDENCIALES_*` (database_url, port, clave_firma, smtp_host, sms_url, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_CREDENCIALES_", extra="ignore")

    service: str = SERVICIO
    port: int = 8005
    # Seed (hex, 32 bytes) of the Ed25519 key that signs the credential lists: the authority's own key, never
    # electronico's (electronico is configured with its verification key). The default only in local mode.
    clave_firma: SecretStr = SecretStr(SEMILLA_DE_DESARROLLO_AUTORIDAD)
    lote: int = Field(default=1000, ge=1, le=5000, description="Credenciales públicas por evento")
    # Voting in person (#27): each consular site's public key (JSON: sede → base64url P-256 point, from
    # `vmre sede clave`); in-person voters' credentials are sealed to it. Local mode: the development key.
    claves_sedes: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _secretos(self) -> "Settings":
        validar_semilla(self.clave_firma.get_secret_value(), self.mode, "VMRE_CREDENCIALES_CLAVE_FIRMA")
        for sede, clave in self.claves_sedes.items():
            try:
                sello.validar_publica(clave)
            except ValueError as exc:
                raise ValueError(f"VMRE_CREDENCIALES_CLAVES_SEDES[{sede}]: {exc}") from None
            if self.mode != "local" and clave == sello.PUBLICA_DE_DESARROLLO:
                raise ValueError(
                    f"VMRE_MODE=production con la clave de desarrollo de la sede {sede}: genere la de la "
                    "sede con `vmre sede clave` y configure VMRE_CREDENCIALES_CLAVES_SEDES."
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
