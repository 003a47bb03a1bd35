from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import iso3166
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from services.registro.domain import MOTIVOS, MOTIVOS_BAJA, normalizar
from shared.claves import SEDE_RE, ClaveEntidad

CLAVE_ELECTOR = r"^[A-Z]{6}[0-9]{6}[0-9]{2}[HM][0-9A-Z]{3}$"


def _mayusculas(valor: object) -> object:
    return valor.strip().upper() if isinstance(valor, str) else valor


def _pais(valor: str) -> str:
    if valor not in iso3166.countries_by_alpha2:
        raise ValueError("País desconocido: use el código ISO 3166-1 de dos letras (p. ej. US).")
    if valor == "MX":
        raise ValueError("La LNERE es para quienes residen fuera de México.")
    return valor


def _texto(valor: object) -> object:
    return normalizar(valor) if isinstance(valor, str) else valor


Texto = Annotated[str, BeforeValidator(_texto)]
ClaveElector = Annotated[
    str,
    BeforeValidator(_mayusculas),
    Field(pattern=CLAVE_ELECTOR, description="Clave de elector (18 caracteres)."),
]
Pais = Annotated[
    str,
    BeforeValidator(_mayusculas),
    Field(pattern=r"^[A-Z]{2}$", description="País de residencia, ISO 3166-1 alfa-2."),
    AfterValidator(_pais),
]
Telefono = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{7,14}$", description="Teléfono en formato E.164.")]
Modalidad = Literal["postal", "electronica", "presencial"]
ClaveSede = Annotated[
    str,
    Field(
        pattern=SEDE_RE,
        max_length=40,
        description="Sede consular donde vota en persona (solo modalidad presencial); la lista: "
        "GET /v1/catalogos/sedes.",
    ),
]

EJEMPLO: dict[str, Any] = {
    "clave_elector": "GOMZAN85031209M700",
    "nombre": "María de los Ángeles",
    "apellido_paterno": "Gómez",
    "apellido_materno": "Núñez",
    "fecha_nacimiento": "1985-03-12",
    "sexo": "M",
    "entidad": "09",
    "pais": "US",
    "domicilio": {
        "calle_numero": "1234 W Olympic Blvd Apt 5",
        "ciudad": "Los Angeles",
        "region": "CA",
        "codigo_postal": "90015",
    },
    "email": "maria.gomez@example.com",
    "telefono": "+13105551234",
    "modalidad": "electronica",
}


class Domicilio(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    calle_numero: Texto | None = Field(default=None, max_length=200)
    ciudad: Texto | None = Field(default=None, max_length=120)
    region: Texto | None = Field(default=None, max_length=120, description="Estado, provincia o condado.")
    codigo_postal: Texto | None = Field(default=None, max_length=20)


class SolicitudIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra={"examples": [EJEMPLO]})

    clave_elector: ClaveElector
    nombre: Texto = Field(min_length=1, max_length=120)
    apellido_paterno: Texto = Field(min_length=1, max_length=120)
    apellido_materno: Texto = Field(default="", max_length=120, description="Puede ir vacío.")
    fecha_nacimiento: dt.date = Field(description="AAAA-MM-DD")
    sexo: Literal["H", "M"]
    entidad: ClaveEntidad = Field(description="Entidad de referencia, clave INEGI de dos dígitos.")
    pais: Pais
    domicilio: Domicilio = Field(default_factory=Domicilio, description="Domicilio en el extranjero.")
    email: EmailStr | None = None
    telefono: Telefono | None = None
    modalidad: Modalidad
    sede: ClaveSede | None = None


