"""Configuration shared by every service: mode, broker, authentication, logging.

Each service builds its own ``Settings`` (env prefix ``VMRE_<SERVICIO>_``) on top of ``ServiceSettings``;
the broker and auth blocks read ``VMRE_KAFKA_*`` and ``VMRE_AUTH_*`` so one environment configures all five.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only valid in local mode: a production service refuses to start with it.
DEV_JWT_SECRET = "vmre-dev-secret-solo-para-desarrollo-local-0123456789"

SERVICES: dict[str, int] = {
    "tablero": 8000,
    "registro": 8001,
    "postal": 8002,
    "electronico": 8003,
    "computo": 8004,
    "credenciales": 8005,
}


def data_dir() -> Path:
    """Where the embedded SQLite files live (``VMRE_DATA_DIR``, default ``./var``)."""
    return Path(os.environ.get("VMRE_DATA_DIR", "var"))


# Networks in configuration (VMRE_PROXIES_CONFIABLES): parsed here, used by shared/limites.py.
Red = ipaddress.IPv4Network | ipaddress.IPv6Network


def redes(texto: str) -> tuple[Red, ...]:
    """``"10.0.0.0/8, 192.168.1.10"`` → networks; ValueError names the entry that is not an address."""
    resultado = []
    for parte in texto.replace(";", ",").split(","):
        if parte.strip():
            try:
                resultado.append(ipaddress.ip_network(parte.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"«{parte.strip()}» no es una dirección IP ni una red CIDR") from exc
    return tuple(resultado)


class KafkaSettings(BaseSettings):
    """Broker connection. Every value is configuration: nothing here is specific to the local broker."""

    model_config = SettingsConfigDict(env_prefix="VMRE_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    acks: Literal["all", "1", "0"] = "all"
    # Apache Kafka supports idempotent producers; the local Tansu broker refuses them, so the default is off.
    enable_idempotence: bool = False
    request_timeout_ms: int = 10_000
    session_timeout_ms: int = 6_000
    heartbeat_interval_ms: int = 1_000
    # How often a consumer re-reads the cluster's metadata. Kafka's default is 5 min: a topic that vanished
    # and came back (a broker that lost its data, a topic recreated) could leave the consumer without its
    # partitions until then. One metadata request every 10 s costs nothing next to that.
    metadata_max_age_ms: int = 10_000
    # Create missing topics at start-up (local broker). In production Strimzi KafkaTopic resources own them.
    create_topics: bool = True
    partitions: int = 3
    replication_factor: int = 1
    max_retries: int = 3


class AuthSettings(BaseSettings):
    """Bearer JWTs. Locally signed with a development secret; in production verified against a JWKS."""

    model_config = SettingsConfigDict(env_prefix="VMRE_AUTH_", extra="ignore")

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwks_url: str | None = None
    issuer: str = "vmre-local"
    audience: str = "vmre"
    algorithms: list[str] = Field(default_factory=lambda: ["HS256", "RS256", "ES256"])


CLAVE_CONSOLA_DE_DESARROLLO = "vmre-consola-solo-para-desarrollo-local-0123456789"


class AjustesConsola(BaseSettings):
    """The staff console's sign-in (shared/consola.py): the identity provider (OpenID Connect) and the key
    that signs its cookies."""

    model_config = SettingsConfigDict(env_prefix="VMRE_CONSOLA_", extra="ignore")

    oidc_url: str = Field(
        default="", description="Emisor (issuer) del proveedor de identidad, sin barra final"
    )
    cliente: str = "vmre-consola"
    secreto: SecretStr = SecretStr("vmre-consola-local")
    clave_sesion: SecretStr = SecretStr(CLAVE_CONSOLA_DE_DESARROLLO)
    # The local identity provider of `make run` (vmre/identidad.py): production refuses to start with it.
    proveedor_local: bool = False
    duracion_horas: float = Field(default=10, gt=0, le=24)


class ServiceSettings(BaseSettings):
    """Base for each service's settings; subclasses set ``env_prefix`` and the service name."""

    model_config = SettingsConfigDict(extra="ignore")

    service: str = "servicio"
    mode: Literal["local", "production"] = Field(
        default="local", validation_alias=AliasChoices("VMRE_MODE", "mode")
    )
    database_url: str = ""
    proceso: str = Field(default="demo", validation_alias=AliasChoices("VMRE_PROCESO", "proceso"))
    port: int = 8000
    # /metrics on a port of its own (production): the NetworkPolicy opens it to Prometheus only, and the API's
    # port, which the gateway publishes, no longer has the route. 0: on the API's port (local mode, tests).
    metricas_puerto: int = Field(
        default=0,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("VMRE_METRICAS_PUERTO", "metricas_puerto"),
        description="Puerto propio de /metrics (0: el de la API, solo en modo local)",
    )
    # "simulado": a clock moved over HTTP (PUT /v1/reloj, ine-admin) so a drill runs a calendar in minutes.
    reloj: Literal["sistema", "simulado"] = Field(
        default="sistema", validation_alias=AliasChoices("VMRE_RELOJ", "reloj")
    )
    relay_enabled: bool = True
    consumers_enabled: bool = True
    relay_batch_size: int = 500
    relay_poll_interval: float = 0.5
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("VMRE_LOG_LEVEL", "log_level"))
    log_format: Literal["json", "text"] = Field(
        default="json", validation_alias=AliasChoices("VMRE_LOG_FORMAT", "log_format")
    )
    # The one public host the gateway serves every page on (https://…); empty: the same host as the request
    # (production) or, in local mode, each service's own port on 127.0.0.1 (shared/paginas.enlaces).
    url_publica: str = Field(
        default="",
        pattern=r"^(https?://[^/?#\s]+)?$",
        validation_alias=AliasChoices("VMRE_URL_PUBLICA", "url_publica"),
        description="Dirección pública de las páginas (p. ej. https://vmre.ine.mx), sin ruta",
    )
    # Abuse limits (shared/limites.py), in memory and per process: in Kubernetes, per pod.
    limite_publico_por_minuto: int = Field(
        default=300, gt=0, description="Peticiones por minuto de una misma IP a las rutas públicas y de folio"
    )
    max_cuerpo_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Tamaño máximo del cuerpo de una petición (salvo rutas que declaran otro)",
    )
    # Reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client: the ingress.
    proxies_confiables: str = Field(
        default="", validation_alias=AliasChoices("VMRE_PROXIES_CONFIABLES", "proxies_confiables")
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    consola: AjustesConsola = Field(default_factory=AjustesConsola)

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> ServiceSettings:
        try:
            redes(self.proxies_confiables)
        except ValueError as exc:
            raise ValueError(f"VMRE_PROXIES_CONFIABLES: {exc}.") from exc
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{data_dir() / (self.service + '.db')}"
        if self.mode != "local":
            if self.auth.jwks_url is None and self.auth.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
                raise ValueError(
                    "VMRE_MODE=production con el secreto de desarrollo: configure VMRE_AUTH_JWKS_URL "
                    "(proveedor de identidad) o un VMRE_AUTH_JWT_SECRET propio."
                )
            if self.consola.proveedor_local:
                raise ValueError(
                    "VMRE_CONSOLA_PROVEEDOR_LOCAL: el proveedor de identidad local (oidc-provider-mock) solo "
                    "existe en modo local; en producción configure VMRE_CONSOLA_OIDC_URL con el del INE."
                )
            if self.reloj != "sistema":
                raise ValueError(
                    "VMRE_RELOJ=simulado solo existe en modo local (simulacros de todo el proceso): en "
                    "producción los plazos se revisan contra el reloj del sistema."
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError(
                    "VMRE_MODE=production requiere PostgreSQL: configure "
                    f"VMRE_{self.service.upper()}_DATABASE_URL."
                )
            if self.metricas_puerto in (0, self.port):
                raise ValueError(
                    "VMRE_MODE=production sirve /metrics en un puerto propio, que solo Prometheus alcanza: "
                    "configure VMRE_METRICAS_PUERTO (p. ej. 9090), distinto del puerto de la API."
                )
        return self
