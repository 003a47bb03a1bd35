"""The phases of the process, each on the process calendar run on the simulated clock: applications and their
review, the close of the LNERE, postal packages out by courier and tracked, internet voters' key ceremony and
election opening, postal envelopes back (some late, some unknown), internet voters logging in (TOTP) and
casting ballots encrypted on "their device" with their credential, the close of the ballot boxes, the
custodians' partial decryptions, the MEC actas (captured twice), and the cómputo of each entidad."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pyotp

from shared.auth import Rol
from shared.cripto import sede as sello
from shared.proceso import Proceso
from simulacion.cliente import Cliente, SimulacionFallida
from simulacion.escenario import Escenario
from simulacion.escenario import actas as claves_de_actas
from simulacion.personas import PASSWORD, Buzon, Persona, cargar_elecciones, cifrar, clave_elector, solicitud
from simulacion.progreso import Barra

CUSTODIOS = 5
UMBRAL = 3
# What `vmre custodio ceremonia` prints: the certificates' fingerprint, and the whole setup's at the end.
HUELLA_CERTIFICADOS = re.compile(r"huella de los certificados: ([0-9A-Za-z+/=-]+)")
CLAVE_ELECCION = re.compile(r"HUELLA DE LA CEREMONIA: (\S+)")


class Fases:
    """Each phase of the process, driven through the client; the people, their mailboxes and the opened
    elections are the state the phases share. ``simulacro.Simulacro`` runs them in order."""

    def __init__(
        self,
        escenario: Escenario,
        proceso: Proceso,
        cliente: Cliente,
        rng: random.Random,
        *,
        procesos: int = 2,
    ) -> None:
        self.escenario, self.proceso, self.cliente, self.rng = escenario, proceso, cliente, rng
        self.procesos = procesos
        self.personas: list[Persona] = []
        self.adicionales: list[Persona] = []  # not on the LNERE: an extra ballot at a site (2024)
        # (entidad, office) -> the opened election's detail, for each entidad with internet voters
        self.elecciones: dict[tuple[str, str], dict[str, Any]] = {}
        self.buzon = Buzon(cliente.plataforma, self.personas)

    # --- registro ------------------------------------------------------------------------------------------

    async def registro(self) -> None:
        cal = self.proceso.calendario
        await self.cliente.reloj(cal.registro_inicio + dt.timedelta(days=1))
        solicitudes = {p.n: solicitud(p, self.rng) for p in self.personas}

        async def solicitar(p: Persona) -> None:
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("registro", "/v1/solicitudes"),
                json=solicitudes[p.n],
                esperado=(201, 409),
            )
            if r.status_code == 201:
                p.folio = r.json()["folio"]
                return

            # 409: a retry whose first answer was lost. The folio is the applicant's secret: it comes only by
            # mail (the receipt of the first attempt, or the re-send the 409 announces), as to a person.
            async def del_correo() -> str | None:
                self.buzon.leer()
                return self.buzon.folios.get(p.email)

            p.folio = await self.cliente.esperar(
                f"el folio de {p.email} en su correo", del_correo, timeout=120
            )

        await self.cliente.en_paralelo("solicitudes", "solicitudes", self.personas, solicitar)
        await self.cliente.reloj(cal.registro_inicio + dt.timedelta(days=20))

        # The review team works through the queue in batches (a retried batch answers `sin_cambio`).
        lotes = [self.personas[i : i + 500] for i in range(0, len(self.personas), 500)]

        async def dictaminar(lote: list[Persona]) -> None:
            await self.cliente.pedir(
                "POST",
                self.cliente.url("registro", "/v1/solicitudes/dictamenes"),
                json={
                    "dictamenes": [{"folio": p.folio, "resultado": "procedente", "motivos": []} for p in lote]
                },
                headers=self.cliente.operador(),
            )

        await self.cliente.en_paralelo("dictámenes (lotes de 500)", "lotes", lotes, dictaminar, n=2)

        await self.cliente.reloj(cal.cierre_lnere)
        for entidad in sorted(self.escenario.entidades):
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("registro", f"/v1/lnere/{entidad}/cierre"),
                headers=self.cliente.admin,
            )
            cierre = r.json()
            esperado = self.escenario.esperado(entidad)["lnere"]
            presencial = self.escenario.entidades[entidad].lnere.presencial
            if (cierre["postal"], cierre["electronica"], cierre.get("presencial", 0), cierre["total"]) != (
                esperado["postal"],
                esperado["electronica"],
                presencial,
                esperado["total"],
            ):
                raise SimulacionFallida(f"cierre de la LNERE {entidad}: {cierre} ≠ {esperado}")

        por_folio = {p.folio: p for p in self.personas}
        for entidad in sorted(self.escenario.entidades):
            despues = 0
            while True:
                r = await self.cliente.pedir(
                    "GET",
                    self.cliente.url("registro", f"/v1/lnere/{entidad}"),
                    params={"limite": 1000, "despues": despues},
                    headers=self.cliente.operador(),
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
            r = await self.cliente.pedir("GET", self.cliente.url("postal", "/v1/estadisticas"))
            por_entidad = r.json()["por_entidad"]
            return all(por_entidad.get(e, {}).get("paquetes", 0) == n for e, n in esperados.items())

        await self.cliente.esperar("paquetes integrados en postal", integrados)
        salida = cal.envio_pep_inicio + dt.timedelta(days=1)
        await self.cliente.reloj(salida)
        lotes = [postales[i : i + 2000] for i in range(0, len(postales), 2000)]

        async def enviar(lote: list[Persona]) -> None:
            await self.cliente.pedir(
                "POST",
                self.cliente.url("postal", "/v1/envios"),
                json={
                    "transportista": "mensajeria",
                    "paquetes": [
                        {"entidad": p.entidad, "numero": p.numero, "guia": self._guia(p)} for p in lote
                    ],
                },
                headers=self.cliente.operador(),
                esperado=(200, 201, 409),  # 409: a retried batch that was already committed
            )

        await self.cliente.en_paralelo("envíos (PEP, lotes de 2,000)", "lotes", lotes, enviar, n=2)

        from services.postal.config import Settings as PostalSettings
        from shared import webhooks

        secreto = PostalSettings().transportistas["mensajeria"].get_secret_value()
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
            # Signed as it is sent (shared.webhooks: the timestamp is inside the MAC; 5 minutes' tolerance).
            firma = webhooks.firmar(secreto, cuerpo, int(time.time()))
            await self.cliente.pedir(
                "POST",
                self.cliente.url("postal", "/v1/transportistas/mensajeria/eventos"),
                content=cuerpo,
                headers={"content-type": "application/json", webhooks.CABECERA_FIRMA: firma},
            )

        await self.cliente.reloj(salida + dt.timedelta(days=7))
        await self.cliente.en_paralelo(
            "seguimiento (transportista)", "lotes", lotes_eventos, transportista, n=2
        )

    def _guia(self, p: Persona) -> str:
        return f"SIM{p.entidad}{p.numero:07d}"

    # --- the ballots' candidacies --------------------------------------------------------------------------

    async def candidaturas(self) -> None:
        """Where the process requires them: each OPL loads its entidad's local ballots (ine-admin the national
        offices'), each coalition one candidacy and every other party its own; ine-admin approves each by the
        fingerprint it got back."""
        if self.proceso.calendario.candidaturas_limite is None:
            return
        boletas: dict[tuple[str, str], dict[str, str]] = {}
        for entidad in sorted(self.escenario.entidades):
            for c in self.proceso.entidades[entidad].cargos:
                ambito = "nacional" if c.nacional else entidad
                opl = self.cliente.token(Rol.OPL, f"simulacro-opl-{entidad}", entidad=entidad)
                boletas[(ambito, c.clave)] = self.cliente.admin if c.nacional else opl

        async def cargar_y_aprobar(boleta: tuple[str, str]) -> None:
            ambito, cargo = boleta
            ent = self.proceso.entidades[
                next(iter(self.escenario.entidades)) if ambito == "nacional" else ambito
            ]
            en_coalicion = {p for co in ent.coaliciones for p in co.partidos}
            lista = [
                {"nombre": f"Candidatura de {co.nombre}", "partidos": co.partidos} for co in ent.coaliciones
            ]
            lista += [
                {"nombre": f"Candidatura de {self.proceso.partidos[p]}", "partidos": [p]}
                for p in ent.partidos
                if p not in en_coalicion
            ]
            r = await self.cliente.pedir(
                "PUT",
                self.cliente.url("electronico", f"/v1/candidaturas/{ambito}/{cargo}"),
                json={"candidaturas": lista},
                headers=boletas[boleta],
                esperado=(200, 409),  # 409: a retried load met the ballot already approved
            )
            if r.status_code == 409 and "ya están aprobadas" not in r.text:
                raise SimulacionFallida(f"candidaturas de {ambito}/{cargo}: {r.text[:300]}")
            huella = r.json()["huella"] if r.status_code == 200 else None
            if huella is None:
                return
            await self.cliente.pedir(
                "POST",
                self.cliente.url("electronico", f"/v1/candidaturas/{ambito}/{cargo}/aprobacion"),
                json={"huella": huella},
                headers=self.cliente.admin,
            )

        await self.cliente.en_paralelo(
            "candidaturas (carga y aprobación)", "boletas", list(boletas), cargar_y_aprobar
        )

    # --- electronico: keys, opening, credentials ------------------------------------------------------------

    def _con_voto_electronico(self) -> list[str]:
        """The entidades with an electronic urn: internet voters, or in-person ones (the sites' kiosks)."""
        return [
            e
            for e, x in sorted(self.escenario.entidades.items())
            if x.lnere.electronica + x.lnere.presencial > 0
        ]

    async def _elecciones_por_cargo(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Each entidad's elections, one per office, as electronico creates them when it starts (before the
        list closes)."""
        claves = [
            (e, c.clave) for e in self._con_voto_electronico() for c in self.proceso.entidades[e].cargos
        ]

        async def todas() -> dict[tuple[str, str], dict[str, Any]] | None:
            r = await self.cliente.pedir(
                "GET", self.cliente.url("electronico", "/v1/elecciones"), params={"simulacro": False}
            )
            por_cargo = {(e["entidad"], e["cargo"]): e for e in r.json()}
            return {k: por_cargo[k] for k in claves} if all(k in por_cargo for k in claves) else None

        return await self.cliente.esperar("elecciones creadas en electronico", todas)

    async def _custodio(self, i: int, args: list[str]) -> tuple[int, int, str]:
        """`vmre custodio …` as custodian i, in a process of its own (its token in VMRE_TOKEN, never in the
        process list). Returns (i, exit code, what it said on stderr)."""
        token = self.cliente.token(Rol.CUSTODIO, f"custodio-{i}")["Authorization"].removeprefix("Bearer ")
        proceso = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vmre.cli",
            "custodio",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Each custodian's own passphrase seals the seed in its state file.
            env={
                **os.environ,
                "VMRE_TOKEN": token,
                "VMRE_CUSTODIO_FRASE": f"frase del custodio {i} del simulacro",
            },
        )
        try:
            salida, errores = await proceso.communicate()
        except BaseException:
            if proceso.returncode is None:
                proceso.kill()
                await proceso.wait()
            raise
        return (
            i,
            int(proceso.returncode or 0),
            errores.decode(errors="replace") + salida.decode(errors="replace"),
        )

    async def ceremonia(self) -> None:
        """The custodians generate each election's key (the elections exist from electronico's start)."""
        if not self._con_voto_electronico():
            return
        por_cargo = await self._elecciones_por_cargo()
        custodios_dir = self.cliente.plataforma.datos / "custodios"
        custodios_dir.mkdir(parents=True, exist_ok=True)

        async def ceremonia_de(clave: tuple[str, str]) -> None:
            """Each custodian runs `vmre custodio ceremonia` as a process of its own (its own machine). Run
            once, each stops before sending its encrypted shares and prints the certificates' fingerprint;
            they compare the five (read aloud at the ceremony) and run it again with the one agreed on."""
            uuid = por_cargo[clave]["uuid"]
            entidad = "/".join(clave)

            async def custodio(i: int, huella: str | None) -> tuple[int, int, str]:
                args = [
                    "ceremonia",
                    "--servidor",
                    self.cliente.plataforma.urls["electronico"],
                    "--eleccion",
                    uuid,
                ]
                args += ["--indice", str(i), "--estado", str(custodios_dir / f"{uuid}-{i}.json")]
                args += ["--espera", "0.2", *(["--huella-certificados", huella] if huella else [])]
                return await self._custodio(i, args)

            for intento in range(1, 6):  # as a custodian would: run the command again; it resumes
                primera = await asyncio.gather(*(custodio(i, None) for i in range(1, CUSTODIOS + 1)))
                huellas = {m.group(1) for _, _, err in primera if (m := HUELLA_CERTIFICADOS.search(err))}
                if len(huellas) == 1:
                    break
                if intento == 5:
                    detalle = "; ".join(f"custodio {i}: {err.strip()[-300:]}" for i, _, err in primera)
                    raise SimulacionFallida(f"ceremonia de {entidad}: sin una huella común ({detalle})")
                await asyncio.sleep(intento)
            (huella,) = huellas
            for intento in range(1, 6):
                segunda = await asyncio.gather(*(custodio(i, huella) for i in range(1, CUSTODIOS + 1)))
                if all(rc == 0 for _, rc, _ in segunda):
                    break
                if intento == 5:
                    detalle = "; ".join(f"custodio {i}: {err.strip()[-300:]}" for i, rc, err in segunda if rc)
                    raise SimulacionFallida(f"ceremonia de {entidad}: {detalle}")
                await asyncio.sleep(intento)
            claves = {m.group(1) for _, _, err in segunda if (m := CLAVE_ELECCION.search(err))}
            if len(claves) != 1:
                raise SimulacionFallida(f"los custodios de {entidad} no llegaron a la misma clave")

        await self.cliente.en_paralelo(
            "ceremonia de llaves", "elecciones", list(por_cargo), ceremonia_de, n=4
        )

    async def ceremonia_y_apertura(self) -> None:
        await self.ceremonia()
        await self.apertura()

    async def apertura(self) -> None:
        if not self._con_voto_electronico():
            return
        por_cargo = await self._elecciones_por_cargo()
        # Accounts and credentials come with the LNERE close (an event): wait until every voter has them,
        # one credential per office of their entidad.
        electronicos = {p.email: p for p in self.personas if p.modalidad == "electronica"}
        cargos = {e: len(ent.cargos) for e, ent in self.proceso.entidades.items()}

        que = "cuentas y credenciales de todos los votantes por internet"

        async def correos() -> bool:
            self.buzon.leer()
            sin_cuenta = Counter(p.entidad for p in electronicos.values() if not p.usuario)
            sin_credenciales = Counter(
                p.entidad for p in electronicos.values() if len(p.credenciales) != cargos[p.entidad]
            )
            self.cliente.falta(
                que,
                f"sin cuenta {dict(sorted(sin_cuenta.items()))}, "
                f"sin todas sus credenciales {dict(sorted(sin_credenciales.items()))} (por entidad)",
            )
            return not sin_cuenta and not sin_credenciales

        # Every one goes over SMTP, behind registro's and postal's own messages to the same local mailbox.
        await self.cliente.esperar(que, correos, timeout=900)
        for clave, eleccion in por_cargo.items():
            uuid, entidad = eleccion["uuid"], "/".join(clave)
            ultima: list[str] = []

            async def abierta(uuid: str = uuid, ultima: list[str] = ultima) -> bool:
                """409 until electronico has the list the credential authority signed (its own event)."""
                r = await self.cliente.pedir(
                    "POST",
                    self.cliente.url("electronico", f"/v1/elecciones/{uuid}/apertura"),
                    headers=self.cliente.admin,
                    esperado=(200, 409),
                )
                ultima[:] = [r.text[:500]]
                return r.status_code == 200 or "ya fue abierta" in r.text

            try:
                await self.cliente.esperar(
                    f"la lista de credenciales firmada de {entidad}", abierta, timeout=300
                )
            except SimulacionFallida as exc:  # what electronico last answered says which side is missing
                raise SimulacionFallida(f"{exc}\núltima respuesta de la apertura: {ultima}") from None
            detalle = (
                await self.cliente.pedir("GET", self.cliente.url("electronico", f"/v1/elecciones/{uuid}"))
            ).json()
            if detalle["estado"] != "abierta" and not detalle.get("eleccion_json"):
                raise SimulacionFallida(f"la elección de {entidad} no quedó abierta: {detalle['estado']}")
            self.elecciones[clave] = detalle

    # --- the votes ------------------------------------------------------------------------------------------

    async def sobres(self, clasificacion: str) -> None:
        cal = self.proceso.calendario
        if clasificacion == "en_tiempo":  # the clock is already before the limit, inside the voting window
            lista = [p.clave_elector for p in self.personas if p.sobre == "en_tiempo"]
            fase = "sobres en tiempo"
        else:
            await self.cliente.reloj(cal.recepcion_spv_limite + dt.timedelta(hours=1))
            lista = [p.clave_elector for p in self.personas if p.sobre == "extemporaneo"]
            desconocidos = sum(e.sobres_desconocidos for e in self.escenario.entidades.values())
            # A barcode nobody on the list has: a valid format, an entidad code no one uses (00).
            lista += [clave_elector(10_000_000 + i, "00") for i in range(desconocidos)]
            fase = "sobres tardíos y desconocidos"
        esperado_por_clave = {p.clave_elector: p.sobre for p in self.personas if p.sobre}

        async def recibir(clave: str) -> None:
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("postal", "/v1/sobres"),
                json={"clave_elector": clave},
                headers=self.cliente.operador(),
            )
            clase = r.json()["clasificacion"]
            esperado = esperado_por_clave.get(clave, "desconocido")
            if clase != esperado and not (clase == "duplicado"):  # a retried scan answers "duplicado"
                raise SimulacionFallida(
                    f"sobre {clave[:6]}…: postal lo clasificó {clase}, se esperaba {esperado}"
                )

        await self.cliente.en_paralelo(fase, "sobres", lista, recibir)

    def _dispositivos(self) -> ProcessPoolExecutor:
        """The voters' devices (a process pool): each encrypts on its own core, the elections read once."""
        textos = {d["uuid"]: d["eleccion_json"] for d in self.elecciones.values()}
        return ProcessPoolExecutor(self.procesos, initializer=cargar_elecciones, initargs=(textos,))

    async def _emitir(
        self, dispositivos: ProcessPoolExecutor, p: Persona, sesion: str, credencial: Any
    ) -> None:
        """One ballot per office, each encrypted on the device with ``credencial(election detail)``."""
        loop = asyncio.get_running_loop()
        for cargo, opcion in p.votos.items():
            detalle = self.elecciones[(p.entidad, cargo)]
            vector = [int(o["clave"] == opcion) for o in detalle["opciones"]]
            texto = await loop.run_in_executor(
                dispositivos, cifrar, detalle["uuid"], credencial(detalle), vector
            )
            await self.cliente.pedir(
                "POST",
                self.cliente.url("electronico", f"/v1/elecciones/{detalle['uuid']}/boletas"),
                content=texto.encode(),
                headers={
                    "Authorization": f"Bearer {sesion}",
                    "content-type": "application/json",
                    "Idempotency-Key": f"sim-{p.n}-{cargo}",
                },
            )

    async def votos_por_internet(self) -> None:
        votantes = [p for p in self.personas if p.modalidad == "electronica" and p.votos]
        if not votantes:
            return
        with self._dispositivos() as dispositivos:

            async def votar(p: Persona) -> None:
                """One session, then one ballot per office, each with its own credential."""
                assert p.usuario
                assert p.clave_acceso
                r = await self.cliente.pedir(
                    "POST",
                    self.cliente.url("electronico", "/v1/acceso/primer"),
                    json={
                        "usuario": p.usuario,
                        "clave_acceso": p.clave_acceso,
                        "password": PASSWORD,
                        "segundo_factor": "totp",
                        "qr": False,  # the simulated voter types the key into the app
                    },
                )
                sesion = await self._ingresar(p, pyotp.parse_uri(r.json()["totp_uri"]))
                await self._emitir(dispositivos, p, sesion, lambda d: p.credenciales[d["nombre"]])

            await self.cliente.en_paralelo(
                "votos por internet", "votos", votantes, votar, n=max(8, self.procesos * 6)
            )

    async def votos_en_sede(self) -> None:
        """Election day at the consular sites, while every site is open (the clock at the jornada: the sites'
        hours overlap then). At the door the site's staff look the voter ID up (registro gives the number on
        the list), open a turn (electronico); the site's kiosk redeems its code, opens the sealed credentials
        with the site's key (local mode: the development key) and casts one ballot per office, then closes
        the session. Who is not on the list gets an extra ballot at the door (registro gives its folio) and
        votes the national offices the same way, with one of the site's reserve credentials."""
        votantes = [p for p in self.personas if p.modalidad == "presencial" and p.votos]
        votantes += [p for p in self.adicionales if p.votos]
        if not votantes:
            return
        await self.cliente.reloj(self.proceso.calendario.jornada)
        pedir, url = self.cliente.pedir, self.cliente.url
        with self._dispositivos() as dispositivos:

            async def votar(p: Persona) -> None:
                assert p.sede
                personal = self.cliente.token(Rol.INE_OPERADOR, f"simulacro-sede-{p.sede}", sede=p.sede)
                r = await pedir(
                    "POST",
                    url("registro", f"/v1/sedes/{p.sede}/consultas"),
                    json={"clave_elector": p.clave_elector},
                    headers=personal,
                )
                consulta = r.json()
                if p.modalidad == "adicional":
                    turno = {
                        "entidad": p.entidad,
                        "adicional": await self._boleta_adicional(p, personal, consulta),
                    }
                elif consulta["situacion"] != "en_lista" or consulta["numero"] != p.numero:
                    raise SimulacionFallida(f"la entrada de {p.sede} no encuentra a {p.folio}: {consulta}")
                else:
                    turno = {"entidad": p.entidad, "numero": consulta["numero"]}
                for _ in range(3):  # a code works once: if the kiosk's answer is lost, a new turn
                    r = await self._turno(p.sede, turno, personal)
                    if r.status_code == 409:  # its ballots arrived already (a retried run)
                        return
                    r = await pedir(
                        "POST",
                        url("electronico", "/v1/modulo/turno"),
                        json={"codigo": r.json()["codigo"]},
                        esperado=(200, 401),
                    )
                    if r.status_code == 200:
                        break
                else:
                    raise SimulacionFallida(f"el módulo de {p.sede} no canjea el turno de {p.folio}")
                canje = r.json()
                numero = canje["numero"]
                jwk = sello.jwk_de_desarrollo(p.sede)

                def credencial(detalle: dict[str, Any]) -> str:
                    uuid = detalle["uuid"]
                    contexto = sello.contexto(p.sede or "", uuid, numero)
                    return sello.abrir(jwk, canje["credenciales"][uuid], contexto)

                await self._emitir(dispositivos, p, canje["sesion"], credencial)
                await pedir(
                    "DELETE",
                    url("electronico", "/v1/acceso"),
                    headers={"Authorization": f"Bearer {canje['sesion']}"},
                    esperado=(204,),
                )

            await self.cliente.en_paralelo(
                "votos en las sedes", "votos", votantes, votar, n=max(8, self.procesos * 6)
            )

    async def _boleta_adicional(self, p: Persona, personal: dict[str, str], consulta: dict[str, Any]) -> int:
        """At the door, someone not on the LNERE: the site's staff hand an extra ballot of the entidad of
        their voter ID; its folio opens the kiosk turn. A retried run finds it handed already."""
        if consulta["situacion"] == "no_esta_en_la_lnere":
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("registro", f"/v1/sedes/{p.sede}/boletas-adicionales"),
                json={"clave_elector": p.clave_elector, "entidad": p.entidad},
                headers=personal,
                esperado=(201, 409),
            )
            if r.status_code == 201:
                return int(r.json()["folio"])
            r = await self.cliente.pedir(  # 409: the answer to a first try was lost, the ballot was handed
                "POST",
                self.cliente.url("registro", f"/v1/sedes/{p.sede}/consultas"),
                json={"clave_elector": p.clave_elector},
                headers=personal,
            )
            consulta = r.json()
        if consulta["situacion"] != "boleta_adicional_entregada" or consulta.get("folio") is None:
            raise SimulacionFallida(f"la entrada de {p.sede}, a quien no está en la LNERE: {consulta}")
        return int(consulta["folio"])

    async def _turno(self, sede: str, turno: dict[str, Any], personal: dict[str, str]) -> Any:
        """Open a kiosk turn. An extra ballot's turn waits for electronico to hear of the ballot (an event
        away from registro: 404 until then)."""
        adicional = "adicional" in turno
        for _ in range(240):
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("electronico", f"/v1/modulo/{sede}/turnos"),
                json=turno,
                headers=personal,
                esperado=(201, 404, 409) if adicional else (201, 409),
            )
            if r.status_code != 404:
                return r
            await asyncio.sleep(0.25)
        raise SimulacionFallida(f"electronico no recibió la boleta adicional {turno} de {sede} en 60 s")

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
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("electronico", "/v1/acceso"),
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
        await self.cliente.reloj(cal.voto_electronico_fin + dt.timedelta(minutes=1))

        async def sellada(uuid: str) -> dict[str, Any] | None:
            r = await self.cliente.http.get(self.cliente.url("computo", f"/v1/escrutinio-electronico/{uuid}"))
            return r.json() if r.status_code == 200 else None

        custodios_dir = self.cliente.plataforma.datos / "custodios"
        elegidos = sorted(self.rng.sample(range(1, CUSTODIOS + 1), UMBRAL))

        async def descifrar_de(clave: tuple[str, str]) -> None:
            uuid, entidad = self.elecciones[clave]["uuid"], "/".join(clave)
            estado = await self.cliente.esperar(f"sello de la urna de {entidad}", lambda: sellada(uuid))
            votantes = sum(
                1
                for p in self.personas
                if p.entidad == clave[0]
                and p.modalidad in ("electronica", "presencial")  # one urn: internet and the kiosks
                and clave[1] in p.votos
            ) + sum(1 for p in self.adicionales if p.entidad == clave[0] and clave[1] in p.votos)
            if estado["boletas"] != votantes:
                raise SimulacionFallida(
                    f"urna de {entidad}: {estado['boletas']} boletas, se emitieron {votantes}"
                )
            for i in elegidos:
                # `vmre custodio descifrar`, a process of its own: it downloads and verifies the whole public
                # record (on every core) before decrypting anything.
                args = ["descifrar", "--servidor", self.cliente.plataforma.urls["computo"]]
                args += ["--electronico", self.cliente.plataforma.urls["electronico"], "--eleccion", uuid]
                args += ["--indice", str(i), "--estado", str(custodios_dir / f"{uuid}-{i}.json")]
                for intento in range(1, 6):
                    _, rc, err = await self._custodio(i, args)
                    if rc == 0:
                        break
                    if intento == 5:
                        raise SimulacionFallida(
                            f"descifrado de {entidad}, custodio {i}: {err.strip()[-500:]}"
                        )
                    await asyncio.sleep(intento)

            async def con_resultado() -> bool:
                e = await sellada(uuid)
                return bool(e and e.get("votos") is not None)

            await self.cliente.esperar(f"resultado electrónico de {entidad}", con_resultado)

        await self.cliente.en_paralelo(
            "sello y descifrado (3 de 5)", "elecciones", sorted(self.elecciones), descifrar_de, n=3
        )

    async def actas_postales(self) -> None:
        cal = self.proceso.calendario
        await self.cliente.reloj(cal.jornada)
        trabajo: list[tuple[str, int, list[Persona]]] = []
        for entidad in sorted(self.escenario.entidades):
            if not self.escenario.entidades[entidad].lnere.postal:
                continue
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("postal", f"/v1/mesas/{entidad}/asignacion"),
                headers=self.cliente.admin,
            )
            conteos: list[int] = r.json()["mesas"]
            sobres = [p for p in self.personas if p.entidad == entidad and p.sobre == "en_tiempo"]
            if sum(conteos) != len(sobres):
                raise SimulacionFallida(
                    f"mesas de {entidad}: {sum(conteos)} sobres asignados, {len(sobres)} en tiempo"
                )
            self.rng.shuffle(sobres)
            inicio = 0
            for numero, k in enumerate(conteos, start=1):
                trabajo.append((entidad, numero, sobres[inicio : inicio + k]))
                inicio += k

        async def mesas_listas() -> bool:
            r = await self.cliente.pedir(
                "GET", self.cliente.url("computo", "/v1/mesas"), headers=self.cliente.operador()
            )
            hay = {(m["entidad"], m["numero"]) for m in r.json() if m["tipo"] == "postal"}
            return all((e, n) in hay for e, n, _ in trabajo)

        await self.cliente.esperar("mesas de escrutinio en computo", mesas_listas)

        async def mesa(t: tuple[str, int, list[Persona]]) -> None:
            """Installed once; one acta per office (each envelope holds one ballot per office)."""
            entidad, numero, sobres = t
            await self.cliente.pedir(
                "POST",
                self.cliente.url("computo", f"/v1/mesas/{entidad}/{numero}/instalacion"),
                json={
                    "funcionarios": {
                        "presidente": "Presidencia de mesa",
                        "secretario": "Secretaría de mesa",
                        "escrutadores": ["Escrutador uno", "Escrutadora dos"],
                    }
                },
                headers=self.cliente.operador(),
                esperado=(200, 201, 409),
            )
            for cargo in self.proceso.entidades[entidad].cargos:
                votos = [p.votos[cargo.clave] for p in sobres]
                acta = {
                    "cargo": cargo.clave,
                    "votos": dict(Counter(votos)),
                    "total": len(votos),
                    "sobres_recibidos": len(votos),
                    "sobres_vacios": 0,
                    "sobres_con_varias_boletas": 0,
                    "incidentes": [],
                }
                for quien in ("a", "b"):  # two captures by two people
                    await self.cliente.pedir(
                        "POST",
                        self.cliente.url("computo", f"/v1/mesas/{entidad}/{numero}/actas"),
                        json=acta,
                        headers=self.cliente.operador(quien),
                        esperado=(200, 201, 409),
                    )

        await self.cliente.en_paralelo("actas de mesa (2 capturas)", "mesas", trabajo, mesa, n=4)

    async def computo(self) -> dict[str, dict[str, Any]]:
        cal = self.proceso.calendario
        await self.cliente.reloj(max(cal.jornada, cal.voto_electronico_fin) + dt.timedelta(hours=2))
        actas: dict[str, dict[str, Any]] = {}

        async def cerrar(a: tuple[str, str, str]) -> None:
            clave, entidad, cargo = a
            url = self.cliente.url("computo", f"/v1/computos/{entidad}/cierre?cargo={cargo}")

            async def intento() -> bool:
                r = await self.cliente.http.post(url, headers=self.cliente.admin)
                if r.status_code in (200, 201) or "ya se publicó" in r.text:
                    return True
                if r.status_code == 409:  # something still in flight (an event): try again
                    return False
                raise SimulacionFallida(f"cierre del cómputo de {clave}: {r.status_code} {r.text[:400]}")

            await self.cliente.esperar(f"cierre del cómputo de {clave}", intento)
            r = await self.cliente.pedir(
                "GET",
                self.cliente.url("computo", f"/v1/computos/{entidad}"),
                params={"cargo": cargo},
                headers=self.cliente.admin,
            )
            actas[clave] = r.json()

        await self.cliente.en_paralelo(
            "cómputo de entidad", "actas", claves_de_actas(self.escenario, self.proceso), cerrar, n=2
        )
        return actas

    # --- the reports a process ends with -------------------------------------------------------------------

    async def informe_final(self, actas: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The late envelopes destroyed in an act per entidad (LGIPE 345.2), then tablero's closing report,
        waited for until it holds every acta and every destruction: its votes, participation and results must
        be the actas' own figures."""
        tardios = Counter(p.entidad for p in self.personas if p.sobre == "extemporaneo")
        asistentes = [
            {"nombre": "Vocal del simulacro", "cargo": "Vocal Ejecutiva del INE"},
            {"nombre": "Representación del simulacro", "cargo": "Representante de partido"},
        ]

        async def destruir(entidad: str) -> None:
            relacion = await self.cliente.pedir(
                "GET", self.cliente.url("postal", f"/v1/extemporaneos/{entidad}"), headers=self.cliente.admin
            )
            if relacion.json()["total"] != tardios[entidad]:
                raise SimulacionFallida(
                    f"relación de extemporáneos de {entidad}: {relacion.json()['total']} ≠ {tardios[entidad]}"
                )
            r = await self.cliente.pedir(
                "POST",
                self.cliente.url("postal", f"/v1/extemporaneos/{entidad}/destrucciones"),
                json={"lugar": "Local Único del simulacro", "asistentes": asistentes},
                headers=self.cliente.admin,
                esperado=(201, 409),  # 409: a retried act found the envelopes already destroyed
            )
            if r.status_code == 409 and "nada-que-destruir" not in r.text:
                raise SimulacionFallida(f"acta de destrucción de {entidad}: {r.text[:300]}")

        await self.cliente.en_paralelo(
            "destrucción de extemporáneos", "actas", sorted(e for e, n in tardios.items() if n), destruir, n=2
        )

        def diferencias(informe: dict[str, Any]) -> list[str]:
            errores = []
            for clave, acta in actas.items():  # "09", or "09/presidencia" where the entidad votes several
                entidad = clave.split("/")[0]
                e = informe["entidades"].get(entidad, {})
                votos = e.get("votos", {})
                cifras = {k: votos.get(k) for k in acta["votos"]}  # in person only where someone voted so
                # The entidad's votes are its first office's acta (the national one, where the sites' extra
                # ballots count too); every office's acta is copied whole.
                primera = "/" not in clave or acta["cargo"] == self.proceso.entidades[entidad].cargos[0].clave
                if primera and (votos.get("fuente") != "acta" or cifras != acta["votos"]):
                    errores.append(f"{entidad} votos: informe {cifras} ≠ acta {acta['votos']}")
                if primera and votos.get("participacion") != acta["participacion"]:
                    errores.append(
                        f"{entidad} participación: {votos.get('participacion')} ≠ {acta['participacion']}"
                    )
                copia = next((c["acta"] for c in e.get("cargos", []) if c["cargo"] == acta["cargo"]), None)
                for campo in ("distribucion", "resultados", "lnere"):
                    if (copia or {}).get(campo) != acta[campo]:
                        errores.append(f"{clave} {campo}: el informe no copia el acta")
                destruidos = e.get("sobres", {}).get("extemporaneos_destruidos")
                if destruidos != tardios[entidad]:
                    errores.append(f"{entidad} extemporáneos destruidos: {destruidos} ≠ {tardios[entidad]}")
            return errores

        ultimo: list[str] = []

        async def listo() -> dict[str, Any] | None:
            r = await self.cliente.pedir(
                "GET", self.cliente.url("tablero", "/v1/informe-final.json"), headers=self.cliente.admin
            )
            ultimo[:] = diferencias(r.json())
            self.cliente.falta("el informe final con las cifras de las actas", "; ".join(ultimo[:5]))
            # Each entidad of the scenario with its acta (the process may list entidades the scenario leaves
            # out: those have no acta, and ``completo`` stays false).
            return r.json() if not ultimo else None

        barra = Barra("informe final", 1, "informe")
        try:
            informe: dict[str, Any] = await self.cliente.esperar(
                "el informe final con las cifras de las actas", listo, timeout=120
            )
        except SimulacionFallida as exc:
            raise SimulacionFallida(f"{exc}: {'; '.join(ultimo[:10])}") from exc
        barra.avanzar()
        barra.cerrar()
        return informe
