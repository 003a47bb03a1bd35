"""The late SPVs' documents (LGIPE 345.2), shared by the API (``/v1/extemporaneos/…``) and the staff console
(``/consola/postal/extemporaneos``): the list by sender as each role may read it, and the printable act of
their destruction. One construction, so both routes serve the same bytes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.postal import service as postal_service
from services.postal.models import ActaDestruccion, Paquete, Sobre
from services.postal.schemas import Remitente
from shared.auth import Principal, Rol
from shared.datos_personales import enmascarar_nombre
from shared.documento_pdf import Documento
from shared.problems import Problem
from shared.proceso import Proceso


def remitentes(filas: list[tuple[Sobre, Paquete]], proceso: Proceso, principal: Principal) -> list[Remitente]:
    """Names in full only for INE's admin, who presides the destruction; masked for the OPL and the auditor
    (enough to spot an oddity, not to identify)."""
    completo = principal.rol == Rol.INE_ADMIN
    return [
        Remitente(
            numero=p.numero,
            nombre=p.nombre if completo else enmascarar_nombre(p.nombre),
            pais=p.pais,
            recibido_at=proceso.local(s.recibido_at),
            acta_destruccion=s.acta_destruccion_id,
        )
        for s, p in filas
    ]


def pdf_destruccion(registro: ActaDestruccion, lista: list[Remitente], proceso: Proceso) -> bytes:
    """The printable act: where and when, how many envelopes, the senders (``lista``, as the reader may see
    them) and a signature line for each attendee."""
    entidad = registro.entidad
    ent = proceso.entidades[entidad]
    doc = Documento(f"Acta de destrucción de sobres extemporáneos {entidad}-{registro.id}")
    doc.parrafo(f"Proceso: {proceso.nombre} · Entidad: {entidad} {ent.nombre}")
    doc.parrafo(
        f"En {registro.lugar}, el {proceso.local(registro.celebrada_at):%d/%m/%Y a las %H:%M} "
        "(hora del Centro), "
        f"se destruyeron sin abrir {registro.sobres} Sobres-Postales-Voto recibidos después del límite del "
        f"{proceso.local(proceso.calendario.recepcion_spv_limite):%d/%m/%Y %H:%M} (LGIPE, artículo 345.2), "
        "ante las personas que firman."
    )
    doc.seccion("Relación de remitentes")
    doc.tabla(
        ("Número LNERE", "Nombre", "País", "Recibido (Centro)"),
        [(r.numero, r.nombre, r.pais, f"{r.recibido_at:%d/%m/%Y %H:%M}") for r in lista],
        (30, 90, 20, 45),
    )
    doc.seccion("Asistentes")
    doc.firmas([(a["nombre"], a["cargo"]) for a in registro.asistentes])
    doc.parrafo(f"Registró: {registro.registrada_por}", tamano=8)
    return doc.bytes()


async def acta_pdf(
    session: AsyncSession, entidad: str, acta: int, proceso: Proceso, principal: Principal
) -> bytes:
    """The act ``acta`` of the entidad as a PDF for ``principal`` (404 when the entidad has no such act)."""
    actas = {a.id: a for a in await postal_service.actas_destruccion(session, entidad, proceso)}
    if acta not in actas:
        raise Problem(404, f"No hay acta de destrucción {acta} en la entidad {entidad}.")
    filas = [
        (s, p) for s, p in await postal_service.extemporaneos(session, entidad, proceso)
        if s.acta_destruccion_id == acta
    ]  # fmt: skip
    return pdf_destruccion(actas[acta], remitentes(filas, proceso, principal), proceso)
