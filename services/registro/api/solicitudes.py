"""Public: apply, follow by folio, ask for a correction or a change of modality and confirm it with the code
sent to the contact on file, say the contact is lost, upload documents."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response

from services.registro import domain
from services.registro import service as registro_service
from services.registro.api.common import FolioPath, errores
from services.registro.domain import Estado
from services.registro.models import CambioPendiente, Solicitud
from services.registro.schemas import (
    CambioModalidad,
    CatalogoMotivos,
    CatalogoSedes,
    ConfirmacionIn,
    ConfirmacionPendiente,
    Correccion,
    DocumentoRecibido,
    Motivo,
    SedeConsular,
    SinAcceso,
    SolicitudCreada,
    SolicitudEstado,
    SolicitudIn,
)
from shared.limites import cuerpo_maximo
from shared.problems import responder
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
        sede=solicitud.sede,
        recibida_at=proceso.local(solicitud.recibida_at),
    )


DUPLICADA = {
    "description": "Ya existe una solicitud con esa clave de elector. No dice su folio ni su estado: el "
    "folio se reenvía al contacto registrado en esa solicitud (a lo más una vez cada 15 minutos) y "
    "`contacto` lo muestra enmascarado; `reenviado` dice si esta vez se reenvió.",
    "content": {
        "application/problem+json": {
            "example": {
                "type": "/problemas/solicitud-duplicada",
                "title": "Conflicto",
                "status": 409,
                "detail": "Ya existe una solicitud con esta clave de elector en este proceso. Por "
                "seguridad, su folio no se muestra aquí: lo reenviamos al contacto registrado en la "
                "solicitud (m***@example.com).",
                "instance": "/v1/solicitudes",
                "contacto": ["m***@example.com"],
                "reenviado": True,
            }
        }
    },
}


@router.post(
    "/solicitudes",
    status_code=status.HTTP_201_CREATED,
    response_model=SolicitudCreada,
    summary="Solicitar la inscripción en la LNERE (público)",
    description="Valida cada dato y responde 422 nombrando cada campo inválido: formato de la clave de "
    "elector y su coherencia con la fecha de nacimiento y el sexo; entidad con cargo en este proceso; los "
    "datos que exige la modalidad (postal: domicilio completo; electrónica: correo y teléfono); y al menos "
    "un correo o un teléfono en toda solicitud (ahí llegan el folio, los códigos y los avisos). Fuera del "
    "periodo: 422 con `type` `/problemas/extemporanea`. El folio devuelto es la llave de la solicitud: "
    "también llega al contacto registrado y no se vuelve a mostrar. La misma clave de elector dos veces es "
    "la misma persona: 409 `/problemas/solicitud-duplicada` **sin** folio ni estado; el folio se reenvía al "
    "contacto registrado en la solicitud existente.",
    responses={**errores(422), 409: DUPLICADA},
)
async def crear_solicitud(
    datos: SolicitudIn, request: Request, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> SolicitudCreada | Response:
    try:
        solicitud = await registro_service.solicitar(session, datos, proceso, reloj.ahora())
    except registro_service.SolicitudDuplicada as duplicada:
        # Answered, not raised: the re-sent folio is committed with the request.
        problema = await registro_service.reenviar_folio(session, duplicada.existente, proceso, reloj.ahora())
        return responder(request, problema)
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


def _pendiente(cambio: CambioPendiente, enviado_a: list[str], proceso: Proceso) -> ConfirmacionPendiente:
    return ConfirmacionPendiente(
        confirmacion=cambio.confirmacion, enviado_a=enviado_a, vence_at=proceso.local(cambio.expira_at)
    )


CONFIRMAR = (
    " **No aplica nada todavía**: valida el pedido como si lo aplicara (mismos 404, 409 y 422) y envía un "
    "código de 6 dígitos al contacto **ya registrado** en la solicitud (el correo, o el teléfono si no hay "
    "correo; nunca al contacto nuevo). Responde 202 con `confirmacion`; el cambio se aplica con "
    "`POST /v1/solicitudes/{folio}/confirmacion` y ese código, en 10 minutos. Un pedido nuevo anula el "
    "código anterior; a lo más 5 códigos por solicitud en una hora (429). ¿Ya no tiene acceso a ese "
    "contacto? `POST /v1/solicitudes/{folio}/sin-acceso`."
)


@router.patch(
    "/solicitudes/{folio}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ConfirmacionPendiente,
    summary="Pedir una corrección de una solicitud en aclaración (público, con el folio y un código)",
    description="Dentro del plazo de aclaración; solo cambian los campos enviados y, al confirmarse, la "
    "solicitud vuelve a revisión (estado `recibida`)." + CONFIRMAR,
    responses=errores(404, 409, 422, 429),
)
async def corregir_solicitud(
    folio: FolioPath, datos: Correccion, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> ConfirmacionPendiente:
    cambio, enviado_a = await registro_service.pedir_correccion(session, folio, datos, proceso, reloj.ahora())
    return _pendiente(cambio, enviado_a, proceso)


@router.post(
    "/solicitudes/{folio}/modalidad",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ConfirmacionPendiente,
    summary="Pedir el cambio de modalidad de voto antes del corte (público, con el folio y un código)",
    description="Con los datos que exige la nueva modalidad (postal: domicilio; electrónica: correo y "
    "teléfono)." + CONFIRMAR,
    responses=errores(404, 409, 422, 429),
)
async def cambiar_modalidad(
    folio: FolioPath, datos: CambioModalidad, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> ConfirmacionPendiente:
    cambio, enviado_a = await registro_service.pedir_cambio_modalidad(
        session, folio, datos, proceso, reloj.ahora()
    )
    return _pendiente(cambio, enviado_a, proceso)


@router.post(
    "/solicitudes/{folio}/confirmacion",
    response_model=SolicitudEstado,
    summary="Confirmar un cambio con el código recibido (público, con el folio)",
    description="Aplica el cambio pedido con `PATCH /v1/solicitudes/{folio}`, "
    "`POST /v1/solicitudes/{folio}/modalidad` o `POST /v1/solicitudes/{folio}/documentos` (202), con el "
    "código de 6 dígitos que llegó al contacto registrado. "
    "Vuelve a revisar en ese momento el estado de la solicitud, el plazo y el cierre de la LNERE. El código "
    "sirve una sola vez y 10 minutos; un código equivocado responde 422 `/problemas/codigo-incorrecto` con "
    "`intentos_restantes`; al quinto la confirmación queda anulada (409 "
    "`/problemas/confirmacion-bloqueada`). También 409 `/problemas/confirmacion-usada`, "
    "`confirmacion-vencida` o `confirmacion-anulada`. Aplicado el cambio, el contacto anterior (correo y "
    "teléfono) recibe un aviso de lo que cambió.",
    responses=errores(404, 409, 422),
)
async def confirmar(
    folio: FolioPath,
    datos: ConfirmacionIn,
    request: Request,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
) -> SolicitudEstado | Response:
    try:
        solicitud = await registro_service.confirmar_cambio(session, folio, datos, proceso, reloj.ahora())
    except registro_service.RechazoConEfecto as rechazo:
        return responder(request, rechazo.problem)  # the wrong try is committed: it counts
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/{folio}/sin-acceso",
    response_model=SolicitudEstado,
    summary="Avisar que ya no tiene acceso al correo o teléfono registrados (público, con el folio)",
    description="Sin acceso al contacto registrado no puede recibir el código que confirma un cambio: la "
    "solicitud pasa a revisión del INE (estado `en_aclaracion`, motivo `contacto_inaccesible`) y **no cambia "
    "ningún dato**; el INE verifica la identidad (INETEL) y aplica el cambio. El contacto registrado recibe "
    "un aviso. Avisar otra vez no cambia nada ni envía otro aviso.",
    responses=errores(404, 409, 422),
)
async def sin_acceso(
    folio: FolioPath, datos: SinAcceso, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep
) -> SolicitudEstado:
    solicitud = await registro_service.sin_acceso(session, folio, datos, proceso, reloj.ahora())
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/{folio}/documentos",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentoRecibido,
    summary="Subir un documento de la solicitud (público, con el folio; tras la revisión, con un código)",
    description="Credencial (frente, reverso) o comprobante de domicilio. JPEG, PNG o PDF de hasta 5 MB; "
    "el tipo se comprueba por el contenido, no por el nombre.\n\n"
    "- **201**: mientras la solicitud espera su primera revisión (`recibida`), un documento que todavía no "
    "tiene entra al expediente.\n"
    "- **202** `ConfirmacionPendiente`: cualquier otro (en aclaración, improcedente, o que reemplaza uno ya "
    "enviado) **no entra todavía**: se guarda aparte y un código de 6 dígitos va al contacto **ya "
    "registrado**; entra al expediente con `POST /v1/solicitudes/{folio}/confirmacion` y ese código, en 10 "
    "minutos (el reemplazo queda en el historial con los dos hashes). Un pedido nuevo anula el anterior y su "
    "archivo; a lo más 5 códigos por solicitud en una hora (429).",
    responses={
        202: {"model": ConfirmacionPendiente, "description": "Documento en espera del código"},
        **errores(400, 404, 409, 413, 415, 422, 429),
    },
)
@cuerpo_maximo(registro_service.MAX_DOCUMENTO + 64 * 1024)  # the file and the multipart around it
async def subir_documento(
    folio: FolioPath,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    tipo: str = Form(description="credencial_frente, credencial_reverso o comprobante_domicilio"),
    archivo: UploadFile = File(description="La imagen o el PDF"),
) -> DocumentoRecibido | JSONResponse:
    contenido = await archivo.read(registro_service.MAX_DOCUMENTO + 1)
    resultado = await registro_service.pedir_documento(
        session, folio, tipo, contenido, proceso, reloj.ahora()
    )
    if isinstance(resultado, tuple):
        cambio, enviado_a = resultado
        return JSONResponse(
            _pendiente(cambio, enviado_a, proceso).model_dump(mode="json"),
            status_code=status.HTTP_202_ACCEPTED,
        )
    return DocumentoRecibido(
        tipo=resultado.tipo,
        content_type=resultado.content_type,
        tamano=resultado.tamano,
        sha256=resultado.sha256,
    )


@router.get("/catalogos/motivos", summary="Catálogo de motivos de improcedencia y de baja (público)")
async def catalogo_motivos() -> CatalogoMotivos:
    return CatalogoMotivos(improcedencia=domain.MOTIVOS, baja=domain.MOTIVOS_BAJA)


@router.get(
    "/catalogos/sedes",
    summary="Sedes consulares del voto presencial (público)",
    description="Las sedes donde vota en persona quien eligió la modalidad presencial, con su horario del "
    "día de la jornada en hora local y en hora del Centro. Vacío si el proceso no tiene esa modalidad.",
)
async def catalogo_sedes(proceso: ProcesoDep) -> CatalogoSedes:
    sedes = []
    for clave, s in sorted(proceso.sedes.items(), key=lambda x: (x[1].pais, x[1].ciudad)):
        apertura, cierre = proceso.horario(clave)
        sedes.append(
            SedeConsular(
                clave=clave,
                nombre=s.nombre,
                ciudad=s.ciudad,
                pais=s.pais,
                zona_horaria=s.zona_horaria,
                apertura_local=f"{s.apertura:%H:%M}",
                cierre_local=f"{s.cierre:%H:%M}",
                apertura=proceso.local(apertura),
                cierre=proceso.local(cierre),
            )
        )
    return CatalogoSedes(modalidad_presencial="presencial" in proceso.modalidades, sedes=sedes)
