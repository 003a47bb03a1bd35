"""registro · the applicant's documents: type sniffed from the content, size limit, alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import repository
from services.registro.domain import Estado
from services.registro.models import Documento, Solicitud
from services.registro.service.comun import _al_historial, _exigir_lista_abierta, obtener
from services.registro.service.validacion import _error
from shared.problems import Problem
from shared.proceso import Proceso

TIPOS_DOCUMENTO = ("credencial_frente", "credencial_reverso", "comprobante_domicilio")
MAX_DOCUMENTO = 5 * 1024 * 1024
# Each admitted type: its signature and what must follow it (a JPEG's next marker; a PNG's first chunk is
# IHDR; a PDF names its version).
FIRMAS: dict[bytes, tuple[str, Callable[[bytes], bool]]] = {
    b"\xff\xd8\xff": ("image/jpeg", lambda c: len(c) > 3 and c[3] >= 0xC0),
    b"\x89PNG\r\n\x1a\n": ("image/png", lambda c: c[8:16] == b"\x00\x00\x00\x0dIHDR"),
    b"%PDF-": ("application/pdf", lambda c: re.match(rb"%PDF-[12]\.[0-9]", c) is not None),
}


def tipo_por_contenido(contenido: bytes) -> str | None:
    """The file's type by its first bytes, never by its name or declared type."""
    for firma, (tipo, estructura) in FIRMAS.items():
        if contenido.startswith(firma):
            return tipo if estructura(contenido) else None
    return None


ESTADOS_CON_DOCUMENTOS = {Estado.RECIBIDA, Estado.EN_ACLARACION, Estado.IMPROCEDENTE}


def revisar_archivo(tipo: str, contenido: bytes) -> str:
    """The file's checks before anything is read from the database: its content type, or a Problem."""
    if tipo not in TIPOS_DOCUMENTO:
        raise Problem(
            422,
            "Tipo de documento desconocido.",
            errors=[_error("tipo", f"Use uno de: {', '.join(TIPOS_DOCUMENTO)}.")],
        )
    if len(contenido) > MAX_DOCUMENTO:
        raise Problem(
            413,
            f"El archivo supera {MAX_DOCUMENTO // (1024 * 1024)} MB.",
            errors=[_error("archivo", "Demasiado grande.")],
        )
    content_type = tipo_por_contenido(contenido)
    if content_type is None:
        raise Problem(
            415,
            "El archivo no es JPEG, PNG ni PDF (se revisa su contenido, no su nombre).",
            errors=[_error("archivo", "Formato no admitido.")],
        )
    return content_type


async def exigir_que_recibe(session: AsyncSession, solicitud: Solicitud, proceso: Proceso) -> None:
    if Estado(solicitud.estado) not in ESTADOS_CON_DOCUMENTOS:
        raise Problem(
            409,
            f"La solicitud está en estado {solicitud.estado}: ya no recibe documentos.",
            slug="transicion-invalida",
        )
    await _exigir_lista_abierta(session, proceso, solicitud)


async def sin_codigo(session: AsyncSession, solicitud: Solicitud, tipo: str) -> bool:
    """Whether a document joins at once: one of the application's own, sent while it waits for its first
    review (``recibida``) and not yet there. Any other (after a review, or replacing one) waits for the
    code sent to the contact on file, as every change does."""
    return (
        solicitud.estado == Estado.RECIBIDA.value
        and await repository.documento(session, solicitud.id, tipo) is None
    )


async def guardar_documento(
    session: AsyncSession, folio: str, tipo: str, contenido: bytes, proceso: Proceso, ahora: dt.datetime
) -> Documento:
    """A document of the application being sent (the registration form's, in the same transaction)."""
    content_type = revisar_archivo(tipo, contenido)
    solicitud = await obtener(session, folio, para_actualizar=True)
    await exigir_que_recibe(session, solicitud, proceso)
    return await agregar(session, solicitud, tipo, content_type, contenido, ahora)


async def agregar(
    session: AsyncSession,
    solicitud: Solicitud,
    tipo: str,
    content_type: str,
    contenido: bytes,
    ahora: dt.datetime,
) -> Documento:
    """Into the expediente: new, or replacing the one of that type (the history keeps both hashes)."""
    folio = solicitud.folio
    sha256 = hashlib.sha256(contenido).hexdigest()
    documento = await repository.documento(session, solicitud.id, tipo)
    if documento is None:
        documento = Documento(
            solicitud_id=solicitud.id,
            tipo=tipo,
            content_type=content_type,
            tamano=len(contenido),
            sha256=sha256,
            contenido=contenido,
            recibido_at=ahora,
        )
        session.add(documento)
    else:
        anterior = documento.sha256
        documento.content_type, documento.tamano, documento.sha256 = content_type, len(contenido), sha256
        documento.contenido, documento.recibido_at = contenido, ahora
        await _al_historial(
            session, folio, None, "documento_reemplazado", ahora, tipo=tipo, sha256_anterior=anterior
        )
    await _al_historial(
        session, folio, None, "documento", ahora, tipo=tipo, sha256=sha256, tamano=len(contenido)
    )
    await session.flush()
    return documento


async def alertas(session: AsyncSession, solicitud: Solicitud) -> list[str]:
    avisos = []
    reutilizados = await repository.comprobante_reutilizado(session, solicitud.id)
    if reutilizados:
        avisos.append(
            f"comprobante_reutilizado: el mismo comprobante aparece en {reutilizados} solicitud(es) más"
        )
    return avisos