class Correccion(BaseModel):
    """What the citizen may correct during aclaración; only the fields sent change."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "domicilio": {
                        "calle_numero": "1234 W Olympic Blvd Apt 6",
                        "ciudad": "Los Angeles",
                        "region": "CA",
                        "codigo_postal": "90015",
                    }
                }
            ]
        },
    )

    nombre: Texto | None = Field(default=None, min_length=1, max_length=120)
    apellido_paterno: Texto | None = Field(default=None, min_length=1, max_length=120)
    apellido_materno: Texto | None = Field(default=None, max_length=120)
    pais: Pais | None = None
    domicilio: Domicilio | None = None
    email: EmailStr | None = None
    telefono: Telefono | None = None


class CambioModalidad(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"modalidad": "postal"}]})

    modalidad: Modalidad
    sede: ClaveSede | None = None
    domicilio: Domicilio | None = None
    email: EmailStr | None = None
    telefono: Telefono | None = None


class ConfirmacionPendiente(BaseModel):
    """A change waiting for the applicant: nothing changed yet."""

    confirmacion: str = Field(description="Identificador de este cambio: envíelo junto con el código")
    enviado_a: list[str] = Field(
        description="El contacto ya registrado (enmascarado) al que se envió el código de 6 dígitos"
    )
    vence_at: dt.datetime = Field(description="Hasta cuándo vale el código (10 minutos), en hora del Centro")


class ConfirmacionIn(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"confirmacion": "C-4TQ9XK2M7BND3HVR", "codigo": "042917"}]},
    )

    confirmacion: str = Field(
        min_length=1, max_length=24, description="El `confirmacion` de la respuesta 202"
    )
    codigo: str = Field(pattern=r"^[0-9]{6}$", description="El código de 6 dígitos que recibió")


class SinAcceso(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"perdido": "email"}]})

    perdido: Literal["email", "telefono", "ambos"] = Field(
        description="El contacto registrado al que ya no tiene acceso"
    )


class CambioVerificado(Correccion):
    """A change INE applies after verifying the applicant's identity by other means (no code)."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"verificacion": "inetel", "email": "maria.gomez.nuevo@example.com"}]
        },
    )

    verificacion: Literal["inetel", "consulado", "documental"] = Field(
        description="Cómo verificó el INE la identidad: llamada a INETEL, en un consulado o con documentos"
    )
    modalidad: Modalidad | None = None
    sede: ClaveSede | None = Field(default=None, description="Con modalidad presencial")


class SolicitudCreada(BaseModel):
    folio: str
    estado: str = "recibida"


class Motivo(BaseModel):
    codigo: str
    descripcion: str


class SolicitudEstado(BaseModel):
    """What the citizen sees by folio: nothing more personal than what they already know."""

    folio: str
    estado: str
    motivos: list[str] = Field(default_factory=list, description="Códigos del catálogo de motivos")
    motivos_detalle: list[Motivo] = Field(default_factory=list)
    siguiente_paso: str
    plazo_aclaracion: dt.datetime | None = Field(default=None, description="En hora del Centro")
    entidad: str
    modalidad: str
    sede: str | None = Field(default=None, description="Sede consular, si vota en persona")
    recibida_at: dt.datetime = Field(description="En hora del Centro")


MotivoCodigo = Literal[tuple(MOTIVOS)]  # type: ignore[valid-type]
MotivoBaja = Literal[tuple(MOTIVOS_BAJA)]  # type: ignore[valid-type]


class Dictamen(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"resultado": "improcedente", "motivos": ["firma"]},
                {"resultado": "procedente", "motivos": []},
            ]
        }
    )

    resultado: Literal["procedente", "improcedente"]
    motivos: list[MotivoCodigo] = Field(default_factory=list)  # type: ignore[valid-type]


class DictamenDeFolio(Dictamen):
    folio: str = Field(min_length=1, max_length=32, description="Folio de la solicitud")


MAX_DICTAMENES = 1000


class Dictamenes(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dictamenes": [
                        {"folio": "MX26-0000001-7", "resultado": "procedente", "motivos": []},
                        {"folio": "MX26-0000002-5", "resultado": "improcedente", "motivos": ["firma"]},
                    ]
                }
            ]
        }
    )

    dictamenes: list[DictamenDeFolio] = Field(min_length=1, max_length=MAX_DICTAMENES)


class ReporteDictamenes(BaseModel):
    recibidos: int
    aplicados: int
    sin_cambio: int = Field(
        description="Ya tenían ese mismo dictamen (p. ej. un lote reenviado tras un corte): no se repiten"
    )


