from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.datos_personales import AjustesDatosPersonales
from shared.firma import SEMILLA_DE_DESARROLLO, validar_semilla
from shared.notificaciones import AjustesAvisos
from shared.settings import ServiceSettings


class Settings(AjustesAvisos, AjustesDatosPersonales, ServiceSettings):  # ServiceSettings checks first
    """Environment: `VMRE_ELECTRONICO_*` (database_url, port, umbral, custodios, clave_firma, smtp_host,
    sms_url, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_ELECTRONICO_", extra="ignore")

    service: str = "electronico"
    port: int = 8003
    umbral: int = Field(default=3, ge=1, description="Custodios necesarios para descifrar (k)")
    custodios: int = Field(default=5, ge=1, description="Custodios de la llave (n)")
    # Seed (hex, 32 bytes) of the Ed25519 key that signs opening acts; the default only in local mode.
    clave_firma: SecretStr = SecretStr(SEMILLA_DE_DESARROLLO)
    sesion_minutos: int = Field(default=30, gt=0)
    intentos_maximos: int = Field(default=5, gt=0, description="Fallos de acceso seguidos antes del bloqueo")
    bloqueo_minutos: int = Field(default=15, gt=0)
    limite_por_minuto: int = Field(default=30, gt=0, description="Solicitudes de acceso por IP y minuto")
    # argon2id cost for voters' passwords (argon2-cffi defaults, RFC 9106 low-memory profile). A drill that
    # compresses two weeks of logins into minutes may lower them; hashes keep their own parameters.
    argon2_tiempo: int = Field(default=3, ge=1, description="Iteraciones de argon2id")
    argon2_memoria_kib: int = Field(default=65536, ge=8, description="Memoria de argon2id (KiB)")
    argon2_paralelismo: int = Field(default=4, ge=1, description="Carriles de argon2id")
    # Processes that check ballot proofs (the CPU-heavy part of casting a vote); 0: a thread of this process.
    # In production, about the cores of the pod.
    verificadores: int = Field(default=0, ge=0, description="Procesos que verifican boletas (0: en hilo)")
    sello_intervalo: float = Field(default=5.0, gt=0, description="Segundos entre revisiones del cierre")

    @model_validator(mode="after")
    def _umbral_y_secretos(self) -> "Settings":
        if self.umbral > self.custodios:
            raise ValueError(f"umbral {self.umbral} mayor que el número de custodios {self.custodios}")
        validar_semilla(self.clave_firma.get_secret_value(), self.mode, "VMRE_ELECTRONICO_CLAVE_FIRMA")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
