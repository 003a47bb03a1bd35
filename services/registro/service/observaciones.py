"""registro · party observations on the LNERE and their resolution."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import repository
from services.registro.models import Observacion
from services.registro.schemas import Resolucion
from services.registro.service.comun import _al_historial
from services.registro.service.validacion import _error
from shared.auth import Principal
from shared.problems import Problem
from shared.proceso import Proceso


async def observar(
    session: AsyncSession,
    entidad: str,
    referencia: str,
    descripcion: str,
    partido: Principal,
    proceso: Proceso,
    ahora: dt.datetime,
) -> Observacion:
    """A party points at one person of the list by the ``referencia`` it sees (it never sees folios)."""
    cal = proceso.calendario
    if not cal.observaciones_inicio <= ahora <= cal.observaciones_fin:
        inicio, fin = proceso.local(cal.observaciones_inicio), proceso.local(cal.observaciones_fin)
        raise Problem(
            409,
            f"Las observaciones se reciben del {inicio:%d/%m/%Y} al {fin:%d/%m/%Y} (hora del Centro).",
            slug="fuera-de-plazo",
        )
    solicitud = await repository.by_referencia(session, referencia)
    if (
        solicitud is None
        or solicitud.proceso != proceso.clave
        or solicitud.entidad != entidad
        or solicitud.estado not in repository.EN_LISTA
    ):
        raise Problem(
            422,
            "Esa referencia no está en la lista de esta entidad.",
            errors=[_error("referencia", "No pertenece a la lista de la entidad.")],
        )
    folio = solicitud.folio
    assert partido.partido is not None
    observacion = Observacion(
        entidad=entidad,
        partido=partido.partido,
        referencia=referencia,
        folio=folio,
        descripcion=descripcion,
        creada_por=partido.sub,
        creada_at=ahora,
    )
    session.add(observacion)
    await session.flush()
    await _al_historial(
        session, folio, partido, "observacion", ahora, observacion=observacion.id, partido=partido.partido
    )
    return observacion


async def resolver_observacion(
    session: AsyncSession, observacion_id: int, datos: Resolucion, operador: Principal, ahora: dt.datetime
) -> Observacion:
    observacion = await repository.observacion(session, observacion_id, para_actualizar=True)
    if observacion is None:
        raise Problem(404, "No existe esa observación.")
    if observacion.estado != "pendiente":
        raise Problem(409, f"La observación ya fue resuelta ({observacion.estado}).", slug="ya-resuelta")
    observacion.estado, observacion.respuesta = datos.resultado, datos.respuesta
    observacion.resuelta_por, observacion.resuelta_at = operador.sub, ahora
    await _al_historial(
        session,
        observacion.folio,
        operador,
        "observacion_resuelta",
        ahora,
        observacion=observacion.id,
        resultado=datos.resultado,
    )
    return observacion
