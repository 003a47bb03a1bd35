from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.claves import ClaveEntidad


class PrimerAccesoIn(BaseModel):
    usuario: str = Field(min_length=3, max_length=32)
    clave_acceso: str = Field(min_length=6, max_length=32, description="La clave que recibió por correo")
    password: str = Field(min_length=12, max_length=128, description="Mínimo 12 caracteres")
    segundo_factor: Literal["totp", "sms"] = Field(
        description="totp: aplicación autenticadora (código QR); sms: código por mensaje al teléfono"
    )
    qr: bool = Field(
        True,
        description="Incluir el código QR (SVG) en la respuesta; false si la clave se escribirá a mano en la "
        "aplicación (la respuesta trae igual el URI)",
    )


class PrimerAccesoOut(BaseModel):
    segundo_factor: str
    totp_uri: str | None = Field(None, description="otpauth:// para su aplicación autenticadora")
    qr_svg: str | None = Field(None, description="El mismo URI como código QR (SVG)")
    telefono: str | None = Field(None, description="Teléfono (enmascarado) al que llegarán los códigos")


class CodigoSmsIn(BaseModel):
    usuario: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class IngresoIn(BaseModel):
    usuario: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=128)
    codigo: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$", description="Código de 6 dígitos")


class SesionOut(BaseModel):
    sesion: str = Field(description="Envíela como Authorization: Bearer <sesion>")
    expira_at: dt.datetime


class Opcion(BaseModel):
    clave: str
    texto: str


class EleccionOut(BaseModel):
    uuid: str
    entidad: str
    cargo: str
    nombre: str
    simulacro: bool
    estado: str
    inicio: dt.datetime
    fin: dt.datetime
    boletas: int
    sello: str | None = None


class ActaAperturaFirmada(BaseModel):
    """A signed document as shared/firma.py writes it. `acta` is served as stored, keys in the order signed
    (the signature covers its exact canonical JSON): never re-modelled."""

    acta: dict[str, Any] = Field(
        description="El contenido firmado: documento, simulacro, proceso, huella_configuracion, eleccion, "
        "entidad, cargo, huella_eleccion, huella_candidaturas (o null), clave_publica, custodios "
        "{umbral, total}, huella_custodios, credenciales, lista_credenciales (la lista firmada por la "
        "autoridad de credenciales), urna {boletas, evento_setup}, periodo {inicio, fin} y abierta_at",
        examples=[
            {
                "documento": "Acta de apertura del voto electrónico por internet",
                "simulacro": False,
                "proceso": "pel2021",
                "eleccion": "Pq2bYk7sWd9xTf",
                "entidad": "09",
                "cargo": "diputacion_migrante",
                "credenciales": 1200,
                "urna": {"boletas": 0, "evento_setup": "3f9a…"},
                "abierta_at": "2021-05-22T20:00:00-05:00",
            }
        ],
    )
    firma: str = Field(description="Ed25519 sobre el JSON canónico de `acta`, en hex", examples=["9c1f…"])
    clave_verificacion: str = Field(
        description="La clave con que se firmó; compárela con GET /v1/clave-firma", examples=["5e2b…"]
    )
    algoritmo: str = Field(
        description="Qué se firma y cómo",
        examples=["Ed25519 sobre el JSON canónico (compacto, claves en el orden dado, UTF-8) de «acta»"],
    )


class EleccionDetalle(EleccionOut):
    opciones: list[Opcion]
    eleccion_json: str | None = Field(None, description="election.json exacto (su hash es la huella φ)")
    acta_apertura: ActaAperturaFirmada | None = None


class EleccionVotante(EleccionDetalle):
    rastreador: str | None = Field(None, description="Su acuse, si ya votó")


class VotanteOut(BaseModel):
    usuario: str
    entidad: str
    elecciones: list[EleccionVotante]


class AcuseOut(BaseModel):
    rastreador: str = Field(description="Hash de su boleta cifrada: búsquelo en el tablón público")
    eleccion: str
    emitida_at: dt.datetime
    tablon: str


class EntradaTablon(BaseModel):
    posicion: int
    rastreador: str
    emitida_at: dt.datetime


class TablonOut(BaseModel):
    eleccion: str
    estado: str
    sello: str | None
    boletas: list[EntradaTablon]
    siguiente: int | None = Field(None, description="Pase ?despues=<siguiente> para la página siguiente")


class SimulacroIn(BaseModel):
    entidad: ClaveEntidad
    inicio: dt.datetime = Field(description="Con zona horaria")
    fin: dt.datetime


class SelloOut(BaseModel):
    eleccion: str
    sello: str


class CodigoEnviadoOut(BaseModel):
    enviado_a: str = Field(
        description="Teléfono (enmascarado) al que se envió el código", examples=["******4321"]
    )


