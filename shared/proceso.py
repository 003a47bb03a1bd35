"""The electoral process as configuration: calendar, entidades, offices, modalities, parties, coalitions.

One declarative TOML file per process under ``shared/procesos/`` (``VMRE_PROCESO``, default ``demo``), read by
every service. Calendar values are local times in the process time zone (converted to UTC with the rules in
force on each date — Mexico dropped daylight saving in 2022) or, for drills and demos, ISO 8601 durations
relative to an anchor instant (``+P30D``, ``-P1D``). Every instant is UTC inside the platform.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from itertools import combinations
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from shared.claves import ENTIDAD_RE, SEDE_RE

PROCESOS_DIR = Path(__file__).resolve().parent / "procesos"
_DURATION = TypeAdapter(dt.timedelta)

Modalidad = Literal["postal", "electronica", "presencial"]


class Cargo(BaseModel):
    clave: str
    nombre: str
    nacional: bool = Field(
        False,
        description="Cargo nacional (Presidencia): lo votan todas las entidades, una urna y un acta por "
        "entidad, y su resultado nacional es la suma",
    )


class Sede(BaseModel):
    """A consular site where the registered for ``presencial`` vote on election day (2024: 23 sites), with its
    opening hours in its own local time."""

    nombre: str = Field(min_length=1)
    ciudad: str = Field(min_length=1)
    pais: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alfa-2")
    zona_horaria: str
    apertura: dt.time = Field(description="Hora local de apertura el día de la jornada")
    cierre: dt.time = Field(description="Hora local de cierre el día de la jornada")
    boletas_adicionales: int = Field(
        1500, ge=0, description="Boletas para quien tiene credencial vigente y no está en la LNERE"
    )
    credenciales_adicionales: int = Field(
        0,
        ge=0,
        le=99_999,
        description="Credenciales de reserva de la sede, por entidad, para votar en el módulo los cargos "
        "nacionales con una boleta adicional: selladas a la clave de la sede y en la lista firmada desde "
        "la apertura (una boleta adicional de una entidad sin reserva libre no se entrega)",
    )

    @field_validator("zona_horaria")
    @classmethod
    def _zona(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"zona horaria desconocida: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _horario(self) -> Sede:
        if not self.apertura < self.cierre:
            raise ValueError(f"{self.nombre}: la apertura ({self.apertura}) debe ser antes del cierre")
        if self.credenciales_adicionales > self.boletas_adicionales:
            raise ValueError(f"{self.nombre}: credenciales_adicionales no puede pasar de boletas_adicionales")
        return self


class Coalicion(BaseModel):
    nombre: str
    partidos: list[str] = Field(min_length=2)


class Entidad(BaseModel):
    nombre: str
    cargos: list[Cargo] = Field(min_length=1)
    partidos: list[str]
    coaliciones: list[Coalicion] = Field(default_factory=list)


NO_REGISTRADOS = "no_registrados"
NULOS = "nulos"


def combinaciones(entidad: Entidad) -> list[tuple[str, ...]]:
    """Each combination of two or more parties of one coalition, coalition by coalition, smallest first; the
    parties of each in the process file's ballot order."""
    orden = {p: i for i, p in enumerate(entidad.partidos)}
    return [
        c
        for coalicion in entidad.coaliciones
        for tamano in range(2, len(coalicion.partidos) + 1)
        for c in combinations(sorted(coalicion.partidos, key=orden.__getitem__), tamano)
    ]


def opciones(entidad: Entidad) -> list[str]:
    """Every valid way of voting, keyed as the cómputo keys it: each party alone (ballot order), each
    combination of parties of one coalition (``PAN+PRI``), candidato no registrado, and nulo. The internet
    ballot offers exactly these; postal actas are captured with them."""
    return [*entidad.partidos, *("+".join(c) for c in combinaciones(entidad)), NO_REGISTRADOS, NULOS]


class Calendario(BaseModel):
    """Instants in UTC (aware datetimes)."""

    registro_inicio: dt.datetime
    registro_fin: dt.datetime
    observaciones_inicio: dt.datetime
    observaciones_fin: dt.datetime
    cierre_lnere: dt.datetime
    aclaracion_dias: int = Field(gt=0)
    envio_pep_inicio: dt.datetime
    envio_pep_fin: dt.datetime
    recepcion_spv_limite: dt.datetime
    voto_electronico_inicio: dt.datetime
    voto_electronico_fin: dt.datetime
    jornada: dt.datetime
    # Until when each OPL may load its ballots' candidacies; with it, an election opens only with its
    # ballot's candidacies approved. Without it (2021's file), the ballot shows the parties alone.
    candidaturas_limite: dt.datetime | None = None

    @model_validator(mode="after")
    def _orden(self) -> Calendario:
        if not self.registro_inicio < self.registro_fin <= self.cierre_lnere:
            raise ValueError("el calendario debe cumplir registro_inicio < registro_fin <= cierre_lnere")
        if not self.voto_electronico_inicio < self.voto_electronico_fin:
            raise ValueError("voto_electronico_inicio debe ser anterior a voto_electronico_fin")
        return self


