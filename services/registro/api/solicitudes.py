"""Public: apply, follow by folio, correct, change modality, upload documents."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status

from services.registro import domain
from services.registro import service as registro_service
from services.registro.api.common import FolioPath, errores
from services.registro.domain import Estado
from services.registro.models import Solicitud
from services.registro.schemas import (
    CambioModalidad,
    Correccion,
    DocumentoRecibido,
    Motivo,
    SolicitudCreada,
    SolicitudEstado,
    SolicitudIn,
)
from shared.limites import cuerpo_maximo
from shared.proceso import Proceso
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["solicitudes"])


def estado_publico(solicitud: Solicitud, proceso: Proceso) -> SolicitudEstado:
    catalogo = {**domain.MOTIVOS, **domain.MOTIVOS_BAJA}
    return SolicitudEstado(
        folio=solicitud.folio,
        estado=solicitud.estado,
        motivos=list(solicitud.motivos),
        motivos_detalle=[Motivo(codigo=m, descripcion=catalogo.get(m, m)) for m in solicitud.motivos],
        siguiente_paso=domain.SIGUIENTE_PASO[Estado(solicitud.estado)],
        plazo_aclaracion=proceso.local(solicitud.plazo_aclaracion) if solicitud.plazo_aclaracion else None,
        entidad=solicitud.entidad,
        modalidad=solicitud.modalidad,
        recibida_at=proceso.local(solicitud.recibida_at),
    )


@router.post(
    "/solicitudes",
    status_code=status.HTTP_201_CREATED,
    response_model=SolicitudCreada,
    summary="Solicitar la inscripción en la LNERE (público)",
    description="Valida cada dato y responde 422 nombrando cada campo inválido: formato de la clave de "
    "elector y su coherencia con la fecha de nacimiento y el sexo; entidad con cargo en este proceso; los "
    "datos que exige la modalidad (postal: domicilio completo; electrónica: correo y teléfono). Fuera del "
    "periodo: 422 con `type` `/problemas/extemporanea`. La misma clave de elector dos veces es la misma "
    "persona: 409 con el `folio` existente. El folio devuelto sirve para dar seguimiento.",
    responses=errores(409, 422),
)
async def crear_solicitud(
    datos: SolicitudIn, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> SolicitudCreada:
    solicitud = await registro_service.solicitar(session, datos, proceso, reloj.ahora())
    return SolicitudCreada(folio=solicitud.folio, estado=solicitud.estado)


@router.get(
    "/solicitudes/{folio}",
    response_model=SolicitudEstado,
    summary="Consultar una solicitud por folio (público)",
    description="Estado, motivos y qué hacer después. No muestra datos personales.",
    responses=errores(404),
)
async def consultar_solicitud(folio: FolioPath, session: SessionDep, proceso: ProcesoDep) -> SolicitudEstado:
    return estado_publico(await registro_service.obtener(session, folio), proceso)


@router.patch(
    "/solicitudes/{folio}",
    response_model=SolicitudEstado,
    summary="Corregir una solicitud en aclaración (público, con el folio)",
    description="Dentro del plazo de aclaración; solo cambian los campos enviados. La solicitud vuelve a "
    "revisión (estado `recibida`).",
    responses=errores(404, 409, 422),
)
async def corregir_solicitud(
    folio: FolioPath, datos: Correccion, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> SolicitudEstado:
    solicitud = await registro_service.corregir(session, folio, datos, proceso, reloj.ahora())
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/{folio}/modalidad",
    response_model=SolicitudEstado,
    summary="Cambiar la modalidad de voto antes del corte (público, con el folio)",
    responses=errores(404, 409, 422),
)
async def cambiar_modalidad(
    folio: FolioPath, datos: CambioModalidad, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> SolicitudEstado:
    solicitud = await registro_service.cambiar_modalidad(session, folio, datos, proceso, reloj.ahora())
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/{folio}/documentos",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentoRecibido,
    summary="Subir un documento de la solicitud (público, con el folio)",
    description="Credencial (frente, reverso) o comprobante de domicilio. JPEG, PNG o PDF de hasta 5 MB; "
    "el tipo se comprueba por el contenido, no por el nombre. "
    "Subir otra vez el mismo tipo lo reemplaza (queda en la auditoría).",
    responses=errores(404, 409, 413, 415, 422),
)
@cuerpo_maximo(registro_service.MAX_DOCUMENTO + 64 * 1024)  # the file and the multipart around it
async def subir_documento(
    folio: FolioPath,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    tipo: str = Form(description="credencial_frente, credencial_reverso o comprobante_domicilio"),
    archivo: UploadFile = File(description="La imagen o el PDF"),
) -> DocumentoRecibido:
    contenido = await archivo.read(registro_service.MAX_DOCUMENTO + 1)
    documento = await registro_service.guardar_documento(
        session, folio, tipo, contenido, proceso, reloj.ahora()
    )
    return DocumentoRecibido(
        tipo=documento.tipo,
        content_type=documento.content_type,
        tamano=documento.tamano,
        sha256=documento.sha256,
    )


@router.get("/catalogos/motivos", summary="Catálogo de motivos de improcedencia y de baja (público)")
async def catalogo_motivos() -> dict[str, dict[str, str]]:
    return {"improcedencia": domain.MOTIVOS, "baja": domain.MOTIVOS_BAJA}
