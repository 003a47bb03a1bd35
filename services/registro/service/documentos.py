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


async def guardar_documento(
    session: AsyncSession, folio: str, tipo: str, contenido: bytes, proceso: Proceso, ahora: dt.datetime
) -> Documento:
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
    solicitud = await obtener(session, folio, para_actualizar=True)
    if Estado(solicitud.estado) not in {Estado.RECIBIDA, Estado.EN_ACLARACION, Estado.IMPROCEDENTE}:
        raise Problem(
            409,
            f"La solicitud está en estado {solicitud.estado}: ya no recibe documentos.",
            slug="transicion-invalida",
        )
    await _exigir_lista_abierta(session, proceso, solicitud)
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
    else:  # replaced during aclaración: the audit record keeps both hashes
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