class Proceso(BaseModel):
    model_config = ConfigDict(frozen=True)

    clave: str
    nombre: str
    zona_horaria: str
    modalidades: list[Modalidad]
    calendario: Calendario
    partidos: dict[str, str]
    cargos_nacionales: list[Cargo] = Field(default_factory=list)
    entidades: dict[str, Entidad]
    sedes: dict[str, Sede] = Field(
        default_factory=dict, description="Sedes consulares del voto presencial, por clave (`los-angeles`)"
    )

    @field_validator("sedes")
    @classmethod
    def _claves_de_sede(cls, value: dict[str, Sede]) -> dict[str, Sede]:
        for clave in value:
            if not re.fullmatch(SEDE_RE, clave) or len(clave) > 40:
                raise ValueError(f"clave de sede inválida: {clave!r} (minúsculas, dígitos y guiones)")
        return value

    @model_validator(mode="after")
    def _sedes_del_voto_presencial(self) -> Proceso:
        if ("presencial" in self.modalidades) != bool(self.sedes):
            raise ValueError("la modalidad presencial y las sedes van juntas: declare las dos o ninguna")
        return self

    @field_validator("entidades")
    @classmethod
    def _claves_inegi(cls, value: dict[str, Entidad]) -> dict[str, Entidad]:
        for clave in value:
            if not ENTIDAD_RE.fullmatch(clave):
                raise ValueError(f"clave de entidad inválida: {clave!r} (01..32)")
        return value

    @model_validator(mode="after")
    def _partidos_conocidos(self) -> Proceso:
        for clave, entidad in self.entidades.items():
            desconocidos = {p for p in entidad.partidos if p not in self.partidos}
            for coalicion in entidad.coaliciones:
                desconocidos |= {p for p in coalicion.partidos if p not in entidad.partidos}
            if desconocidos:
                raise ValueError(f"entidad {clave}: partidos no declarados {sorted(desconocidos)}")
        return self

    @model_validator(mode="after")
    def _cargos_unicos(self) -> Proceso:
        for clave, entidad in self.entidades.items():
            claves = [c.clave for c in entidad.cargos]
            if len(set(claves)) != len(claves):
                raise ValueError(f"entidad {clave}: cargos repetidos {claves}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zona_horaria)

    def local(self, instante: dt.datetime) -> dt.datetime:
        """An instant as shown to people: in the process time zone (Centro)."""
        return instante.astimezone(self.tz)

    def horario(self, sede: str) -> tuple[dt.datetime, dt.datetime]:
        """The site's opening and closing instants (UTC) on election day: the jornada's date in Centro, at the
        site's local hours in its own time zone (with its daylight saving time on that date)."""
        s = self.sedes[sede]
        dia = self.local(self.calendario.jornada).date()
        tz = ZoneInfo(s.zona_horaria)
        return (
            dt.datetime.combine(dia, s.apertura, tzinfo=tz).astimezone(dt.UTC),
            dt.datetime.combine(dia, s.cierre, tzinfo=tz).astimezone(dt.UTC),
        )


def _instante(valor: Any, tz: ZoneInfo, ancla: dt.datetime) -> Any:
    if not isinstance(valor, str):
        return valor
    if valor[:1] in "+-" and "P" in valor[:3]:
        return ancla + _DURATION.validate_python(valor.lstrip("+"))
    local = dt.datetime.fromisoformat(valor)
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(dt.UTC)


def parse(data: dict[str, Any], ancla: dt.datetime) -> Proceso:
    """The file as written, with each national office put first (ballot order) in every entidad's offices."""
    tz = ZoneInfo(data.get("zona_horaria", "America/Mexico_City"))
    calendario = {k: _instante(v, tz, ancla) for k, v in dict(data.get("calendario", {})).items()}
    nacionales = [{**c, "nacional": True} for c in data.get("cargos_nacionales", [])]
    entidades = {
        clave: {**e, "cargos": [*nacionales, *e.get("cargos", [])]} if isinstance(e, dict) else e
        for clave, e in dict(data.get("entidades", {})).items()
    }
    return Proceso.model_validate(
        {**data, "calendario": calendario, "cargos_nacionales": nacionales, "entidades": entidades}
    )


def ancla_por_omision() -> dt.datetime:
    """``VMRE_PROCESO_ANCLA`` (ISO instant) so that every service of one run shares it; else now."""
    valor = os.environ.get("VMRE_PROCESO_ANCLA")
    if valor:
        return dt.datetime.fromisoformat(valor).astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def cargar(clave: str, ancla: dt.datetime | None = None) -> Proceso:
    ruta = PROCESOS_DIR / f"{clave}.toml"
    if not ruta.is_file():
        disponibles = ", ".join(sorted(p.stem for p in PROCESOS_DIR.glob("*.toml")))
        raise ValueError(f"no existe el proceso {clave!r} (disponibles: {disponibles})")
    with ruta.open("rb") as f:
        return parse(tomllib.load(f), ancla or ancla_por_omision())
