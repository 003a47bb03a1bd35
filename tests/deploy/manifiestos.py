"""What tests/deploy checks, as functions that return a list of errors (empty: all good).

The same functions run on the real overlays (which must pass) and on ``fixtures/roto`` (which must fail), and
take the code's facts as arguments, so a test can add a topic or a setting to the code and see the manifests
fail. The facts come from the code itself: ``shared/bus/topics.py``, ``shared/settings.py`` (ports, Kafka and
auth settings), each service's ``Settings`` class and the ``ServiceSpec`` its ``create_app`` builds.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from shared.bus.topics import TOPICS, all_topics, dlq
from shared.settings import SERVICES, AjustesConsola, AuthSettings, KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BIN = Path(sys.executable).parent

# The oldest Kubernetes the manifests support, and so the schemas they are validated against: 1.30 is the
# first release whose API server accepts the preStop `sleep` action by default (beta, feature gate
# PodLifecycleSleepAction); 1.29's schema already has the field but its API server drops it unless the alpha
# gate is on. Everything else used (autoscaling/v2, policy/v1 with unhealthyPodEvictionPolicy, seccompProfile,
# startupProbe) is older.
KUBERNETES_VERSION = "1.30.0"

# Kinds that kubernetes-validate cannot know (they come from the operators' CRDs): each one is checked against
# a JSON schema in crd/: minimal ones written for the fields these manifests use (unknown fields fail), and
# the Gateway API and cert-manager ones copied unchanged from the CRDs-catalog (MIT; origin, checksums and
# licence in crd/README.md). Any other kind kubernetes-validate has no schema for is an error: a new CRD kind
# needs its schema here first.
CRD_SCHEMAS: dict[tuple[str, str], str] = {
    ("kafka.strimzi.io/v1beta2", "Kafka"): "kafka.json",
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"): "kafkanodepool.json",
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "kafkatopic.json",
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): "kafkauser.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cluster.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
    ("gateway.networking.k8s.io/v1", "Gateway"): "gateway.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute.json",
    ("cert-manager.io/v1", "Certificate"): "certificate.json",
    ("cert-manager.io/v1", "Issuer"): "issuer.json",
}
CRD_DIR = Path(__file__).resolve().parent / "crd"

# Settings the code reads that the production overlay deliberately leaves to their defaults. A new setting in
# the code is in neither list nor the manifests, and fails: somebody has to decide. Names without prefix are
# the service's own fields (VMRE_<SERVICIO>_<CAMPO>); full names are process-wide variables.
DEFAULTS_COMUNES = {
    "service",  # the service's own name, fixed by its Settings class
    "relay_batch_size",
    "relay_poll_interval",
    "limite_publico_por_minuto",  # per pod (shared/limites.py); the ingress keeps the global limit
    "max_cuerpo_bytes",
    "VMRE_KAFKA_SSL_CERTFILE",  # the services authenticate with SCRAM, not with client certificates
    "VMRE_KAFKA_SSL_KEYFILE",
    "VMRE_KAFKA_REQUEST_TIMEOUT_MS",
    "VMRE_KAFKA_SESSION_TIMEOUT_MS",
    "VMRE_KAFKA_HEARTBEAT_INTERVAL_MS",
    "VMRE_KAFKA_METADATA_MAX_AGE_MS",
    "VMRE_KAFKA_MAX_RETRIES",
    "VMRE_AUTH_JWT_SECRET",  # production verifies with the identity provider's JWKS (VMRE_AUTH_JWKS_URL)
    "VMRE_AUTH_ALGORITHMS",
    "VMRE_PROCESO_ANCLA",  # only for relative calendars (demo); pel2021's dates are absolute
    "VMRE_TOKEN",  # `vmre custodio` on a custodian's own machine, not a service
    "VMRE_CUSTODIO_FRASE",  # `vmre custodio` too: the passphrase of its state file
    "VMRE_BROKER",  # `vmre run` only
    "VMRE_HOST",  # `vmre run` only
    "VMRE_URL_PUBLICA",  # empty: the pages link by path on the host the gateway serves them all on
    "VMRE_IDENTIDAD",  # `vmre run` only: the local identity provider
    "VMRE_CONSOLA_PROVEEDOR_LOCAL",  # local only: production refuses it
    "VMRE_CONSOLA_DURACION_HORAS",  # a console session lasts 10 h (a working day)
    "VMRE_TRACEMALLOC_DIR",  # `python -m bench.soak --tracemalloc` only
}
# The message sender's tuning (shared/notificaciones.AjustesAvisos): the gateways themselves (SMTP host, port,
# TLS, credentials, sender; the SMS provider's URL, account, token, sender) are set by the prod overlay.
AVISOS_POR_OMISION = {"smtp_timeout", "sms_timeout", "avisos_lote", "avisos_reclamo"}
DEFAULTS: dict[str, set[str]] = {
    # flujo_*: the live stream's caps per client and per process, its poll, its heartbeat (tablero/config.py).
    # servicios_internos: empty derives each Service's internal URL, http://<servicio>:<puerto> (the console's
    # process overview, services/tablero/config.py).
    "tablero": {
        "servicios_internos",
        "aviso_intervalo",
        "cache_segundos",
        "flujo_por_cliente",
        "flujo_maximo",
        "flujo_sondeo",
        "flujo_latido",
    },
    # retencion_anios: the law's seven years; `vmre datos depurar` reads it, no service does.
    "registro": {"retencion_anios"} | AVISOS_POR_OMISION,
    "postal": {"retencion_anios", "transportistas_max_cuerpo", "transportistas_fallos_por_minuto"}
    | AVISOS_POR_OMISION,
    "electronico": AVISOS_POR_OMISION
    | {
        "sesion_minutos",
        "intentos_maximos",
        "bloqueo_minutos",
        "limite_por_minuto",
        "argon2_tiempo",
        "argon2_memoria_kib",
        "argon2_paralelismo",
        "sello_intervalo",
        "retencion_anios",
    },
    "computo": set(),
    # lote: public credentials per event on vmre.credenciales.lista (1000).
    # claves_sedes: none for a process without in-person voting (the prod overlay's pel2021); with sites, the
    # authority refuses to start in production without each site's key (deploy/k8s/README.md).
    "credenciales": {"lote", "retencion_anios", "claves_sedes"} | AVISOS_POR_OMISION,
}


# -------------------------------------------------------------------------------------------------- the code


@dataclass
class Servicio:
    nombre: str
    puerto: int
    prefijo: str
    variables: dict[str, str]  # env var -> field name (own Settings fields, aliases included)
    secretos: set[str]  # env vars of SecretStr fields
    consumidores: dict[str, list[str]]  # consumer group (<servicio>.<propósito>) -> topics
    producidos: list[str]


@dataclass
class Codigo:
    """The facts of the code that the manifests must agree with."""

    topicos: list[str]
    servicios: dict[str, Servicio]
    comunes: dict[str, str]  # VMRE_KAFKA_*, VMRE_AUTH_* and os.environ variables -> what reads them
    secretos_comunes: set[str]
    controlador: set[str]  # variables the database driver reads (asyncpg: libpq's PG*)
    rutas_operacion: set[str] = field(default_factory=set)


def _variables(cls: type[BaseSettings]) -> tuple[dict[str, str], set[str]]:
    prefijo = str(cls.model_config.get("env_prefix", ""))
    variables: dict[str, str] = {}
    secretos: set[str] = set()
    for nombre, campo in cls.model_fields.items():
        if nombre in ("kafka", "auth", "consola"):  # nested blocks, read by KafkaSettings/AuthSettings/…
            continue
        alias = campo.validation_alias
        if isinstance(alias, AliasChoices):
            env = str(alias.choices[0]).upper()
        elif isinstance(alias, str):
            env = alias.upper()
        else:
            env = f"{prefijo}{nombre}".upper()
        variables[env] = nombre
        if "SecretStr" in repr(campo.annotation):
            secretos.add(env)
    return variables, secretos


def _spec(servicio: str) -> Any:
    """The ServiceSpec that ``services.<servicio>.main.create_app`` builds (captured, no app started)."""
    modulo = importlib.import_module(f"services.{servicio}.main")
    capturado: list[Any] = []

    def captura(spec: Any, *_args: Any, **_kwargs: Any) -> Any:
        capturado.append(spec)
        raise _Capturado

    original = getattr(modulo, "create_service_app")  # noqa: B009 (a module attribute mypy cannot see)
    setattr(modulo, "create_service_app", captura)  # noqa: B010
    try:
        modulo.create_app()
    except _Capturado:
        pass
    finally:
        setattr(modulo, "create_service_app", original)  # noqa: B010
    return capturado[0]


class _Capturado(Exception):
    pass


def _os_environ() -> dict[str, str]:
    """``os.environ.get("VMRE_…")`` anywhere in shared/, services/ and the tools (vmre/, clientes/)."""
    patron = re.compile(r"""os\.environ\.get\(\s*["'](VMRE_[A-Z0-9_]+)["']""")
    encontradas: dict[str, str] = {}
    for carpeta in ("shared", "services", "vmre", "clientes"):
        for archivo in sorted((ROOT / carpeta).rglob("*.py")):
            for nombre in patron.findall(archivo.read_text(encoding="utf-8")):
                encontradas.setdefault(nombre, str(archivo.relative_to(ROOT)))
    return encontradas


def _controlador() -> set[str]:
    import asyncpg.connect_utils

    fuente = Path(asyncpg.connect_utils.__file__).read_text(encoding="utf-8")
    return set(re.findall(r"""os\.getenv\(\s*['"](PG[A-Z]+)['"]""", fuente))


@cache
def codigo() -> Codigo:
    from shared.web import _operations_router

    servicios: dict[str, Servicio] = {}
    for nombre, puerto in SERVICES.items():
        cls = importlib.import_module(f"services.{nombre}.config").Settings
        variables, secretos = _variables(cls)
        spec = _spec(nombre)
        servicios[nombre] = Servicio(
            nombre=nombre,
            puerto=puerto,
            prefijo=str(cls.model_config.get("env_prefix", "")),
            variables=variables,
            secretos=secretos,
            consumidores={f"{nombre}.{c.purpose}": list(c.topics) for c in spec.consumers},
            producidos=[t for t, p in TOPICS.items() if p == nombre],
        )
    comunes: dict[str, str] = {}
    secretos_comunes: set[str] = set()
    for cls in (KafkaSettings, AuthSettings, AjustesConsola):
        variables, secretos = _variables(cls)
        comunes.update(dict.fromkeys(variables, cls.__name__))
        secretos_comunes |= secretos
    for nombre, archivo in _os_environ().items():
        comunes.setdefault(nombre, archivo)
    spec = _spec("registro")
    rutas = {getattr(r, "path", "") for r in _operations_router(spec).routes}
    return Codigo(
        topicos=list(all_topics()),
        servicios=servicios,
        comunes=comunes,
        secretos_comunes=secretos_comunes,
        controlador=_controlador(),
        rutas_operacion=rutas,
    )


# ------------------------------------------------------------------------------------------------- rendering


def herramienta(nombre: str) -> str:
    ruta = BIN / nombre
    if ruta.exists():
        return str(ruta)
    encontrada = shutil.which(nombre)
    if encontrada is None:
        raise FileNotFoundError(f"{nombre}: instálelo con `make install` (dependencia de desarrollo)")
    return encontrada


def renderizar(directorio: Path) -> str:
    r = subprocess.run(
        [herramienta("kubectl"), "kustomize", str(directorio)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if r.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directorio} falló:\n{r.stderr}")
    return r.stdout


@cache
def render_overlay(nombre: str) -> str:
    return renderizar(K8S / "overlays" / nombre)


def documentos(texto: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(texto) if d]


def nombre(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


# --------------------------------------------------------------------------------------------------- schemas


def validar_esquemas(docs: Iterable[dict[str, Any]], version: str = KUBERNETES_VERSION) -> list[str]:
    """Core kinds: kubernetes-validate --strict at version; CRD kinds: crd/*.json; anything else: error."""
    errores: list[str] = []
    for doc in docs:
        clave = (str(doc.get("apiVersion")), str(doc.get("kind")))
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            esquema = CRD_SCHEMAS.get(clave)
            if esquema is None:
                errores.append(
                    f"{nombre(doc)}: {clave[0]} sin esquema (ni de Kubernetes {version} ni en crd/)"
                )
                continue
            validador = jsonschema.Draft202012Validator(json.loads((CRD_DIR / esquema).read_text()))
            for e in validador.iter_errors(doc):
                ruta = "/".join(str(p) for p in e.absolute_path)
                errores.append(f"{nombre(doc)}: {ruta}: {e.message}")
        except kubernetes_validate.ValidationError as e:
            ruta = "/".join(str(p) for p in e.path)
            errores.append(f"{nombre(doc)}: {ruta}: {e.message}")
        else:
            if clave in CRD_SCHEMAS:
                errores.append(f"{nombre(doc)}: Kubernetes {version} ya lo conoce: quítelo de CRD_SCHEMAS")
    return errores


# --------------------------------------------------------------------------------------------------- linters


def yamllint(rutas: Iterable[Path]) -> list[str]:
    r = subprocess.run(
        [herramienta("yamllint"), "--strict", "-f", "parsable", "-c", str(K8S / ".yamllint")]
        + [str(p) for p in rutas],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [linea for linea in (r.stdout + r.stderr).splitlines() if linea.strip()] if r.returncode else []


CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


def checkov(texto: str, destino: Path) -> list[str]:
    """checkov (Kubernetes framework) over a rendered overlay; the skipped checks, each with its reason, are
    in deploy/k8s/.checkov.yaml. Returns the failed checks."""
    archivo = destino / "render.yaml"
    archivo.write_text(texto)
    r = subprocess.run(
        [
            str(CHECKOV),
            "--config-file",
            str(K8S / ".checkov.yaml"),
            "--file",
            str(archivo),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=destino,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    if r.returncode not in (0, 1):
        raise AssertionError(f"checkov no corrió ({r.returncode}):\n{r.stderr[-3000:]}")
    salida = json.loads(r.stdout)
    reportes = salida if isinstance(salida, list) else [salida]
    fallas: list[str] = []
    for reporte in reportes:
        if not isinstance(reporte, dict) or "results" not in reporte:
            continue
        for f in reporte["results"].get("failed_checks", []):
            fallas.append(f"{f['check_id']} {f['resource']}: {f['check_name']}")
    return sorted(set(fallas))


# --------------------------------------------------------------------------------- the code vs the manifests


def _por_tipo(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


@dataclass
class Contenedor:
    servicio: str
    carga: str  # Deployment/<name> or Job/<name>
    componente: str
    doc: dict[str, Any]
    c: dict[str, Any]
    env: dict[str, Any]  # name -> literal value, or {"secretKeyRef": …} / {"configMap": …}


def contenedores(docs: list[dict[str, Any]]) -> Iterator[Contenedor]:
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in _por_tipo(docs, "ConfigMap")}
    for doc in docs:
        if doc.get("kind") not in ("Deployment", "Job"):
            continue
        etiquetas = doc["spec"]["template"]["metadata"].get("labels", {})
        servicio = etiquetas.get("app.kubernetes.io/name", "?")
        for c in doc["spec"]["template"]["spec"].get("containers", []):
            env: dict[str, Any] = {}
            for fuente in c.get("envFrom", []):
                cm = fuente.get("configMapRef", {}).get("name")
                if cm is not None:
                    for k, v in configmaps.get(cm, {}).items():
                        env[k] = v
                elif "secretRef" in fuente:
                    env["<envFrom secretRef>"] = fuente["secretRef"]  # names unknowable: flagged below
            for e in c.get("env", []):
                env[e["name"]] = e["value"] if "value" in e else e.get("valueFrom", {})
            yield Contenedor(
                servicio, nombre(doc), etiquetas.get("app.kubernetes.io/component", ""), doc, c, env
            )


def revisar_variables(docs: list[dict[str, Any]], hechos: Codigo) -> list[str]:
    """Every variable a container gets exists in the code (no typo, nothing from another service)."""
    errores: list[str] = []
    for k in contenedores(docs):
        s = hechos.servicios.get(k.servicio)
        if s is None:
            errores.append(f"{k.carga}: servicio desconocido {k.servicio!r}")
            continue
        conocidas = set(s.variables) | set(hechos.comunes) | hechos.controlador
        for var in k.env:
            if var not in conocidas:
                errores.append(f"{k.carga}: {var} no existe en el código de {k.servicio}")
    return errores


def revisar_produccion(docs: list[dict[str, Any]], hechos: Codigo) -> list[str]:
    """What production needs is set; every setting of the code is either set or a listed default."""
    errores: list[str] = []
    vistos: set[str] = set()
    for k in contenedores(docs):
        s = hechos.servicios.get(k.servicio)
        if s is None:
            continue
        vistos.add(k.servicio)
        env = k.env
        donde = f"{k.carga} ({k.servicio})"
        if env.get("VMRE_MODE") != "production":
            errores.append(f"{donde}: VMRE_MODE={env.get('VMRE_MODE')!r}, se espera production")
        url = env.get(f"{s.prefijo}DATABASE_URL")
        if not (isinstance(url, str) and url.startswith("postgresql+asyncpg://") and "@" not in url):
            errores.append(
                f"{donde}: {s.prefijo}DATABASE_URL={url!r} (PostgreSQL, sin credenciales en la URL)"
            )
        for var in ("PGUSER", "PGPASSWORD"):
            if not isinstance(env.get(var), dict) or "secretKeyRef" not in env[var]:
                errores.append(f"{donde}: {var} debe venir de un Secret")
        if not env.get("VMRE_KAFKA_BOOTSTRAP_SERVERS"):
            errores.append(f"{donde}: falta VMRE_KAFKA_BOOTSTRAP_SERVERS")
        if env.get("VMRE_KAFKA_CREATE_TOPICS") != "false":
            errores.append(f"{donde}: VMRE_KAFKA_CREATE_TOPICS debe ser false (los tópicos son KafkaTopic)")
        if not env.get("VMRE_AUTH_JWKS_URL"):
            errores.append(f"{donde}: falta VMRE_AUTH_JWKS_URL (proveedor de identidad)")
        if env.get("VMRE_RELOJ", "sistema") != "sistema":
            errores.append(f"{donde}: VMRE_RELOJ debe ser sistema en producción")
        secretos = s.secretos | hechos.secretos_comunes | {"PGPASSWORD"}
        requeridos = set(s.secretos)
        if env.get("VMRE_KAFKA_SECURITY_PROTOCOL", "").startswith("SASL"):
            requeridos.add("VMRE_KAFKA_SASL_PASSWORD")
        if k.componente == "migracion":
            requeridos.discard("VMRE_KAFKA_SASL_PASSWORD")
        for var in sorted(requeridos):
            if var not in env:
                errores.append(f"{donde}: falta el secreto {var}")
        for var in sorted(secretos & set(env)):
            if not isinstance(env[var], dict) or "secretKeyRef" not in env[var]:
                errores.append(f"{donde}: {var} es un secreto: secretKeyRef, nunca un valor ni un ConfigMap")
    for falta in set(hechos.servicios) - vistos:
        errores.append(f"{falta}: ningún Deployment ni Job")
    # Every setting of the code: set for some process of the service, or a decided default.
    for s in hechos.servicios.values():
        fijadas = {v for k in contenedores(docs) if k.servicio == s.nombre for v in k.env}
        por_omision = DEFAULTS_COMUNES | DEFAULTS.get(s.nombre, set())
        for var, campo in {**s.variables, **hechos.comunes}.items():
            if var not in fijadas and var not in por_omision and campo not in por_omision:
                errores.append(
                    f"{s.nombre}: {var} no se fija ni está en DEFAULTS (tests/deploy/manifiestos.py)"
                )
        for var in sorted(por_omision):
            if var not in hechos.comunes and var not in s.variables.values() and var not in s.variables:
                errores.append(f"DEFAULTS nombra {var}, que no existe en el código de {s.nombre}")
            elif var in fijadas or {c: v for v, c in s.variables.items()}.get(var) in fijadas:
                errores.append(f"{s.nombre}: {var} está en DEFAULTS y además se fija: elija uno")
    return errores


def _entero(valor: Any) -> int:
    return valor if isinstance(valor, int) and not isinstance(valor, bool) else 0


def revisar_procesos(docs: list[dict[str, Any]], hechos: Codigo) -> list[str]:
    """Per service: one API+consumer Deployment without relay, one relay Deployment (singleton), one Job."""
    errores: list[str] = []
    hpa = {d["spec"]["scaleTargetRef"]["name"]: d for d in _por_tipo(docs, "HorizontalPodAutoscaler")}
    particiones = {
        d["spec"].get("topicName", d["metadata"]["name"]): _entero(d["spec"].get("partitions"))
        for d in _por_tipo(docs, "KafkaTopic")
    }
    for s in hechos.servicios.values():
        relay_on, consumers_on = f"{s.prefijo}RELAY_ENABLED", f"{s.prefijo}CONSUMERS_ENABLED"
        mios = [k for k in contenedores(docs) if k.servicio == s.nombre and k.carga.startswith("Deployment/")]
        relays = [k for k in mios if k.env.get(relay_on, "true") != "false"]
        apis = [k for k in mios if k.env.get(relay_on, "true") == "false"]
        if len(relays) != 1:
            errores.append(f"{s.nombre}: {len(relays)} Deployments con relay; debe haber exactamente uno")
        for k in relays:
            spec = k.doc["spec"]
            if spec.get("replicas") != 1 or spec.get("strategy", {}).get("type") != "Recreate":
                errores.append(f"{k.carga}: el relay es único: replicas 1 y strategy Recreate")
            if k.env.get(consumers_on) != "false":
                errores.append(f"{k.carga}: el relay no corre consumidores ({consumers_on}=false)")
            if k.doc["metadata"]["name"] in hpa:
                errores.append(f"{k.carga}: un HPA escalaría el relay")
        if len(apis) != 1:
            errores.append(f"{s.nombre}: {len(apis)} Deployments de API; debe haber uno")
        for k in apis:
            if k.env.get(consumers_on, "true") == "false" and s.consumidores:
                errores.append(f"{k.carga}: nadie corre los consumidores de {s.nombre}")
            h = hpa.get(k.doc["metadata"]["name"])
            consumidos = [t for ts in s.consumidores.values() for t in ts]
            if h is not None and consumidos:
                tope = min(particiones.get(t, 0) for t in consumidos)
                if h["spec"]["maxReplicas"] > tope:
                    errores.append(
                        f"{k.carga}: maxReplicas {h['spec']['maxReplicas']} > {tope} particiones "
                        "de sus tópicos"
                    )
        jobs = [k for k in contenedores(docs) if k.servicio == s.nombre and k.carga.startswith("Job/")]
        if [k.c.get("args", []) + k.c.get("command", []) for k in jobs] != [["vmre", "migrate", s.nombre]]:
            errores.append(f"{s.nombre}: se espera un Job de migración `vmre migrate {s.nombre}`")
    return errores


def puerto_de_metricas(docs: list[dict[str, Any]]) -> int | None:
    """VMRE_METRICAS_PUERTO of vmre-config (shared/settings.py: /metrics on a port of its own)."""
    for d in _por_tipo(docs, "ConfigMap"):
        if d["metadata"]["name"].startswith("vmre-config") and "VMRE_METRICAS_PUERTO" in d.get("data", {}):
            return int(d["data"]["VMRE_METRICAS_PUERTO"])
    return None


def revisar_puertos_y_sondas(docs: list[dict[str, Any]], hechos: Codigo) -> list[str]:
    errores: list[str] = []
    metricas = puerto_de_metricas(docs)
    if metricas is None or metricas in {s.puerto for s in hechos.servicios.values()}:
        errores.append(f"vmre-config: VMRE_METRICAS_PUERTO={metricas}: un puerto propio, no el de una API")
    for d in _por_tipo(docs, "Service"):
        servicio = d["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        s = hechos.servicios.get(servicio or "")
        if s is None:
            errores.append(f"{nombre(d)}: no es de ningún servicio")
            continue
        for p in d["spec"]["ports"]:
            esperado = {"http": s.puerto, "metrics": metricas}.get(p.get("name"))
            if p["port"] != esperado:
                errores.append(f"{nombre(d)}: puerto {p.get('name')} {p['port']}, se espera {esperado}")
    for k in contenedores(docs):
        s = hechos.servicios.get(k.servicio)
        if s is None or k.carga.startswith("Job/"):
            continue
        puertos = {p.get("name"): p["containerPort"] for p in k.c.get("ports", [])}
        if puertos.get("http") != s.puerto:
            errores.append(f"{k.carga}: containerPort http {puertos.get('http')}, el código dice {s.puerto}")
        if k.env.get("VMRE_MODE") == "production" and not k.env.get("VMRE_METRICAS_PUERTO"):
            errores.append(f"{k.carga}: producción sin VMRE_METRICAS_PUERTO (no arrancaría)")
        if puertos.get("metrics") != metricas:
            errores.append(f"{k.carga}: containerPort metrics {puertos.get('metrics')}, se espera {metricas}")
        args = k.c.get("args", [])
        if "--port" not in args or args[args.index("--port") + 1] != str(s.puerto):
            errores.append(f"{k.carga}: uvicorn --port no es {s.puerto}")
        if f"services.{s.nombre}.main:create_app" not in args:
            errores.append(f"{k.carga}: no arranca services.{s.nombre}.main:create_app")
        if k.env.get(f"{s.prefijo}PORT") not in (None, str(s.puerto)):
            errores.append(f"{k.carga}: {s.prefijo}PORT={k.env.get(f'{s.prefijo}PORT')} ≠ {s.puerto}")
        esperadas = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for sonda, ruta in esperadas.items():
            get = k.c.get(sonda, {}).get("httpGet", {})
            if get.get("path") != ruta or ruta not in hechos.rutas_operacion:
                errores.append(f"{k.carga}: {sonda} en {get.get('path')!r}; se espera {ruta} (shared/web.py)")
            if get.get("port") not in ("http", s.puerto):
                errores.append(f"{k.carga}: {sonda} al puerto {get.get('port')!r}")
    for d in _por_tipo(docs, "ServiceMonitor"):
        for e in d["spec"]["endpoints"]:
            if e.get("path") not in hechos.rutas_operacion:
                errores.append(f"{nombre(d)}: {e.get('path')} no es una ruta de shared/web.py")
            if e.get("path") == "/metrics" and e.get("port") != "metrics":
                errores.append(f"{nombre(d)}: /metrics en el puerto {e.get('port')!r}; está en 'metrics'")
    return errores


def revisar_metricas_internas(docs: list[dict[str, Any]]) -> list[str]:
    """No NetworkPolicy opens the metrics port to everyone: each rule that admits it names who (a namespace or
    pods), and at least one rule admits Prometheus."""
    errores: list[str] = []
    metricas = puerto_de_metricas(docs)
    abierta = False
    for d in _por_tipo(docs, "NetworkPolicy"):
        for regla in d["spec"].get("ingress", []):
            puertos = [p.get("port") for p in regla.get("ports", [])]
            if puertos and "metrics" not in puertos and metricas not in puertos:
                continue
            origenes = regla.get("from", [])
            if not origenes or any(
                not (o.get("namespaceSelector") or o.get("podSelector")) for o in origenes
            ):
                errores.append(
                    f"{nombre(d)}: abre el puerto de métricas a cualquiera ({origenes or 'sin from'})"
                )
            else:
                abierta = True
    if _por_tipo(docs, "NetworkPolicy") and not abierta:
        errores.append("ninguna NetworkPolicy deja a Prometheus leer el puerto de métricas")
    return errores


def revisar_topicos(docs: list[dict[str, Any]], hechos: Codigo) -> list[str]:
    """KafkaTopic resources = all_topics(), both ways; each KafkaUser's ACLs = what its service does."""
    errores: list[str] = []
    topicos = [d["spec"].get("topicName", d["metadata"]["name"]) for d in _por_tipo(docs, "KafkaTopic")]
    for t in sorted(set(hechos.topicos) - set(topicos)):
        errores.append(f"el código usa el tópico {t} y no hay KafkaTopic para él")
    for t in sorted(set(topicos) - set(hechos.topicos)):
        errores.append(f"KafkaTopic {t} no existe en shared/bus/topics.py")
    for t in {t for t in topicos if topicos.count(t) > 1}:
        errores.append(f"KafkaTopic {t} repetido")
    particiones = KafkaSettings().partitions
    for d in _por_tipo(docs, "KafkaTopic"):
        if _entero(d["spec"].get("partitions")) < particiones:
            errores.append(
                f"{nombre(d)}: {d['spec']['partitions']} particiones < {particiones} (KafkaSettings)"
            )
    usuarios = {d["metadata"]["name"]: d for d in _por_tipo(docs, "KafkaUser")}
    for s in hechos.servicios.values():
        u = usuarios.get(s.nombre)
        if u is None:
            errores.append(f"falta el KafkaUser {s.nombre}")
            continue
        esperado: set[tuple[str, str, str]] = set()
        for t in s.producidos:
            esperado |= {("topic", t, "Write"), ("topic", t, "Describe")}
        for grupo, ts in s.consumidores.items():
            esperado.add(("group", grupo, "Read"))
            for t in ts:
                esperado |= {("topic", t, "Read"), ("topic", t, "Describe")}
                esperado |= {("topic", dlq(t), "Write"), ("topic", dlq(t), "Describe")}
        real = {
            (a["resource"]["type"], a["resource"].get("name", ""), op)
            for a in u["spec"].get("authorization", {}).get("acls", [])
            for op in a["operations"]
            if a["resource"].get("patternType", "literal") == "literal"
        }
        for a in sorted(esperado - real):
            errores.append(f"KafkaUser {s.nombre}: falta el permiso {a}")
        for a in sorted(real - esperado):
            errores.append(f"KafkaUser {s.nombre}: permiso de más {a}")
    return errores


def revisar_seguridad(docs: list[dict[str, Any]]) -> list[str]:
    """The restricted profile, requests and limits, graceful shutdown (checkov checks much of it too)."""
    errores: list[str] = []
    for k in contenedores(docs):
        pod = k.doc["spec"]["template"]["spec"]
        sc = k.c.get("securityContext", {})
        if (
            pod.get("securityContext", {}).get("runAsNonRoot") is not True
            and sc.get("runAsNonRoot") is not True
        ):
            errores.append(f"{k.carga}: runAsNonRoot")
        if pod.get("securityContext", {}).get("seccompProfile", {}).get("type") != "RuntimeDefault":
            errores.append(f"{k.carga}: seccompProfile RuntimeDefault")
        if sc.get("readOnlyRootFilesystem") is not True:
            errores.append(f"{k.carga}: readOnlyRootFilesystem")
        if sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
            errores.append(f"{k.carga}: allowPrivilegeEscalation false, sin privileged")
        if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
            errores.append(f"{k.carga}: capabilities drop [ALL]")
        r = k.c.get("resources", {})
        for tipo in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(r.get(tipo, {})):
                errores.append(f"{k.carga}: resources.{tipo} cpu y memory")
        if pod.get("automountServiceAccountToken") is not False:
            errores.append(f"{k.carga}: automountServiceAccountToken false")
        if k.componente == "api":
            pre = k.c.get("lifecycle", {}).get("preStop", {})
            espera = pre.get("sleep", {}).get("seconds", 0)
            args = k.c.get("args", [])
            drenaje = (
                int(args[args.index("--timeout-graceful-shutdown") + 1])
                if "--timeout-graceful-shutdown" in args
                else None
            )
            if not espera or drenaje is None:
                errores.append(f"{k.carga}: preStop sleep y --timeout-graceful-shutdown")
            elif espera + drenaje >= pod.get("terminationGracePeriodSeconds", 30):
                errores.append(f"{k.carga}: preStop + drenaje no caben en terminationGracePeriodSeconds")
        if k.componente == "relay" and "--timeout-graceful-shutdown" not in k.c.get("args", []):
            errores.append(f"{k.carga}: el relay necesita tiempo para vaciar su lote al terminar")
    return errores


def revisar_todo(docs: list[dict[str, Any]], hechos: Codigo, *, produccion: bool) -> list[str]:
    errores = (
        validar_esquemas(docs)
        + revisar_variables(docs, hechos)
        + revisar_procesos(docs, hechos)
        + revisar_puertos_y_sondas(docs, hechos)
        + revisar_topicos(docs, hechos)
        + revisar_seguridad(docs)
    )
    if produccion:
        errores += revisar_produccion(docs, hechos)
    return errores


# ------------------------------------------------------------------------------------------- the public edge

# What the public host (components/gateway) publishes, decided from the authorization matrix
# (shared/autorizacion.py): every route someone outside uses (público, folio, votante, firma HMAC, JWT) goes
# to its service; what follows does not. deploy/k8s/README.md («Entrada pública») and rutas.yaml say the same.
SONDAS_Y_METRICAS = ("/healthz", "/readyz", "/metrics")
# Every service has them (shared/web.py, FastAPI's own docs): one host routing by path cannot say whose.
COMUNES_PRIVADAS = frozenset(
    {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/v1/auditoria", "/v1/reloj"}
)
# A path several services serve goes to one of them when it is the same thing (/comun) or that one owns the
# whole prefix (/v1/elecciones/…: electronico).
DUENOS: dict[str, str] = {"/comun/{archivo}": "registro", "/v1/elecciones": "electronico"}
# Paths several services serve, each with something of its own: published by none until the code gives each
# service a path of its own (a client asking for one would silently get another's).
COMPARTIDAS_PRIVADAS = frozenset(
    {"/v1/clave-firma", "/v1/estadisticas", "/v1/webhooks", "/v1/webhooks/entregas", "/v1/webhooks/{id}"}
)
# Routes under a prefix another service owns (no Exact or PathPrefix tells them apart): they reach that
# service, which does not have them (404). Not published either.
BAJO_OTRO_PREFIJO: dict[tuple[str, str], str] = {
    ("postal", "/v1/mesas/{entidad}/asignacion"): "computo",
    ("credenciales", "/v1/elecciones/{eleccion}/lista"): "electronico",
}
GATEWAY = "vmre"
HSTS = "max-age=31536000; includeSubDomains"
MARCADORES = {
    "host.invalid",
    "definir-en-el-overlay",
}  # components/gateway's placeholders: overlays replace them
VALOR_DE_PARAMETRO = "x9"  # what a {parameter} becomes in a concrete path: no fixed segment is called so


def _rutas_de_la_app(servicio: str) -> set[tuple[str, str]]:
    """Every (METHOD, path template) the service's app answers (walked as tests/test_autorizacion.py does):
    local mode, /metrics on the API's port and the simulated clock, so every route of the matrix exists."""

    config = importlib.import_module(f"services.{servicio}.config")
    main = importlib.import_module(f"services.{servicio}.main")
    settings = config.Settings(
        mode="local",
        database_url="sqlite+aiosqlite://",
        relay_enabled=False,
        consumers_enabled=False,
        metricas_puerto=0,
        reloj="simulado",
    )
    from tests.test_autorizacion import rutas_de  # the same walk the authorization matrix is checked with

    return rutas_de(main.create_app(settings))


@cache
def rutas_del_codigo() -> dict[str, dict[tuple[str, str], str]]:
    """Per service, every route its app answers -> how the authorization matrix says it is reached (its
    ``Acceso``; "sin regla" if the matrix does not list it, which tests/test_autorizacion.py forbids)."""
    from shared.autorizacion import matriz

    tabla: dict[str, dict[tuple[str, str], str]] = {}
    for servicio in SERVICES:
        reglas = matriz(servicio)
        rutas = _rutas_de_la_app(servicio) | set(reglas)
        tabla[servicio] = {r: (reglas[r].acceso.value if r in reglas else "sin regla") for r in sorted(rutas)}
    return tabla


def destino_esperado(servicio: str, ruta: str, acceso: str) -> tuple[str | None, str]:
    """Where a request for this route of this service must land on the public host, and why."""
    from shared.autorizacion import Acceso

    if acceso == Acceso.RED_INTERNA.value:
        return None, "la matriz la marca red interna"
    if ruta in SONDAS_Y_METRICAS:
        return None, "sonda o métricas: solo dentro del clúster"
    if ruta in COMUNES_PRIVADAS:
        return None, "la tienen todos los servicios"
    if ruta in COMPARTIDAS_PRIVADAS:
        return None, "la sirven varios servicios, cada uno con lo suyo"
    if ruta in DUENOS:
        return DUENOS[ruta], f"ruta de varios servicios; la publica {DUENOS[ruta]}"
    if (servicio, ruta) in BAJO_OTRO_PREFIJO:
        otro = BAJO_OTRO_PREFIJO[(servicio, ruta)]
        return otro, f"queda bajo un prefijo de {otro}; no se publica"
    if acceso == "sin regla":
        return None, "la matriz no la lista"
    return servicio, "pública"


def concreta(ruta: str) -> str:
    return re.sub(r"\{[^}]+\}", VALOR_DE_PARAMETRO, ruta)


@dataclass(frozen=True)
class Coincidencia:
    """One match of an HTTPRoute rule on the https listener, with where the rule sends it."""

    httproute: str
    tipo: str  # Exact | PathPrefix
    valor: str
    metodo: str | None
    servicio: str | None  # app.kubernetes.io/name of the backend Service
    puerto: int | None

    def acepta(self, metodo: str, camino: str) -> bool:
        if self.metodo is not None and self.metodo != metodo:
            return False
        if self.tipo == "Exact":
            return camino == self.valor
        # PathPrefix: by whole segments (/v1/mesas matches /v1/mesas and /v1/mesas/…, not /v1/mesasx).
        prefijo = self.valor.rstrip("/")
        return prefijo == "" or camino == prefijo or camino.startswith(prefijo + "/")

    def precedencia(self) -> tuple[int, int, int]:
        """Gateway API: an Exact match first, then the longest prefix, then a method match."""
        return (self.tipo == "Exact", len(self.valor), self.metodo is not None)


def _host(docs: list[dict[str, Any]]) -> str | None:
    for g in _por_tipo(docs, "Gateway"):
        for listener in g["spec"].get("listeners", []):
            if listener.get("name") == "https":
                return str(listener.get("hostname"))
    return None


def _enlaces(ruta: dict[str, Any]) -> set[str | None]:
    """The listeners (sectionName) of the Gateway an HTTPRoute attaches to; None: all of them."""
    return {p.get("sectionName") for p in ruta["spec"].get("parentRefs", []) if p.get("name") == GATEWAY}


def coincidencias(docs: list[dict[str, Any]]) -> list[Coincidencia]:
    """Every match of the HTTPRoutes that serve the public host over https."""
    servicios = {d["metadata"]["name"]: d for d in _por_tipo(docs, "Service")}
    host = _host(docs)
    todas: list[Coincidencia] = []
    for ruta in _por_tipo(docs, "HTTPRoute"):
        if not _enlaces(ruta) & {"https", None} or host not in ruta["spec"].get("hostnames", [host]):
            continue
        for regla in ruta["spec"].get("rules", []):
            destinos = regla.get("backendRefs", [])
            ref = destinos[0] if len(destinos) == 1 else {}
            etiquetas = servicios.get(ref.get("name", ""), {}).get("metadata", {}).get("labels", {})
            es_api = (
                etiquetas.get("app.kubernetes.io/component") == "api"
                and ref.get("kind", "Service") == "Service"
            )
            servicio = etiquetas.get("app.kubernetes.io/name") if es_api else None
            for m in regla.get("matches", [{}]):
                camino = m.get("path", {"type": "PathPrefix", "value": "/"})
                todas.append(
                    Coincidencia(
                        ruta["metadata"]["name"],
                        camino.get("type", "PathPrefix"),
                        camino.get("value", "/"),
                        m.get("method"),
                        servicio,
                        ref.get("port"),
                    )
                )
    return todas


def enrutar(todas: list[Coincidencia], metodo: str, camino: str) -> tuple[Coincidencia | None, list[str]]:
    """The match the Gateway picks for a request (None: 404 at the Gateway), and an error if two rules that
    send it to different services tie."""
    candidatas = [c for c in todas if c.acepta(metodo, camino)]
    if not candidatas:
        return None, []
    mejor = max(c.precedencia() for c in candidatas)
    ganadoras = [c for c in candidatas if c.precedencia() == mejor]
    if len({c.servicio for c in ganadoras}) > 1:
        quienes = ", ".join(sorted(f"{c.httproute} ({c.tipo} {c.valor})" for c in ganadoras))
        return ganadoras[0], [f"{metodo} {camino}: empate entre {quienes}"]
    return ganadoras[0], []


def revisar_rutas_publicas(
    docs: list[dict[str, Any]], rutas: dict[str, dict[tuple[str, str], str]]
) -> list[str]:
    """The route table of the code against the HTTPRoutes: each public route reaches exactly its service;
    probes, metrics and what the matrix keeps inside reach none; every match of the HTTPRoutes serves some
    route of its service (no dead rule); no prefix is shared by two services; the decisions above are still
    about routes that exist."""
    errores: list[str] = []
    todas = coincidencias(docs)
    puertos = _puertos_api(docs)
    usadas: set[Coincidencia] = set()
    for servicio, tabla in rutas.items():
        for (metodo, ruta), acceso in tabla.items():
            camino = concreta(ruta)
            esperado, razon = destino_esperado(servicio, ruta, acceso)
            ganadora, empates = enrutar(todas, metodo, camino)
            errores += [f"{servicio}: {e}" for e in empates]
            llega = ganadora.servicio if ganadora else None
            if ganadora is not None:
                usadas.add(ganadora)
            if llega == esperado:
                continue
            donde = f"{servicio}: {metodo} {ruta} ({camino})"
            if esperado == servicio:
                errores.append(
                    f"{donde} es pública y "
                    + (
                        f"llega a {llega}, no a {servicio}"
                        if llega
                        else "ninguna HTTPRoute la lleva a su servicio"
                    )
                )
            elif esperado is None:
                errores.append(f"{donde} no debe publicarse ({razon}) y llega a {llega}")
            else:
                errores.append(f"{donde}: {razon}, pero llega a {llega}")
    # Every match is the winner for some route of the code (of its own service, by the checks above).
    for c in todas:
        if c not in usadas:
            errores.append(
                f"HTTPRoute/{c.httproute}: {c.tipo} {c.valor} no lleva a ninguna ruta de {c.servicio} "
                "(ruta muerta)"
            )
        if c.servicio is None:
            errores.append(
                f"HTTPRoute/{c.httproute}: {c.tipo} {c.valor} no va a un solo Service de API de un servicio"
            )
        elif c.puerto != puertos.get(c.servicio):
            errores.append(
                f"HTTPRoute/{c.httproute}: {c.tipo} {c.valor} va al puerto {c.puerto} de {c.servicio}; "
                f"el de su API es {puertos.get(c.servicio)}"
            )
    por_prefijo: dict[tuple[str, str], set[str | None]] = {}
    for c in todas:
        por_prefijo.setdefault((c.tipo, c.valor), set()).add(c.servicio)
    for (tipo, valor), servicios in sorted(por_prefijo.items()):
        if len(servicios) > 1:
            errores.append(
                f"{tipo} {valor}: en dos servicios a la vez ({', '.join(sorted(map(str, servicios)))})"
            )
    # The decisions name routes of the code, and every path served by several services has one.
    servidores: dict[str, set[str]] = {}
    for servicio, tabla in rutas.items():
        for _metodo, ruta in tabla:
            servidores.setdefault(ruta, set()).add(servicio)
    decididas = set(SONDAS_Y_METRICAS) | COMUNES_PRIVADAS | COMPARTIDAS_PRIVADAS | set(DUENOS)
    for ruta, quienes in sorted(servidores.items()):
        if len(quienes) > 1 and ruta not in decididas:
            errores.append(
                f"{ruta}: la sirven {', '.join(sorted(quienes))}; decida en tests/deploy/manifiestos.py "
                "(DUENOS o COMPARTIDAS_PRIVADAS) y en components/gateway/rutas.yaml"
            )
    for ruta in sorted(decididas - set(servidores)):
        errores.append(f"{ruta}: decidida en tests/deploy/manifiestos.py, pero ningún servicio la tiene")
    for ruta in sorted((COMPARTIDAS_PRIVADAS | set(DUENOS)) & set(servidores)):
        if len(servidores[ruta]) < 2:
            errores.append(
                f"{ruta}: solo la tiene {', '.join(servidores[ruta])}; ya no es de varios servicios"
            )
    for servicio, ruta in sorted(BAJO_OTRO_PREFIJO):
        if ruta not in {r for _m, r in rutas.get(servicio, {})}:
            errores.append(f"BAJO_OTRO_PREFIJO: {servicio} ya no tiene {ruta}")
    return errores


def _puertos_api(docs: list[dict[str, Any]]) -> dict[str, int | None]:
    """app.kubernetes.io/name -> the `http` port (the API) of its API Service, the one the gateway may use."""
    puertos: dict[str, int | None] = {}
    for d in _por_tipo(docs, "Service"):
        etiquetas = d["metadata"].get("labels", {})
        if etiquetas.get("app.kubernetes.io/component") == "api":
            puerto = next((p["port"] for p in d["spec"]["ports"] if p.get("name") == "http"), None)
            puertos[str(etiquetas.get("app.kubernetes.io/name"))] = puerto
    return puertos


def _filtros(regla: dict[str, Any], tipo: str) -> list[dict[str, Any]]:
    return [f for f in regla.get("filters", []) if f.get("type") == tipo]


def _selecciona(selector: dict[str, Any], etiquetas: dict[str, str]) -> bool:
    """A label selector (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist) against some labels."""
    if any(etiquetas.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        valor, op = etiquetas.get(e["key"]), e["operator"]
        if (
            (op == "In" and valor not in e.get("values", []))
            or (op == "NotIn" and valor in e.get("values", []))
            or (op == "Exists" and valor is None)
            or (op == "DoesNotExist" and valor is not None)
        ):
            return False
    return True


def revisar_entrada(docs: list[dict[str, Any]], *, produccion: bool) -> list[str]:
    """The Gateway, its listeners and certificate, the redirect to https, HSTS on every https rule, the
    overlay's Issuer, VMRE_PROXIES_CONFIABLES and the NetworkPolicy (only the gateway reaches the APIs)."""
    from shared.settings import redes

    errores: list[str] = []
    gateways = _por_tipo(docs, "Gateway")
    if [g["metadata"]["name"] for g in gateways] != [GATEWAY]:
        return [f"se espera un solo Gateway, {GATEWAY}; hay {[nombre(g) for g in gateways]}"]
    g = gateways[0]
    if g["spec"].get("gatewayClassName") in MARCADORES:
        errores.append(
            f"{nombre(g)}: gatewayClassName sin fijar (ConfigMap vmre-entrada del overlay, llave clase)"
        )
    listeners = {li.get("name"): li for li in g["spec"].get("listeners", [])}
    host = _host(docs)
    if set(listeners) != {"https", "http"}:
        errores.append(f"{nombre(g)}: listeners {sorted(map(str, listeners))}; se esperan https y http")
    if host is None or host in MARCADORES:
        errores.append(f"{nombre(g)}: host sin fijar (ConfigMap vmre-entrada del overlay, llave host)")
    https, http = listeners.get("https", {}), listeners.get("http", {})
    if (https.get("port"), https.get("protocol"), https.get("tls", {}).get("mode")) != (
        443,
        "HTTPS",
        "Terminate",
    ):
        errores.append(f"{nombre(g)}: el listener https debe ser 443, HTTPS, TLS Terminate")
    if (http.get("port"), http.get("protocol"), http.get("hostname")) != (80, "HTTP", host):
        errores.append(f"{nombre(g)}: el listener http debe ser 80, HTTP, en el host {host}")
    secretos = [
        r.get("name") for r in https.get("tls", {}).get("certificateRefs", []) if r.get("kind") == "Secret"
    ]
    certificados = _por_tipo(docs, "Certificate")
    emisores = {d["metadata"]["name"]: d for d in _por_tipo(docs, "Issuer")}
    suyos = [c for c in certificados if c["spec"].get("secretName") in secretos]
    if len(secretos) != 1 or len(suyos) != 1:
        errores.append(f"{nombre(g)}: el listener https usa {secretos}; debe ser el Secret de un Certificate")
    for c in suyos:
        if c["spec"].get("dnsNames") != [host]:
            errores.append(f"{nombre(c)}: dnsNames {c['spec'].get('dnsNames')}; se espera [{host}]")
        ref = c["spec"].get("issuerRef", {})
        if ref.get("kind") != "Issuer" or ref.get("name") not in emisores:
            errores.append(f"{nombre(c)}: issuerRef {ref}: no es un Issuer del overlay")
        else:
            errores += _revisar_emisor(emisores[ref["name"]], produccion=produccion)
    # The routes: https ones on the host with HSTS and a backend; the only http one redirects with 301.
    al_http: list[str] = []
    for ruta in _por_tipo(docs, "HTTPRoute"):
        enlaces = _enlaces(ruta)
        if not enlaces or None in enlaces or not enlaces <= {"https", "http"} or len(enlaces) != 1:
            errores.append(
                f"{nombre(ruta)}: parentRefs al Gateway {GATEWAY} con un solo sectionName (https o http)"
            )
            continue
        if ruta["spec"].get("hostnames") != [host]:
            errores.append(f"{nombre(ruta)}: hostnames {ruta['spec'].get('hostnames')}; se espera [{host}]")
        for i, regla in enumerate(ruta["spec"].get("rules", [])):
            if enlaces == {"http"}:
                al_http.append(nombre(ruta))
                redir = _filtros(regla, "RequestRedirect")
                if (
                    len(redir) != 1
                    or len(regla.get("filters", [])) != 1
                    or regla.get("backendRefs")
                    or redir[0].get("requestRedirect") != {"scheme": "https", "statusCode": 301}
                    or any(
                        m != {"path": {"type": "PathPrefix", "value": "/"}} for m in regla.get("matches", [])
                    )
                ):
                    errores.append(
                        f"{nombre(ruta)}: regla {i}: en http solo se redirige todo a https con 301"
                    )
                continue
            cabeceras = [
                h
                for f in _filtros(regla, "ResponseHeaderModifier")
                for h in f.get("responseHeaderModifier", {}).get("set", [])
            ]
            if {"name": "Strict-Transport-Security", "value": HSTS} not in cabeceras:
                errores.append(f"{nombre(ruta)}: regla {i} sin Strict-Transport-Security: {HSTS}")
            if not regla.get("backendRefs"):
                errores.append(f"{nombre(ruta)}: regla {i} sin backendRefs")
    if len(al_http) != 1:
        errores.append(f"el listener http debe tener una sola HTTPRoute (la redirección); tiene {al_http}")
    # The address the services trust for X-Forwarded-For: the gateway's pods, a private range.
    for cm in _por_tipo(docs, "ConfigMap"):
        if not cm["metadata"]["name"].startswith("vmre-config"):
            continue
        valor = cm.get("data", {}).get("VMRE_PROXIES_CONFIABLES", "")
        try:
            rangos = redes(valor)
        except ValueError as e:
            rangos = ()
            errores.append(f"{nombre(cm)}: VMRE_PROXIES_CONFIABLES: {e}")
        if not rangos or any(not r.is_private or r.prefixlen == 0 for r in rangos):
            errores.append(
                f"{nombre(cm)}: VMRE_PROXIES_CONFIABLES={valor!r}: el rango privado de los pods del gateway"
            )
    errores += _revisar_red_de_entrada(docs)
    return errores


def _revisar_emisor(emisor: dict[str, Any], *, produccion: bool) -> list[str]:
    spec = emisor["spec"]
    if not produccion:
        return [] if spec == {"selfSigned": {}} else [f"{nombre(emisor)}: en dev, un Issuer autofirmado"]
    acme = spec.get("acme", {})
    errores = []
    if acme.get("server") != "https://acme-v02.api.letsencrypt.org/directory":
        errores.append(f"{nombre(emisor)}: en prod, ACME de Let's Encrypt (producción)")
    solvers = acme.get("solvers", [])
    padres = [
        p for s in solvers for p in s.get("http01", {}).get("gatewayHTTPRoute", {}).get("parentRefs", [])
    ]
    if len(solvers) != 1 or padres != [{"name": GATEWAY, "kind": "Gateway", "sectionName": "http"}]:
        errores.append(
            f"{nombre(emisor)}: un solver HTTP-01 gatewayHTTPRoute por el listener http de {GATEWAY}"
        )
    return errores


# The one other policy that opens the API port: tablero's API pods read each service's /readyz (and
# electronico's elections, computo's decryptions) for the console's process overview.
PANORAMA = "panorama-tablero"
TABLERO_API = {
    "app.kubernetes.io/name": "tablero",
    "app.kubernetes.io/part-of": "vmre",
    "app.kubernetes.io/component": "api",
}


def _revisar_red_de_entrada(docs: list[dict[str, Any]]) -> list[str]:
    """With NetworkPolicies, the API port of the API pods admits the gateway's pods (a namespace or pod
    selector, never an address range or everyone), and only through the policy that says so; besides it,
    only ``panorama-tablero``, from tablero's API pods alone (a pod selector of this namespace with exactly
    their labels)."""
    politicas = _por_tipo(docs, "NetworkPolicy")
    if not politicas:
        return []
    errores: list[str] = []
    api = {"app.kubernetes.io/part-of": "vmre", "app.kubernetes.io/component": "api"}
    puertos_api = {"http", *(str(p) for p in _puertos_api(docs).values())}
    abierta = False
    for d in politicas:
        if not _selecciona(d["spec"].get("podSelector", {}), api):
            continue
        for regla in d["spec"].get("ingress", []):
            puertos = {str(p.get("port")) for p in regla.get("ports", [])}
            if puertos and not puertos & puertos_api:
                continue
            origenes = regla.get("from", [])
            de_entrada = d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "entrada"
            if d["metadata"]["name"] == PANORAMA and not de_entrada:
                if not origenes or any(
                    set(o) != {"podSelector"} or o["podSelector"] != {"matchLabels": TABLERO_API}
                    for o in origenes
                ):
                    errores.append(
                        f"{nombre(d)}: el puerto de la API, solo a los pods de API de tablero ({origenes})"
                    )
            elif not de_entrada:
                errores.append(
                    f"{nombre(d)}: abre el puerto de la API ({origenes or 'a cualquiera'}); solo el gateway"
                )
            elif not origenes or any(
                "ipBlock" in o or not (o.get("namespaceSelector") or o.get("podSelector")) for o in origenes
            ):
                errores.append(f"{nombre(d)}: el puerto de la API, solo a los pods del gateway ({origenes})")
            else:
                abierta = True
    if not abierta:
        errores.append("ninguna NetworkPolicy deja al gateway llegar al puerto de la API")
    return errores
