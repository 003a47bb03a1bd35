"""deploy/k8s validated without a cluster: render every overlay (kubectl kustomize), validate it
(kubernetes-validate --strict at the oldest supported Kubernetes, vendored schemas for the operators' CRDs),
lint it (yamllint), check its policy (checkov) and check that it agrees with the code. ``fixtures/roto``
proves each check can fail."""

from __future__ import annotations

import copy
import os
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.registro.config import Settings as SettingsRegistro
from tests.deploy import manifiestos as m

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.externo]


def docs_de(overlay: str) -> list[dict[str, Any]]:
    return m.documentos(m.render_overlay(overlay))


@pytest.fixture(scope="module")
def roto() -> list[dict[str, Any]]:
    return m.documentos(m.renderizar(m.FIXTURES / "roto"))


# ------------------------------------------------------------------------------------------- render, schemas


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_cada_overlay_se_renderiza_con_lo_esperado(overlay: str) -> None:
    docs = docs_de(overlay)
    tipos = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "ConfigMap", "Job"} <= tipos
    assert {"NetworkPolicy", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster"} <= tipos
    assert {"Gateway", "HTTPRoute", "Certificate", "Issuer"} <= tipos  # components/gateway, in both
    assert not [d for d in docs if d["metadata"]["name"] == "vmre-entrada" and d["kind"] == "ConfigMap"]
    if overlay == "prod":
        assert {"HorizontalPodAutoscaler", "ServiceMonitor"} <= tipos
    espacio = {d["metadata"].get("namespace") for d in docs}
    assert espacio == {"vmre" if overlay == "prod" else "vmre-dev"}


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_esquemas_estrictos(overlay: str) -> None:
    assert m.validar_esquemas(docs_de(overlay)) == []


def test_la_version_elegida_es_la_mas_antigua_que_sirve() -> None:
    """1.30: the preStop sleep action is on by default there; before 1.29 the schema does not even have it."""
    assert m.KUBERNETES_VERSION in kubernetes_validate.utils.all_versions()
    previa = m.validar_esquemas(docs_de("prod"), version="1.28.0")
    assert any("'sleep' was unexpected" in e for e in previa)


def test_los_crd_son_una_lista_explicita() -> None:
    """Exactly the kinds Kubernetes does not know go through crd/*.json; each schema exists."""
    vistos = {(d["apiVersion"], d["kind"]) for o in m.OVERLAYS for d in docs_de(o)}
    desconocidos = set()
    for api, kind in vistos:
        try:
            kubernetes_validate.validate(
                {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}},
                m.KUBERNETES_VERSION,
                strict=True,
            )
        except kubernetes_validate.SchemaNotFoundError:
            desconocidos.add((api, kind))
        except kubernetes_validate.ValidationError:
            pass
    assert desconocidos == set(m.CRD_SCHEMAS)
    for archivo in m.CRD_SCHEMAS.values():
        assert (m.CRD_DIR / archivo).is_file()
    nuevo = {"apiVersion": "example.com/v1", "kind": "Desconocido", "metadata": {"name": "x"}}
    assert m.validar_esquemas([nuevo]) == [
        f"Desconocido/x: example.com/v1 sin esquema (ni de Kubernetes {m.KUBERNETES_VERSION} ni en crd/)"
    ]


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_la_entrada_valida_contra_sus_esquemas(overlay: str) -> None:
    """Gateway, HTTPRoute, Certificate and Issuer against the Gateway API and cert-manager schemas (crd/), and
    those schemas are strict: a misspelt field fails."""
    entrada = [d for d in docs_de(overlay) if d["kind"] in {"Gateway", "HTTPRoute", "Certificate", "Issuer"}]
    assert {d["kind"] for d in entrada} == {"Gateway", "HTTPRoute", "Certificate", "Issuer"}
    assert m.validar_esquemas(entrada) == []
    roto = copy.deepcopy(entrada)
    ruta = next(d for d in roto if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == "registro")
    ruta["spec"]["rules"][0]["filtros"] = []
    gateway = next(d for d in roto if d["kind"] == "Gateway")
    gateway["spec"]["listeners"][0]["port"] = "443"
    errores = m.validar_esquemas(roto)
    assert any(e.startswith("HTTPRoute/registro: spec/rules/0:") and "'filtros'" in e for e in errores), (
        errores
    )
    assert any(e.startswith("Gateway/vmre: spec/listeners/0/port:") for e in errores), errores