class SolicitudAclaracion(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"motivos": ["comprobante_domicilio"]}]})

    motivos: list[MotivoCodigo] = Field(min_length=1)  # type: ignore[valid-type]


class Baja(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"motivo": "solicitud_ciudadana"}]})

    motivo: MotivoBaja  # type: ignore[valid-type]


class Expediente(BaseModel):
    """Everything an operator needs to review an application (personal data: operators only)."""

    folio: str
    estado: str
    motivos: list[str]
    clave_elector: str
    nombre: str
    apellido_paterno: str
    apellido_materno: str
    fecha_nacimiento: dt.date
    sexo: str
    entidad: str
    pais: str
    domicilio: Domicilio
    email: str | None
    telefono: str | None
    modalidad: str
    sede: str | None = None
    canal: str
    recibida_at: dt.datetime
    plazo_aclaracion: dt.datetime | None
    documentos: list[str]
    alertas: list[str] = Field(description="p. ej. comprobante reutilizado en otras solicitudes")
    avisos: list[AvisoEnviado] = Field(
        default_factory=list, description="Los mensajes a la persona y si llegaron a su pasarela"
    )


class AvisoEnviado(BaseModel):
    """One message to the applicant as the outbox records it (never its text: it may carry a secret)."""

    plantilla: str
    canal: str = Field(description="email o sms")
    destino: str = Field(description="Enmascarado")
    estado: str = Field(description="pendiente, enviando, enviada, fallida (rechazo definitivo) o incierta")
    intentos: int
    error: str | None = Field(description="Lo que respondió la pasarela, si no lo aceptó")
    creada_at: dt.datetime
    enviada_at: dt.datetime | None


class ColaItem(BaseModel):
    folio: str
    entidad: str
    pais: str
    modalidad: str
    estado: str
    recibida_at: dt.datetime
    documentos: list[str]


class Cola(BaseModel):
    solicitudes: list[ColaItem]
    siguiente: str | None = Field(description="Cursor para la siguiente página (parámetro `despues`)")


class DocumentoRecibido(BaseModel):
    tipo: str
    content_type: str
    tamano: int
    sha256: str


class Cierre(BaseModel):
    entidad: str
    total: int
    postal: int
    electronica: int
    presencial: int = Field(0, description="Votan en persona en una sede consular")
    cerrada_at: dt.datetime
    pendientes: int = Field(
        0, description="Solicitudes aún sin dictaminar o en aclaración: no quedan inscritas"
    )


REFERENCIA = r"^R-[0-9A-HJKMNP-TV-Z]{12}$"


class ListaItem(BaseModel):
    numero: int | None = Field(description="Número en la LNERE (tras el cierre de la lista)")
    referencia: str = Field(
        description="Identificador opaco de la persona en la revisión (no es el folio): con él se observa"
    )
    folio: str | None = Field(
        default=None,
        description="Solo para ine-operador e ine-admin; nunca aparece para partidos ni auditoría",
    )
    nombre: str = Field(description="Enmascarado")
    pais: str
    modalidad: str
    estado: str


class Lista(BaseModel):
    entidad: str
    total: int
    personas: list[ListaItem]
    siguiente: int | None


class ObservacionIn(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "referencia": "R-7K2M9QX4TB3D",
                    "descripcion": "Posible duplicado con otra persona de la lista.",
                }
            ]
        },
    )

    referencia: str = Field(
        pattern=REFERENCIA, description="La `referencia` de la persona en `GET /v1/lnere/{entidad}`"
    )
    descripcion: Texto = Field(min_length=5, max_length=2000)


class ObservacionOut(BaseModel):
    id: int
    entidad: str
    partido: str
    referencia: str = Field(description="La persona observada (identificador opaco de la revisión)")
    folio: str | None = Field(default=None, description="Solo para ine-operador e ine-admin")
    descripcion: str
    estado: str
    respuesta: str | None
    creada_at: dt.datetime
    resuelta_at: dt.datetime | None


