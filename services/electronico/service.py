"""electronico use cases: elections, voters and credentials, opening, casting, bulletin board, sealing.
Stage events; never commit (the caller owns the transaction)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import ceremonia, domain
from services.electronico.config import Settings
from services.electronico.models import (
    Boleta,
    Credencial,
    Descifrado,
    Eleccion,
    Notificacion,
    Outbox,
    Votante,
    VotoPostal,
)
from shared import firma
from shared.bus.envelope import Envelope
from shared.bus.outbox import stage
from shared.bus.topics import ELECTRONICO_ELECCION, ELECTRONICO_VOTO
from shared.cripto import boleta as bo
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.archivo import Archivo
from shared.cripto.custodios import Custodios, huella_custodios
from shared.cripto.eleccion import (
    Eleccion as EleccionBelenios,
)
from shared.cripto.eleccion import (
    credencial_publica,
    generar_credencial,
    generar_uuid,
    ordenar_credenciales,
)
from shared.cripto.grupo import sha256_hex
from shared.cripto.pruebas import cjson
from shared.cripto.urna import Urna
from shared.db import insert_if_absent, insert_if_absent_id
from shared.events import computo as eventos_computo
from shared.events import electronico as eventos
from shared.events import registro as eventos_registro
from shared.notificaciones import Aviso, encolar
from shared.problems import Problem
from shared.proceso import Proceso

PLANTILLA_CREDENCIALES = "credenciales_voto"


def _hash(texto: str) -> str:
    return hashlib.sha256(texto.encode()).hexdigest()


def _alfanumerico(n: int) -> str:
    alfabeto = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by people
    return "".join(secrets.choice(alfabeto) for _ in range(n))


# --- Elections ----------------------------------------------------------------------------------------------


async def asegurar_elecciones(
    session: AsyncSession, proceso: Proceso, settings: Settings, entidad: str
) -> list[Eleccion]:
    """The real elections of an entidad: one per office, created once (a replay finds them)."""
    ent = proceso.entidades.get(entidad)
    if ent is None:
        raise ValueError(f"entidad {entidad} fuera del proceso {proceso.clave}")
    consulta = (
        select(Eleccion)
        .where(Eleccion.entidad == entidad, Eleccion.simulacro.is_(False))
        .order_by(Eleccion.cargo)
    )
    elecciones = list((await session.execute(consulta)).scalars())
    if {e.cargo for e in elecciones} >= {c.clave for c in ent.cargos}:
        return elecciones  # created by the entidad's first voter (each of its voters passes here)
    cal = proceso.calendario
    for cargo in ent.cargos:
        await insert_if_absent(
            session,
            Eleccion,
            {
                "uuid": generar_uuid(),
                "entidad": entidad,
                "cargo": cargo.clave,
                "simulacro": False,
                "clave": f"{proceso.clave}:{entidad}:{cargo.clave}",
                "nombre": f"{cargo.nombre} · {ent.nombre}",
                "estado": "preparacion",
                "umbral": settings.umbral,
                "custodios": settings.custodios,
                "inicio": cal.voto_electronico_inicio,
                "fin": cal.voto_electronico_fin,
                "opciones": domain.opciones(ent),
            },
            ["clave"],
        )
    return list((await session.execute(consulta)).scalars())


async def crear_simulacro(
    session: AsyncSession,
    proceso: Proceso,
    settings: Settings,
    entidad: str,
    inicio: dt.datetime,
    fin: dt.datetime,
    ahora: dt.datetime,
) -> list[Eleccion]:
    """A drill: the same offices on separate, clearly marked elections with their own keys; the entidad's
    voters get drill credentials. Results never mix with the real ones (other uuid, ``simulacro`` on
    every event)."""
    ent = proceso.entidades.get(entidad)
    if ent is None:
        raise Problem(404, f"La entidad {entidad} no participa en el proceso {proceso.clave}.")
    if not inicio < fin:
        raise Problem(422, "El simulacro debe empezar antes de terminar (inicio < fin).")
    creadas = []
    for cargo in ent.cargos:
        e = Eleccion(
            uuid=generar_uuid(),
            entidad=entidad,
            cargo=cargo.clave,
            simulacro=True,
            nombre=f"SIMULACRO · {cargo.nombre} · {ent.nombre}",
            estado="preparacion",
            umbral=settings.umbral,
            custodios=settings.custodios,
            inicio=inicio,
            fin=fin,
            opciones=domain.opciones(ent),
        )
        e.clave = f"simulacro:{e.uuid}"
        session.add(e)
        creadas.append(e)
    await session.flush()
    votantes = (await session.execute(select(Votante).where(Votante.entidad == entidad))).scalars().all()
    for v in votantes:
        await _emitir_credenciales(session, v, creadas, ahora, clave_acceso=None)
    return creadas


async def eleccion_o_404(session: AsyncSession, uuid: str, bloqueo: str | None = None) -> Eleccion:
    """``bloqueo="compartido"`` while casting, ``"exclusivo"`` while sealing (PostgreSQL row locks): the seal
    waits for ballots in flight, and later ballots see the box sealed. SQLite serialises writers anyway."""
    bloqueos: dict[str | None, Any] = {None: None, "compartido": {"read": True}, "exclusivo": True}
    e = await session.get(Eleccion, uuid, with_for_update=bloqueos[bloqueo])
    if e is None:
        raise Problem(404, f"No existe la elección {uuid}.")
    return e


@lru_cache(maxsize=256)
def eleccion_belenios(texto: str) -> EleccionBelenios:
    return EleccionBelenios.leer(texto.encode())


def verificar_boleta(eleccion_json: str, texto: str, publica: str) -> tuple[str, str | None]:
    """Verify one ballot completely: ``(rastreador, None)``, or ``(motivo, mensaje)`` when the box must refuse
    it. Plain values in and out, so it runs in a process of the verifier pool as well as in a thread."""
    try:
        return bo.verificar(eleccion_belenios(eleccion_json), texto, {publica: 1}).rastreador, None
    except bo.BoletaInvalida as exc:
        return exc.motivo, str(exc)


def pregunta(e: Eleccion, proceso: Proceso) -> list[dict[str, str]]:
    return [{"clave": c, "texto": domain.texto_opcion(c, proceso)} for c in e.opciones]


# --- Voters and credentials (credential authority) ----------------------------------------------------------


async def _emitir_credenciales(
    session: AsyncSession,
    votante: Votante,
    elecciones: list[Eleccion],
    ahora: dt.datetime,
    clave_acceso: str | None,
) -> None:
    """The credential authority step: a fresh private credential per election, derived from its uuid. Only
    the public half is stored; the private half travels once, in the voter's message, which the sender
    erases once the gateway has it (``Aviso(secreto=True)``)."""
    lineas = []
    for e in elecciones:
        if e.estado != "preparacion":
            continue  # the public list is fixed at the opening: a late voter cannot be added
        privada = generar_credencial()
        await session.execute(
            insert(Credencial).values(
                eleccion=e.uuid, votante_id=votante.id, publica=gr.s(credencial_publica(e.uuid, privada))
            )
        )
        lineas.append(f"- {e.nombre}: {privada}")
    if not lineas:
        return
    partes = []
    if clave_acceso is not None:
        partes.append(
            f"Usuario: {votante.usuario}\nClave de acceso: {clave_acceso}\n"
            "En su primer acceso defina su contraseña y su segundo factor (aplicación o SMS)."
        )
    partes.append(
        "Credencial de votación (consérvela; se le pedirá al emitir su voto):\n" + "\n".join(lineas)
    )
    aviso = Aviso(
        votante.email, None, PLANTILLA_CREDENCIALES, "\n\n".join(partes), votante.usuario, secreto=True
    )
    await encolar(session, Notificacion, [aviso], ahora)


async def inscribir(
    session: AsyncSession,
    inscrito: eventos_registro.InscritoElectronica,
    proceso: Proceso,
    settings: Settings,
    ahora: dt.datetime,
) -> bool:
    """An internet voter from the closed LNERE: account, access key, credentials, once."""
    elecciones = await asegurar_elecciones(session, proceso, settings, inscrito.entidad)
    clave_acceso = f"{_alfanumerico(4)}-{_alfanumerico(4)}-{_alfanumerico(4)}"
    usuario = f"V{inscrito.entidad}{_alfanumerico(8)}"
    valores = {
        "entidad": inscrito.entidad,
        "numero": inscrito.numero,
        "usuario": usuario,
        "email": inscrito.email,
        "telefono": inscrito.telefono,
        # 60 random bits: a fast hash suffices (argon2id is for the password the voter picks).
        "clave_acceso_hash": _hash(clave_acceso),
        "fallos": 0,
        "creado_at": ahora,
    }
    votante_id = await insert_if_absent_id(session, Votante, valores, ["entidad", "numero"])
    if votante_id is None:
        return False
    votante = Votante(id=votante_id, **valores)  # the row just written, not read back (not in the session)
    await _emitir_credenciales(session, votante, elecciones, ahora, clave_acceso)
    return True


async def registrar_voto_postal(session: AsyncSession, entidad: str, numero: int) -> None:
    await insert_if_absent(session, VotoPostal, {"entidad": entidad, "numero": numero}, ["entidad", "numero"])


# --- Opening ------------------------------------------------------------------------------------------------


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
    await ceremonia.estado(session, e)  # fixes the key if the last message's request did not
    if e.custodios_json is None:
        raise Problem(
            409,
            "Falta la ceremonia de llaves: los custodios deben completar los tres pasos "
            f"(GET /v1/elecciones/{e.uuid}/ceremonia).",
        )
    publicas = (
        (await session.execute(select(Credencial.publica).where(Credencial.eleccion == e.uuid)))
        .scalars()
        .all()
    )
    if not publicas:
        raise Problem(
            409, "No hay votantes con credencial: la LNERE electrónica de la entidad no ha llegado."
        )
    custodios = Custodios.leer(json.loads(e.custodios_json))
    ent = proceso.entidades[e.entidad]
    cargo = next(c for c in ent.cargos if c.clave == e.cargo)
    eleccion = EleccionBelenios.crear(
        uuid=e.uuid,
        nombre=e.nombre,
        descripcion=f"{proceso.nombre}. Voto de las y los mexicanos residentes en el extranjero.",
        clave_publica=custodios.clave_eleccion(),
        preguntas=[domain.pregunta(ent, cargo, proceso)],
    )
    credenciales = await asyncio.to_thread(ordenar_credenciales, [gr.elemento(p) for p in publicas])
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
            "huella_configuracion": _hash(proceso.model_dump_json()),
            "eleccion": e.uuid,
            "entidad": e.entidad,
            "cargo": e.cargo,
            "huella_eleccion": eleccion.huella,
            "clave_publica": gr.s(eleccion.clave_publica),
            "custodios": {"umbral": e.umbral, "total": e.custodios},
            # The fingerprint each custodian's CLI printed at the end of the ceremony (shared function).
            "huella_custodios": huella_custodios(json.loads(e.custodios_json)),
            "credenciales": len(credenciales),
            "urna": {"boletas": 0, "evento_setup": urna.archivo.eventos[-1].hash},
            "periodo": {"inicio": e.inicio.isoformat(), "fin": e.fin.isoformat()},
            "abierta_at": ahora.isoformat(),
        },
    )
    e.acta_apertura = acta
    await stage(
        session,
        Outbox,
        ELECTRONICO_ELECCION,
        Envelope.new(
            event_type=eventos.ELECCION_ABIERTA,
            source="electronico",
            aggregate_id=e.uuid,
            data=eventos.EleccionAbierta(
                eleccion=e.uuid,
                entidad=e.entidad,
                cargo=e.cargo,
                simulacro=e.simulacro,
                huella=eleccion.huella,
                clave_publica=gr.s(eleccion.clave_publica),
                acta=acta,
            ),
        ),
    )
    return acta


# --- Casting ------------------------------------------------------------------------------------------------


@dataclass
class Acuse:
    rastreador: str
    eleccion: str
    emitida_at: dt.datetime
    nuevo: bool


async def _existente(session: AsyncSession, e: Eleccion, votante: Votante) -> Boleta | None:
    return (
        await session.execute(
            select(Boleta).where(Boleta.eleccion == e.uuid, Boleta.votante_id == votante.id)
        )
    ).scalar_one_or_none()


def _ya_voto(previa: Boleta, idempotency_key: str | None) -> Acuse:
    if idempotency_key is not None and previa.idempotency_key == idempotency_key:
        return Acuse(previa.rastreador, previa.eleccion, previa.emitida_at, nuevo=False)
    raise Problem(
        409,
        "Usted ya votó en esta elección: solo se admite un voto por ciudadana o ciudadano. "
        f"Su acuse es {previa.rastreador}.",
        slug="ya-voto",
        rastreador=previa.rastreador,
    )


async def emitir(
    session: AsyncSession,
    e: Eleccion,
    votante: Votante,
    texto: str,
    idempotency_key: str | None,
    proceso: Proceso,
    ahora: dt.datetime,
    verificadores: Executor | None = None,
) -> Acuse:
    """Accept a signed, encrypted ballot — or refuse it with the reason and change nothing. The proofs are
    checked in ``verificadores`` (a process pool) when given, else in a thread."""
    if e.estado == "sellada":
        raise Problem(
            409, "La urna de esta elección ya fue sellada: no se reciben más votos.", slug="urna-sellada"
        )
    if e.estado != "abierta" or e.eleccion_json is None:
        raise Problem(409, "La elección aún no ha sido abierta.", slug="eleccion-no-abierta")
    if not domain.en_periodo(ahora, e.inicio, e.fin):
        inicio, fin = proceso.local(e.inicio), proceso.local(e.fin)
        raise Problem(
            403,
            f"Fuera del periodo de votación: del {inicio:%d/%m/%Y %H:%M} al {fin:%d/%m/%Y %H:%M} "
            "(hora del Centro).",
            slug="fuera-de-periodo",
        )
    publica = (
        await session.execute(
            select(Credencial.publica).where(
                Credencial.eleccion == e.uuid, Credencial.votante_id == votante.id
            )
        )
    ).scalar_one_or_none()
    if votante.entidad != e.entidad or publica is None:
        raise Problem(
            403,
            "Usted no está en la Lista Nominal de Electores Residentes en el Extranjero de esta entidad "
            "para votar por internet.",
            slug="fuera-de-lista",
        )
    if not e.simulacro:
        postal = await session.get(VotoPostal, (votante.entidad, votante.numero))
        if postal is not None:
            raise Problem(
                409,
                "Su voto por la vía postal ya fue recibido: "
                "solo se admite un voto por ciudadana o ciudadano.",
                slug="voto-postal",
            )
    previa = await _existente(session, e, votante)
    if previa is not None:
        return _ya_voto(previa, idempotency_key)
    rastreador, invalida = await asyncio.get_running_loop().run_in_executor(
        verificadores, verificar_boleta, e.eleccion_json, texto, publica
    )
    if invalida is not None:
        motivo = rastreador
        if motivo == "InvalidCredential":
            detalle = (
                "La boleta no está firmada con su credencial: "
                "use la credencial que recibió para esta elección."
            )
        else:
            detalle = f"La boleta no es válida ({motivo}): {invalida}"
        raise Problem(422, detalle, slug="boleta-invalida", motivo=motivo)
    insertada = await insert_if_absent(
        session,
        Boleta,
        {
            "eleccion": e.uuid,
            "votante_id": votante.id,
            "texto": texto,
            "rastreador": rastreador,
            "idempotency_key": idempotency_key,
            "emitida_at": ahora,
        },
        ["eleccion", "votante_id"],
    )
    if not insertada:  # a concurrent submission of this voter won
        previa = await _existente(session, e, votante)
        assert previa is not None
        return _ya_voto(previa, idempotency_key)
    await stage(
        session,
        Outbox,
        ELECTRONICO_VOTO,
        Envelope.new(
            event_type=eventos.VOTO_EMITIDO,
            source="electronico",
            aggregate_id=f"{votante.entidad}-{votante.numero:07d}",
            data=eventos.VotoEmitido(
                eleccion=e.uuid,
                entidad=votante.entidad,
                numero=votante.numero,
                simulacro=e.simulacro,
                emitido_at=ahora,
            ),
        ),
    )
    return Acuse(rastreador, e.uuid, ahora, nuevo=True)


# --- Bulletin board, archive, sealing -----------------------------------------------------------------------


async def archivo(session: AsyncSession, e: Eleccion) -> Archivo:
    """The Belenios archive as of now: Setup, every accepted ballot in order, EndBallots once sealed."""
    if e.eleccion_json is None or e.custodios_json is None or e.credenciales_json is None or e.marca is None:
        raise Problem(409, "La elección aún no ha sido abierta: no hay archivo.")
    urna = Urna.abrir(
        eleccion_belenios(e.eleccion_json),
        Custodios.leer(json.loads(e.custodios_json)),
        json.loads(e.credenciales_json),
        e.marca,
    )
    textos = (
        await session.execute(select(Boleta.texto).where(Boleta.eleccion == e.uuid).order_by(Boleta.id))
    ).scalars()
    for t in textos:
        urna.archivo.agregar("Ballot", [t.encode()])
    if e.estado == "sellada":
        urna.archivo.agregar("EndBallots", [])
        if e.recuento is not None and e.recuento_dimensionado is not None:
            urna.archivo.agregar("EncryptedTally", [e.recuento.encode(), e.recuento_dimensionado.encode()])
        descifrados = (
            await session.execute(
                select(Descifrado).where(Descifrado.eleccion == e.uuid).order_by(Descifrado.posicion)
            )
        ).scalars()
        for d in descifrados:
            owned = cjson({"owner": d.owner, "payload": sha256_hex(d.texto)})
            urna.archivo.agregar("PartialDecryption", [d.texto.encode(), owned.encode()])
        if e.resultado is not None:
            urna.archivo.agregar("Result", [e.resultado.encode()])
    return urna.archivo


def _recuento(eleccion: EleccionBelenios, textos: list[str]) -> tuple[str, str]:
    """EncryptedTally: the product of the accepted ballots (verified at intake; one per credential)."""
    boletas = [bo.leer_sin_verificar(t) for t in textos]
    formas = [q.opciones for q in eleccion.preguntas]
    r, peso = es.recuento(formas, boletas, {b.credencial: 1 for b in boletas})
    texto = es.recuento_json(r)
    return texto, es.recuento_dimensionado_json(len(boletas), peso, sha256_hex(texto))


def recuento_parcial(eleccion_json: str, textos: list[str]) -> str:
    """The product of a slice of the ballots (a worker of the verifier pool): the encrypted tally's JSON."""
    return _recuento(eleccion_belenios(eleccion_json), textos)[0]


