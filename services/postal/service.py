"""postal use cases: integrate, ship, track, receive SPVs, assign mesas. Stage events; never commit."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.postal import repository
from services.postal.domain import Clasificacion, EstadoPaquete, avanza, clasificar, mesas
from services.postal.models import ActaDestruccion, Notificacion, Outbox, Paquete, Sobre, emisor
from services.postal.schemas import DestruccionExtemporaneosIn, EnvioIn, EventoTransportistaIn, ReenvioIn
from shared.auth import Principal
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage, stage_many
from shared.bus.topics import POSTAL_MESA, POSTAL_PAQUETE, POSTAL_SOBRE, POSTAL_VOTO
from shared.events import postal as eventos
from shared.events import registro as eventos_registro
from shared.notificaciones import Aviso, encolar
from shared.problems import Problem
from shared.proceso import Proceso

PAQUETES_POR_LOTE = 500
AVISOS = {
    EstadoPaquete.ENVIADO: "Su Paquete Electoral Postal fue enviado ({transportista}, guía {guia}).",
    EstadoPaquete.ENTREGADO: "Su Paquete Electoral Postal fue entregado. "
    "Devuelva su voto antes del {limite}.",
    EstadoPaquete.NO_ENTREGADO: "No se pudo entregar su Paquete Electoral Postal. "
    "Revise su domicilio con el INE.",
}


def _cambio(
    *,
    entidad: str,
    numero: int,
    pais: str,
    estado: str,
    lote: int,
    transportista: str | None,
    version: int,
    ocurrido_at: dt.datetime,
) -> Envelope:
    return emisor.envelope(
        event_type=eventos.paquete_event_type(estado),
        aggregate_id=f"{entidad}-{numero:07d}",
        aggregate_version=version,
        data=eventos.PaqueteActualizado(
            entidad=entidad,
            numero=numero,
            pais=pais,
            estado=estado,
            lote=lote,
            transportista=transportista,
            ocurrido_at=ocurrido_at,
        ),
    )


def _cambio_de(paquete: Paquete, ocurrido_at: dt.datetime) -> Envelope:
    """The event of a package's new state (its version already moved)."""
    return _cambio(
        entidad=paquete.entidad,
        numero=paquete.numero,
        pais=paquete.pais,
        estado=paquete.estado,
        lote=paquete.lote,
        transportista=paquete.transportista,
        version=paquete.version,
        ocurrido_at=ocurrido_at,
    )


def _aviso(paquete: Paquete, plantilla: str, mensaje: str) -> Aviso:
    return Aviso(paquete.email, paquete.telefono, plantilla, mensaje, paquete.folio)


async def _publicar(session: AsyncSession, paquete: Paquete, ocurrido_at: dt.datetime) -> None:
    paquete.version += 1
    await stage(session, Outbox, POSTAL_PAQUETE, _cambio_de(paquete, ocurrido_at))


async def _avisar(
    session: AsyncSession, paquete: Paquete, plantilla: str, mensaje: str, ahora: dt.datetime
) -> None:
    await encolar(session, Notificacion, [_aviso(paquete, plantilla, mensaje)], ahora)


# --- integration (event from registro) ----------------------------------------------------------------


async def integrar(
    session: AsyncSession, inscrito: eventos_registro.InscritoPostal, proceso: Proceso, ahora: dt.datetime
) -> bool:
    """One PEP per postal voter: one ballot per office of the entidad, a sobre-voto per ballot, the return
    envelope printed with the clave de elector. A replayed close creates nothing twice."""
    entidad = proceso.entidades.get(inscrito.entidad)
    if entidad is None:
        raise ValueError(f"entidad {inscrito.entidad} fuera del proceso {proceso.clave}")
    d = inscrito.domicilio
    nombre = " ".join(p for p in (inscrito.nombre, inscrito.apellido_paterno, inscrito.apellido_materno) if p)
    boletas = [c.clave for c in entidad.cargos]
    nuevo = await repository.insertar_paquete(
        session,
        {
            "entidad": inscrito.entidad,
            "numero": inscrito.numero,
            "folio": inscrito.folio,
            "clave_elector": inscrito.clave_elector,
            "clave_elector_indice": inscrito.clave_elector,  # the type stores its HMAC
            "nombre": nombre,
            "calle_numero": d.calle_numero,
            "ciudad": d.ciudad,
            "region": d.region,
            "codigo_postal": d.codigo_postal,
            "pais": d.pais,
            "email": inscrito.email,
            "telefono": inscrito.telefono,
            "boletas": boletas,
            "sobres_voto": len(boletas),
            "lote": (inscrito.numero - 1) // PAQUETES_POR_LOTE + 1,
            "estado": EstadoPaquete.INTEGRADO.value,
            "envios": 0,
            "version": 1,
            "integrado_at": ahora,
        },
    )
    if nuevo:
        cambio = _cambio(
            entidad=inscrito.entidad,
            numero=inscrito.numero,
            pais=d.pais,
            estado=EstadoPaquete.INTEGRADO.value,
            lote=(inscrito.numero - 1) // PAQUETES_POR_LOTE + 1,
            transportista=None,
            version=1,
            ocurrido_at=ahora,
        )
        await stage(session, Outbox, POSTAL_PAQUETE, cambio)
    return nuevo


