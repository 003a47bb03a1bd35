"""electronico use cases: opening an election (its signed opening act). Stage events; never commit (the caller
owns the transaction)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import ceremonia, domain, repository
from services.electronico.config import Settings
from services.electronico.models import Eleccion, emisor
from services.electronico.service.candidaturas import ambito_de, aprobadas
from services.electronico.service.votantes import lista_valida
from shared import firma
from shared.bus.topics import ELECTRONICO_ELECCION
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodios, huella_custodios
from shared.cripto.eleccion import Eleccion as EleccionBelenios
from shared.cripto.eleccion import huella_credenciales, ordenar_credenciales
from shared.cripto.grupo import sha256_hex
from shared.cripto.pruebas import cjson
from shared.cripto.urna import Urna
from shared.events import electronico as eventos
from shared.problems import Problem
from shared.proceso import Proceso


def firmar(settings: Settings, contenido: dict[str, object]) -> dict[str, object]:
    return firma.firmar(settings.clave_firma.get_secret_value(), contenido)


def clave_verificacion(settings: Settings) -> str:
    return firma.clave_verificacion(settings.clave_firma.get_secret_value())


async def abrir(
    session: AsyncSession, e: Eleccion, proceso: Proceso, settings: Settings, ahora: dt.datetime
) -> dict[str, object]:
    """Opening act: election.json with the custodians' key, the public credential list, an empty box."""
    if e.estado != "preparacion":
        raise Problem(409, f"La elección ya fue abierta ({e.estado}).")
    boleta = await aprobadas(session, proceso, e.entidad, e.cargo)
    if boleta is None and proceso.calendario.candidaturas_limite is not None and not e.simulacro:
        ambito = ambito_de(proceso, e.entidad, e.cargo)
        raise Problem(
            409,
            f"Faltan las candidaturas aprobadas de esta boleta: el OPL las carga (PUT /v1/candidaturas/"
            f"{ambito}/{e.cargo}) y el INE las aprueba (POST …/aprobacion). No se abre la elección.",
        )
    await ceremonia.estado(session, e)  # fixes the key if the last message's request did not
    if e.lista_credenciales is None:
        raise Problem(
            409,
            "Falta la lista de credenciales firmada por la autoridad de credenciales: la envía cuando "
            "todos los votantes por internet de la LNERE de la entidad tienen credencial (vea "
            "GET /v1/elecciones en el servicio credenciales).",
        )
    motivo = lista_valida(settings, e.lista_credenciales, e)
    if motivo is not None:
        raise Problem(409, f"La lista de credenciales no sirve: {motivo}. No se abre la elección.")
    if e.custodios_json is None:
        raise Problem(
            409,
            "Falta la ceremonia de llaves: los custodios deben completar los tres pasos "
            f"(GET /v1/elecciones/{e.uuid}/ceremonia).",
        )
    firmada: dict[str, Any] = e.lista_credenciales["acta"]  # type: ignore[assignment]
    publicas = await repository.credenciales_publicas(session, e.uuid)
    if not publicas:
        raise Problem(
            409, "No hay votantes con credencial: la LNERE electrónica de la entidad no tiene votantes."
        )
    credenciales = await asyncio.to_thread(ordenar_credenciales, [gr.elemento(p) for p in publicas])
    huella = huella_credenciales(credenciales)
    if len(credenciales) != firmada["credenciales"] or huella != firmada["huella_lista"]:
        raise Problem(
            409,
            f"Las credenciales recibidas ({len(credenciales)}, huella {huella[:16]}…) no son las de la "
            f"lista firmada por la autoridad ({firmada['credenciales']}, huella "
            f"{str(firmada['huella_lista'])[:16]}…): no se abre la elección. Si faltan lotes, reprocese "
            "los eventos de la autoridad de credenciales.",
        )
    custodios = Custodios.leer(json.loads(e.custodios_json))
    ent = proceso.entidades[e.entidad]
    cargo = next(c for c in ent.cargos if c.clave == e.cargo)
    eleccion = EleccionBelenios.crear(
        uuid=e.uuid,
        nombre=e.nombre,
        descripcion=f"{proceso.nombre}. Voto de las y los mexicanos residentes en el extranjero."
        + (f" Candidaturas aprobadas: huella {boleta.huella}." if boleta else ""),
        clave_publica=custodios.clave_eleccion(),
        preguntas=[domain.pregunta(ent, cargo, proceso, boleta.lista if boleta else None)],
    )
    marca = int(ahora.timestamp())
    urna = Urna.abrir(eleccion, custodios, credenciales, marca)
    e.eleccion_json = eleccion.texto.decode()
    e.credenciales_json = cjson(credenciales)
    e.marca = marca
    e.estado = "abierta"
    e.abierta_at = ahora
    acta = firmar(
        settings,
        {
            "documento": "Acta de apertura del voto electrónico por internet",
            "simulacro": e.simulacro,
            "proceso": proceso.clave,
            "huella_configuracion": sha256_hex(proceso.model_dump_json()),
            "eleccion": e.uuid,
            "entidad": e.entidad,
            "cargo": e.cargo,
            "huella_eleccion": eleccion.huella,
            "huella_candidaturas": boleta.huella if boleta else None,
            "clave_publica": gr.s(eleccion.clave_publica),
            "custodios": {"umbral": e.umbral, "total": e.custodios},
            # The fingerprint each custodian's CLI printed at the end of the ceremony (shared function).
            "huella_custodios": huella_custodios(json.loads(e.custodios_json)),
            "credenciales": len(credenciales),
            # The credential authority's signed list (its key, not this service's): the same count and hash.
            "lista_credenciales": e.lista_credenciales,
            "urna": {"boletas": 0, "evento_setup": urna.archivo.eventos[-1].hash},
            "periodo": {"inicio": e.inicio.isoformat(), "fin": e.fin.isoformat()},
            "abierta_at": ahora.isoformat(),
        },
    )
    e.acta_apertura = acta
    await emisor.emitir(
        session,
        ELECTRONICO_ELECCION,
        event_type=eventos.ELECCION_ABIERTA,
        aggregate_id=e.uuid,
        data=eventos.EleccionAbierta(
            eleccion=e.uuid,
            entidad=e.entidad,
            cargo=e.cargo,
            simulacro=e.simulacro,
            huella=eleccion.huella,
            clave_publica=gr.s(eleccion.clave_publica),
            acta=acta,
            candidaturas=boleta.lista if boleta else [],
        ),
    )
    return acta
