"""electronico use cases: internet voters from the closed LNERE (account and access key) and their credentials
arriving from the credential authority (public halves, signed list); postal votes already received. Stage
events; never commit (the caller owns the transaction)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import repository
from services.electronico.config import Settings
from services.electronico.models import Eleccion, Notificacion
from services.electronico.service.elecciones import asegurar_elecciones
from shared import firma
from shared.events import credenciales as eventos_credenciales
from shared.events import registro as eventos_registro
from shared.notificaciones import Aviso, encolar
from shared.numeros import numero_adicional
from shared.proceso import Proceso

PLANTILLA_ACCESO = "acceso_voto"
log = logging.getLogger(__name__)


def _hash(texto: str) -> str:
    return hashlib.sha256(texto.encode()).hexdigest()


def _alfanumerico(n: int) -> str:
    alfabeto = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by people
    return "".join(secrets.choice(alfabeto) for _ in range(n))


async def inscribir(
    session: AsyncSession,
    inscrito: eventos_registro.InscritoElectronica | eventos_registro.ProbadorInscrito,
    proceso: Proceso,
    settings: Settings,
    ahora: dt.datetime,
) -> bool:
    """An internet voter from the closed LNERE: account and access key, once. The credentials come from the
    credential authority (its own message to the voter; here only their public halves). An outside tester
    of the drills gets the same account, but only drill credentials (it prepares no real election)."""
    probador = isinstance(inscrito, eventos_registro.ProbadorInscrito)
    if not probador:
        await asegurar_elecciones(session, proceso, settings, inscrito.entidad)
    clave_acceso = f"{_alfanumerico(4)}-{_alfanumerico(4)}-{_alfanumerico(4)}"
    usuario = f"{'T' if probador else 'V'}{inscrito.entidad}{_alfanumerico(8)}"
    valores = {
        "entidad": inscrito.entidad,
        "numero": inscrito.numero,
        "usuario": usuario,
        "email": inscrito.email,
        "telefono": inscrito.telefono,
        # 60 random bits: a fast hash suffices (argon2id is for the password the voter picks).
        "clave_acceso_hash": _hash(clave_acceso),
        "fallos": 0,
        "creado_at": ahora,
    }
    if await repository.crear_votante(session, valores) is None:
        return False
    texto = (
        (
            "Cuenta de prueba para los simulacros del voto por internet (no es de la elección real).\n"
            if probador
            else ""
        )
        + f"Usuario: {usuario}\nClave de acceso: {clave_acceso}\n"
        "En su primer acceso defina su contraseña y su segundo factor (aplicación o SMS).\n"
        "Su credencial de votación le llega en otro mensaje, de la autoridad de credenciales."
    )
    aviso = Aviso(inscrito.email, None, PLANTILLA_ACCESO, texto, usuario, secreto=True)
    await encolar(session, Notificacion, [aviso], ahora)
    return True


async def inscribir_presencial(
    session: AsyncSession,
    inscrito: eventos_registro.InscritoPresencial,
    proceso: Proceso,
    settings: Settings,
    ahora: dt.datetime,
) -> bool:
    """An in-person voter from the closed LNERE: an account with no access of its own (no key, no password:
    only a kiosk turn the site's staff open gives it a session). Its credentials arrive sealed to its site."""
    await asegurar_elecciones(session, proceso, settings, inscrito.entidad)
    valores = {
        "entidad": inscrito.entidad,
        "numero": inscrito.numero,
        "usuario": f"P{inscrito.entidad}{_alfanumerico(8)}",
        "sede": inscrito.sede,
        "fallos": 0,
        "creado_at": ahora,
    }
    return await repository.crear_votante(session, valores) is not None


async def boleta_adicional(
    session: AsyncSession,
    datos: eventos_registro.BoletaAdicionalEnModulo,
    proceso: Proceso,
    ahora: dt.datetime,
) -> bool:
    """An extra ballot a site handed to a citizen not on the LNERE (#27): an account at the site, like an
    in-person voter's, under the site's ``folio``-th reserve number for the entidad. It holds only the reserve
    credentials of the national offices (the credential authority issued them before the opening, sealed to
    the site's key), so it votes those and nothing else."""
    sede = proceso.sedes.get(datos.sede)
    if sede is None or datos.folio > sede.credenciales_adicionales or datos.entidad not in proceso.entidades:
        log.error("boleta adicional sin credencial de reserva", extra={"sede": datos.sede})
        return False
    valores = {
        "entidad": datos.entidad,
        "numero": numero_adicional(proceso, datos.sede, datos.folio),
        "usuario": f"A{datos.entidad}{_alfanumerico(8)}",
        "sede": datos.sede,
        "fallos": 0,
        "creado_at": ahora,
    }
    return await repository.crear_votante(session, valores) is not None


async def credenciales_emitidas(
    session: AsyncSession, datos: eventos_credenciales.CredencialesEmitidas
) -> None:
    """Public credentials from the authority, each bound to a voter's number, while the election is in
    preparation — also after its signed list: a broker that lost its log gets the authority's history again,
    and batches may then come after the list. The signed list decides, at the opening, whether they are
    exactly the right ones (one more, from anyone, and the election does not open)."""
    e = await repository.eleccion(session, datos.eleccion)
    if e is None or e.estado != "preparacion":
        log.warning("credenciales fuera de tiempo: se ignoran", extra={"eleccion": datos.eleccion})
        return
    filas = [
        {"eleccion": e.uuid, "numero": c.numero, "publica": c.publica, "sellada": c.sellada}
        for c in datos.credenciales
    ]
    if filas:
        await repository.guardar_credenciales(session, filas)


def lista_valida(settings: Settings, documento: dict[str, Any], e: Eleccion) -> str | None:
    """Why a credential list cannot be used for ``e`` (None: signed by the authority, for this election)."""
    if not firma.verificar(documento, settings.clave_autoridad_credenciales):
        return "la firma no es de la autoridad de credenciales (o el documento fue alterado)"
    acta = documento.get("acta")
    if not isinstance(acta, dict) or acta.get("eleccion") != e.uuid or acta.get("entidad") != e.entidad:
        return "la lista firmada es de otra elección"
    if not isinstance(acta.get("credenciales"), int) or not isinstance(acta.get("huella_lista"), str):
        return "a la lista firmada le faltan el número de credenciales o su huella"
    return None


async def lista_firmada(
    session: AsyncSession, datos: eventos_credenciales.ListaFirmada, settings: Settings
) -> None:
    """The authority's signed list: kept only if its signature is the authority's and it names this
    election (an unsigned or altered one is refused and logged; the election cannot open without one)."""
    e = await repository.eleccion(session, datos.eleccion)
    if e is None or e.estado != "preparacion":
        return
    motivo = lista_valida(settings, datos.documento, e)
    if motivo is not None:
        log.error("lista de credenciales rechazada", extra={"eleccion": e.uuid, "motivo": motivo})
        return
    e.lista_credenciales = datos.documento


async def registrar_voto_postal(session: AsyncSession, entidad: str, numero: int) -> None:
    await repository.guardar_voto_postal(session, entidad, numero)