async def _paquete(session: AsyncSession, entidad: str, numero: int) -> Paquete:
    paquete = await repository.paquete(session, entidad, numero)
    if paquete is None:
        raise Problem(404, f"No hay paquete {numero} en la entidad {entidad}.")
    return paquete


# --- shipping and tracking ----------------------------------------------------------------------------


async def enviar(session: AsyncSession, datos: EnvioIn, ahora: dt.datetime) -> int:
    """Record the shipment of packages: carrier and tracking number. All or nothing: a package already
    shipped, an unknown one or a repeated tracking number refuses the whole file.

    One locked read of the file's packages (in key order, so concurrent files lock rows in the same order),
    one of its tracking numbers already taken; the events and notices in one insert each."""
    guias = [p.guia for p in datos.paquetes]
    repetidas = sorted({g for g in guias if guias.count(g) > 1}) if len(set(guias)) != len(guias) else []
    if repetidas:
        raise Problem(
            422,
            f"Guías repetidas en el envío: {', '.join(repetidas[:10])}.",
            errors=[{"campo": "paquetes", "mensaje": "Cada paquete lleva su propia guía."}],
        )
    claves = sorted({(p.entidad, p.numero) for p in datos.paquetes})
    paquetes = await repository.paquetes(session, claves)
    ocupadas = await repository.guias_ocupadas(session, datos.transportista, guias)
    cambios, avisos = [], []
    for item in datos.paquetes:
        paquete = paquetes.get((item.entidad, item.numero))
        if paquete is None:
            raise Problem(404, f"No hay paquete {item.numero} en la entidad {item.entidad}.")
        if paquete.estado != EstadoPaquete.INTEGRADO:
            raise Problem(
                409,
                f"El paquete {item.entidad}-{item.numero} ya está en estado {paquete.estado}.",
                slug="transicion-invalida",
                entidad=item.entidad,
                numero=item.numero,
            )
        if item.guia in ocupadas:
            raise Problem(
                409,
                f"La guía {item.guia} de {datos.transportista} ya está asignada a otro paquete.",
                slug="guia-duplicada",
            )
        paquete.estado, paquete.estado_at = EstadoPaquete.ENVIADO.value, ahora
        paquete.transportista, paquete.guia = datos.transportista, item.guia
        paquete.envios, paquete.enviado_at, paquete.version = paquete.envios + 1, ahora, paquete.version + 1
        cambios.append(_cambio_de(paquete, ahora))
        mensaje = AVISOS[EstadoPaquete.ENVIADO].format(transportista=datos.transportista, guia=item.guia)
        avisos.append(_aviso(paquete, "paquete_enviado", mensaje))
    try:
        await session.flush()
    except IntegrityError as exc:  # another file took one of these tracking numbers meanwhile
        raise Problem(
            409,
            f"Una guía de este envío acaba de asignarse a otro paquete de {datos.transportista}; "
            "revise el archivo y reintente.",
            slug="guia-duplicada",
        ) from exc
    await stage_many(session, Outbox, POSTAL_PAQUETE, cambios)
    await encolar(session, Notificacion, avisos, ahora)
    return len(datos.paquetes)