# --------------------------------------------------------------------------------------------------- linters


def test_yamllint() -> None:
    assert m.yamllint([m.K8S]) == []


def _checkov_disponible() -> None:
    if not m.CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail("falta checkov: `make test` lo instala con scripts/checkov.sh")
        pytest.skip("checkov no está instalado: bash scripts/checkov.sh (make test lo hace)")


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_checkov(overlay: str, tmp_path: Path) -> None:
    _checkov_disponible()
    assert m.checkov(m.render_overlay(overlay), tmp_path) == []


def test_cada_omision_de_checkov_esta_justificada() -> None:
    lineas = (m.K8S / ".checkov.yaml").read_text().splitlines()
    omitidas = [i for i, linea in enumerate(lineas) if re.match(r"^\s+- CKV", linea)]
    assert omitidas, "sin omisiones no hace falta esta prueba"
    for i in omitidas:
        check = lineas[i].split("- ", 1)[1].strip()
        comentario: list[str] = []
        j = i - 1
        while j >= 0 and lineas[j].lstrip().startswith("#"):
            comentario.insert(0, lineas[j])
            j -= 1
        texto = " ".join(comentario)
        assert check in texto, f"{check}: sin justificación en .checkov.yaml"
        assert len(texto) > 80, f"{check}: sin justificación en .checkov.yaml"


# ----------------------------------------------------------------------------------------- code vs manifests


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_variables_existen_en_el_codigo(overlay: str) -> None:
    assert m.revisar_variables(docs_de(overlay), m.codigo()) == []


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_relay_unico_y_consumidores_hasta_las_particiones(overlay: str) -> None:
    assert m.revisar_procesos(docs_de(overlay), m.codigo()) == []


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_puertos_y_sondas_como_el_codigo(overlay: str) -> None:
    hechos = m.codigo()
    assert {"/healthz", "/readyz", "/metrics"} <= hechos.rutas_operacion
    assert m.revisar_puertos_y_sondas(docs_de(overlay), hechos) == []


def test_metricas_solo_para_prometheus() -> None:
    docs = docs_de("prod")
    assert m.revisar_metricas_internas(docs) == []
    # The attack the policy stops: a rule that lets anyone reach the metrics port.
    roto = copy.deepcopy(docs)
    politica = next(d for d in roto if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "vmre-apps")
    for regla in politica["spec"]["ingress"]:
        regla.pop("from", None)
    errores = m.revisar_metricas_internas(roto)
    assert "NetworkPolicy/vmre-apps: abre el puerto de métricas a cualquiera (sin from)" in errores
    # /metrics scraped on the API's port, which the gateway publishes.
    roto = copy.deepcopy(docs)
    next(d for d in roto if d["kind"] == "ServiceMonitor")["spec"]["endpoints"][0]["port"] = "http"
    assert (
        "ServiceMonitor/vmre: /metrics en el puerto 'http'; está en 'metrics'"
        in m.revisar_puertos_y_sondas(roto, m.codigo())
    )


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_topicos_y_permisos_como_el_codigo(overlay: str) -> None:
    assert m.revisar_topicos(docs_de(overlay), m.codigo()) == []


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_perfil_restringido_y_apagado_ordenado(overlay: str) -> None:
    assert m.revisar_seguridad(docs_de(overlay)) == []


def test_produccion_fija_lo_que_exige() -> None:
    assert m.revisar_produccion(docs_de("prod"), m.codigo()) == []


def _valor_de_prueba(var: str) -> str:
    if var.endswith("_CLAVE_FIRMA"):
        return secrets.token_hex(32)
    if var.endswith("_TRANSPORTISTAS"):
        return '{"mensajeria": "secreto-de-prueba"}'
    if var.endswith("_CLAVES_DATOS"):  # Fernet keys: the new one first, the old one after it (rotation)
        return f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    return "secreto-de-prueba"


