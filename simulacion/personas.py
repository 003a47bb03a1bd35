"""The drill's synthetic people: who they are (generated from the scenario's seed), what they send to
registro, their mailboxes, and the device each internet voter encrypts a ballot on."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from shared.cripto import boleta as bo
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.proceso import Proceso
from simulacion.escenario import MODALIDADES, Escenario, sedes_adicionales
from simulacion.plataforma import Plataforma

PASSWORD = "contraseña de simulacro, larga y propia"
FOLIO = re.compile(r"\bVMRE(?:-[0-9A-Z]{5}){4}\b")  # as registro makes them (services/registro/service/)


@dataclass
class Persona:
    n: int
    entidad: str
    modalidad: str
    clave_elector: str
    email: str
    folio: str | None = None
    numero: int | None = None
    votos: dict[str, str] = field(default_factory=dict)  # office -> the option chosen (empty: abstains)
    sobre: str | None = None  # postal: "en_tiempo" | "extemporaneo"
    usuario: str | None = None
    clave_acceso: str | None = None
    credenciales: dict[str, str] = field(default_factory=dict)  # election name -> voting credential
    sede: str | None = None  # presencial or adicional: the consular site where they vote
    adicional: int | None = None  # an extra ballot's folio at its site for its entidad (once handed)


def letras(n: int) -> str:
    """Six letters from ``n``: the name part of a clave de elector, unique per number."""
    out = ""
    for _ in range(6):
        n, r = divmod(n, 26)
        out = string.ascii_uppercase[r] + out
    return out


def _nacimiento(n: int) -> dt.date:
    return dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28)


def clave_elector(n: int, entidad: str) -> str:
    sexo = "HM"[n % 2]
    return f"{letras(n)}{_nacimiento(n):%y%m%d}{entidad}{sexo}{n % 1000:03d}"


def solicitud(p: Persona, rng: random.Random) -> dict[str, Any]:
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
        **({"sede": p.sede} if p.sede else {}),
    }


def generar(escenario: Escenario, proceso: Proceso, rng: random.Random) -> list[Persona]:
    """Everyone on the scenario's LNERE, their choices (one per office) and their envelopes, from the
    scenario's seed."""
    personas: list[Persona] = []
    n = 0
    sedes = sorted(proceso.sedes)
    for entidad, e in sorted(escenario.entidades.items()):
        for modalidad in MODALIDADES:
            for _ in range(getattr(e.lnere, modalidad)):
                n += 1
                personas.append(
                    Persona(
                        n,
                        entidad,
                        modalidad,
                        clave_elector(n, entidad),
                        f"s{escenario.semilla}-{n}@simulacro.example",
                        # In person: the consular sites in turn.
                        sede=sedes[n % len(sedes)] if modalidad == "presencial" else None,
                    )
                )
    for entidad, e in sorted(escenario.entidades.items()):
        for modalidad in MODALIDADES:
            grupo = [p for p in personas if p.entidad == entidad and p.modalidad == modalidad]
            rng.shuffle(grupo)
            votantes = grupo[: escenario.votantes(entidad, modalidad)]
            for cargo in proceso.entidades[entidad].cargos:
                votos = escenario.votos_de(entidad, cargo.clave)
                opciones = [op for op, k in sorted(getattr(votos, modalidad).items()) for _ in range(k)]
                rng.shuffle(opciones)
                for persona, opcion in zip(votantes, opciones, strict=True):
                    persona.votos[cargo.clave] = opcion
            for persona in votantes:
                persona.sobre = "en_tiempo" if modalidad == "postal" else None
            if modalidad == "postal":
                restantes = grupo[len(votantes) :]
                for persona in restantes[: e.sobres_extemporaneos]:
                    persona.sobre = "extemporaneo"
    rng.shuffle(personas)  # applications arrive mixed
    return personas


def generar_adicionales(
    escenario: Escenario, proceso: Proceso, rng: random.Random, desde: int
) -> list[Persona]:
    """The people not on the LNERE who vote at a site with an extra ballot (the national offices only),
    numbered after ``desde`` (their claves de elector are nobody else's)."""
    personas: list[Persona] = []
    n = desde
    nacionales = [c.clave for c in proceso.cargos_nacionales]
    for entidad, sedes in sorted(sedes_adicionales(escenario, proceso).items()):
        grupo = []
        for sede in sedes:
            n += 1
            grupo.append(
                Persona(
                    n, entidad, "adicional", clave_elector(n, entidad), f"a{n}@simulacro.example", sede=sede
                )
            )
        for cargo in nacionales:
            votos = escenario.votos_de(entidad, cargo).adicional
            opciones = [op for op, k in sorted(votos.items()) for _ in range(k)]
            rng.shuffle(opciones)
            for persona, opcion in zip(grupo, opciones, strict=True):
                persona.votos[cargo] = opcion
        personas.extend(grupo)
    rng.shuffle(personas)
    return personas


class Buzon:
    """What the people received by e-mail, read as it arrives."""

    def __init__(self, plataforma: Plataforma, personas: list[Persona]) -> None:
        self.plataforma, self.personas = plataforma, personas
        self._leido = 0  # bytes of the local mailbox's file already read
        self.folios: dict[str, str] = {}  # e-mail -> the folio its messages carry
        self._votantes_por_email: dict[str, Persona] | None = None

    def leer(self) -> None:
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
            f.seek(self._leido)
            nuevo = f.read()
        completo = nuevo[: nuevo.rfind(b"\n") + 1]
        self._leido += len(completo)
        for linea in completo.decode("utf-8").splitlines():
            m = json.loads(linea)
            if m["canal"] != "email":
                continue
            destino, texto = m["para"][0], m["texto"]
            folio = FOLIO.search(texto)
            if folio:
                self.folios.setdefault(destino, folio.group(0))
            persona = por_email.get(destino)
            if persona is None:
                continue
            # Two senders: electronico (user and access key) and the credential authority (the credential).
            usuario = re.search(r"Usuario: (\S+)", texto)
            clave = re.search(r"Clave de acceso: (\S+)", texto)
            if usuario and clave:
                persona.usuario, persona.clave_acceso = usuario.group(1), clave.group(1)
            credenciales = re.findall(r"^- (.+): (\S+)$", texto, flags=re.M)
            if credenciales and "autoridad de credenciales" in texto:
                persona.credenciales.update((n, c) for n, c in credenciales if "SIMULACRO" not in n)


# --- encryption on "the voter's device": a process pool, so the simulated devices use their own cores ----


_ELECCIONES: dict[str, EleccionBelenios] = {}  # in each device process: uuid -> election


def cargar_elecciones(textos: dict[str, str]) -> None:
    """The pool's initializer: each election read once per process (sending its JSON with every ballot
    cost the drill's main process a pickle and a pipe write of several KB per vote)."""
    _ELECCIONES.update({uuid: EleccionBelenios.leer(t.encode()) for uuid, t in textos.items()})


def cifrar(uuid: str, credencial: str, votos: list[int]) -> str:
    return bo.cifrar(_ELECCIONES[uuid], credencial, [votos])