async def reenviar(
    session: AsyncSession, entidad: str, numero: int, datos: ReenvioIn, ahora: dt.datetime
) -> Paquete:
    """Resend an undelivered or returned package, to a corrected address, with a new tracking number."""
    paquete = await _paquete(session, entidad, numero)
    if paquete.estado not in (EstadoPaquete.NO_ENTREGADO, EstadoPaquete.DEVUELTO):
        raise Problem(
            409,
            f"Solo se reenvía un paquete no entregado o devuelto (está {paquete.estado}).",
            slug="transicion-invalida",
        )
    if await repository.guia_ocupada(session, datos.transportista, datos.guia, salvo=paquete.id):
        raise Problem(
            409,
            f"La guía {datos.guia} de {datos.transportista} ya está asignada a otro paquete.",
            slug="guia-duplicada",
        )
    if datos.domicilio is not None:
        for campo, valor in datos.domicilio.model_dump(exclude_unset=True).items():
            setattr(paquete, campo, valor)
    paquete.estado, paquete.estado_at = EstadoPaquete.ENVIADO.value, ahora
    paquete.transportista, paquete.guia, paquete.envios, paquete.enviado_at = (
        datos.transportista,
        datos.guia,
        paquete.envios + 1,
        ahora,
    )
    await _publicar(session, paquete, ahora)
    await _avisar(
        session,
        paquete,
        "paquete_enviado",
        AVISOS[EstadoPaquete.ENVIADO].format(transportista=datos.transportista, guia=datos.guia),
        ahora,
    )
    return paquete


async def eventos_transportista(
    session: AsyncSession,
    transportista: str,
    eventos_in: list[EventoTransportistaIn],
    proceso: Proceso,
    ahora: dt.datetime,
) -> Counter[str]:
    """Apply a file of carrier reports, each once, in the order they happened. Counts per outcome: aplicado,
    ignorado (would move a package backwards, or repeats its state), duplicado (same carrier event id seen
    before, or earlier in the file) or sin_paquete (unknown tracking number).

    One read of the reports already seen, one locked read of the packages (in tracking-number order, so
    concurrent files lock rows in the same order); the package events, notices and reports are written in
    one insert each."""
    ordenados = sorted(eventos_in, key=lambda e: e.ocurrido_at)
    vistos = await repository.eventos_vistos(session, transportista, sorted({e.evento_id for e in ordenados}))
    paquetes = await repository.paquetes_por_guia(session, transportista, sorted({e.guia for e in ordenados}))
    limite = proceso.local(proceso.calendario.recepcion_spv_limite)
    conteo: Counter[str] = Counter()
    cambios, avisos, reportes = [], [], []
    for evento in ordenados:
        if evento.evento_id in vistos:
            conteo["duplicado"] += 1
            continue
        vistos.add(evento.evento_id)
        paquete, nuevo = paquetes.get(evento.guia), EstadoPaquete(evento.estado)
        if paquete is None:
            resultado = "sin_paquete"
        elif avanza(EstadoPaquete(paquete.estado), paquete.estado_at, nuevo, evento.ocurrido_at):
            paquete.estado, paquete.estado_at = nuevo.value, evento.ocurrido_at
            paquete.version += 1
            cambios.append(_cambio_de(paquete, evento.ocurrido_at))
            if nuevo in AVISOS:
                mensaje = AVISOS[nuevo].format(limite=f"{limite:%d/%m/%Y %H:%M} (hora del Centro)")
                avisos.append(_aviso(paquete, f"paquete_{nuevo.value}", mensaje))
            resultado = "aplicado"
        else:
            resultado = "ignorado"
        conteo[resultado] += 1
        reportes.append(
            {
                "transportista": transportista,
                "evento_id": evento.evento_id,
                "guia": evento.guia,
                "estado": evento.estado,
                "ocurrido_at": evento.ocurrido_at,
                "resultado": resultado,
                "recibido_at": ahora,
                "detalle": {"detalle": evento.detalle} if evento.detalle else {},
            }
        )
    if reportes:
        nuevos = await repository.insertar_eventos_transportista(session, reportes)
        if nuevos != len(reportes):  # a concurrent delivery of the same reports won the race: undo this one
            raise Problem(409, "Eventos en proceso por otra petición; reintente.", slug="evento-concurrente")
    if cambios:
        await stage_many(session, Outbox, POSTAL_PAQUETE, cambios)
    await encolar(session, Notificacion, avisos, ahora)
    return conteo


async def destruir(session: AsyncSession, entidad: str, numero: int, ahora: dt.datetime) -> Paquete:
    """A returned package is destroyed before party representatives."""
    paquete = await _paquete(session, entidad, numero)
    if paquete.estado != EstadoPaquete.DEVUELTO:
        raise Problem(
            409, f"Solo se destruye un paquete devuelto (está {paquete.estado}).", slug="transicion-invalida"
        )
    paquete.estado, paquete.estado_at = EstadoPaquete.DESTRUIDO.value, ahora
    await _publicar(session, paquete, ahora)
    return paquete