# Below this many ballots the tally is computed in one thread: splitting costs more than it saves.
RECUENTO_EN_PARALELO = 2_000


async def _recuento_de(
    eleccion_json: str, textos: list[str], verificadores: Executor | None
) -> tuple[str, str]:
    """The EncryptedTally of ``textos``: in slices across the verifier pool when there is one (each slice's
    product, then the product of the slices: the same elements), else in a thread."""
    eleccion = eleccion_belenios(eleccion_json)
    if verificadores is None or len(textos) < RECUENTO_EN_PARALELO:
        return await asyncio.to_thread(_recuento, eleccion, textos)
    loop = asyncio.get_running_loop()
    tamano = -(-len(textos) // 8)
    parciales = await asyncio.gather(
        *(
            loop.run_in_executor(verificadores, recuento_parcial, eleccion_json, textos[i : i + tamano])
            for i in range(0, len(textos), tamano)
        )
    )
    formas = [q.opciones for q in eleccion.preguntas]
    total = es.leer_recuento(parciales[0], formas)
    for parcial in parciales[1:]:
        otro = es.leer_recuento(parcial, formas)
        total = [
            [(gr.mul(a, a2), gr.mul(b, b2)) for (a, b), (a2, b2) in zip(fila, fila2, strict=True)]
            for fila, fila2 in zip(total, otro, strict=True)
        ]
    texto = es.recuento_json(total)
    return texto, es.recuento_dimensionado_json(len(textos), len(textos), sha256_hex(texto))


async def sellar(
    session: AsyncSession,
    e: Eleccion,
    ahora: dt.datetime,
    proceso: Proceso,
    verificadores: Executor | None = None,
) -> str:
    """Close the ballot box at the end of the window: EndBallots, the final hash, the hand-over to computo."""
    if e.estado == "sellada":
        raise Problem(409, f"La urna ya estaba sellada (sello {e.sello}).")
    if e.estado != "abierta":
        raise Problem(409, "La elección no fue abierta: no hay urna que sellar.")
    if ahora < e.fin:
        raise Problem(
            409,
            f"El periodo de votación termina el {proceso.local(e.fin):%d/%m/%Y a las %H:%M} "
            "(hora del Centro).",
        )
    assert e.eleccion_json is not None and e.custodios_json is not None
    e.estado = "sellada"
    e.sellada_at = ahora
    textos = list(
        (
            await session.execute(select(Boleta.texto).where(Boleta.eleccion == e.uuid).order_by(Boleta.id))
        ).scalars()
    )
    e.recuento, e.recuento_dimensionado = await _recuento_de(e.eleccion_json, textos, verificadores)
    a = await archivo(session, e)
    e.sello = a.de_tipo("EndBallots")[0].hash
    boletas = len(textos)
    await stage(
        session,
        Outbox,
        ELECTRONICO_ELECCION,
        Envelope.new(
            event_type=eventos.URNA_SELLADA,
            source="electronico",
            aggregate_id=e.uuid,
            aggregate_version=2,
            data=eventos.UrnaSellada(
                eleccion=e.uuid,
                entidad=e.entidad,
                cargo=e.cargo,
                simulacro=e.simulacro,
                boletas=boletas,
                sello=e.sello,
                archivo=f"/v1/elecciones/{e.uuid}/archivo.bel",
                sellada_at=ahora,
                eleccion_json=e.eleccion_json,
                custodios_json=e.custodios_json,
                recuento=e.recuento,
                recuento_dimensionado=e.recuento_dimensionado,
            ),
        ),
    )
    return e.sello


async def por_sellar(session: AsyncSession, ahora: dt.datetime) -> list[str]:
    return list(
        (
            await session.execute(
                select(Eleccion.uuid).where(Eleccion.estado == "abierta", Eleccion.fin <= ahora)
            )
        )
        .scalars()
        .all()
    )


async def participacion(session: AsyncSession, proceso: Proceso) -> list[dict[str, object]]:
    """Accepted ballots by election and hour (Centro). Counts only: never a choice."""
    filas = (
        await session.execute(
            select(Eleccion.uuid, Eleccion.entidad, Eleccion.simulacro, Boleta.emitida_at).join(
                Boleta, Boleta.eleccion == Eleccion.uuid
            )
        )
    ).all()
    cuentas: dict[tuple[str, str, bool, str], int] = {}
    for uuid, entidad, simulacro, emitida in filas:
        hora = proceso.local(emitida).replace(minute=0, second=0, microsecond=0).isoformat()
        k = (uuid, entidad, bool(simulacro), hora)
        cuentas[k] = cuentas.get(k, 0) + 1
    return [
        {"eleccion": u, "entidad": en, "simulacro": s, "hora": h, "votos": n}
        for (u, en, s, h), n in sorted(cuentas.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][3]))
    ]


