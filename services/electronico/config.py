from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.datos_personales import AjustesDatosPersonales
from shared.firma import (
    SEMILLA_DE_DESARROLLO,
    SEMILLA_DE_DESARROLLO_AUTORIDAD,
    clave_verificacion,
    validar_semilla,
)
from shared.notificaciones import AjustesAvisos
from shared.settings import ServiceSettings

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "electronico"


class Settings(AjustesAvisos, AjustesDatosPersonales, ServiceSettings):  # ServiceSettings checks first
    """Environment: `VMRE_ELECTRONICO_*` (database_url, port, umbral, custodios, clave_firma, smtp_host,
    sms_url, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_ELECTRONICO_", extra="ignore")

    service: str = SERVICIO
    port: int = 8003
    umbral: int = Field(default=3, ge=1, description="Custodios necesarios para descifrar (k)")
    custodios: int = Field(default=5, ge=1, description="Custodios de la llave (n)")
    # Seed (hex, 32 bytes) of the Ed25519 key that signs opening acts; the default only in local mode.
    clave_firma: SecretStr = SecretStr(SEMILLA_DE_DESARROLLO)
    # Verification key (hex) of the credential authority (services/credenciales: `GET /v1/clave-firma` there):
    # the only signature electronico accepts on a credential list. The default (the development key) only in
    # local mode.
    clave_autoridad_credenciales: str = clave_verificacion(SEMILLA_DE_DESARROLLO_AUTORIDAD)
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
        variable = "VMRE_ELECTRONICO_CLAVE_AUTORIDAD_CREDENCIALES"
        try:
            ok = len(bytes.fromhex(self.clave_autoridad_credenciales)) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"{variable}: se esperan 64 dígitos hexadecimales (clave de verificación Ed25519)"
            )
        if self.mode != "local" and self.clave_autoridad_credenciales in {
            clave_verificacion(SEMILLA_DE_DESARROLLO_AUTORIDAD),
            clave_verificacion(self.clave_firma.get_secret_value()),
        }:
            raise ValueError(
                f"VMRE_MODE=production: {variable} debe ser la clave de verificación de la autoridad de "
                "credenciales (su GET /v1/clave-firma), no la de desarrollo ni la de electronico."
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
