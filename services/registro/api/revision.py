"""INE operators: the work queue in order of receipt, the file, dictamen, aclaración, baja, bulk load."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.registro import repository
from services.registro import service as registro_service
from services.registro.api.common import FolioPath, errores
from services.registro.api.solicitudes import estado_publico
from services.registro.schemas import (
    MAX_DICTAMENES,
    AvisoEnviado,
    Baja,
    CambioVerificado,
    Cola,
    ColaItem,
    Dictamen,
    Dictamenes,
    Domicilio,
    Expediente,
    ReporteDictamenes,
    ReporteLote,
    SolicitudAclaracion,
    SolicitudEstado,
)
from shared.auditoria import registrar_lectura
from shared.auth import Principal, Rol, require
from shared.claves import EntidadQuery
from shared.limites import cuerpo_maximo
from shared.notificaciones import enmascarar
from shared.problems import Problem
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["revisión"])

Operador = Annotated[Principal, Depends(require(Rol.INE_OPERADOR, Rol.INE_ADMIN))]
MAX_LOTE = 20 * 1024 * 1024


def _cursor(valor: str | None) -> tuple[dt.datetime, int] | None:
    if not valor:
        return None
    try:
        instante, ident = base64.urlsafe_b64decode(valor.encode()).decode().rsplit("|", 1)
        return dt.datetime.fromisoformat(instante), int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            422,
            "Cursor inválido: use el valor `siguiente` de la página anterior.",
            errors=[{"campo": "despues", "mensaje": "Cursor inválido."}],
        ) from exc


@router.get(
    "/revision/cola",
    response_model=Cola,
    summary="Cola de revisión en orden de llegada (ine-operador)",
    description="Solicitudes por dictaminar (`recibida`, incluidas las corregidas), las más antiguas primero "
    "(LGIPE 335). Paginación con `despues`.",
    responses=errores(401, 403, 422),
)
async def cola(
    session: SessionDep,
    _: Operador,
    limite: int = Query(50, ge=1, le=500),
    despues: str | None = Query(None, description="Cursor `siguiente` de la página anterior"),
    entidad: EntidadQuery = None,
) -> Cola:
    filas = await repository.cola(session, limite, _cursor(despues), ["recibida"], entidad)
    docs = await repository.tipos_documento(session, [f.id for f in filas])
    siguiente = None
    if len(filas) == limite:
        ultimo = filas[-1]
        siguiente = base64.urlsafe_b64encode(
            f"{ultimo.recibida_at.isoformat()}|{ultimo.id}".encode()
        ).decode()
    return Cola(
        solicitudes=[
            ColaItem(
                folio=f.folio,
                entidad=f.entidad,
                pais=f.pais,
                modalidad=f.modalidad,
                estado=f.estado,
                recibida_at=f.recibida_at,
                documentos=docs.get(f.id, []),
            )
            for f in filas
        ],
        siguiente=siguiente,
    )


@router.get(
    "/solicitudes/{folio}/expediente",
    response_model=Expediente,
    summary="Expediente completo para revisar (ine-operador)",
    responses=errores(401, 403, 404),
)
async def expediente(folio: FolioPath, request: Request, session: SessionDep, _: Operador) -> Expediente:
    s = await registro_service.obtener(session, folio)
    await registrar_lectura(session, request, recurso="expediente")
    docs = await repository.tipos_documento(session, [s.id])
    return Expediente(
        folio=s.folio,
        estado=s.estado,
        motivos=list(s.motivos),
        clave_elector=s.clave_elector,
        nombre=s.nombre,
        apellido_paterno=s.apellido_paterno,
        apellido_materno=s.apellido_materno,
        fecha_nacimiento=s.fecha_nacimiento,
        sexo=s.sexo,
        entidad=s.entidad,
        pais=s.pais,
        domicilio=Domicilio(
            calle_numero=s.calle_numero, ciudad=s.ciudad, region=s.region, codigo_postal=s.codigo_postal
        ),
        email=s.email,
        telefono=s.telefono,
        modalidad=s.modalidad,
        sede=s.sede,
        canal=s.canal,
        recibida_at=s.recibida_at,
        plazo_aclaracion=s.plazo_aclaracion,
        documentos=docs.get(s.id, []),
        alertas=await registro_service.alertas(session, s),
        avisos=[
            AvisoEnviado(
                plantilla=a.plantilla,
                canal=a.canal,
                destino=enmascarar(a.destino),
                estado=a.estado,
                intentos=a.intentos,
                error=a.error,
                creada_at=a.creada_at,
                enviada_at=a.enviada_at,
            )
            for a in await repository.avisos(session, s.referencia)
        ],
    )


@router.get(
    "/solicitudes/{folio}/documentos/{tipo}",
    summary="Descargar un documento (ine-operador)",
    response_class=Response,
    responses=errores(401, 403, 404),
)
async def documento(
    folio: FolioPath, tipo: str, request: Request, session: SessionDep, _: Operador
) -> Response:
    s = await registro_service.obtener(session, folio)
    doc = await repository.documento(session, s.id, tipo)
    if doc is None:
        raise Problem(404, f"La solicitud no tiene documento {tipo}.")
    await registrar_lectura(session, request, recurso="documento")
    return Response(
        doc.contenido,
        media_type=doc.content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/solicitudes/{folio}/dictamen",
    response_model=SolicitudEstado,
    summary="Dictaminar: procedente o improcedente con motivos (ine-operador)",
    responses=errores(401, 403, 404, 409, 422),
)
async def dictaminar(
    folio: FolioPath,
    dictamen: Dictamen,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
) -> SolicitudEstado:
    solicitud = await registro_service.dictaminar(session, folio, dictamen, proceso, operador, reloj.ahora())
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/dictamenes",
    response_model=ReporteDictamenes,
    summary="Dictaminar un lote de solicitudes (ine-operador)",
    description=f"Hasta {MAX_DICTAMENES} dictámenes en una sola transacción, cada uno como en "
    "`POST /v1/solicitudes/{folio}/dictamen` (evento y bitácora por solicitud). Todo o nada: si alguno no "
    "procede, no se aplica ninguno y la respuesta 422 nombra cada uno (`dictamenes[i]`). Reenviar el mismo "
    "lote no repite nada: la solicitud que ya tiene ese dictamen cuenta en `sin_cambio`.",
    responses=errores(401, 403, 422),
)
async def dictaminar_lote(
    datos: Dictamenes,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
) -> ReporteDictamenes:
    return await registro_service.dictaminar_lote(session, datos.dictamenes, proceso, operador, reloj.ahora())


@router.post(
    "/solicitudes/{folio}/aclaracion",
    response_model=SolicitudEstado,
    summary="Pedir a la ciudadanía que aclare o corrija (ine-operador)",
    description="La persona puede corregir hasta el plazo de aclaración del proceso.",
    responses=errores(401, 403, 404, 409, 422),
)
async def aclaracion(
    folio: FolioPath,
    datos: SolicitudAclaracion,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
) -> SolicitudEstado:
    solicitud = await registro_service.pedir_aclaracion(
        session, folio, datos, proceso, operador, reloj.ahora()
    )
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/{folio}/baja",
    response_model=SolicitudEstado,
    summary="Dar de baja una solicitud (ine-operador)",
    responses=errores(401, 403, 404, 409, 422),
)
async def baja(
    folio: FolioPath,
    datos: Baja,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
) -> SolicitudEstado:
    solicitud = await registro_service.dar_de_baja(session, folio, datos, proceso, operador, reloj.ahora())
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/{folio}/cambio-verificado",
    response_model=SolicitudEstado,
    summary="Aplicar un cambio tras verificar la identidad (ine-operador)",
    description="Para quien ya no tiene acceso a su correo o teléfono registrados (motivo "
    "`contacto_inaccesible`) y por eso no puede recibir el código de confirmación: el INE verificó su "
    "identidad por otro medio (`verificacion`) y aplica el cambio directamente (datos de contacto, "
    "domicilio, nombre, modalidad antes del corte), con las mismas reglas de datos. Queda en la bitácora con "
    "quien lo aplicó; el contacto anterior y el nuevo reciben un aviso. Quita el motivo "
    "`contacto_inaccesible`: si la solicitud estaba en aclaración solo por él, vuelve a revisión "
    "(`recibida`).",
    responses=errores(401, 403, 404, 409, 422),
)
async def cambio_verificado(
    folio: FolioPath,
    datos: CambioVerificado,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
) -> SolicitudEstado:
    solicitud = await registro_service.cambio_verificado(
        session, folio, datos, proceso, operador, reloj.ahora()
    )
    return estado_publico(solicitud, proceso)


@router.post(
    "/solicitudes/lote",
    response_model=ReporteLote,
    summary="Carga masiva desde CSV (canal telefónico INETEL) (ine-operador)",
    description="Cuerpo `text/csv` en UTF-8 con cabecera: " + ",".join(registro_service.COLUMNAS) + ". "
    "Cada fila se valida como una solicitud. Estricto por omisión: si alguna fila se rechaza no se carga "
    "nada y la respuesta 422 trae el reporte por fila. Con `parcial=true` se cargan las válidas y se "
    "reportan las rechazadas. Nunca queda una carga a medias.",
    responses=errores(401, 403, 413, 422),
)
@cuerpo_maximo(MAX_LOTE)
async def lote(
    request: Request,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    operador: Operador,
    parcial: bool = Query(False, description="Cargar las filas válidas aunque haya rechazadas"),
) -> ReporteLote:
    contenido = bytearray()
    async for chunk in request.stream():
        contenido += chunk
        if len(contenido) > MAX_LOTE:
            raise Problem(413, f"El archivo supera {MAX_LOTE // (1024 * 1024)} MB; divídalo.")
    return await registro_service.cargar_lote(
        session, bytes(contenido), proceso, operador, reloj.ahora(), parcial
    )