async def avisar_retrasos(session: AsyncSession, proceso: Proceso, ahora: dt.datetime, dias: int) -> int:
    """Warn each citizen whose package has been on its way ``dias`` days or more, once: the vote may not make
    it back before the deadline. Run by an operator or a scheduler; repeating it warns nobody twice."""
    limite = proceso.local(proceso.calendario.recepcion_spv_limite)
    filas = await repository.marcar_retrasados(session, ahora, dias)
    mensaje = (
        "Su Paquete Electoral Postal lleva varios días en camino. Si no llega pronto, su voto podría no "
        f"alcanzar a regresar antes del {limite:%d/%m/%Y %H:%M} (hora del Centro); comuníquese con INETEL."
    )
    avisos = [Aviso(email, telefono, "paquete_retrasado", mensaje, folio) for email, telefono, folio in filas]
    await encolar(session, Notificacion, avisos, ahora)
    return len(filas)


# --- SPV reception ------------------------------------------------------------------------------------


async def recibir_sobre(
    session: AsyncSession, clave_elector: str, proceso: Proceso, operador: Principal, ahora: dt.datetime
) -> Sobre:
    """Scan a returned SPV. On time and first: the voter is marked "votó". Late, unknown or repeated SPVs
    are kept and reported, never counted."""
    paquete = await repository.por_clave_elector(session, clave_elector)
    limite = proceso.calendario.recepcion_spv_limite
    clasificacion = clasificar(ahora, limite, paquete is not None, False)
    if paquete is not None and clasificacion == Clasificacion.EN_TIEMPO:
        # Atomic "first one wins": concurrent scans of one voter's envelope mark it once.
        if not await repository.marcar_voto(session, paquete.id, ahora):
            clasificacion = Clasificacion.DUPLICADO
    elif paquete is not None and paquete.voto_recibido_at is not None:
        clasificacion = Clasificacion.DUPLICADO
    sobre = Sobre(
        clave_elector=clave_elector,
        paquete_id=paquete.id if paquete else None,
        entidad=paquete.entidad if paquete else None,
        clasificacion=clasificacion.value,
        recibido_at=ahora,
        operador=operador.sub,
    )
    session.add(sobre)
    await session.flush()
    await emisor.emitir(
        session,
        POSTAL_SOBRE,
        event_type=eventos.SOBRE_RECIBIDO,
        aggregate_id=f"sobre-{sobre.id}",
        data=eventos.SobreRecibido(
            entidad=sobre.entidad,
            numero=paquete.numero if paquete else None,
            clasificacion=clasificacion.value,
            recibido_at=ahora,
        ),
    )
    if clasificacion == Clasificacion.EN_TIEMPO:
        assert paquete is not None
        await emisor.emitir(
            session,
            POSTAL_VOTO,
            event_type=eventos.VOTO_REGISTRADO,
            aggregate_id=f"{paquete.entidad}-{paquete.numero:07d}",
            data=eventos.VotoRegistrado(entidad=paquete.entidad, numero=paquete.numero, recibido_at=ahora),
        )
        await _avisar(
            session,
            paquete,
            "voto_recibido",
            "El INE recibió su voto postal a tiempo. Gracias por votar.",
            ahora,
        )
    return sobre


# --- custody: assignment to mesas ---------------------------------------------------------------------


async def asignar_mesas(
    session: AsyncSession, entidad: str, proceso: Proceso, ahora: dt.datetime, maximo: int = 1500
) -> list[int]:
    """On election day: the entidad's on-time SPVs into MEC of at most ``maximo`` each. Idempotent."""
    if entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso.")
    if ahora < proceso.calendario.recepcion_spv_limite:
        raise Problem(
            409, "Las mesas se integran al cerrar la recepción de sobres.", slug="recepcion-abierta"
        )
    sobres = await repository.sobres_en_tiempo(session, entidad)
    if sobres and all(s.mesa is not None for s in sobres):
        return [c for _, c in sorted(Counter(s.mesa for s in sobres).items())]
    tamanos = mesas(len(sobres), maximo)
    i = 0
    for mesa, tamano in enumerate(tamanos, start=1):
        for sobre in sobres[i : i + tamano]:
            sobre.mesa = mesa
        i += tamano
        await emisor.emitir(
            session,
            POSTAL_MESA,
            event_type=eventos.MESA_ASIGNADA,
            aggregate_id=f"{entidad}-mesa-{mesa}",
            data=eventos.MesaAsignada(entidad=entidad, mesa=mesa, sobres=tamano),
        )
    return tamanos


# --- figures ------------------------------------------------------------------------------------------


# --- late SPVs: the list by sender and their destruction (LGIPE 345.2) -------------------------------


def _entidad_del_proceso(proceso: Proceso, entidad: str) -> None:
    if entidad not in proceso.entidades:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")