@pytest.mark.parametrize("servicio", list(m.codigo().servicios))
def test_con_la_configuracion_de_produccion_el_servicio_arranca(
    servicio: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Settings of each service, built from exactly the environment prod gives its pods (Secrets replaced
    by test values), pass their production checks (PostgreSQL, no development keys, JWKS...)."""
    import importlib

    for var in list(os.environ):
        if var.startswith(("VMRE_", "PG")):
            monkeypatch.delenv(var)
    suyos = [k for k in m.contenedores(docs_de("prod")) if k.servicio == servicio]
    # Every service runs in prod as its API, its outbox relay and its migration Job: none may go unchecked.
    assert {k.componente for k in suyos} >= {"api", "relay", "migracion"}, [k.carga for k in suyos]
    for k in suyos:
        with monkeypatch.context() as mp:
            for var, valor in k.env.items():
                mp.setenv(var, valor if isinstance(valor, str) else _valor_de_prueba(var))
            settings = importlib.import_module(f"services.{servicio}.config").Settings()
            assert settings.mode == "production", k.carga
            assert settings.database_url.startswith("postgresql+asyncpg://"), k.carga
            assert settings.kafka.create_topics is False
            assert settings.kafka.partitions == 3


def test_un_topico_nuevo_en_el_codigo_hace_fallar() -> None:
    hechos = copy.deepcopy(m.codigo())
    hechos.topicos.append("vmre.registro.nuevo")
    errores = m.revisar_topicos(docs_de("prod"), hechos)
    assert "el código usa el tópico vmre.registro.nuevo y no hay KafkaTopic para él" in errores


def test_un_consumidor_nuevo_en_el_codigo_hace_fallar_sus_permisos() -> None:
    hechos = copy.deepcopy(m.codigo())
    hechos.servicios["registro"].consumidores["registro.nuevo"] = ["vmre.postal.mesa"]
    errores = m.revisar_topicos(docs_de("prod"), hechos)
    assert "KafkaUser registro: falta el permiso ('group', 'registro.nuevo', 'Read')" in errores


def test_una_variable_nueva_en_el_codigo_hace_fallar() -> None:
    """A new field in a service's Settings: not set by the manifests nor listed as a default, so it fails."""

    class ConCampoNuevo(SettingsRegistro):
        model_config = SettingsConfigDict(env_prefix="VMRE_REGISTRO_", extra="ignore")
        limite_nuevo: int = Field(default=5)

    hechos = copy.deepcopy(m.codigo())
    variables, _ = m._variables(ConCampoNuevo)
    hechos.servicios["registro"].variables = variables
    errores = m.revisar_produccion(docs_de("prod"), hechos)
    assert errores == [
        "registro: VMRE_REGISTRO_LIMITE_NUEVO no se fija ni está en DEFAULTS (tests/deploy/manifiestos.py)"
    ]


def test_una_variable_comun_nueva_tambien() -> None:
    hechos = copy.deepcopy(m.codigo())
    hechos.comunes["VMRE_KAFKA_NUEVA"] = "KafkaSettings"
    errores = m.revisar_produccion(docs_de("prod"), hechos)
    assert len(errores) == len(hechos.servicios)
    assert all("VMRE_KAFKA_NUEVA no se fija" in e for e in errores)


def test_los_hechos_vienen_del_codigo() -> None:
    hechos = m.codigo()
    assert hechos.servicios["tablero"].consumidores["tablero.proyecciones"]
    assert hechos.servicios["registro"].consumidores == {}
    assert "VMRE_ELECTRONICO_CLAVE_FIRMA" in hechos.servicios["electronico"].secretos
    assert "VMRE_POSTAL_TRANSPORTISTAS" in hechos.servicios["postal"].secretos
    assert {"VMRE_MODE", "VMRE_PROCESO", "VMRE_RELOJ", "VMRE_LOG_LEVEL"} <= set(
        hechos.servicios["computo"].variables
    )
    assert {
        "VMRE_DATA_DIR",
        "VMRE_PROCESO_ANCLA",
        "VMRE_KAFKA_BOOTSTRAP_SERVERS",
        "VMRE_AUTH_JWKS_URL",
    } <= set(hechos.comunes)
    assert {"PGUSER", "PGPASSWORD", "PGSSLMODE", "PGSSLROOTCERT"} <= hechos.controlador


# --------------------------------------------------------------------------------------- the public edge


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_entrada_publica_como_el_codigo(overlay: str) -> None:
    """The route table of every service, from its app and the authorization matrix, against the HTTPRoutes
    (Gateway API matching simulated: Exact first, then the longest PathPrefix by segments): each public route
    reaches exactly its service, probes, /metrics and what the matrix keeps inside reach none, every match of
    the HTTPRoutes serves a route of its service, and no prefix is in two services."""
    from shared.autorizacion import Acceso, matriz

    rutas = m.rutas_del_codigo()
    for servicio, tabla in rutas.items():
        # The table is the code's: the app's routes are the matrix's, both ways.
        assert set(tabla) == set(matriz(servicio)), f"{servicio}: la app y la matriz difieren"
        assert "sin regla" not in tabla.values(), servicio
    docs = docs_de(overlay)
    assert m.revisar_rutas_publicas(docs, rutas) == []
    todas = m.coincidencias(docs)
    for servicio, tabla in rutas.items():
        for (metodo, ruta), acceso in tabla.items():
            if ruta in m.SONDAS_Y_METRICAS or acceso == Acceso.RED_INTERNA.value:
                ganadora, _ = m.enrutar(todas, metodo, m.concreta(ruta))
                assert ganadora is None, f"{servicio}: {metodo} {ruta} llega a {ganadora}"
    # Spot checks of the decisions, so a change in them is deliberate.
    destino = {
        camino: (g.servicio if g else None)
        for camino in (
            "/",
            "/comun/vmre.css",
            "/v1/elecciones",
            "/v1/clave-firma",
            "/cabina/static/cabina.js",
        )
        for g in [m.enrutar(todas, "GET", camino)[0]]
    }
    assert destino == {
        "/": "tablero",
        "/comun/vmre.css": "registro",
        "/v1/elecciones": "electronico",
        "/v1/clave-firma": None,
        "/cabina/static/cabina.js": "electronico",
    }
    publicadas = {
        s for s, tabla in rutas.items() for (_m, r), a in tabla.items() if m.destino_esperado(s, r, a)[0] == s
    }
    assert publicadas == set(rutas) - {"credenciales"}  # credenciales: every route collides (README)


def _sin_coincidencia(docs: list[dict[str, Any]], httproute: str, valor: str) -> list[dict[str, Any]]:
    roto = copy.deepcopy(docs)
    ruta = next(d for d in roto if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == httproute)
    for regla in ruta["spec"]["rules"]:
        regla["matches"] = [c for c in regla["matches"] if c["path"]["value"] != valor]
    return roto


def _con_coincidencia(
    docs: list[dict[str, Any]], httproute: str, tipo: str, valor: str
) -> list[dict[str, Any]]:
    roto = copy.deepcopy(docs)
    ruta = next(d for d in roto if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == httproute)
    ruta["spec"]["rules"][0]["matches"].append({"path": {"type": tipo, "value": valor}})
    return roto


def test_una_ruta_mal_publicada_hace_fallar() -> None:
    docs, rutas = docs_de("prod"), m.rutas_del_codigo()
    # A public route the HTTPRoutes forgot.
    assert m.revisar_rutas_publicas(_sin_coincidencia(docs, "registro", "/v1/revision/cola"), rutas) == [
        "registro: GET /v1/revision/cola (/v1/revision/cola) es pública y ninguna HTTPRoute la lleva a su "
        "servicio"
    ]
    # A catch-all in tablero: probes, /metrics and every unpublished route would reach it.
    errores = m.revisar_rutas_publicas(_con_coincidencia(docs, "tablero", "PathPrefix", "/"), rutas)
    for servicio in rutas:
        assert (
            f"{servicio}: GET /metrics (/metrics) no debe publicarse (la matriz la marca red interna) y "
            "llega a tablero" in errores
        )
        assert (
            f"{servicio}: GET /healthz (/healthz) no debe publicarse (sonda o métricas: solo dentro del "
            "clúster) y llega a tablero" in errores
        )
    # A prefix of computo's in postal too; a match that serves nothing.
    errores = m.revisar_rutas_publicas(_con_coincidencia(docs, "postal", "PathPrefix", "/v1/mesas"), rutas)
    assert "PathPrefix /v1/mesas: en dos servicios a la vez (computo, postal)" in errores
    errores = m.revisar_rutas_publicas(_con_coincidencia(docs, "computo", "Exact", "/v1/no-existe"), rutas)
    assert errores == [
        "HTTPRoute/computo: Exact /v1/no-existe no lleva a ninguna ruta de computo (ruta muerta)"
    ]
    # A new public route in the code, and a new path that two services serve: someone has to decide.
    nuevas = copy.deepcopy(rutas)
    nuevas["registro"][("GET", "/v1/nueva")] = "público"
    nuevas["postal"][("GET", "/v1/catalogos/motivos")] = "público"
    assert m.revisar_rutas_publicas(docs, nuevas) == [
        "registro: GET /v1/nueva (/v1/nueva) es pública y ninguna HTTPRoute la lleva a su servicio",
        "postal: GET /v1/catalogos/motivos (/v1/catalogos/motivos) es pública y llega a registro, no a "
        "postal",
        "/v1/catalogos/motivos: la sirven postal, registro; decida en tests/deploy/manifiestos.py "
        "(DUENOS o COMPARTIDAS_PRIVADAS) y en components/gateway/rutas.yaml",
    ]


@pytest.mark.parametrize("overlay", m.OVERLAYS)
def test_entrada_tls_redireccion_y_red(overlay: str) -> None:
    assert m.revisar_entrada(docs_de(overlay), produccion=overlay == "prod") == []


def test_una_entrada_mal_armada_falla() -> None:
    docs = docs_de("prod")
    roto = copy.deepcopy(docs)
    computo = next(d for d in roto if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == "computo")
    computo["spec"]["rules"][0]["filters"] = []
    redireccion = next(
        d for d in roto if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == "vmre-a-https"
    )
    redireccion["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] = 302
    tablero = next(d for d in roto if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == "tablero")
    tablero["spec"]["parentRefs"] = [{"name": "vmre"}]  # every listener: plain http too
    certificado = next(d for d in roto if d["kind"] == "Certificate")
    certificado["spec"]["dnsNames"] = ["otro.ine.mx"]
    emisor = next(d for d in roto if d["kind"] == "Issuer")
    emisor["spec"]["acme"]["server"] = "https://acme-staging-v02.api.letsencrypt.org/directory"
    apps = next(d for d in roto if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "vmre-apps")
    apps["spec"]["ingress"].append({"ports": [{"protocol": "TCP", "port": "http"}]})
    config = next(
        d for d in roto if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("vmre-config")
    )
    config["data"]["VMRE_PROXIES_CONFIABLES"] = "0.0.0.0/0"
    errores = m.revisar_entrada(roto, produccion=True)
    assert sorted(errores) == sorted(
        [
            "Certificate/vmre-entrada: dnsNames ['otro.ine.mx']; se espera [voto-extranjero.ine.mx]",
            "Issuer/vmre-entrada: en prod, ACME de Let's Encrypt (producción)",
            "HTTPRoute/vmre-a-https: regla 0: en http solo se redirige todo a https con 301",
            "HTTPRoute/computo: regla 0 sin Strict-Transport-Security: max-age=31536000; includeSubDomains",
            "HTTPRoute/tablero: parentRefs al Gateway vmre con un solo sectionName (https o http)",
            f"ConfigMap/{config['metadata']['name']}: VMRE_PROXIES_CONFIABLES='0.0.0.0/0': el rango privado "
            "de los pods del gateway",
            "NetworkPolicy/vmre-apps: abre el puerto de la API (a cualquiera); solo el gateway",
        ]
    ), errores
    # Without the gateway's policy nobody reaches the APIs.
    sin = [d for d in docs if d["metadata"]["name"] != "entrada-gateway"]
    assert m.revisar_entrada(sin, produccion=True) == [
        "ninguna NetworkPolicy deja al gateway llegar al puerto de la API"
    ]


def test_solo_tablero_lee_el_puerto_de_la_api_ademas_del_gateway() -> None:
    """panorama-tablero (the console's process overview) opens the API port to tablero's API pods only:
    any other source in it — another service's pods, a namespace, an address range, everyone — fails."""
    docs = docs_de("prod")
    panorama = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == m.PANORAMA)
    assert panorama["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": m.TABLERO_API}}],
            "ports": [{"protocol": "TCP", "port": "http"}],
        }
    ]
    salida = next(
        d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "panorama-tablero-salida"
    )
    assert salida["spec"]["podSelector"] == {"matchLabels": m.TABLERO_API}
    for origen in (
        {"podSelector": {"matchLabels": {**m.TABLERO_API, "app.kubernetes.io/name": "registro"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "vmre"}}},
        {"namespaceSelector": {}, "podSelector": {"matchLabels": m.TABLERO_API}},
        {"ipBlock": {"cidr": "10.0.0.0/8"}},
    ):
        roto = copy.deepcopy(docs)
        p = next(d for d in roto if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == m.PANORAMA)
        p["spec"]["ingress"][0]["from"].append(origen)
        errores = m.revisar_entrada(roto, produccion=True)
        assert len(errores) == 1, (origen, errores)
        assert errores[0].startswith(
            "NetworkPolicy/panorama-tablero: el puerto de la API, solo a los pods de API de tablero"
        ), errores
    roto = copy.deepcopy(docs)
    p = next(d for d in roto if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == m.PANORAMA)
    del p["spec"]["ingress"][0]["from"]  # everyone
    assert len(m.revisar_entrada(roto, produccion=True)) == 1


