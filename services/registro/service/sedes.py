"""Election day at a consular site (#27): the extra ballots for citizens with a valid voter ID who are not on
the LNERE. Each one counts against the site's cap (the process file's ``boletas_adicionales``) and is kept by
clave de elector, so that the same person gets no other ballot; a person on the list votes with the list.
The database holds both rules: a parallel burst hands out no more than the cap and one ballot per clave."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro.domain import Estado
from services.registro.models import BoletaAdicional, BoletasSede, BoletasSedeEntidad, Solicitud, emisor
from shared.auth import Principal
from shared.bus.topics import REGISTRO_LNERE, REGISTRO_LNERE_ELECTRONICA
from shared.db import insert_if_absent
from shared.events import registro as eventos
from shared.problems import Problem
from shared.proceso import Proceso
from shared.sedes import abierta, personal_de, sede_o_404


async def inscrita(session: AsyncSession, proceso: Proceso, clave_elector: str) -> Solicitud | None:
    """The LNERE entry of this voter ID (by its blind index), if the person is on the closed list."""
    return await session.scalar(
        select(Solicitud).where(
            Solicitud.proceso == proceso.clave,
            Solicitud.clave_elector_indice == clave_elector,
            Solicitud.estado == Estado.INSCRITA,
        )
    )


async def estado(session: AsyncSession, proceso: Proceso, sede: str) -> dict[str, Any]:
    s = sede_o_404(proceso, sede)
    fila = await session.get(BoletasSede, (proceso.clave, sede))
    tope = fila.tope if fila else s.boletas_adicionales
    entregadas = fila.entregadas if fila else 0
    filas = await session.execute(
        select(BoletaAdicional.entidad, func.count())
        .where(BoletaAdicional.proceso == proceso.clave, BoletaAdicional.sede == sede)
        .group_by(BoletaAdicional.entidad)
        .order_by(BoletaAdicional.entidad)
    )
    por_entidad = {str(e): int(n) for e, n in filas.all()}
    return {
        "sede": sede,
        "tope": tope,
        "entregadas": entregadas,
        "restantes": tope - entregadas,
        "por_entidad": por_entidad,
    }


async def entregar(
    session: AsyncSession,
    proceso: Proceso,
    sede: str,
    clave_elector: str,
    entidad: str,
    principal: Principal,
    ahora: dt.datetime,
) -> dict[str, Any]:
    """Hand one extra ballot, or say why not (nothing changes then)."""
    s = sede_o_404(proceso, sede)
    personal_de(principal, sede)
    abierta(proceso, sede, ahora, "entrega boletas")
    if entidad not in proceso.entidades:
        raise Problem(
            422,
            "La entidad no vota en este proceso.",
            errors=[
                {"campo": "entidad", "mensaje": f"La entidad {entidad} no participa en {proceso.clave}."}
            ],
        )
    if await inscrita(session, proceso, clave_elector) is not None:
        raise Problem(
            409,
            "Esta persona está en la LNERE: vota en la modalidad que eligió (en persona, con la lista de su "
            "sede), no con una boleta adicional.",
            slug="en-la-lnere",
        )
    # One per person first (a repeated clave touches no counter), then the site's cap.
    if not await insert_if_absent(
        session,
        BoletaAdicional,
        {
            "proceso": proceso.clave,
            "sede": sede,
            "entidad": entidad,
            "clave_elector": clave_elector,
            "clave_elector_indice": clave_elector,  # the type stores its HMAC, never the clave
            "entregada_por": principal.sub,
            "entregada_at": ahora,
        },
        ["proceso", "clave_elector_indice"],
    ):
        raise Problem(
            409, "Esta clave de elector ya recibió una boleta adicional en este proceso.", slug="ya-recibio"
        )
    await insert_if_absent(
        session,
        BoletasSede,
        {"proceso": proceso.clave, "sede": sede, "tope": s.boletas_adicionales, "entregadas": 0},
        ["proceso", "sede"],
    )
    fila = (
        await session.execute(
            update(BoletasSede)
            .where(
                BoletasSede.proceso == proceso.clave,
                BoletasSede.sede == sede,
                BoletasSede.entregadas < BoletasSede.tope,
            )
            .values(entregadas=BoletasSede.entregadas + 1)
            .returning(BoletasSede.entregadas, BoletasSede.tope)
        )
    ).first()
    if fila is None:
        raise Problem(
            409,
            f"La sede {s.nombre} ya entregó sus {s.boletas_adicionales} boletas adicionales.",
            slug="sin-boletas-adicionales",
        )
    entregadas, tope = fila
    folio = await _folio(session, proceso, sede, entidad, s.credenciales_adicionales)
    await session.execute(
        update(BoletaAdicional)
        .where(
            BoletaAdicional.proceso == proceso.clave, BoletaAdicional.clave_elector_indice == clave_elector
        )
        .values(folio=folio)
    )
    # To electronico (the list's internet topic, which it reads): the kiosk may open a turn for this ballot.
    await emisor.emitir(
        session,
        REGISTRO_LNERE_ELECTRONICA,
        event_type=eventos.BOLETA_ADICIONAL_EN_MODULO,
        aggregate_id=f"{sede}/{entidad}",
        data=eventos.BoletaAdicionalEnModulo(sede=sede, entidad=entidad, folio=folio),
    )
    await emisor.emitir(
        session,
        REGISTRO_LNERE,
        event_type=eventos.BOLETA_ADICIONAL_ENTREGADA,
        aggregate_id=sede,
        data=eventos.BoletaAdicionalEntregada(
            sede=sede, entidad=entidad, entregadas=entregadas, tope=tope, entregada_at=ahora
        ),
    )
    return {
        "sede": sede,
        "entidad": entidad,
        "numero": entregadas,
        "folio": folio,
        "tope": tope,
        "restantes": tope - entregadas,
        "entregada_at": ahora,
    }


async def _folio(session: AsyncSession, proceso: Proceso, sede: str, entidad: str, reserva: int) -> int:
    """The next of the site's reserve credentials for the entidad (the database refuses one past the last)."""
    await insert_if_absent(
        session,
        BoletasSedeEntidad,
        {"proceso": proceso.clave, "sede": sede, "entidad": entidad, "tope": reserva, "entregadas": 0},
        ["proceso", "sede", "entidad"],
    )
    folio = await session.scalar(
        update(BoletasSedeEntidad)
        .where(
            BoletasSedeEntidad.proceso == proceso.clave,
            BoletasSedeEntidad.sede == sede,
            BoletasSedeEntidad.entidad == entidad,
            BoletasSedeEntidad.entregadas < BoletasSedeEntidad.tope,
        )
        .values(entregadas=BoletasSedeEntidad.entregadas + 1)
        .returning(BoletasSedeEntidad.entregadas)
    )
    if folio is None:
        raise Problem(
            409,
            f"La sede ya usó sus {reserva} credenciales de reserva de la entidad {entidad}: con ellas se "
            "vota en el módulo, así que no se entrega otra boleta adicional de esa entidad (el archivo del "
            "proceso fija cuántas tiene cada sede por entidad: credenciales_adicionales).",
            slug="sin-boletas-adicionales",
        )
    return int(folio)


