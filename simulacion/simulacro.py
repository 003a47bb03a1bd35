"""A whole electoral process as a drill, driven only through the platform's public HTTP APIs.

Phases, each on the process calendar run on the simulated clock: applications and their review, the close of
the LNERE, postal packages out by courier and tracked, internet voters' key ceremony and election opening,
postal envelopes back (some late, some unknown), internet voters logging in (TOTP) and casting ballots
encrypted on "their device" with their credential, the close of the ballot boxes, the custodians' partial
decryptions, the MEC actas (captured twice), and the cómputo of each entidad, whose acta gives the final
figures. The people and their choices are generated from the scenario's seed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import random
import re
import ssl
import string
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pyotp
from tqdm import tqdm

from services.electronico.custodio import CeremoniaFallida, ceremonia, descifrar
from shared.auth import Rol, mint_token
from shared.cripto import boleta as bo
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.proceso import Proceso, opciones
from shared.settings import AuthSettings
from simulacion.escenario import MODALIDADES, Escenario, porcentaje
from simulacion.plataforma import Plataforma

T = TypeVar("T")
PASSWORD = "contraseña de simulacro, larga y propia"
CUSTODIOS = 5
FOLIO = re.compile(r"\bVMRE(?:-[0-9A-Z]{5}){4}\b")  # as registro makes them (services/registro/service.py)
UMBRAL = 3


class SimulacionFallida(Exception):
    pass


@dataclass
class Persona:
    n: int
    entidad: str
    modalidad: str
    clave_elector: str
    email: str
    folio: str | None = None
    numero: int | None = None
    voto: str | None = None  # the option this person chooses, if they vote
    sobre: str | None = None  # postal: "en_tiempo" | "extemporaneo"
    usuario: str | None = None
    clave_acceso: str | None = None
    credencial: str | None = None


def letras(n: int) -> str:
    """Six letters from ``n``: the name part of a clave de elector, unique per number."""
    out = ""
    for _ in range(6):
        n, r = divmod(n, 26)
        out = string.ascii_uppercase[r] + out
    return out


def _nacimiento(n: int) -> dt.date:
    return dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28)


def _clave_elector(n: int, entidad: str) -> str:
    sexo = "HM"[n % 2]
    return f"{letras(n)}{_nacimiento(n):%y%m%d}{entidad}{sexo}{n % 1000:03d}"


def _solicitud(p: Persona, rng: random.Random) -> dict[str, Any]:
    sexo = "HM"[p.n % 2]
    pais, ciudad, region = rng.choice(
        [("US", "Los Angeles", "CA")] * 8
        + [("US", "Chicago", "IL"), ("CA", "Toronto", "ON"), ("ES", "Madrid", "M")]
    )
    return {
        "clave_elector": p.clave_elector,
        "nombre": "María Fernanda" if sexo == "M" else "José Luis",
        "apellido_paterno": "Hernández",
        "apellido_materno": "García",
        "fecha_nacimiento": _nacimiento(p.n).isoformat(),
        "sexo": sexo,
        "entidad": p.entidad,
        "pais": pais,
        "domicilio": {
            "calle_numero": f"{100 + p.n % 9000} Main St",
            "ciudad": ciudad,
            "region": region,
            "codigo_postal": f"{10000 + p.n % 89999}",
        },
        "email": p.email,
        "telefono": f"+1310{p.n % 10_000_000:07d}",
        "modalidad": p.modalidad,
    }


# --- encryption on "the voter's device": a process pool, so the simulated devices use their own cores ----


_ELECCIONES: dict[str, EleccionBelenios] = {}  # in each device process: uuid -> election


def _cargar_elecciones(textos: dict[str, str]) -> None:
    """The pool's initializer: each election read once per process (sending its JSON with every ballot
    cost the drill's main process a pickle and a pipe write of several KB per vote)."""
    _ELECCIONES.update({uuid: EleccionBelenios.leer(t.encode()) for uuid, t in textos.items()})


def _cifrar(uuid: str, credencial: str, votos: list[int]) -> str:
    return bo.cifrar(_ELECCIONES[uuid], credencial, [votos])


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _transporte(**kwargs: Any) -> httpx.AsyncHTTPTransport:
    """Connections retried while a service restarts (refused for a second or two): the drill, like a real
    client, outlives a killed process. A request that did reach the service is not retried here. One TLS
    context for all (building one loads the CA bundle: tens of milliseconds per client otherwise)."""
    return httpx.AsyncHTTPTransport(retries=6, verify=_tls(), **kwargs)


