"""registro · an application (or its change) checked against the process: fields, modality, contact,
period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import domain, repository
from services.registro.schemas import SolicitudIn
from shared.problems import Problem
from shared.proceso import Proceso


def _error(campo: str, mensaje: str) -> dict[str, str]:
    return {"campo": campo, "mensaje": mensaje}


def errores_modalidad(
    modalidad: str, domicilio: dict[str, Any], email: str | None, telefono: str | None
) -> list[dict[str, str]]:
    errores = []
    if modalidad == "postal":
        for campo in ("calle_numero", "ciudad", "codigo_postal"):
            if not domicilio.get(campo):
                errores.append(_error(f"domicilio.{campo}", "Obligatorio para votar por correo postal."))
    elif modalidad == "electronica":
        if not email:
            errores.append(_error("email", "Obligatorio para votar por internet: ahí llegan sus claves."))
        if not telefono:
            errores.append(
                _error("telefono", "Obligatorio para votar por internet (segundo factor por SMS).")
            )
    return errores


def errores_sede(modalidad: str, sede: str | None, proceso: Proceso) -> list[dict[str, str]]:
    """In person: one of the process's consular sites, and only then."""
    if modalidad != "presencial":
        return [_error("sede", "Solo para votar en persona (modalidad presencial).")] if sede else []
    if not sede:
        return [_error("sede", "Elija la sede consular donde votará en persona.")]
    if sede not in proceso.sedes:
        return [_error("sede", f"No es una sede de este proceso (sedes: {', '.join(proceso.sedes)}).")]
    return []


SIN_CONTACTO = (
    "Indique un correo electrónico o un teléfono (o ambos): ahí le enviamos su folio, los códigos para "
    "confirmar cambios y los avisos de su solicitud."
)


def errores_contacto(email: str | None, telefono: str | None) -> list[dict[str, str]]:
    """Every application keeps a contact: the folio, the change codes and the notices go there."""
    if email or telefono:
        return []
    return [_error("email", SIN_CONTACTO), _error("telefono", SIN_CONTACTO)]


def _con_contacto(errores: list[dict[str, str]], email: str | None, telefono: str | None) -> None:
    """Add the contact errors to ``errores`` unless those fields are already named (electrónica)."""
    nombrados = {e["campo"] for e in errores}
    errores += [e for e in errores_contacto(email, telefono) if e["campo"] not in nombrados]


def errores_solicitud(datos: SolicitudIn, proceso: Proceso) -> list[dict[str, str]]:
    errores = [
        _error("clave_elector", m)
        for m in domain.errores_clave(datos.clave_elector, datos.fecha_nacimiento, datos.sexo)
    ]
    if datos.entidad not in proceso.entidades:
        con_cargo = ", ".join(proceso.entidades)
        errores.append(
            _error(
                "entidad",
                f"En este proceso no se vota desde el extranjero por esa entidad "
                f"(entidades con cargo: {con_cargo}).",
            )
        )
    if datos.modalidad not in proceso.modalidades:
        errores.append(
            _error("modalidad", f"Modalidad no disponible en este proceso: {proceso.modalidades}.")
        )
    jornada = proceso.local(proceso.calendario.jornada).date()
    if domain.edad(datos.fecha_nacimiento, jornada) < 18:
        errores.append(
            _error("fecha_nacimiento", "Debe tener 18 años cumplidos el día de la jornada electoral.")
        )
    errores += errores_modalidad(datos.modalidad, datos.domicilio.model_dump(), datos.email, datos.telefono)
    if datos.modalidad in proceso.modalidades:
        errores += errores_sede(datos.modalidad, datos.sede, proceso)
    _con_contacto(errores, datos.email, datos.telefono)
    return errores


async def verificar_periodo(
    session: AsyncSession, proceso: Proceso, entidad: str, ahora: dt.datetime
) -> None:
    cal = proceso.calendario
    cerrada = await repository.cierre(session, proceso.clave, entidad)
    if cerrada is not None or not cal.registro_inicio <= ahora < cal.registro_fin:
        inicio, fin = proceso.local(cal.registro_inicio), proceso.local(cal.registro_fin)
        motivo = (
            f"la LNERE de la entidad {entidad} ya se cerró"
            if cerrada
            else (
                f"el periodo de solicitudes es del {inicio:%d/%m/%Y %H:%M} "
                f"al {fin:%d/%m/%Y %H:%M} (hora del Centro)"
            )
        )
        raise Problem(
            422,
            f"Solicitud extemporánea: {motivo}. Recibirá un aviso de no inscripción por extemporaneidad.",
            slug="extemporanea",
            title="Solicitud extemporánea",
        )