async def extemporaneos(session: AsyncSession, entidad: str, proceso: Proceso) -> list[tuple[Sobre, Paquete]]:
    _entidad_del_proceso(proceso, entidad)
    return await repository.extemporaneos(session, entidad)


async def destruir_extemporaneos(
    session: AsyncSession,
    entidad: str,
    datos: DestruccionExtemporaneosIn,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
) -> ActaDestruccion:
    """Record the act destroying, unopened, every late SPV of the entidad not destroyed yet, before who
    attended. Nothing to destroy (none, or all already in an act) is 409 and records nothing; two acts at
    once: one takes the envelopes, the other gets 409."""
    _entidad_del_proceso(proceso, entidad)
    limite = proceso.calendario.recepcion_spv_limite
    if ahora < limite:
        raise Problem(
            409,
            "La recepción de sobres sigue abierta hasta el "
            f"{proceso.local(limite):%d/%m/%Y %H:%M} (hora del Centro): aún no hay sobres extemporáneos.",
            slug="recepcion-abierta",
        )
    acta = ActaDestruccion(
        entidad=entidad,
        lugar=datos.lugar,
        celebrada_at=ahora,
        asistentes=[a.model_dump() for a in datos.asistentes],
        registrada_por=operador.sub,
    )
    session.add(acta)
    await session.flush()
    acta.sobres = await repository.destruir_extemporaneos(session, entidad, acta.id)
    if acta.sobres == 0:
        raise Problem(
            409,
            f"No hay sobres extemporáneos de la entidad {entidad} pendientes de destruir: los recibidos "
            "tarde ya están en un acta (GET /v1/extemporaneos/{entidad}/destrucciones).",
            slug="nada-que-destruir",
        )
    await emisor.emitir(
        session,
        POSTAL_SOBRE,
        event_type=eventos.SOBRES_DESTRUIDOS,
        aggregate_id=f"destruccion-{acta.id}",
        data=eventos.SobresDestruidos(entidad=entidad, acta=acta.id, sobres=acta.sobres, celebrada_at=ahora),
    )
    return acta


async def actas_destruccion(session: AsyncSession, entidad: str, proceso: Proceso) -> list[ActaDestruccion]:
    _entidad_del_proceso(proceso, entidad)
    return await repository.actas_destruccion(session, entidad)


async def estadisticas(session: AsyncSession, proceso: Proceso) -> dict[str, Any]:
    por_entidad: dict[str, Counter[str]] = defaultdict(Counter)
    por_pais: dict[str, Counter[str]] = defaultdict(Counter)
    for entidad, pais, estado, votos, n in await repository.conteo_paquetes(session):
        for destino, clave in ((por_entidad, entidad), (por_pais, pais)):
            destino[clave]["paquetes"] += n
            destino[clave][estado] += n
            destino[clave]["votos_en_tiempo"] += votos
    sobres: dict[str, Counter[str]] = defaultdict(Counter)
    por_dia: dict[str, Counter[str]] = defaultdict(Counter)
    for entidad, clasificacion, recibido_at in await repository.sobres_recibidos(session):
        sobres[entidad or "sin_entidad"][clasificacion] += 1
        por_dia[proceso.local(recibido_at).date().isoformat()][clasificacion] += 1
    for clave, c in por_entidad.items():
        c["extemporaneos"] = sobres[clave]["extemporaneo"]
    total = sum(c["paquetes"] for c in por_entidad.values())
    votos = sum(c["votos_en_tiempo"] for c in por_entidad.values())
    return {
        "paquetes": total,
        "votos_en_tiempo": votos,
        "tasa_retorno": f"{(100 * votos / total):.2f}" if total else "0.00",
        "sobres": dict(Counter(s for c in sobres.values() for s in c.elements())),
        "por_entidad": {k: dict(v) for k, v in sorted(por_entidad.items())},
        "por_pais": {k: dict(v) for k, v in sorted(por_pais.items())},
        "sobres_por_dia": {k: dict(v) for k, v in sorted(por_dia.items())},
    }


async def en_transito(session: AsyncSession, entidad: str | None, ahora: dt.datetime) -> list[dict[str, Any]]:
    """Packages still on their way and for how long: the OPLs' early warning."""
    filas = await repository.en_transito(session, entidad)
    return [
        {
            "entidad": p.entidad,
            "numero": p.numero,
            "pais": p.pais,
            "estado": p.estado,
            "transportista": p.transportista,
            "dias": round((ahora - p.enviado_at).total_seconds() / 86400, 1) if p.enviado_at else None,
        }
        for p in filas
    ]
