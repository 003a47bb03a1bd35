"""The credential authority (Belenios' «credential authority»), apart from the voting server.

For every internet voter of the closed LNERE and every election electronico prepares for its entidad (real
or drill), the authority draws a private credential, sends it to the voter through its own notification
channels, and keeps only the public half. electronico receives the public halves (with the voter's number, to
bind each to one account) and, once every voter has one, the list signed with the authority's key: it opens
the election only with exactly that list. A compromised electronico never sees a private credential, so it
cannot vote for anyone who abstains, and an extra credential in the public record no longer matches the
signed list (``vmre verificar --lista-credenciales``).

Runs as one replica: the three streams it reads (voters, closed lists, elections) are applied in order by one
consumer, so no voter misses an election that arrives at the same time. Stage events; never commit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.credenciales import repository
from services.credenciales.config import Settings
from services.credenciales.models import Cierre, Eleccion, Notificacion, Votante, emisor
from shared import firma
from shared.bus.topics import CREDENCIALES_LISTA
from shared.cripto import grupo as gr
from shared.cripto import sede as sello
from shared.cripto.eleccion import (
    credencial_publica,
    generar_credencial,
    huella_credenciales,
    ordenar_credenciales,
)
from shared.events import credenciales as eventos
from shared.events import electronico as eventos_electronico
from shared.events import registro as eventos_registro
from shared.notificaciones import Aviso, encolar
from shared.numeros import es_probador, numeros_adicionales
from shared.proceso import Proceso

PLANTILLA = "credenciales_voto"
DOCUMENTO = "Lista de credenciales públicas de la elección"


def _sacar(
    elecciones: Sequence[tuple[str, str]], destinos: Sequence[tuple[int, str | None, str | None]]
) -> tuple[list[list[str]], list[list[str]], list[list[str | None]]]:
    """Private and public credentials per voter and election, and the private one sealed to the voter's site
    key for those who vote in person (PBKDF2 per credential: off the event loop). ``destinos``: each voter's
    number, site and that site's public key."""
    privadas, publicas, selladas = [], [], []
    for numero, sede, clave_sede in destinos:
        fila_priv, fila_pub, fila_sel = [], [], []
        for uuid, _nombre in elecciones:
            privada = generar_credencial()
            fila_priv.append(privada)
            fila_pub.append(gr.s(credencial_publica(uuid, privada)))
            fila_sel.append(
                sello.sellar(clave_sede, privada, sello.contexto(sede, uuid, numero))
                if sede is not None and clave_sede is not None
                else None
            )
        privadas.append(fila_priv)
        publicas.append(fila_pub)
        selladas.append(fila_sel)
    return privadas, publicas, selladas


def clave_de_sede(settings: Settings, sede: str) -> str:
    """The site's public key as configured; in local mode the development key stands in for a missing one."""
    clave = settings.claves_sedes.get(sede)
    if clave is None and settings.mode == "local":
        return sello.PUBLICA_DE_DESARROLLO
    if clave is None:  # production refuses to start without every site's key: this is a site it does not know
        raise RuntimeError(f"sin clave pública para la sede {sede} (VMRE_CREDENCIALES_CLAVES_SEDES)")
    return clave


async def _emitir(
    session: AsyncSession,
    settings: Settings,
    elecciones: Sequence[Eleccion],
    votantes: Sequence[Votante],
    ahora: dt.datetime,
) -> None:
    """One credential per voter and election; each internet voter gets one message with its private ones,
    each in-person voter's go sealed to its site's key with the public halves, and electronico gets the
    public halves (in batches of ``settings.lote``)."""
    if not elecciones or not votantes:
        return
    claves = [(e.uuid, e.nombre) for e in elecciones]
    destinos = [(v.numero, v.sede, clave_de_sede(settings, v.sede) if v.sede else None) for v in votantes]
    privadas, publicas, selladas = await asyncio.to_thread(_sacar, claves, destinos)
    avisos = []
    for v, priv in zip(votantes, privadas, strict=True):
        if v.sede is not None:
            continue  # in person: the sealed credential travels to the site's kiosk, no message
        assert v.email is not None
        lineas = "\n".join(f"- {nombre}: {p}" for (_, nombre), p in zip(claves, priv, strict=True))
        texto = (
            "Credencial de votación (consérvela; se le pedirá al emitir su voto):\n"
            f"{lineas}\n\n"
            "La emite la autoridad de credenciales, no el sistema de votación: nadie más la conoce."
        )
        avisos.append(Aviso(v.email, None, PLANTILLA, texto, f"{v.entidad}-{v.numero:07d}", secreto=True))
    for j, e in enumerate(elecciones):
        filas = [
            {"eleccion": e.uuid, "numero": v.numero, "publica": pub[j], "sellada": sel[j]}
            for v, pub, sel in zip(votantes, publicas, selladas, strict=True)
        ]
        insertadas = await repository.insertar_credenciales(
            session, [{k: f[k] for k in ("eleccion", "numero", "publica")} for f in filas]
        )
        if insertadas != len(filas):  # a voter already had one: never two credentials (nor a lost message)
            raise RuntimeError(f"credenciales repetidas en la elección {e.uuid}: se reintenta el lote")
        e.emitidas += len(filas)
        for i in range(0, len(filas), settings.lote):
            lote = filas[i : i + settings.lote]
            await emisor.emitir(
                session,
                CREDENCIALES_LISTA,
                event_type=eventos.CREDENCIALES_EMITIDAS,
                aggregate_id=e.uuid,
                data=eventos.CredencialesEmitidas(
                    eleccion=e.uuid,
                    entidad=e.entidad,
                    credenciales=[
                        eventos.CredencialPublica(
                            numero=f["numero"], publica=f["publica"], sellada=f["sellada"]
                        )
                        for f in lote
                    ],
                ),
            )
    await encolar(session, Notificacion, avisos, ahora)


