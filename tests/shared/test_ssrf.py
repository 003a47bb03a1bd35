"""Issue 23, item 4, replayed against tablero's webhook API (the same ``shared/webhooks_api`` computo serves):
an OPL that registers its "endpoint" on the platform's own network — the cloud metadata service, a pod's port,
the cluster's DNS names, in any spelling — is refused, at registration and again at every connection (a name
that resolves somewhere else by then: DNS rebinding), and no delivery to such a target is ever attempted: the
network under the despachador here fails the test if it is asked for a connection. Names are resolved by a
resolver the test writes (no DNS server is asked: tests stay on loopback), and the delivery log tells the OPL
a class of error, never the connection's text (no port-scan oracle)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpcore
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from services.tablero.config import Settings
from services.tablero.main import create_app
from services.tablero.models import Entrega, Suscripcion
from shared import webhooks, webhooks_api
from shared.hijos import free_port
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from shared.webhooks import Despachador, DestinoNoPermitido, NombreNoResuelto, RedPublica
from tests.shared.test_webhooks import Receptor, receptor  # noqa: F401  (a real local HTTP endpoint)
from tests.support.comun import Databases, serve
from tests.support.registro import PEL2021

Token = Callable[..., dict[str, str]]

PUBLICA = "93.184.215.14"
PUBLICA_6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class Resolvedor:
    """The DNS of these tests, without asking any server: each name's addresses, and every lookup counted.
    A name it does not know does not resolve."""

    def __init__(self, nombres: dict[str, list[str]]) -> None:
        self.nombres = nombres
        self.consultas: list[str] = []

    async def __call__(self, host: str, _puerto: int) -> list[str]:
        self.consultas.append(host)
        if host not in self.nombres:
            raise NombreNoResuelto(host)
        return self.nombres[host]


def dns() -> Resolvedor:
    return Resolvedor(
        {
            "opl.example": [PUBLICA],
            "opl6.example": [PUBLICA_6],
            "kubernetes.default.svc": ["10.96.0.1"],
            "kubernetes.default.svc.cluster.local": ["10.96.0.1"],
            "postal.vmre.svc.cluster.local": ["10.244.1.17"],
            "metadata.google.internal": ["169.254.169.254"],
            "localhost": ["127.0.0.1", "::1"],
            "localtest.me": ["127.0.0.1"],  # a public name that points home
            "mitad.example": [PUBLICA, "10.0.0.7"],  # one public address is not enough
            "v6-local.example": ["fd00::17"],
            "mapeada.example": ["::ffff:169.254.169.254"],
        }
    )


class RedProhibida(httpcore.AsyncNetworkBackend):
    """The network under RedPublica: no delivery may get here. Each attempt is recorded and fails."""

    def __init__(self) -> None:
        self.intentos: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ARG002 — httpcore backend signature
        local_address: str | None = None,  # noqa: ARG002 — httpcore backend signature
        socket_options: Iterable[Any] | None = None,  # noqa: ARG002 — httpcore backend signature
    ) -> httpcore.AsyncNetworkStream:
        self.intentos.append((host, port))
        raise AssertionError(f"se intentó una conexión a {host}:{port}")

    async def sleep(self, seconds: float) -> None:
        pass


class RedHaciaAqui(httpcore.AsyncNetworkBackend):
    """The network under RedPublica for a delivery that may go: records the address it is asked for and
    connects to the local receiver instead (so the test never leaves loopback)."""

    def __init__(self, puerto: int) -> None:
        self.puerto = puerto
        self.pedidas: list[tuple[str, int]] = []
        self._red = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,  # noqa: ARG002 — httpcore backend signature
        socket_options: Iterable[Any] | None = None,  # noqa: ARG002 — httpcore backend signature
    ) -> httpcore.AsyncNetworkStream:
        self.pedidas.append((host, port))
        return await self._red.connect_tcp("127.0.0.1", self.puerto, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._red.sleep(seconds)


# --- what the URL says, and what its host resolves to ------------------------------------------------------

LITERALES = [
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://127.0.0.1:8003/v1/transportistas/mensajeria/eventos",
    "https://[::1]:8003/x",
    "https://10.1.2.3/x",
    "https://172.16.0.1/x",
    "https://192.168.1.1/x",
    "https://100.64.0.1/x",  # shared address space (CGNAT)
    "https://0.0.0.0:8003/x",
    "https://224.0.0.1/x",
    "https://198.18.0.1/x",
    # The same addresses in the spellings a resolver also takes.
    "https://0x7f000001:8003/x",
    "https://2130706433:8003/x",
    "https://0177.0.0.1/x",
    "https://127.1/x",
    "https://0xa9.0xfe.0xa9.0xfe/x",
    "https://2852039166/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:a9fe:a9fe]/x",
    "https://[2002:7f00:1::]/x",  # 6to4 around 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 around 169.254.169.254
    "https://[fe80::1%25eth0]/x",
    "https://[fd00::17]/x",
    "https://[::]/x",
]
NOMBRES = [  # names that resolve there (or nowhere)
    "https://kubernetes.default.svc/api",
    "https://kubernetes.default.svc.cluster.local/api",
    "https://postal.vmre.svc.cluster.local:8002/v1/estadisticas",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://localhost:8003/x",
    "https://localtest.me/x",
    "https://mitad.example/x",
    "https://v6-local.example/x",
    "https://mapeada.example/x",
    "https://no-existe.example/x",
]
INTERNAS = LITERALES + NOMBRES


@pytest.mark.parametrize("local", [True, False], ids=["local", "produccion"])
@pytest.mark.parametrize("url", INTERNAS)
async def test_ningun_destino_interno_se_acepta_en_ningun_modo(url: str, local: bool) -> None:
    with pytest.raises(DestinoNoPermitido):
        await webhooks.validar_destino(url, local, dns())


async def test_una_ip_escrita_en_la_url_no_se_resuelve_y_un_nombre_no_da_pistas() -> None:
    resolvedor = dns()
    for url in LITERALES:
        with pytest.raises(DestinoNoPermitido):
            webhooks.validar_url(url, True)  # refused by its text alone
        with pytest.raises(DestinoNoPermitido):
            await webhooks.validar_destino(url, True, resolvedor)
    assert resolvedor.consultas == []
    # A name that resolves inside and one that does not resolve: the same answer, nothing to map the network.
    mensajes = set()
    for host in ("kubernetes.default.svc", "no-existe.example"):
        with pytest.raises(DestinoNoPermitido) as error:
            await webhooks.validar_destino(f"https://{host}/x", False, resolvedor)
        mensajes.add(str(error.value).replace(host, "…"))
    assert len(mensajes) == 1


async def test_lo_publico_se_acepta_y_http_a_localhost_solo_en_local() -> None:
    for url in (
        "https://opl.example/vmre",
        "https://opl6.example:8443/vmre",
        f"https://{PUBLICA}/vmre",
        f"https://[{PUBLICA_6}]/vmre",
    ):
        for local in (True, False):
            assert await webhooks.validar_destino(url, local, dns()) == url
    for url in ("http://localhost:8000/vmre", "http://127.0.0.1:8000/vmre"):
        assert await webhooks.validar_destino(url, True, dns()) == url
        with pytest.raises(ValueError, match="https"):
            await webhooks.validar_destino(url, False, dns())
    # The exception is plain http to those two names, on loopback: nothing else.
    for url in (
        "http://opl.example/x",
        "http://[::1]:8000/x",
        "http://localtest.me/x",
        "http://0x7f000001/x",
    ):
        with pytest.raises(ValueError, match="debe usar https"):
            await webhooks.validar_destino(url, True, dns())
    # A localhost that resolves elsewhere is no exception.
    with pytest.raises(DestinoNoPermitido):
        await webhooks.validar_destino("http://localhost/x", True, Resolvedor({"localhost": [PUBLICA]}))


# --- over HTTP, against the service ---------------------------------------------------------------------


@pytest.fixture
async def tablero(databases: Databases, offline_kafka: KafkaSettings) -> AsyncIterator[tuple[FastAPI, Any]]:
    """tablero (local mode, no background loops: the test runs its own despachador) with this test's DNS."""
    settings = Settings(
        database_url=await databases.new("tablero"),
        kafka=offline_kafka,
        relay_enabled=False,
        consumers_enabled=False,
        cache_segundos=0,
    )
    app = create_app(settings, proceso=PEL2021)
    resolvedor = dns()
    app.dependency_overrides[webhooks_api.resolver_de_webhooks] = lambda: resolvedor
    app.state.resolvedor = resolvedor
    async with serve(app) as client:
        yield app, client