class Barra:
    """A progress bar per phase on a terminal; one summary line per phase otherwise (CI logs)."""

    activas = 0  # phases running at the same time get a line each

    def __init__(self, fase: str, total: int, unidad: str) -> None:
        self.fase, self.total, self.inicio = fase, total, time.monotonic()
        self.tty = sys.stderr.isatty()
        self.hechos, self.ultimo_aviso = 0, self.inicio
        self.barra = tqdm(
            total=total, desc=f"{fase:<28}", unit=f" {unidad}", disable=not self.tty, position=Barra.activas
        )
        Barra.activas += 1

    def avanzar(self, n: int = 1) -> None:
        self.barra.update(n)
        self.hechos += n
        if not self.tty and time.monotonic() - self.ultimo_aviso > 15:
            self.ultimo_aviso = time.monotonic()
            ritmo = self.hechos / (self.ultimo_aviso - self.inicio)
            texto = f"{ritmo:,.0f}" if ritmo >= 10 else f"{ritmo:.1f}"  # batches go at a few per second
            print(f"{self.fase:<28} {self.hechos:>7,} de {self.total:,} ({texto}/s)", file=sys.stderr)

    def cerrar(self) -> None:
        self.barra.close()
        Barra.activas -= 1
        if not self.tty:
            segundos = time.monotonic() - self.inicio
            resumen = (
                f"{self.total:>7,} en {segundos:6.1f} s"
                if self.hechos >= self.total
                else f"{self.hechos:>7,} de {self.total:,}: interrumpida a los {segundos:.1f} s"
            )
            print(f"{self.fase:<28} {resumen}", file=sys.stderr, flush=True)


