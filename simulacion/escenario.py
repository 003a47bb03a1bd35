"""The scenario of a whole-process drill: what to simulate and the figures it must end with.

A scenario (JSON) declares the process, the seed, and per entidad the LNERE by modality, the votes per option
by modality (option keys as in the computo contract: ``PAN``, ``PAN+PRI``, ``no_registrados``, ``nulos``),
the late return envelopes and the envelopes nobody on the list sent. People on the LNERE who do not vote are
the LNERE minus the votes (minus, for postal, the late envelopes: a late vote does not count).

An entidad that votes one office declares its votes in ``votos``; one that votes several (2024: Presidencia,
Senaduría, …) declares them per office in ``cargos`` (``{"presidencia": {"postal": {…}, …}, …}``): whoever
votes, votes every office, so each office adds up to the same voters per modality. The actas are keyed by
entidad (``"09"``) when it votes one office and by entidad and office (``"09/presidencia"``) otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.cifras import porcentaje
from shared.proceso import Proceso, opciones
from shared.proceso import cargar as cargar_proceso

MODALIDADES = ("postal", "electronica", "presencial")
# The acta's votes per option come from its two kinds of count: the postal MEC actas and the one electronic
# urn (internet ballots and, from 2024, those of the consular sites' kiosks: one tally).
URNAS = {"postal": ("postal",), "electronica": ("electronica", "presencial", "adicional")}


class EscenarioInvalido(Exception):
    """The scenario cannot be run; ``errores`` names each field and what to fix."""

    def __init__(self, errores: list[str]) -> None:
        super().__init__("\n".join(errores))
        self.errores = errores


class PorModalidad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    postal: int = Field(0, ge=0)
    electronica: int = Field(0, ge=0)
    presencial: int = Field(
        0, ge=0, description="Inscritas para votar en persona en una sede consular (2024)"
    )

    @property
    def total(self) -> int:
        return self.postal + self.electronica + self.presencial


class VotosPorModalidad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    postal: dict[str, int] = Field(default_factory=dict)
    electronica: dict[str, int] = Field(default_factory=dict)
    presencial: dict[str, int] = Field(
        default_factory=dict,
        description="En el módulo de su sede consular (2024), quienes se inscribieron así",
    )
    adicional: dict[str, int] = Field(
        default_factory=dict,
        description="Solo cargos nacionales (2024): en el módulo de una sede, con una boleta adicional, "
        "quienes no están en la LNERE (su sede: por turnos entre las que tienen credenciales_adicionales)",
    )


class EntidadEscenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lnere: PorModalidad = Field(description="Personas en la LNERE por modalidad")
    votos: VotosPorModalidad = Field(default_factory=VotosPorModalidad, description="Votos por opción")
    cargos: dict[str, VotosPorModalidad] = Field(
        default_factory=dict, description="Votos por opción de cada cargo, si la entidad vota varios"
    )
    sobres_extemporaneos: int = Field(0, ge=0, description="Sobres postales que llegan tarde (no cuentan)")
    sobres_desconocidos: int = Field(
        0, ge=0, description="Sobres con un código que no está en la LNERE (no cuentan)"
    )


class Escenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proceso: str = Field(description="Clave del proceso (shared/procesos/<clave>.toml)")
    semilla: int = Field(description="Semilla: quién vota, en qué orden, qué sobres llegan tarde")
    descripcion: str = ""
    entidades: dict[str, EntidadEscenario] = Field(min_length=1)

    def votos_de(self, entidad: str, cargo: str | None = None) -> VotosPorModalidad:
        """The votes for one office (``None``: the first declared; all add up to the same voters)."""
        e = self.entidades[entidad]
        if not e.cargos:
            return e.votos
        return e.cargos[cargo] if cargo is not None else next(iter(e.cargos.values()))

    def votantes(self, entidad: str, modalidad: str) -> int:
        return sum(getattr(self.votos_de(entidad), modalidad).values())

    def adicionales(self, entidad: str) -> int:
        """People of the entidad who vote at a site with an extra ballot (the national offices only)."""
        e = self.entidades[entidad]
        return max((sum(v.adicional.values()) for v in [e.votos, *e.cargos.values()]), default=0)

    def esperado(self, entidad: str, cargo: str | None = None) -> dict[str, Any]:
        """The figures computo's acta must carry for this entidad (and office)."""
        e = self.entidades[entidad]
        lnere = {
            "postal": e.lnere.postal,
            "electronica": e.lnere.electronica,
            **({"presencial": e.lnere.presencial} if e.lnere.presencial else {}),
            "total": e.lnere.total,
        }
        por_opcion = self.votos_de(entidad, cargo)
        votos = {m: self.votantes(entidad, m) for m in MODALIDADES}
        votos["presencial"] += sum(por_opcion.adicional.values())  # the kiosks: list and extra ballots
        votos["total"] = sum(votos.values())
        if not votos["presencial"]:
            del votos["presencial"]  # as the acta: in person only where someone voted so
        por_modalidad = {}
        for urna, modalidades in URNAS.items():
            suma: dict[str, int] = {}
            for m in modalidades:
                for opcion, n in getattr(por_opcion, m).items():
                    suma[opcion] = suma.get(opcion, 0) + n
            por_modalidad[urna] = suma
        return {
            "lnere": lnere,
            "votos": votos,
            "participacion": porcentaje(votos["total"], lnere["total"]),
            "por_modalidad": por_modalidad,
        }

    def totales(self) -> dict[str, Any]:
        lnere = sum(e.lnere.total for e in self.entidades.values())
        votos = sum(self.votantes(c, m) for c in self.entidades for m in MODALIDADES)
        votos += sum(self.adicionales(c) for c in self.entidades)
        return {"lnere": lnere, "votos": votos, "participacion": porcentaje(votos, lnere)}