async def boletas_contadas(session: AsyncSession, uuid: str) -> int:
    return int(
        (
            await session.execute(select(func.count()).select_from(Boleta).where(Boleta.eleccion == uuid))
        ).scalar_one()
    )


async def registrar_escrutinio(session: AsyncSession, datos: eventos_computo.EscrutinioPublicado) -> None:
    """computo's decryption of the tally: each partial decryption is checked again against the custodians'
    keys and the stored tally, and the result recomputed, before they enter the public record."""
    e = await session.get(Eleccion, datos.eleccion, with_for_update=True)
    if e is None or e.estado != "sellada" or e.recuento is None or e.eleccion_json is None:
        raise ValueError(f"escrutinio de la elección {datos.eleccion}, que no existe o no está sellada")
    if e.resultado is not None:
        if e.resultado != datos.resultado:
            raise ValueError(f"la elección {e.uuid} ya tiene otro resultado publicado")
        return
    assert e.custodios_json is not None
    eleccion = eleccion_belenios(e.eleccion_json)
    custodios = Custodios.leer(json.loads(e.custodios_json))
    formas = [q.opciones for q in eleccion.preguntas]
    recuento = es.leer_recuento(e.recuento, formas)
    duenos = custodios.duenos()
    parciales = {
        d.owner: es.verificar_descifrado(eleccion.huella, duenos[d.owner][2], recuento, d.texto)
        for d in datos.descifrados
    }
    comb = es.combinar(custodios, parciales, formas)
    total = json.loads(e.recuento_dimensionado or "{}").get("total_weight", 0)
    resultado = es.resultado_json(es.resultado(recuento, comb.factores, int(total)))
    if resultado != datos.resultado:
        raise ValueError(f"el resultado de computo no corresponde al recuento de la elección {e.uuid}")
    for posicion, d in enumerate(datos.descifrados, start=1):
        session.add(Descifrado(eleccion=e.uuid, owner=d.owner, posicion=posicion, texto=d.texto))
    e.resultado = resultado
