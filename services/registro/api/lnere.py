"""The list per entidad: party review (masked), observations, and the close (ine-admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.registro import repository
from services.registro import service as registro_service
from services.registro.api.common import errores
from services.registro.models import Observacion
from services.registro.schemas import Cierre, Lista, ListaItem, ObservacionIn, ObservacionOut, Resolucion
from shared.auth import Principal, Rol, require
from shared.claves import EntidadPath
from shared.datos_personales import enmascarar_nombre
from shared.db import ENTERO_MAX
from shared.web import ProcesoDep, RelojDep, SessionDep

router = APIRouter(prefix="/v1", tags=["lnere"])

Lector = Annotated[Principal, Depends(require(Rol.PARTIDO, Rol.INE_OPERADOR, Rol.INE_ADMIN, Rol.AUDITOR))]
Partido = Annotated[Principal, Depends(require(Rol.PARTIDO))]
Operador = Annotated[Principal, Depends(require(Rol.INE_OPERADOR, Rol.INE_ADMIN))]
Admin = Annotated[Principal, Depends(require(Rol.INE_ADMIN))]


def ve_folios(principal: Principal) -> bool:
    """Only INE operators see folios; parties and auditors see the opaque referencia."""
    return principal.rol in (Rol.INE_OPERADOR, Rol.INE_ADMIN)


def _observacion(o: Observacion, con_folio: bool) -> ObservacionOut:
    return ObservacionOut(
        id=o.id,
        entidad=o.entidad,
        partido=o.partido,
        referencia=o.referencia,
        **({"folio": o.folio} if con_folio else {}),
        descripcion=o.descripcion,
        estado=o.estado,
        respuesta=o.respuesta,
        creada_at=o.creada_at,
        resuelta_at=o.resuelta_at,
    )


@router.get(
    "/lnere/{entidad}",
    response_model=Lista,
    response_model_exclude_unset=True,
    summary="Lista de la entidad para revisión de partidos, con datos personales enmascarados",
    description="Personas con solicitud procedente o inscrita. Los nombres van enmascarados; nunca se "
    "muestran domicilio, correo, teléfono ni clave de elector (LGIPE 338). Cada persona se identifica por "
    "su `referencia` (opaca; con ella se observa) y, tras el cierre, su `numero` en la LNERE. El folio es "
    "la llave de la persona: solo lo ven ine-operador e ine-admin (campo `folio`); para partidos y "
    "auditoría el campo no aparece.",
    responses=errores(401, 403, 422),
)
async def lista(
    entidad: EntidadPath,
    session: SessionDep,
    proceso: ProcesoDep,
    principal: Lector,
    limite: int = Query(100, ge=1, le=1000),
    despues: int = Query(0, ge=0, le=ENTERO_MAX, description="Cursor `siguiente`"),
) -> Lista:
    total, filas = await repository.lista(session, proceso.clave, entidad, limite, despues)
    con_folio = ve_folios(principal)
    return Lista(
        entidad=entidad,
        total=total,
        personas=[
            ListaItem(
                numero=f.numero_lnere,
                referencia=f.referencia,
                **({"folio": f.folio} if con_folio else {}),
                nombre=enmascarar_nombre(f"{f.nombre} {f.apellido_paterno} {f.apellido_materno}"),
                pais=f.pais,
                modalidad=f.modalidad,
                estado=f.estado,
            )
            for f in filas
        ],
        siguiente=filas[-1].id if len(filas) == limite else None,
    )


@router.post(
    "/lnere/{entidad}/observaciones",
    response_model=ObservacionOut,
    response_model_exclude_unset=True,
    status_code=201,
    summary="Registrar una observación de partido sobre la lista (partido)",
    description="Sobre una persona de la lista, por su `referencia`. Solo dentro del periodo de "
    "observaciones del calendario.",
    responses=errores(401, 403, 409, 422),
)
async def observar(
    entidad: EntidadPath,
    datos: ObservacionIn,
    session: SessionDep,
    proceso: ProcesoDep,
    reloj: RelojDep,
    partido: Partido,
) -> ObservacionOut:
    o = await registro_service.observar(
        session, entidad, datos.referencia, datos.descripcion, partido, proceso, reloj.ahora()
    )
    return _observacion(o, con_folio=False)


@router.get(
    "/lnere/{entidad}/observaciones",
    response_model=list[ObservacionOut],
    response_model_exclude_unset=True,
    summary="Observaciones de la entidad (un partido ve las suyas; el INE, todas)",
    description="Cada una con la `referencia` de la persona observada; el `folio`, solo para ine-operador e "
    "ine-admin.",
    responses=errores(401, 403, 422),
)
async def observaciones(entidad: EntidadPath, session: SessionDep, principal: Lector) -> list[ObservacionOut]:
    partido = principal.partido if principal.rol == Rol.PARTIDO else None
    con_folio = ve_folios(principal)
    return [_observacion(o, con_folio) for o in await repository.observaciones(session, entidad, partido)]


@router.post(
    "/observaciones/{observacion_id}/resolucion",
    response_model=ObservacionOut,
    response_model_exclude_unset=True,
    summary="Resolver una observación (ine-operador)",
    responses=errores(401, 403, 404, 409, 422),
)
async def resolver(
    datos: Resolucion,
    session: SessionDep,
    reloj: RelojDep,
    operador: Operador,
    observacion_id: int = Path(ge=1, le=ENTERO_MAX),
) -> ObservacionOut:
    return _observacion(
        await registro_service.resolver_observacion(session, observacion_id, datos, operador, reloj.ahora()),
        con_folio=True,
    )


@router.post(
    "/lnere/{entidad}/cierre",
    response_model=Cierre,
    summary="Cerrar la LNERE de una entidad (ine-admin)",
    description="Al corte: las solicitudes procedentes quedan inscritas, numeradas en orden de llegada; "
    "postal recibe nombre y domicilio de quienes votan por correo y electrónico el contacto de quienes votan "
    "por internet; quienes votan en persona quedan en la lista de su sede consular. Cerrar otra vez no "
    "cambia nada y devuelve el mismo cierre. Después del cierre, toda "
    "solicitud para la entidad es extemporánea.",
    responses=errores(401, 403, 404, 409),
)
async def cerrar(
    entidad: EntidadPath, session: SessionDep, proceso: ProcesoDep, reloj: RelojDep, admin: Admin
) -> Cierre:
    cierre, pendientes = await registro_service.cerrar_lnere(session, entidad, proceso, admin, reloj.ahora())
    return Cierre(
        entidad=cierre.entidad,
        total=cierre.total,
        postal=cierre.postal,
        electronica=cierre.electronica,
        presencial=cierre.presencial,
        cerrada_at=proceso.local(cierre.cerrada_at),
        pendientes=pendientes,
    )