class ClaveFirmaOut(BaseModel):
    algoritmo: Literal["Ed25519"] = Field(examples=["Ed25519"])
    clave_verificacion: str = Field(
        description="Clave pública Ed25519 en hex: verifica la firma de las actas de este servicio",
        examples=["5e2b9a0c7d41f3e8a6b2c9d0e1f4a7b3c6d9e2f5a8b1c4d7e0f3a6b9c2d5e8f1"],
    )


class _Exhaustivo(BaseModel):
    """Built from a use case's dict: a key the model does not declare fails (tests) instead of vanishing."""

    model_config = ConfigDict(extra="forbid")


class ParticipacionHora(_Exhaustivo):
    eleccion: str = Field(examples=["Pq2bYk7sWd9xTf"])
    entidad: str = Field(examples=["09"])
    simulacro: bool = Field(examples=[False])
    hora: str = Field(
        description="Inicio de la hora, en hora del Centro (ISO 8601)", examples=["2021-05-25T10:00:00-05:00"]
    )
    votos: int = Field(description="Boletas aceptadas en esa hora", examples=[37])


class DescifradoFuerte(BaseModel):
    owner: int = Field(description="El custodio (owner) del descifrado parcial en el archivo", examples=[1])
    strong_proofs: dict[str, Any] | None = Field(
        description="{strong_decryption_proofs: [[prueba por opción] por pregunta]}; null si el descifrado "
        "se entregó antes de la extensión",
        examples=[{"strong_decryption_proofs": [[{"challenge": "1234…", "response": "5678…"}]]}],
    )


class PruebasFuertesOut(BaseModel):
    eleccion: str = Field(examples=["Pq2bYk7sWd9xTf"])
    huella: str = Field(description="Huella φ de election.json", examples=["Xk1c…"])
    descifrados: list[DescifradoFuerte] = Field(description="En el orden del archivo")


class RecibidosCeremonia(_Exhaustivo):
    certificado: list[int] = Field(description="Posiciones con el paso 1 entregado", examples=[[1, 2, 3]])
    polinomio: list[int] = Field(description="Posiciones con el paso 2 entregado", examples=[[1, 2]])
    verificacion: list[int] = Field(description="Posiciones con el paso 3 entregado", examples=[[]])


class CeremoniaOut(_Exhaustivo):
    """The ceremony's public state. Belenios parts (`certificados`, `polinomios`, `parametros`) are served
    as the custodians sent them: `vmre custodio ceremonia` and belenios-tool read them."""

    eleccion: str = Field(examples=["Pq2bYk7sWd9xTf"])
    umbral: int = Field(description="Custodios necesarios para descifrar (k)", examples=[3])
    custodios: int = Field(description="Custodios en total (n)", examples=[5])
    paso: int | None = Field(
        description="El paso en curso (1 certificado, 2 polinomio, 3 verificación); null al terminar",
        examples=[2],
    )
    recibidos: RecibidosCeremonia
    certificados: list[Any] | None = Field(
        description="Los n certificados de Belenios (paso 1), cuando están todos", examples=[None]
    )
    polinomios: list[Any] | None = Field(
        description="Los n polinomios de Belenios (paso 2), cuando están todos", examples=[None]
    )
    clave_publica: str | None = Field(description="La clave de la elección, al terminar", examples=[None])
    parametros: list[Any] | None = Field(
        description='El registro de custodios de Belenios (trustees: [["Pedersen", {...}]]), al terminar',
        examples=[None],
    )
    huella: str | None = Field(
        description="La huella que los custodios comparan por otro medio (y lleva el acta de apertura)",
        examples=[None],
    )


class CredencialesSimulacro(BaseModel):
    lnere: int = Field(description="Votantes de la LNERE de la entidad con credencial del simulacro")
    probadores: int = Field(description="Probadores de fuera de la LNERE (POST /v1/probadores de registro)")


class VotosSimulacro(BaseModel):
    total: int
    lnere: int
    probadores: int


class VotosPorHora(BaseModel):
    hora: str = Field(
        description="Inicio de la hora, en hora del Centro", examples=["2021-05-22T10:00:00-05:00"]
    )
    votos: int


class TiempoParaVotar(BaseModel):
    """From the voter's login (the session that cast the ballot) to the ballot, in seconds."""

    medidos: int
    mediana_s: float
    p90_s: float
    maximo_s: float


class InformeSimulacro(BaseModel):
    eleccion: str
    entidad: str
    cargo: str
    nombre: str
    estado: str
    inicio: dt.datetime
    fin: dt.datetime
    credenciales: CredencialesSimulacro
    votos: VotosSimulacro
    participacion: str = Field(description="Votos / credenciales, dos decimales", examples=["41.20"])
    por_hora: list[VotosPorHora]
    tiempo_para_votar: TiempoParaVotar | None = Field(
        description="Del ingreso a la boleta; null si aún nadie votó"
    )
    errores: dict[str, int] = Field(
        description="Boletas rechazadas por motivo (el tipo del problema: boleta-invalida, ya-voto, "
        "fuera-de-periodo, …)",
        examples=[{"boleta-invalida": 3, "ya-voto": 12}],
    )