async def consultar(
    session: AsyncSession, proceso: Proceso, sede: str, clave_elector: str, principal: Principal
) -> dict[str, Any]:
    """At the site's door: what the person with this voter ID may do here. Only a person on this site's
    list is named (the staff check it against the ID); of anyone else, only where they vote."""
    sede_o_404(proceso, sede)
    personal_de(principal, sede)
    s = await inscrita(session, proceso, clave_elector)
    if s is not None and s.modalidad == "presencial" and s.sede == sede:
        nombre = " ".join(x for x in (s.nombre, s.apellido_paterno, s.apellido_materno) if x)
        return {"situacion": "en_lista", "nombre": nombre, "entidad": s.entidad, "numero": s.numero_lnere}
    if s is not None and s.modalidad == "presencial":
        return {"situacion": "otra_sede", "sede": s.sede}
    if s is not None:
        return {"situacion": "otra_modalidad", "modalidad": s.modalidad}
    recibida = (
        await session.execute(
            select(BoletaAdicional.sede, BoletaAdicional.entidad, BoletaAdicional.folio).where(
                BoletaAdicional.proceso == proceso.clave,
                BoletaAdicional.clave_elector_indice == clave_elector,
            )
        )
    ).first()
    if recibida is not None and recibida.sede == sede:  # here: its kiosk turn may be opened again
        return {
            "situacion": "boleta_adicional_entregada",
            "sede": sede,
            "entidad": recibida.entidad,
            "folio": recibida.folio,
        }
    if recibida is not None:
        return {"situacion": "boleta_adicional_entregada", "sede": recibida.sede}
    return {"situacion": "no_esta_en_la_lnere"}