def reserva(proceso: Proceso, e: Eleccion) -> list[tuple[str, int]]:
    """The consular sites' reserve credentials of a real election of a national office (#27): (site, number)
    for each extra ballot a site may hand to a citizen of the entidad who is not on the LNERE."""
    nacional = any(c.clave == e.cargo for c in proceso.cargos_nacionales)
    return numeros_adicionales(proceso) if nacional and not e.simulacro else []


async def _quiza_firmar(
    session: AsyncSession, proceso: Proceso, settings: Settings, e: Eleccion, ahora: dt.datetime
) -> None:
    """Sign the election's list once every voter of the entidad's closed LNERE (internet and in person), and
    every site reserve credential, has a credential."""
    cierre = await repository.cierre(session, e.entidad)
    reservadas = len(reserva(proceso, e))
    if e.lista is not None or cierre is None:
        return
    if e.emitidas < cierre.electronica + cierre.presencial + reservadas + e.probadores:
        return
    publicas = await repository.publicas(session, e.uuid)
    ordenadas = await asyncio.to_thread(ordenar_credenciales, [gr.elemento(p) for p in publicas])
    documento = firma.firmar(
        settings.clave_firma.get_secret_value(),
        {
            "documento": DOCUMENTO,
            "eleccion": e.uuid,
            "entidad": e.entidad,
            "cargo": e.cargo,
            "simulacro": e.simulacro,
            "credenciales": len(ordenadas),
            "lnere_electronica": cierre.electronica,
            **({"lnere_presencial": cierre.presencial} if cierre.presencial else {}),
            # Sealed to each site's key; only the extra ballots a site hands (registro counts them) vote.
            **({"reserva_sedes": reservadas} if reservadas else {}),
            **({"probadores": e.probadores} if e.probadores else {}),  # a drill's outside testers
            "huella_lista": huella_credenciales(ordenadas),
            "firmada_at": ahora.isoformat(),
        },
    )
    e.lista, e.firmada_at = documento, ahora
    await emisor.emitir(
        session,
        CREDENCIALES_LISTA,
        event_type=eventos.LISTA_FIRMADA,
        aggregate_id=e.uuid,
        data=eventos.ListaFirmada(eleccion=e.uuid, entidad=e.entidad, documento=documento),
    )


async def votante_inscrito(
    session: AsyncSession,
    datos: (
        eventos_registro.InscritoElectronica
        | eventos_registro.InscritoPresencial
        | eventos_registro.ProbadorInscrito
    ),
    proceso: Proceso,
    settings: Settings,
    ahora: dt.datetime,
) -> None:
    valores: dict[str, Any] = {"entidad": datos.entidad, "numero": datos.numero, "recibido_at": ahora}
    if isinstance(datos, eventos_registro.InscritoPresencial):
        valores["sede"] = datos.sede
    else:
        valores.update(email=datos.email, telefono=datos.telefono)
    if not await repository.insertar_votante(session, valores):
        return  # a replay
    elecciones = await repository.abiertas(session, datos.entidad)
    if es_probador(datos.numero):  # an outside tester: the drills only
        elecciones = [e for e in elecciones if e.simulacro]
    await _emitir(session, settings, elecciones, [Votante(**valores)], ahora)
    for e in elecciones:
        await _quiza_firmar(session, proceso, settings, e, ahora)


async def eleccion_preparada(
    session: AsyncSession,
    datos: eventos_electronico.EleccionPreparada,
    proceso: Proceso,
    settings: Settings,
    ahora: dt.datetime,
) -> None:
    valores = {
        "uuid": datos.eleccion,
        "entidad": datos.entidad,
        "cargo": datos.cargo,
        "nombre": datos.nombre,
        "simulacro": datos.simulacro,
        "emitidas": 0,
        "probadores": datos.probadores if datos.simulacro else 0,
    }
    if not await repository.insertar_eleccion(session, valores):
        return
    e = await repository.eleccion(session, datos.eleccion)
    assert e is not None
    await _emitir(session, settings, [e], await repository.sin_credencial(session, e), ahora)
    reservas = [Votante(entidad=e.entidad, numero=n, sede=s) for s, n in reserva(proceso, e)]
    await _emitir(session, settings, [e], reservas, ahora)
    await _quiza_firmar(session, proceso, settings, e, ahora)


async def lnere_cerrada(
    session: AsyncSession,
    datos: eventos_registro.LnereCerrada,
    proceso: Proceso,
    settings: Settings,
    ahora: dt.datetime,
) -> None:
    if not await repository.insertar_cierre(session, datos.entidad, datos.electronica, datos.presencial):
        return
    for e in await repository.abiertas(session, datos.entidad):
        await _quiza_firmar(session, proceso, settings, e, ahora)


def resumen(e: Eleccion, cierre: Cierre | None) -> dict[str, Any]:
    return {
        "eleccion": e.uuid,
        "entidad": e.entidad,
        "cargo": e.cargo,
        "nombre": e.nombre,
        "simulacro": e.simulacro,
        "credenciales": e.emitidas,
        "lnere_electronica": cierre.electronica if cierre else None,
        "firmada_at": e.firmada_at,
    }