class Simulacro:
    def __init__(
        self,
        escenario: Escenario,
        proceso: Proceso,
        plataforma: Plataforma,
        *,
        concurrencia: int = 16,
        procesos: int = 2,
    ) -> None:
        self.escenario, self.proceso, self.plataforma = escenario, proceso, plataforma
        self.concurrencia = concurrencia
        self.procesos = procesos
        self.rng = random.Random(escenario.semilla)
        self.auth = AuthSettings()
        self.personas: list[Persona] = []
        self.elecciones: dict[str, dict[str, Any]] = {}  # entidad -> election detail (electronica > 0)
        self.cliente = httpx.AsyncClient(
            timeout=120,
            transport=_transporte(
                limits=httpx.Limits(max_connections=concurrencia * 2, max_keepalive_connections=64)
            ),
        )
        self._tokens: dict[tuple[str, str], str] = {}
        self._buzon_leido = 0  # bytes of the local mailbox's file already read
        self._folios_del_buzon: dict[str, str] = {}  # e-mail -> the folio its messages carry
        self._votantes_por_email: dict[str, Persona] | None = None

    # --- plumbing ------------------------------------------------------------------------------------------

    def url(self, servicio: str, ruta: str) -> str:
        return f"{self.plataforma.urls[servicio]}{ruta}"

    def token(self, rol: Rol, sub: str) -> dict[str, str]:
        if (rol.value, sub) not in self._tokens:
            self._tokens[(rol.value, sub)] = mint_token(self.auth, rol, sub=sub, ttl=dt.timedelta(hours=6))
        return {"Authorization": f"Bearer {self._tokens[(rol.value, sub)]}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.token(Rol.INE_ADMIN, "simulacro-admin")

    def operador(self, quien: str = "a") -> dict[str, str]:
        return self.token(Rol.INE_OPERADOR, f"simulacro-operador-{quien}")

    async def pedir(
        self, metodo: str, url: str, *, esperado: Iterable[int] = (200, 201), **kwargs: Any
    ) -> httpx.Response:
        """One request, retried on a dropped connection or a 5xx (a service restarting): every write the
        drill makes is idempotent or answers its retry with a recognisable 409."""
        esperados = set(esperado)
        ultimo = ""
        for intento in range(60):
            try:
                r = await self.cliente.request(metodo, url, **kwargs)
            except httpx.TransportError as exc:
                ultimo = f"{type(exc).__name__}: {exc}"
            else:
                if r.status_code in esperados:
                    return r
                if r.status_code < 500:
                    raise SimulacionFallida(f"{metodo} {url} → {r.status_code}: {r.text[:600]}")
                ultimo = f"{r.status_code}: {r.text[:300]}"
            await asyncio.sleep(min(0.2 * 2**intento, 3))
        raise SimulacionFallida(f"{metodo} {url} sin respuesta válida tras reintentos ({ultimo})")

    async def esperar(
        self, que: str, condicion: Callable[[], Awaitable[T | None]], timeout: float = 300
    ) -> T:
        inicio = time.monotonic()
        while True:
            try:
                valor = await condicion()
            except httpx.TransportError:  # the service it asks is restarting: ask again
                valor = None
            if valor is not None and valor is not False:
                return valor
            if time.monotonic() - inicio > timeout:
                raise SimulacionFallida(
                    f"tiempo agotado ({timeout:.0f} s) esperando: {que}\n{self.plataforma.ultimas_lineas(30)}"
                )
            await asyncio.sleep(0.5)

    async def en_paralelo(
        self, fase: str, unidad: str, elementos: Sequence[T], f: Callable[[T], Awaitable[object]], n: int = 0
    ) -> None:
        barra = Barra(fase, len(elementos), unidad)
        cola: asyncio.Queue[T] = asyncio.Queue()
        for x in elementos:
            cola.put_nowait(x)

        async def trabajador() -> None:
            while not cola.empty():
                x = cola.get_nowait()
                await f(x)
                barra.avanzar()

        try:
            await asyncio.gather(*(trabajador() for _ in range(n or self.concurrencia)))
        finally:
            barra.cerrar()

    async def reloj(self, instante: dt.datetime) -> None:
        """Move every service's simulated clock."""
        cuerpo = {"ahora": instante.astimezone(dt.UTC).isoformat()}
        for servicio in self.plataforma.urls:
            try:
                await self.pedir("PUT", self.url(servicio, "/v1/reloj"), json=cuerpo, headers=self.admin)
            except SimulacionFallida as exc:
                if "→ 404" in str(exc) or "→ 405" in str(exc):
                    raise SimulacionFallida(
                        f"{servicio} no tiene reloj simulado: arranque la plataforma con VMRE_RELOJ=simulado "
                        "(o deje que el simulacro la arranque)"
                    ) from exc
                raise

    def _de(self, entidad: str, modalidad: str) -> list[Persona]:
        return [p for p in self.personas if p.entidad == entidad and p.modalidad == modalidad]

    # --- the people ----------------------------------------------------------------------------------------

    def generar_personas(self) -> None:
        n = 0
        for entidad, e in sorted(self.escenario.entidades.items()):
            for modalidad in MODALIDADES:
                for _ in range(getattr(e.lnere, modalidad)):
                    n += 1
                    self.personas.append(
                        Persona(
                            n,
                            entidad,
                            modalidad,
                            _clave_elector(n, entidad),
                            f"s{self.escenario.semilla}-{n}@simulacro.example",
                        )
                    )
        for entidad, e in sorted(self.escenario.entidades.items()):
            for modalidad in MODALIDADES:
                grupo = self._de(entidad, modalidad)
                self.rng.shuffle(grupo)
                votos = [op for op, k in sorted(getattr(e.votos, modalidad).items()) for _ in range(k)]
                self.rng.shuffle(votos)
                for persona, opcion in zip(grupo, votos, strict=False):
                    persona.voto = opcion
                    persona.sobre = "en_tiempo" if modalidad == "postal" else None
                if modalidad == "postal":
                    restantes = grupo[len(votos) :]
                    for persona in restantes[: e.sobres_extemporaneos]:
                        persona.sobre = "extemporaneo"
        self.rng.shuffle(self.personas)  # applications arrive mixed

    # --- registro ------------------------------------------------------------------------------------------

    async def registro(self) -> None:
        cal = self.proceso.calendario
        await self.reloj(cal.registro_inicio + dt.timedelta(days=1))
        solicitudes = {p.n: _solicitud(p, self.rng) for p in self.personas}

        async def solicitar(p: Persona) -> None:
            r = await self.pedir(
                "POST", self.url("registro", "/v1/solicitudes"), json=solicitudes[p.n], esperado=(201, 409)
            )
            if r.status_code == 201:
                p.folio = r.json()["folio"]
                return

            # 409: a retry whose first answer was lost. The folio is the applicant's secret: it comes only by
            # mail (the receipt of the first attempt, or the re-send the 409 announces), as to a person.
            async def del_correo() -> str | None:
                self._leer_buzon()
                return self._folios_del_buzon.get(p.email)

            p.folio = await self.esperar(f"el folio de {p.email} en su correo", del_correo, timeout=120)

        await self.en_paralelo("solicitudes", "solicitudes", self.personas, solicitar)
        await self.reloj(cal.registro_inicio + dt.timedelta(days=20))

        # The review team works through the queue in batches (a retried batch answers `sin_cambio`).
        lotes = [self.personas[i : i + 500] for i in range(0, len(self.personas), 500)]

        async def dictaminar(lote: list[Persona]) -> None:
            await self.pedir(
                "POST",
                self.url("registro", "/v1/solicitudes/dictamenes"),
                json={
                    "dictamenes": [{"folio": p.folio, "resultado": "procedente", "motivos": []} for p in lote]
                },
                headers=self.operador(),
            )

        await self.en_paralelo("dictámenes (lotes de 500)", "lotes", lotes, dictaminar, n=2)

        await self.reloj(cal.cierre_lnere)
        for entidad in sorted(self.escenario.entidades):
            r = await self.pedir(
                "POST", self.url("registro", f"/v1/lnere/{entidad}/cierre"), headers=self.admin
            )
            cierre = r.json()
            esperado = self.escenario.esperado(entidad)["lnere"]
            if (cierre["postal"], cierre["electronica"]) != (esperado["postal"], esperado["electronica"]):
                raise SimulacionFallida(f"cierre de la LNERE {entidad}: {cierre} ≠ {esperado}")

        por_folio = {p.folio: p for p in self.personas}
        for entidad in sorted(self.escenario.entidades):
            despues = 0
            while True:
                r = await self.pedir(
                    "GET",
                    self.url("registro", f"/v1/lnere/{entidad}"),
                    params={"limite": 1000, "despues": despues},
                    headers=self.operador(),
                )
                lista = r.json()
                for item in lista["personas"]:
                    if item["folio"] in por_folio:
                        por_folio[item["folio"]].numero = item["numero"]
                if lista["siguiente"] is None:
                    break
                despues = lista["siguiente"]
        sin_numero = [p.folio for p in self.personas if p.numero is None]
        if sin_numero:
            raise SimulacionFallida(
                f"{len(sin_numero)} personas sin número en la LNERE (p. ej. {sin_numero[0]})"
            )

    # --- postal: packages out -------------------------------------------------------------------------------

    async def envios(self) -> None:
        cal = self.proceso.calendario
        postales = [p for p in self.personas if p.modalidad == "postal"]
        if not postales:
            return
        esperados = Counter(p.entidad for p in postales)

        async def integrados() -> bool:
            r = await self.pedir("GET", self.url("postal", "/v1/estadisticas"))
            por_entidad = r.json()["por_entidad"]
            return all(por_entidad.get(e, {}).get("paquetes", 0) == n for e, n in esperados.items())

        await self.esperar("paquetes integrados en postal", integrados)
        salida = cal.envio_pep_inicio + dt.timedelta(days=1)
        await self.reloj(salida)
        lotes = [postales[i : i + 2000] for i in range(0, len(postales), 2000)]

        async def enviar(lote: list[Persona]) -> None:
            await self.pedir(
                "POST",
                self.url("postal", "/v1/envios"),
                json={
                    "transportista": "mensajeria",
                    "paquetes": [
                        {"entidad": p.entidad, "numero": p.numero, "guia": self._guia(p)} for p in lote
                    ],
                },
                headers=self.operador(),
                esperado=(200, 201, 409),  # 409: a retried batch that was already committed
            )

        await self.en_paralelo("envíos (PEP, lotes de 2,000)", "lotes", lotes, enviar, n=2)

        from services.postal.config import Settings as PostalSettings

        secreto = PostalSettings().transportistas["mensajeria"].get_secret_value().encode()
        eventos = []
        for p in postales:
            for estado, dias in (("en_transito", 1), ("entregado", 6)):
                eventos.append(
                    {
                        "evento_id": f"sim-{self._guia(p)}-{estado}",
                        "guia": self._guia(p),
                        "estado": estado,
                        "ocurrido_at": (salida + dt.timedelta(days=dias, minutes=p.n % 600)).isoformat(),
                    }
                )
        lotes_eventos = [eventos[i : i + 5000] for i in range(0, len(eventos), 5000)]

        async def transportista(lote: list[dict[str, Any]]) -> None:
            cuerpo = json.dumps({"eventos": lote}).encode()
            firma = "sha256=" + hmac.new(secreto, cuerpo, hashlib.sha256).hexdigest()
            await self.pedir(
                "POST",
                self.url("postal", "/v1/transportistas/mensajeria/eventos"),
                content=cuerpo,
                headers={"content-type": "application/json", "X-Firma": firma},
            )

        await self.reloj(salida + dt.timedelta(days=7))
        await self.en_paralelo("seguimiento (transportista)", "lotes", lotes_eventos, transportista, n=2)

    def _guia(self, p: Persona) -> str:
        return f"SIM{p.entidad}{p.numero:07d}"

    # --- electronico: keys, opening, credentials ------------------------------------------------------------

    def _con_voto_electronico(self) -> list[str]:
        return [e for e, x in sorted(self.escenario.entidades.items()) if x.lnere.electronica > 0]

    async def _elecciones_por_entidad(self) -> dict[str, dict[str, Any]]:
        """Each entidad's election, as electronico creates them when it starts (before the list closes)."""
        entidades = self._con_voto_electronico()

        async def todas() -> dict[str, dict[str, Any]] | None:
            r = await self.pedir(
                "GET", self.url("electronico", "/v1/elecciones"), params={"simulacro": False}
            )
            por_entidad = {e["entidad"]: e for e in r.json()}
            return por_entidad if all(e in por_entidad for e in entidades) else None

        return await self.esperar("elecciones creadas en electronico", todas)

    async def ceremonia(self) -> None:
        """The custodians generate each election's key (the elections exist from electronico's start)."""
        entidades = self._con_voto_electronico()
        if not entidades:
            return
        por_entidad = await self._elecciones_por_entidad()
        custodios_dir = self.plataforma.datos / "custodios"
        custodios_dir.mkdir(parents=True, exist_ok=True)

        async def ceremonia_de(entidad: str) -> None:
            uuid = por_entidad[entidad]["uuid"]

            async def custodio(i: int) -> str:
                async with httpx.AsyncClient(
                    base_url=self.plataforma.urls["electronico"],
                    headers=self.token(Rol.CUSTODIO, f"custodio-{i}"),
                    timeout=60,
                    transport=_transporte(),
                ) as c:
                    for intento in range(1, 6):
                        try:
                            return await ceremonia(
                                c,
                                uuid,
                                i,
                                custodios_dir / f"{uuid}-{i}.json",
                                espera=0.2,
                                avisar=lambda m: None,
                            )
                        except (CeremoniaFallida, httpx.TransportError) as exc:
                            # As a custodian would: run the command again; it resumes from its state file.
                            if intento == 5:
                                raise SimulacionFallida(
                                    f"ceremonia de {entidad}, custodio {i}: {exc}"
                                ) from exc
                            await asyncio.sleep(intento)
                    raise AssertionError("inalcanzable")

            claves = await asyncio.gather(*(custodio(i) for i in range(1, CUSTODIOS + 1)))
            if len(set(claves)) != 1:
                raise SimulacionFallida(f"los custodios de {entidad} no llegaron a la misma clave")

        await self.en_paralelo("ceremonia de llaves", "elecciones", entidades, ceremonia_de, n=4)

    async def _ceremonia_y_apertura(self) -> None:
        await self.ceremonia()
        await self.apertura()

    async def apertura(self) -> None:
        entidades = self._con_voto_electronico()
        if not entidades:
            return
        por_entidad = await self._elecciones_por_entidad()
        # Accounts and credentials come with the LNERE close (an event): wait until every voter has them.
        electronicos = {p.email: p for p in self.personas if p.modalidad == "electronica"}

        async def correos() -> bool:
            self._leer_buzon()
            return all(p.usuario and p.credencial for p in electronicos.values())

        # Every one goes over SMTP, behind registro's and postal's own messages to the same local mailbox.
        await self.esperar("cuentas y credenciales de todos los votantes por internet", correos, timeout=900)
        for entidad in entidades:
            uuid = por_entidad[entidad]["uuid"]
            await self.pedir(
                "POST",
                self.url("electronico", f"/v1/elecciones/{uuid}/apertura"),
                headers=self.admin,
                esperado=(200, 409),
            )
            detalle = (await self.pedir("GET", self.url("electronico", f"/v1/elecciones/{uuid}"))).json()
            if detalle["estado"] != "abierta" and not detalle.get("eleccion_json"):
                raise SimulacionFallida(f"la elección de {entidad} no quedó abierta: {detalle['estado']}")
            self.elecciones[entidad] = detalle

    def _leer_buzon(self) -> None:
        """The people's mailboxes (the local mailbox, which got every message over SMTP): folios, and each
        internet voter's user, access key and voting credential. Read from where the last call stopped (the
        file only grows), complete lines only."""
        if self._votantes_por_email is None:
            self._votantes_por_email = {p.email: p for p in self.personas if p.modalidad == "electronica"}
        por_email = self._votantes_por_email
        ruta = self.plataforma.buzon
        if not ruta.exists():
            return
        with ruta.open("rb") as f:
            f.seek(self._buzon_leido)
            nuevo = f.read()
        completo = nuevo[: nuevo.rfind(b"\n") + 1]
        self._buzon_leido += len(completo)
        for linea in completo.decode("utf-8").splitlines():
            m = json.loads(linea)
            if m["canal"] != "email":
                continue
            destino, texto = m["para"][0], m["texto"]
            folio = FOLIO.search(texto)
            if folio:
                self._folios_del_buzon.setdefault(destino, folio.group(0))
            persona = por_email.get(destino)
            if persona is None or "Usuario:" not in texto:
                continue
            usuario = re.search(r"Usuario: (\S+)", texto)
            clave = re.search(r"Clave de acceso: (\S+)", texto)
            credenciales = re.findall(r"^- (.+): (\S+)$", texto, flags=re.M)
            if usuario and clave and credenciales:
                persona.usuario, persona.clave_acceso = usuario.group(1), clave.group(1)
                persona.credencial = credenciales[0][1]

    # --- the votes ------------------------------------------------------------------------------------------

    async def sobres(self, clasificacion: str) -> None:
        cal = self.proceso.calendario
        if clasificacion == "en_tiempo":  # the clock is already before the limit, inside the voting window
            lista = [p.clave_elector for p in self.personas if p.sobre == "en_tiempo"]
            fase = "sobres en tiempo"
        else:
            await self.reloj(cal.recepcion_spv_limite + dt.timedelta(hours=1))
            lista = [p.clave_elector for p in self.personas if p.sobre == "extemporaneo"]
            desconocidos = sum(e.sobres_desconocidos for e in self.escenario.entidades.values())
            # A barcode nobody on the list has: a valid format, an entidad code no one uses (00).
            lista += [_clave_elector(10_000_000 + i, "00") for i in range(desconocidos)]
            fase = "sobres tardíos y desconocidos"
        esperado_por_clave = {p.clave_elector: p.sobre for p in self.personas if p.sobre}

        async def recibir(clave: str) -> None:
            r = await self.pedir(
                "POST",
                self.url("postal", "/v1/sobres"),
                json={"clave_elector": clave},
                headers=self.operador(),
            )
            clase = r.json()["clasificacion"]
            esperado = esperado_por_clave.get(clave, "desconocido")
            if clase != esperado and not (clase == "duplicado"):  # a retried scan answers "duplicado"
                raise SimulacionFallida(
                    f"sobre {clave[:6]}…: postal lo clasificó {clase}, se esperaba {esperado}"
                )

        await self.en_paralelo(fase, "sobres", lista, recibir)

    async def votos_por_internet(self) -> None:
        votantes = [p for p in self.personas if p.modalidad == "electronica" and p.voto]
        if not votantes:
            return
        claves = {e: [o["clave"] for o in d["opciones"]] for e, d in self.elecciones.items()}
        loop = asyncio.get_running_loop()
        textos = {d["uuid"]: d["eleccion_json"] for d in self.elecciones.values()}
        with ProcessPoolExecutor(
            self.procesos, initializer=_cargar_elecciones, initargs=(textos,)
        ) as dispositivos:

            async def votar(p: Persona) -> None:
                detalle = self.elecciones[p.entidad]
                assert p.usuario and p.clave_acceso and p.credencial and p.voto
                r = await self.pedir(
                    "POST",
                    self.url("electronico", "/v1/acceso/primer"),
                    json={
                        "usuario": p.usuario,
                        "clave_acceso": p.clave_acceso,
                        "password": PASSWORD,
                        "segundo_factor": "totp",
                        "qr": False,  # the simulated voter types the key into the app
                    },
                )
                sesion = await self._ingresar(p, pyotp.parse_uri(r.json()["totp_uri"]))
                vector = [int(c == p.voto) for c in claves[p.entidad]]
                texto = await loop.run_in_executor(
                    dispositivos, _cifrar, detalle["uuid"], p.credencial, vector
                )
                await self.pedir(
                    "POST",
                    self.url("electronico", f"/v1/elecciones/{detalle['uuid']}/boletas"),
                    content=texto.encode(),
                    headers={
                        "Authorization": f"Bearer {sesion}",
                        "content-type": "application/json",
                        "Idempotency-Key": f"sim-{p.n}",
                    },
                )

            await self.en_paralelo(
                "votos por internet", "votos", votantes, votar, n=max(8, self.procesos * 6)
            )

    async def _ingresar(self, p: Persona, totp: Any) -> str:
        """Log in with the app's current code. A code works once: when the answer to a login is lost (a
        service restarting) and the retry meets a 401, the voter waits for the next code, as a person
        would (three tries: five failures lock the account)."""
        usado = None
        for _ in range(3):
            codigo = totp.now()
            if codigo == usado:
                await asyncio.sleep(totp.interval - time.time() % totp.interval + 0.5)
                codigo = totp.now()
            usado = codigo
            r = await self.pedir(
                "POST",
                self.url("electronico", "/v1/acceso"),
                json={"usuario": p.usuario, "password": PASSWORD, "codigo": codigo},
                esperado=(200, 401),
            )
            if r.status_code == 200:
                return str(r.json()["sesion"])
        raise SimulacionFallida(f"ingreso de {p.usuario}: {r.status_code} {r.text[:300]}")

    # --- close, decryption, actas, cómputo ------------------------------------------------------------------

    async def escrutinio_electronico(self) -> None:
        if not self.elecciones:
            return
        cal = self.proceso.calendario
        await self.reloj(cal.voto_electronico_fin + dt.timedelta(minutes=1))

        async def sellada(uuid: str) -> dict[str, Any] | None:
            r = await self.cliente.get(self.url("computo", f"/v1/escrutinio-electronico/{uuid}"))
            return r.json() if r.status_code == 200 else None

        custodios_dir = self.plataforma.datos / "custodios"
        elegidos = sorted(self.rng.sample(range(1, CUSTODIOS + 1), UMBRAL))

        async def descifrar_de(entidad: str) -> None:
            uuid = self.elecciones[entidad]["uuid"]
            estado = await self.esperar(f"sello de la urna de {entidad}", lambda: sellada(uuid))
            votantes = sum(
                1 for p in self.personas if p.entidad == entidad and p.modalidad == "electronica" and p.voto
            )
            if estado["boletas"] != votantes:
                raise SimulacionFallida(
                    f"urna de {entidad}: {estado['boletas']} boletas, se emitieron {votantes}"
                )
            for i in elegidos:
                async with (
                    httpx.AsyncClient(
                        base_url=self.plataforma.urls["computo"],
                        headers=self.token(Rol.CUSTODIO, f"custodio-{i}"),
                        timeout=120,
                        transport=_transporte(),
                    ) as c,
                    httpx.AsyncClient(
                        base_url=self.plataforma.urls["electronico"], timeout=300, transport=_transporte()
                    ) as pub,
                ):
                    # Each custodian verifies the whole public record first, on every core (as the CLI does).
                    await descifrar(
                        c,
                        uuid,
                        i,
                        custodios_dir / f"{uuid}-{i}.json",
                        electronico=pub,
                        procesos=len(os.sched_getaffinity(0)),
                        avisar=lambda m: None,
                    )

            async def con_resultado() -> bool:
                e = await sellada(uuid)
                return bool(e and e.get("votos") is not None)

            await self.esperar(f"resultado electrónico de {entidad}", con_resultado)

        await self.en_paralelo(
            "sello y descifrado (3 de 5)", "elecciones", sorted(self.elecciones), descifrar_de, n=3
        )

    async def actas_postales(self) -> None:
        cal = self.proceso.calendario
        await self.reloj(cal.jornada)
        trabajo: list[tuple[str, int, list[str]]] = []
        for entidad in sorted(self.escenario.entidades):
            if not self.escenario.entidades[entidad].lnere.postal:
                continue
            r = await self.pedir(
                "POST", self.url("postal", f"/v1/mesas/{entidad}/asignacion"), headers=self.admin
            )
            conteos: list[int] = r.json()["mesas"]
            votos = [p.voto for p in self.personas if p.entidad == entidad and p.sobre == "en_tiempo"]
            if sum(conteos) != len(votos):
                raise SimulacionFallida(
                    f"mesas de {entidad}: {sum(conteos)} sobres asignados, {len(votos)} en tiempo"
                )
            self.rng.shuffle(votos)
            inicio = 0
            for numero, k in enumerate(conteos, start=1):
                trabajo.append((entidad, numero, [v for v in votos[inicio : inicio + k] if v]))
                inicio += k

        async def mesas_listas() -> bool:
            r = await self.pedir("GET", self.url("computo", "/v1/mesas"), headers=self.operador())
            hay = {(m["entidad"], m["numero"]) for m in r.json() if m["tipo"] == "postal"}
            return all((e, n) in hay for e, n, _ in trabajo)

        await self.esperar("mesas de escrutinio en computo", mesas_listas)

        async def mesa(t: tuple[str, int, list[str]]) -> None:
            entidad, numero, votos = t
            await self.pedir(
                "POST",
                self.url("computo", f"/v1/mesas/{entidad}/{numero}/instalacion"),
                json={
                    "funcionarios": {
                        "presidente": "Presidencia de mesa",
                        "secretario": "Secretaría de mesa",
                        "escrutadores": ["Escrutador uno", "Escrutadora dos"],
                    }
                },
                headers=self.operador(),
                esperado=(200, 201, 409),
            )
            acta = {
                "cargo": self.proceso.entidades[entidad].cargos[0].clave,
                "votos": dict(Counter(votos)),
                "total": len(votos),
                "sobres_recibidos": len(votos),
                "sobres_vacios": 0,
                "sobres_con_varias_boletas": 0,
                "incidentes": [],
            }
            for quien in ("a", "b"):  # two captures by two people
                await self.pedir(
                    "POST",
                    self.url("computo", f"/v1/mesas/{entidad}/{numero}/actas"),
                    json=acta,
                    headers=self.operador(quien),
                    esperado=(200, 201, 409),
                )

        await self.en_paralelo("actas de mesa (2 capturas)", "mesas", trabajo, mesa, n=4)

    async def computo(self) -> dict[str, dict[str, Any]]:
        cal = self.proceso.calendario
        await self.reloj(max(cal.jornada, cal.voto_electronico_fin) + dt.timedelta(hours=2))
        actas: dict[str, dict[str, Any]] = {}

        async def cerrar(entidad: str) -> None:
            url = self.url("computo", f"/v1/computos/{entidad}/cierre")

            async def intento() -> bool:
                r = await self.cliente.post(url, headers=self.admin)
                if r.status_code in (200, 201) or "ya se publicó" in r.text:
                    return True
                if r.status_code == 409:  # something still in flight (an event): try again
                    return False
                raise SimulacionFallida(f"cierre del cómputo de {entidad}: {r.status_code} {r.text[:400]}")

            await self.esperar(f"cierre del cómputo de {entidad}", intento)
            r = await self.pedir("GET", self.url("computo", f"/v1/computos/{entidad}"), headers=self.admin)
            actas[entidad] = r.json()

        await self.en_paralelo("cómputo de entidad", "actas", sorted(self.escenario.entidades), cerrar, n=2)
        return actas

    # --- all of it ------------------------------------------------------------------------------------------

    async def correr(self) -> dict[str, dict[str, Any]]:
        try:
            self.generar_personas()
            await self.registro()
            # Independent work of different services runs at the same time, as it would in a real process:
            # packages go out while the custodians hold the key ceremony and the voters' accounts are
            # created; envelopes arrive while people vote.
            await asyncio.gather(self.envios(), self._ceremonia_y_apertura())
            await self.reloj(self.proceso.calendario.recepcion_spv_limite - dt.timedelta(days=3))
            await asyncio.gather(self.sobres("en_tiempo"), self.votos_por_internet())
            await self.sobres("extemporaneo")
            await self.actas_postales()
            await self.escrutinio_electronico()
            return await self.computo()
        finally:
            await self.cliente.aclose()


# --- the report ---------------------------------------------------------------------------------------------


def diferencias(escenario: Escenario, proceso: Proceso, actas: dict[str, dict[str, Any]]) -> list[str]:
    """Every figure of computo's actas that differs from the scenario's."""
    errores = []
    for entidad in sorted(escenario.entidades):
        esperado, acta = escenario.esperado(entidad), actas.get(entidad)
        if acta is None:
            errores.append(f"{entidad}: sin acta de cómputo")
            continue
        for campo in ("lnere", "votos", "participacion"):
            if acta.get(campo) != esperado[campo]:
                errores.append(f"{entidad} {campo}: acta {acta.get(campo)} ≠ escenario {esperado[campo]}")
        for modalidad in MODALIDADES:
            validas = opciones(proceso.entidades[entidad])
            real = acta.get("por_modalidad", {}).get(modalidad, {})
            quiere = esperado["por_modalidad"][modalidad]
            for opcion in validas:
                if real.get(opcion, 0) != quiere.get(opcion, 0):
                    errores.append(
                        f"{entidad} {modalidad} {opcion}: acta {real.get(opcion, 0)} "
                        f"≠ escenario {quiere.get(opcion, 0)}"
                    )
    return errores


def informe(escenario: Escenario, proceso: Proceso, actas: dict[str, dict[str, Any]]) -> str:
    lineas = [
        f"{'entidad':<22}{'modalidad':<12}{'LNERE':>8}{'votos':>8}{'particip.':>11}  "
        "votos por partido tras coaliciones (acta)"
    ]
    total_lnere = total_votos = 0
    for entidad in sorted(escenario.entidades):
        acta = actas.get(entidad, {})
        nombre = f"{entidad} {proceso.entidades[entidad].nombre}"[:21]
        for modalidad in (*MODALIDADES, "total"):
            lnere = acta.get("lnere", {}).get(modalidad, 0)
            votos = acta.get("votos", {}).get(modalidad, 0)
            if modalidad == "total":
                resultados = acta.get("distribucion", {})
                primeros = sorted(resultados.items(), key=lambda kv: -kv[1])[:4]
                texto = " · ".join(f"{k} {v:,}" for k, v in primeros)
                total_lnere += lnere
                total_votos += votos
            else:
                texto = ""
            lineas.append(
                f"{nombre if modalidad == 'postal' else '':<22}{modalidad:<12}{lnere:>8,}{votos:>8,}"
                f"{porcentaje(votos, lnere) + ' %':>11}  {texto}"
            )
    lineas.append(
        f"{'TOTAL':<34}{total_lnere:>8,}{total_votos:>8,}{porcentaje(total_votos, total_lnere) + ' %':>11}"
    )
    return "\n".join(lineas)