# ---------------------------------------------------------------------------------------- the broken fixture


def test_la_fixture_rota_falla_cada_revision(roto: list[dict[str, Any]], tmp_path: Path) -> None:
    hechos = m.codigo()
    esquemas = m.validar_esquemas(roto)
    assert any("Deployment/registro" in e and "'livenesProbe' was unexpected" in e for e in esquemas)
    assert any("KafkaTopic/vmre.postal.voto: spec/partitions" in e for e in esquemas)
    assert "Deployment/computo: VMRE_KAFKA_BOOTSTRAP_SERVER no existe en el código de computo" in (
        m.revisar_variables(roto, hechos)
    )
    assert "el código usa el tópico vmre.computo.acta.dlq y no hay KafkaTopic para él" in (
        m.revisar_topicos(roto, hechos)
    )
    assert any("readinessProbe en '/ready'" in e for e in m.revisar_puertos_y_sondas(roto, hechos))
    assert "Deployment/registro: allowPrivilegeEscalation false, sin privileged" in m.revisar_seguridad(roto)
    assert any("trailing spaces" in e for e in m.yamllint([m.FIXTURES / "roto"]))
    if m.CHECKOV.exists():
        fallas = m.checkov(m.renderizar(m.FIXTURES / "roto"), tmp_path)
        assert any(f.startswith("CKV_K8S_16 ") and "registro" in f for f in fallas)


def test_un_manifiesto_que_no_renderiza_falla(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - no-existe.yaml\n")
    with pytest.raises(AssertionError, match="kubectl kustomize"):
        m.renderizar(tmp_path)


# ------------------------------------------------------------------------------------------------- the image


def test_dockerfile_pasa_hadolint() -> None:
    r = subprocess.run(
        [m.herramienta("hadolint"), str(m.ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_multietapa_sin_root_para_cualquier_servicio() -> None:
    texto = (m.ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", texto, re.M)) >= 2
    assert "slim" in texto
    assert re.search(r"^USER 10001:10001$", texto, re.M)
    assert re.search(r"^ARG SERVICE=", texto, re.M)
    for servicio in m.codigo().servicios:
        assert servicio in texto
    ignorado = (m.ROOT / ".dockerignore").read_text().splitlines()
    assert ignorado[1] == "**" or "**" in ignorado  # everything out, then only what the image needs
    make = (m.ROOT / "Makefile").read_text()
    assert re.search(r"^image:", make, re.M)
    assert "--build-arg SERVICE=" in make
