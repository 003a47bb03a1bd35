"""registro · closing an entidad's LNERE."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import avisos, repository
from services.registro.domain import Estado
from services.registro.models import CierreLnere, Notificacion, emisor
from services.registro.service.comun import _al_historial
from shared.auth import Principal
from shared.bus.topics import REGISTRO_LNERE, REGISTRO_LNERE_ELECTRONICA, REGISTRO_LNERE_POSTAL
from shared.events import registro as eventos
from shared.notificaciones import Aviso, encolar
from shared.problems import Problem
from shared.proceso import Proceso


async def cerrar_lnere(
    session: AsyncSession, entidad: str, proceso: Proceso, admin: Principal, ahora: dt.datetime
) -> tuple[CierreLnere, int]:
    """Freeze the entidad's list: procedentes become inscritas, numbered in order of receipt, and each
    consumer gets what it needs. Closing again returns the same close and changes nothing."""
    if entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")
    if ahora < proceso.calendario.registro_fin:
        fin = proceso.local(proceso.calendario.registro_fin)
        raise Problem(
            409,
            f"El periodo de solicitudes sigue abierto hasta el {fin:%d/%m/%Y %H:%M} (hora del "
            "Centro); la LNERE se cierra después.",
            slug="periodo-abierto",
        )
    nuevo = await repository.insertar_cierre(
        session,
        {
            "proceso": proceso.clave,
            "entidad": entidad,
            "total": 0,
            "postal": 0,
            "electronica": 0,
            "presencial": 0,
            "cerrada_por": admin.sub,
            "cerrada_at": ahora,
        },
    )
    cierre = await repository.cierre(session, proceso.clave, entidad)
    assert cierre is not None
    pendientes = await repository.contar_pendientes(session, proceso.clave, entidad)
    if not nuevo:
        return cierre, pendientes

    inscritas = await repository.procedentes(session, proceso.clave, entidad)
    por_pais: dict[str, Counter[str]] = defaultdict(Counter)
    por_sede: Counter[str] = Counter()
    mensajes: list[Aviso] = []
    for numero, s in enumerate(inscritas, start=1):
        s.numero_lnere, s.estado, s.version, s.actualizada_at = (
            numero,
            Estado.INSCRITA.value,
            s.version + 1,
            ahora,
        )
        por_pais[s.pais][s.modalidad] += 1
        mensajes.append(avisos.inscripcion(s, proceso))
        aggregate = f"{entidad}-{numero:07d}"
        nombre = {
            "nombre": s.nombre,
            "apellido_paterno": s.apellido_paterno,
            "apellido_materno": s.apellido_materno,
        }
        if s.modalidad == "postal":
            assert s.calle_numero
            assert s.ciudad
            assert s.codigo_postal
            data: BaseModel = eventos.InscritoPostal(
                entidad=entidad,
                numero=numero,
                folio=s.folio,
                clave_elector=s.clave_elector,
                **nombre,
                domicilio=eventos.DomicilioPostal(
                    calle_numero=s.calle_numero,
                    ciudad=s.ciudad,
                    region=s.region,
                    codigo_postal=s.codigo_postal,
                    pais=s.pais,
                ),
                email=s.email,
                telefono=s.telefono,
            )
            await emisor.emitir(
                session,
                REGISTRO_LNERE_POSTAL,
                event_type=eventos.LNERE_POSTAL_INSCRITO,
                aggregate_id=aggregate,
                data=data,
            )
        elif s.modalidad == "presencial":
            # Votes at its consular site on election day: no package, no remote credential (its credentials
            # are sealed to the site's key). The names of each site's list stay here, for its staff.
            assert s.sede
            por_sede[s.sede] += 1
            await emisor.emitir(
                session,
                REGISTRO_LNERE_ELECTRONICA,
                event_type=eventos.LNERE_PRESENCIAL_INSCRITO,
                aggregate_id=aggregate,
                data=eventos.InscritoPresencial(entidad=entidad, numero=numero, sede=s.sede),
            )
        else:
            assert s.email
            assert s.telefono
            data = eventos.InscritoElectronica(
                entidad=entidad, numero=numero, **nombre, email=s.email, telefono=s.telefono
            )
            await emisor.emitir(
                session,
                REGISTRO_LNERE_ELECTRONICA,
                event_type=eventos.LNERE_ELECTRONICA_INSCRITO,
                aggregate_id=aggregate,
                data=data,
            )
    postal = sum(c["postal"] for c in por_pais.values())
    electronica = sum(c["electronica"] for c in por_pais.values())
    presencial = sum(por_sede.values())
    cierre.total, cierre.postal, cierre.electronica = len(inscritas), postal, electronica
    cierre.presencial = presencial
    await emisor.emitir(
        session,
        REGISTRO_LNERE,
        event_type=eventos.LNERE_CERRADA,
        aggregate_id=f"{proceso.clave}-{entidad}",
        data=eventos.LnereCerrada(
            entidad=entidad,
            total=len(inscritas),
            postal=postal,
            electronica=electronica,
            presencial=presencial,
            por_pais={p: dict(c) for p, c in sorted(por_pais.items())},
            por_sede=dict(sorted(por_sede.items())),
            cerrada_at=ahora,
        ),
    )
    await _al_historial(
        session,
        None,
        admin,
        "cierre_lnere",
        ahora,
        entidad=entidad,
        total=len(inscritas),
        postal=postal,
        electronica=electronica,
        presencial=presencial,
        pendientes=pendientes,
    )
    await encolar(session, Notificacion, mensajes, ahora)  # every inscription notice in one insert
    await session.flush()
    return cierre, pendientes