class Resolucion(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"resultado": "procedente", "respuesta": "Se dio de baja el duplicado."}]
        }
    )

    resultado: Literal["procedente", "improcedente"]
    respuesta: Texto = Field(min_length=3, max_length=2000)


class FilaRechazada(BaseModel):
    fila: int = Field(description="Número de línea en el archivo (la cabecera es la 1)")
    clave_elector: str | None
    errores: list[dict[str, str]]


class ReporteLote(BaseModel):
    recibidas: int
    cargadas: int
    rechazadas: list[FilaRechazada]
    aplicado: bool = Field(description="false: no se cargó nada (modo estricto con filas rechazadas)")


# --- Public figures: `GET /v1/estadisticas` and the catalogue of reasons ----------------------------------

Celdas = dict[str, int | None]


class EstadisticasSolicitudes(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a count the service adds must be documented here, not dropped

    total: int | None = Field(description="null si hay menos personas que la celda mínima", examples=[120])
    por_entidad: Celdas = Field(description="Clave INEGI → solicitudes", examples=[{"09": 80, "14": 40}])
    por_pais: Celdas = Field(
        description="ISO 3166-1 alfa-2 → solicitudes", examples=[{"US": 115, "CA": None}]
    )
    por_modalidad: Celdas = Field(examples=[{"electronica": 70, "postal": 50}])
    por_estado: Celdas = Field(
        examples=[{"recibida": 60, "procedente": 55, "improcedente": None, "baja": None}]
    )
    por_sexo: Celdas = Field(examples=[{"H": 58, "M": 62}])
    por_edad: Celdas = Field(
        description="Rango de edad a la fecha de la jornada",
        examples=[{"18-24": 30, "25-34": 50, "35-44": 40}],
    )
    por_dia: Celdas = Field(
        description="Día de recepción (AAAA-MM-DD, hora del Centro)", examples=[{"2020-09-01": 120}]
    )


class EstadisticasLnere(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int | None = Field(description="null si hay menos personas que la celda mínima", examples=[0])
    por_entidad: Celdas = Field(description="Clave INEGI → personas inscritas", examples=[{}])
    por_pais: Celdas = Field(description="ISO 3166-1 alfa-2 → personas inscritas", examples=[{}])
    por_modalidad: Celdas = Field(examples=[{}])
    por_sexo: Celdas = Field(examples=[{}])
    por_edad: Celdas = Field(description="Rango de edad a la fecha de la jornada", examples=[{}])
    por_dia: Celdas = Field(description="Día de recepción (AAAA-MM-DD, hora del Centro)", examples=[{}])


class Estadisticas(BaseModel):
    """Counts only: cells under `celda_minima` are null (and, if only one would be hidden in a dimension, the
    next smallest too), so nobody can be identified by subtracting from the total."""

    model_config = ConfigDict(extra="forbid")

    proceso: str = Field(examples=["pel2021"])
    celda_minima: int = Field(examples=[5])
    solicitudes: EstadisticasSolicitudes
    lnere: EstadisticasLnere = Field(description="Las personas inscritas en la LNERE (sin `por_estado`)")


class CatalogoMotivos(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "improcedencia": {"firma": "La firma no coincide con la de la credencial o falta."},
                    "baja": {"defuncion": "Baja por defunción."},
                }
            ]
        }
    )

    improcedencia: dict[str, str] = Field(description="Código → descripción de cada motivo de improcedencia")
    baja: dict[str, str] = Field(description="Código → descripción de cada motivo de baja")


class SedeConsular(BaseModel):
    clave: str = Field(examples=["los-angeles"], description="La que lleva `sede` en la solicitud")
    nombre: str = Field(examples=["Consulado General de México en Los Ángeles"])
    ciudad: str = Field(examples=["Los Ángeles"])
    pais: str = Field(examples=["US"], description="ISO 3166-1 alfa-2")
    zona_horaria: str = Field(examples=["America/Los_Angeles"])
    apertura_local: str = Field(examples=["07:00"], description="Hora local de apertura el día de la jornada")
    cierre_local: str = Field(examples=["17:00"])
    apertura: dt.datetime = Field(description="El mismo instante, en hora del Centro")
    cierre: dt.datetime = Field(description="En hora del Centro")


