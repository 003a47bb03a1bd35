from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, data_dir

# Seed (hex, 32 bytes) of the Ed25519 key that signs opening acts. Only valid in local mode.
DEV_CLAVE_FIRMA = "00" * 31 + "01"


class Settings(ServiceSettings):
    """Environment: `VMRE_ELECTRONICO_*` (database_url, port, umbral, custodios, clave_firma, buzon, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_ELECTRONICO_", extra="ignore")

    service: str = "electronico"
    port: int = 8003
    umbral: int = Field(default=3, ge=1, description="Custodios necesarios para descifrar (k)")
    custodios: int = Field(default=5, ge=1, description="Custodios de la llave (n)")
    clave_firma: SecretStr = SecretStr(DEV_CLAVE_FIRMA)
    buzon: Path = Field(default_factory=lambda: data_dir() / "buzon" / "electronico.jsonl")
    sesion_minutos: int = Field(default=30, gt=0)
    intentos_maximos: int = Field(default=5, gt=0, description="Fallos de acceso seguidos antes del bloqueo")
    bloqueo_minutos: int = Field(default=15, gt=0)
    limite_por_minuto: int = Field(default=30, gt=0, description="Solicitudes de acceso por IP y minuto")
    sello_intervalo: float = Field(default=5.0, gt=0, description="Segundos entre revisiones del cierre")

    @model_validator(mode="after")
    def _umbral_y_secretos(self) -> "Settings":
        if self.umbral > self.custodios:
            raise ValueError(f"umbral {self.umbral} mayor que el número de custodios {self.custodios}")
        if len(bytes.fromhex(self.clave_firma.get_secret_value())) != 32:
            raise ValueError("VMRE_ELECTRONICO_CLAVE_FIRMA: se esperan 64 dígitos hexadecimales (32 bytes)")
        if self.mode != "local" and self.clave_firma.get_secret_value() == DEV_CLAVE_FIRMA:
            raise ValueError(
                "VMRE_MODE=production con la clave de firma de desarrollo: configure "
                "VMRE_ELECTRONICO_CLAVE_FIRMA (semilla Ed25519 en hexadecimal, desde un secreto)."
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