async def _encolar(app: FastAPI, evento_id: str) -> int:
    async with app.state.runtime.maker() as session, session.begin():
        return await webhooks.encolar(
            session,
            Entrega,
            Suscripcion,
            entidad="09",
            evento="tablero.cifras.actualizadas",
            evento_id=evento_id,
            datos={"solicitudes": {"total": 1}},
            ahora=dt.datetime.now(dt.UTC),
        )


async def test_el_opl_no_puede_registrar_un_destino_interno(
    tablero: tuple[FastAPI, Any], token: Token
) -> None:
    app, client = tablero
    opl = token("opl", "09")
    for url in INTERNAS:
        r = await client.post("/v1/webhooks", json={"url": url}, headers=opl)
        assert r.status_code == 422, (url, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["campo"] == "url"
    assert (await client.get("/v1/webhooks", headers=opl)).json() == []
    assert await _encolar(app, "e-1") == 0  # nothing to deliver to
    r = await client.post("/v1/webhooks", json={"url": "https://opl.example/vmre"}, headers=opl)
    assert r.status_code == 201, r.text


async def test_un_nombre_que_cambia_de_direccion_no_recibe_nada(
    tablero: tuple[FastAPI, Any], token: Token
) -> None:
    """DNS rebinding: public when registered, the metadata service (or a pod) when the delivery is due."""
    app, client = tablero
    opl = token("opl", "09")
    r = await client.post("/v1/webhooks", json={"url": "https://opl.example:8443/vmre"}, headers=opl)
    assert r.status_code == 201, r.text
    # Rows that never went through registration (an older version, a manual fix): checked at delivery too.
    async with app.state.runtime.maker() as session, session.begin():
        for url in ("https://10.0.0.7/x", "https://0x7f000001:8003/x", "http://127.0.0.1:8003/x"):
            ahora = dt.datetime.now(dt.UTC)
            session.add(
                Suscripcion(
                    entidad="09", url=url, secreto="s", activa=True, creada_at=ahora, creada_por="a mano"
                )
            )
    assert await _encolar(app, "e-1") == 4
    resolvedor: Resolvedor = app.state.resolvedor
    for dia, interna in enumerate(("169.254.169.254", "10.244.1.17", "::1"), start=1):
        resolvedor.nombres["opl.example"] = [interna]
        red = RedProhibida()
        despachador = Despachador(
            app.state.runtime.maker,
            Entrega,
            Suscripcion,
            resolver=resolvedor,
            permitir_http_local=False,  # as in production: no exception for http://127.0.0.1
            red=red,
            reloj=RelojManual(dt.datetime.now(dt.UTC) + dt.timedelta(days=dia)),  # each retry is due
        )
        try:
            assert await despachador.entregar_pendientes() == 4
        finally:
            await despachador.aclose()
        assert red.intentos == []
    log = (await client.get("/v1/webhooks/entregas", headers=opl)).json()
    assert [(e["ultimo_codigo"], e["ultimo_error"]) for e in log] == [(None, "destino_no_permitido")] * 4


async def test_se_conecta_a_la_direccion_revisada_con_el_nombre_en_host(
    receptor: Receptor,  # noqa: F811  (the fixture)
) -> None:
    """Pinning: the address checked is the address connected to; the name is only asked once per
    connection, and the request still names its host (and, over TLS, httpcore sends it as SNI)."""
    resolvedor = Resolvedor({"opl.example": [PUBLICA]})
    puerto = int(receptor.url.rsplit(":", 1)[1].split("/")[0])
    red = RedHaciaAqui(puerto)
    cliente = httpx.AsyncClient(transport=webhooks._Transporte(RedPublica(resolvedor, red=red)))
    try:
        for _ in range(2):  # 500, then 200: the receiver's script
            await cliente.post(f"http://opl.example:{puerto}/vmre", content=b"{}")
        # The name now resolves inside: a new connection is refused before the network is asked.
        resolvedor.nombres["opl.example"] = ["169.254.169.254"]
        await cliente.aclose()
        cliente = httpx.AsyncClient(transport=webhooks._Transporte(RedPublica(resolvedor, red=red)))
        with pytest.raises(DestinoNoPermitido):
            await cliente.post(f"http://opl.example:{puerto}/vmre", content=b"{}")
    finally:
        await cliente.aclose()
    assert red.pedidas == [(PUBLICA, puerto)]  # one connection, kept alive for the second request
    assert resolvedor.consultas == ["opl.example", "opl.example"]
    assert [h["host"] for h, _, _ in receptor.recibidas] == [f"opl.example:{puerto}"] * 2


async def test_la_bitacora_solo_dice_la_clase_del_error(
    tablero: tuple[FastAPI, Any],
    token: Token,
    receptor: Receptor,  # noqa: F811  (the fixture)
) -> None:
    """The old log returned ``ConnectError: [Errno 111] Connection refused`` to the OPL: a port scanner."""
    app, client = tablero
    opl = token("opl", "09")
    cerrado = f"http://127.0.0.1:{free_port()}/nadie"
    for url in (cerrado, receptor.url):  # local mode: plain http to 127.0.0.1 is the exception
        r = await client.post("/v1/webhooks", json={"url": url}, headers=opl)
        assert r.status_code == 201, r.text
    receptor.secreto = r.json()["secreto"]
    assert await _encolar(app, "e-1") == 2
    despachador = Despachador(
        app.state.runtime.maker,
        Entrega,
        Suscripcion,
        resolver=dns(),
        reloj=RelojManual(dt.datetime.now(dt.UTC)),
    )
    try:
        assert await despachador.entregar_pendientes() == 2
    finally:
        await despachador.aclose()
    async with app.state.runtime.maker() as session, session.begin():  # a row from before the fix
        await session.execute(
            update(Entrega)
            .where(Entrega.id == 1)
            .values(ultimo_error="ConnectError: [Errno 111] 10.0.0.7:5432")
        )
    log = {e["suscripcion_id"]: e for e in (await client.get("/v1/webhooks/entregas", headers=opl)).json()}
    assert (log[1]["ultimo_codigo"], log[1]["ultimo_error"]) == (None, "otro")
    assert (log[2]["ultimo_codigo"], log[2]["ultimo_error"]) == (500, "http_5xx")
    assert receptor.recibidas
    assert all(ok for _, _, ok in receptor.recibidas)


def test_clases_de_error() -> None:
    def encadenada(exc: Exception, causa: BaseException) -> Exception:
        exc.__cause__ = causa
        return exc

    casos: list[tuple[BaseException, str]] = [
        (encadenada(httpx.ConnectError("x"), ssl.SSLCertVerificationError("certificado")), "tls"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "conexion"),
        (httpx.ReadError("reset"), "conexion"),
        (httpx.ConnectTimeout("x"), "tiempo"),
        (TimeoutError(), "tiempo"),
        (httpx.RemoteProtocolError("basura"), "protocolo"),
        (DestinoNoPermitido("10.0.0.1"), "destino_no_permitido"),
        (encadenada(RuntimeError("x"), NombreNoResuelto("nadie")), "dns"),
        (RuntimeError("x"), "otro"),
    ]
    for exc, clase in casos:
        assert webhooks.clase_de_error(exc) == clase
        assert clase in webhooks.CLASES_DE_ERROR