def repartir(total: int, pesos: dict[str, int]) -> dict[str, int]:
    """``total`` split in proportion to ``pesos`` by largest remainders (ties: the key's order), exact."""
    suma = sum(pesos.values())
    if suma == 0 or total == 0:
        return dict.fromkeys(pesos, 0)
    base = {k: total * w // suma for k, w in pesos.items()}
    resto = total - sum(base.values())
    for k in sorted(pesos, key=lambda k: -((total * pesos[k]) % suma))[:resto]:
        base[k] += 1
    return base


def escalar(escenario: Escenario, factor: float) -> Escenario:
    """The same scenario at ``factor`` of its size (``--escala 0.1``: a quick run of the same shape): each
    entidad's LNERE, voters and envelopes scaled and rounded, each office's votes split over its options in
    proportion (largest remainders), so every office still adds up to the same voters."""
    if not 0 < factor <= 1:
        raise EscenarioInvalido([f"escala: debe estar en (0, 1] (es {factor})"])
    entidades = {}
    for clave, e in escenario.entidades.items():
        lnere, votos, cargos = {}, {}, {}
        for m in MODALIDADES:
            n = escenario.votantes(clave, m)
            tarde = round(e.sobres_extemporaneos * factor) if m == "postal" else 0
            votos[m] = round(n * factor)
            lnere[m] = max(round(getattr(e.lnere, m) * factor), votos[m] + tarde)
        adicionales = round(escenario.adicionales(clave) * factor)
        for cargo, v in (e.cargos or {"": e.votos}).items():
            cargos[cargo] = VotosPorModalidad(
                **{m: {k: n for k, n in repartir(votos[m], getattr(v, m)).items() if n} for m in MODALIDADES},
                adicional={k: n for k, n in repartir(adicionales, v.adicional).items() if n},
            )
        entidades[clave] = EntidadEscenario(
            lnere=PorModalidad(**lnere),
            votos=cargos.pop("", VotosPorModalidad()),
            cargos=cargos,
            sobres_extemporaneos=round(e.sobres_extemporaneos * factor),
            sobres_desconocidos=round(e.sobres_desconocidos * factor),
        )
    return escenario.model_copy(
        update={"entidades": entidades, "descripcion": f"{escenario.descripcion} (a escala {factor:g})"}
    )


def sedes_adicionales(escenario: Escenario, proceso: Proceso) -> dict[str, list[str]]:
    """Where each entidad's extra-ballot voters vote: the sites with reserve credentials, in turn (one turn
    across all entidades, so the sites fill evenly)."""
    sedes = sorted(s for s, x in proceso.sedes.items() if x.credenciales_adicionales)
    reparto: dict[str, list[str]] = {}
    i = 0
    for entidad in sorted(escenario.entidades):
        n = escenario.adicionales(entidad)
        reparto[entidad] = [sedes[(i + k) % len(sedes)] for k in range(n)] if sedes else []
        i += n
    return reparto


def _adicionales(escenario: Escenario, proceso: Proceso) -> list[str]:
    """What the sites cannot hold: an entidad's extra ballots past a site's reserve for it, a site's past its
    cap, or extra ballots in a process with no reserve."""
    errores = []
    reparto = sedes_adicionales(escenario, proceso)
    por_sede: dict[str, int] = {}
    for entidad, sedes in reparto.items():
        if escenario.adicionales(entidad) and not sedes:
            errores.append(f"entidades.{entidad}: votos «adicional» sin sedes con credenciales_adicionales")
        for sede in sorted(set(sedes)):
            n = sedes.count(sede)
            por_sede[sede] = por_sede.get(sede, 0) + n
            if n > proceso.sedes[sede].credenciales_adicionales:
                errores.append(
                    f"entidades.{entidad}: {n:,} boletas adicionales en {sede}, que tiene "
                    f"{proceso.sedes[sede].credenciales_adicionales:,} credenciales de reserva por entidad"
                )
    for sede, n in sorted(por_sede.items()):
        if n > proceso.sedes[sede].boletas_adicionales:
            errores.append(
                f"{sede}: {n:,} boletas adicionales; tiene {proceso.sedes[sede].boletas_adicionales:,}"
            )
    return errores


def actas(escenario: Escenario, proceso: Proceso) -> list[tuple[str, str, str]]:
    """Each acta de cómputo the drill ends with: (its key, entidad, office), in entidad and ballot order."""
    return [
        (entidad if len(ent.cargos) == 1 else f"{entidad}/{c.clave}", entidad, c.clave)
        for entidad in sorted(escenario.entidades)
        for ent in [proceso.entidades[entidad]]
        for c in ent.cargos
    ]


def _campo(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(raíz)"


def validar(datos: object, proceso: Proceso | None = None) -> tuple[Escenario, Proceso]:
    """A scenario checked against its process, or ``EscenarioInvalido`` with every problem found."""
    try:
        escenario = Escenario.model_validate(datos)
    except ValidationError as exc:
        raise EscenarioInvalido(
            [f"{_campo(tuple(e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
        ) from exc
    if proceso is None:
        try:
            proceso = cargar_proceso(escenario.proceso)
        except (FileNotFoundError, ValueError) as exc:
            raise EscenarioInvalido([f"proceso: no se pudo cargar {escenario.proceso!r}: {exc}"]) from exc
    errores: list[str] = []
    for clave, e in escenario.entidades.items():
        donde = f"entidades.{clave}"
        ent = proceso.entidades.get(clave)
        if ent is None:
            errores.append(
                f"{donde}: la entidad no participa en {proceso.clave} "
                f"(participan: {', '.join(sorted(proceso.entidades))})"
            )
            continue
        claves = [c.clave for c in ent.cargos]
        if e.cargos or len(claves) > 1:
            if set(e.cargos) != set(claves):
                errores.append(
                    f"{donde}.cargos: {ent.nombre} vota {', '.join(claves)}; el escenario declara "
                    f"{', '.join(e.cargos) or 'ninguno'} (declare los votos de cada cargo en «cargos»)"
                )
                continue
            if e.votos != VotosPorModalidad():
                errores.append(f"{donde}.votos: con «cargos», los votos van en cada cargo")
            por_cargo = {f"{donde}.cargos.{c}": e.cargos[c] for c in claves}
        else:
            por_cargo = {f"{donde}.votos": e.votos}
        validas = opciones(ent)
        for modalidad in MODALIDADES:
            lnere = getattr(e.lnere, modalidad)
            if lnere and modalidad not in proceso.modalidades:
                errores.append(f"{donde}.lnere.{modalidad}: el proceso no tiene la modalidad {modalidad}")
            votantes = {campo: sum(getattr(v, modalidad).values()) for campo, v in por_cargo.items()}
            if len(set(votantes.values())) > 1:
                detalle = ", ".join(f"{campo.rsplit('.', 1)[1]} {n:,}" for campo, n in votantes.items())
                errores.append(
                    f"{donde}.cargos: quien vota, vota todos los cargos; los votos {modalidad} deben sumar "
                    f"lo mismo en cada uno ({detalle})"
                )
            for campo, v in por_cargo.items():
                votos: dict[str, int] = getattr(v, modalidad)
                for opcion, n in votos.items():
                    if opcion not in validas:
                        errores.append(
                            f"{campo}.{modalidad}.{opcion}: no es una opción de la boleta de {ent.nombre} "
                            f"(opciones: {', '.join(validas)})"
                        )
                    if n < 0:
                        errores.append(f"{campo}.{modalidad}.{opcion}: debe ser ≥ 0 (es {n})")
            emitidos = max(votantes.values()) + (e.sobres_extemporaneos if modalidad == "postal" else 0)
            if emitidos > lnere:
                que = "votos postales más sobres extemporáneos" if modalidad == "postal" else "votos"
                errores.append(
                    f"{donde}.votos.{modalidad}: {emitidos:,} {que} para una LNERE {modalidad} de {lnere:,}"
                )
        nacionales = {c.clave for c in proceso.cargos_nacionales}
        adicionales = {}
        for campo, v in por_cargo.items():
            cargo = campo.rsplit(".", 1)[1] if ".cargos." in campo else claves[0]
            if v.adicional and cargo not in nacionales:
                errores.append(f"{campo}.adicional: con boleta adicional solo se votan los cargos nacionales")
            elif cargo in nacionales:
                adicionales[campo] = sum(v.adicional.values())
            for opcion, n in v.adicional.items():
                if n < 0:
                    errores.append(f"{campo}.adicional.{opcion}: debe ser ≥ 0 (es {n})")
                if opcion not in validas:
                    errores.append(
                        f"{campo}.adicional.{opcion}: no es una opción de la boleta de {ent.nombre}"
                    )
        if len(set(adicionales.values())) > 1:
            errores.append(
                f"{donde}.cargos: los votos «adicional» deben sumar lo mismo en cada cargo nacional"
            )
    if not errores:
        errores += _adicionales(escenario, proceso)
    if errores:
        raise EscenarioInvalido(errores)
    return escenario, proceso


def leer(ruta: Path) -> tuple[Escenario, Proceso]:
    try:
        texto = ruta.read_text(encoding="utf-8")
    except OSError as exc:
        raise EscenarioInvalido([f"{ruta}: no se pudo leer ({exc.strerror})"]) from exc
    try:
        datos = json.loads(texto)
    except json.JSONDecodeError as exc:
        raise EscenarioInvalido([f"{ruta}: JSON inválido en la línea {exc.lineno}: {exc.msg}"]) from exc
    return validar(datos)
