import os
from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import SERVICES, ServiceSettings

# The service's name, written only here: its ServiceSpec, its events' ``source``, its clock, its database.
SERVICIO = "tablero"


class Settings(ServiceSettings):
    """Environment: `VMRE_TABLERO_*` (database_url, port, relay_enabled, consumers_enabled, ...)."""

    model_config = SettingsConfigDict(env_prefix="VMRE_TABLERO_", extra="ignore")

    service: str = SERVICIO
    port: int = 8000
    aviso_intervalo: float = Field(default=5.0, gt=0, description="Segundos entre avisos a los webhooks")
    cache_segundos: float = Field(
        default=0.25, ge=0, description="Cada cuánto se relee la versión del modelo de lectura (0: siempre)"
    )
    # The live stream (GET /v1/tablero/stream): services/tablero/difusion.py.
    flujo_por_cliente: int = Field(
        default=10, ge=1, description="Conexiones simultáneas al flujo en vivo por cliente (IP; IPv6 por /64)"
    )
    flujo_maximo: int = Field(
        default=1000, ge=1, description="Conexiones simultáneas al flujo en este proceso"
    )
    flujo_sondeo: float = Field(
        default=1.0,
        gt=0,
        description="Segundos entre lecturas de la versión mientras alguien escucha el flujo",
    )
    flujo_latido: float = Field(
        default=15.0, gt=0, description="Segundos sin enviar nada tras los que el flujo envía un latido"
    )
    # The process overview of the staff console (services/tablero/consola.py) asks each service's /readyz,
    # electronico's elections and computo's decryptions at these base URLs. Empty: derived (servicios()).
    servicios_internos: str = Field(
        default="",
        description="URL base interna de cada servicio para el panorama de la consola: "
        "«registro=http://registro:8001,computo=http://…» (vacío: las de Kubernetes, o 127.0.0.1 en local)",
    )

    @field_validator("servicios_internos")
    @classmethod
    def _servicios_internos(cls, valor: str) -> str:
        leer_servicios(valor)
        return valor

    def servicios(self) -> dict[str, str]:
        """Each of the six services' internal base URL: the setting's, else in local mode 127.0.0.1 and its
        port (``VMRE_<S>_PORT`` or the default), else the Kubernetes Service ``http://<servicio>:<port>``."""
        dados = leer_servicios(self.servicios_internos)
        base = {}
        for servicio, puerto in SERVICES.items():
            if self.mode == "local":
                base[servicio] = f"http://127.0.0.1:{os.environ.get(f'VMRE_{servicio.upper()}_PORT', puerto)}"
            else:
                base[servicio] = f"http://{servicio}:{puerto}"
        return base | dados


def leer_servicios(valor: str) -> dict[str, str]:
    """``"registro=http://…,postal=http://…"`` → {servicio: URL base}; only the six services, only http(s)."""
    servicios: dict[str, str] = {}
    for parte in (p.strip() for p in valor.split(",")):
        if not parte:
            continue
        nombre, igual, url = (x.strip() for x in parte.partition("="))
        if not igual or nombre not in SERVICES:
            raise ValueError(
                f"VMRE_TABLERO_SERVICIOS_INTERNOS: {parte!r} no es «servicio=URL» de un servicio conocido "
                f"({', '.join(SERVICES)})"
            )
        partes = urlsplit(url)
        if partes.scheme not in ("http", "https") or not partes.hostname:
            raise ValueError(
                f"VMRE_TABLERO_SERVICIOS_INTERNOS: la URL de {nombre} ({url!r}) debe ser http:// o https://"
            )
        if nombre in servicios:
            raise ValueError(f"VMRE_TABLERO_SERVICIOS_INTERNOS: {nombre} aparece dos veces")
        servicios[nombre] = url.rstrip("/")
    return servicios


@lru_cache
def get_settings() -> Settings:
    return Settings()