class CatalogoSedes(BaseModel):
    """The consular sites of in-person voting (empty when the process has no such modality)."""

    modalidad_presencial: bool
    sedes: list[SedeConsular]


class BoletaAdicionalIn(BaseModel):
    """What the site's staff read from the voter ID of a citizen who is not on the LNERE."""

    model_config = ConfigDict(extra="forbid")

    clave_elector: ClaveElector
    entidad: ClaveEntidad = Field(
        examples=["09"], description="La entidad del domicilio de la credencial: da la boleta que recibe"
    )


class BoletaAdicionalOut(BaseModel):
    sede: str
    entidad: str
    numero: int = Field(description="Número de esta boleta adicional en la sede (1, 2, …)")
    folio: int = Field(
        description="Su folio entre las de la entidad en la sede (1, 2, …): con él, la entidad y la sede, el "
        "personal abre el turno del módulo (POST /v1/modulo/{sede}/turnos con `adicional`)"
    )
    tope: int
    restantes: int
    entregada_at: dt.datetime


class BoletasSedeOut(BaseModel):
    sede: str
    tope: int = Field(description="Boletas adicionales de la sede (archivo del proceso)")
    entregadas: int
    restantes: int
    por_entidad: dict[str, int] = Field(description="entidad → boletas adicionales entregadas")


class ConsultaSedeIn(BaseModel):
    """The clave de elector read from the voter ID at the site's door (in the body: never in a URL, a log)."""

    model_config = ConfigDict(extra="forbid")

    clave_elector: ClaveElector


SituacionEnSede = Literal[
    "en_lista", "otra_sede", "otra_modalidad", "boleta_adicional_entregada", "no_esta_en_la_lnere"
]


class ConsultaSedeOut(BaseModel):
    situacion: SituacionEnSede = Field(
        description="`en_lista`: en la LNERE de esta sede (vota aquí, con su nombre para cotejar la "
        "credencial); `otra_sede`: en la lista de otra sede (`sede`); `otra_modalidad`: vota por correo "
        "o por internet (`modalidad`); `boleta_adicional_entregada`: ya recibió una (`sede`; si fue en esta "
        "sede, su `entidad` y `folio`, para abrirle otra vez el turno del módulo); "
        "`no_esta_en_la_lnere`: con credencial vigente puede recibir una boleta adicional"
    )
    nombre: str | None = Field(default=None, description="Solo `en_lista`")
    entidad: str | None = Field(
        default=None, description="`en_lista`, y `boleta_adicional_entregada` en esta sede"
    )
    numero: int | None = Field(default=None, description="Número en la LNERE de la entidad; solo `en_lista`")
    folio: int | None = Field(
        default=None, description="El de su boleta adicional; solo `boleta_adicional_entregada` en esta sede"
    )
    sede: str | None = None
    modalidad: str | None = None


class ProbadorIn(BaseModel):
    """One outside tester of the drills: OPL staff, an observer."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    entidad: ClaveEntidad = Field(description="La entidad de cuyos simulacros participa", examples=["09"])
    nombre: Texto = Field(min_length=1, max_length=200, examples=["Persona Observadora de Prueba"])
    email: EmailStr = Field(description="A él llegan su cuenta y su credencial de simulacro")
    telefono: Telefono


class ProbadoresIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "probadores": [
                        {
                            "entidad": "09",
                            "nombre": "Persona Observadora de Prueba",
                            "email": "observadora@example.org",
                            "telefono": "+525512345678",
                        }
                    ]
                }
            ]
        },
    )

    probadores: list[ProbadorIn] = Field(min_length=1, max_length=10_000)


class ProbadoresOut(BaseModel):
    inscritos: int = Field(description="Cuentas de prueba nuevas (cada una recibe su acceso por correo)")
    ya_estaban: int = Field(description="Correos que ya tenían cuenta de prueba en este proceso: sin cambios")
    por_entidad: dict[str, int] = Field(description="entidad → probadores en total (con los de antes)")
