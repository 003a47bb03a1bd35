"""electronico use cases: casting a ballot (checked, stored once per voter, acknowledged). Stage events; never
commit (the caller owns the transaction)."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import Executor
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import domain, repository
from services.electronico.models import Boleta, Eleccion, Votante, emisor
from services.electronico.service.elecciones import eleccion_belenios
from shared.bus.topics import ELECTRONICO_VOTO
from shared.cripto import boleta as bo
from shared.events import electronico as eventos
from shared.problems import Problem
from shared.proceso import Proceso


@dataclass
class Acuse:
    rastreador: str
    eleccion: str
    emitida_at: dt.datetime
    nuevo: bool


async def _existente(session: AsyncSession, e: Eleccion, votante: Votante) -> Boleta | None:
    return await repository.boleta_del_votante(session, e.uuid, votante.id)


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


def verificar_boleta(eleccion_json: str, texto: str, publica: str) -> tuple[str, str | None]:
    """Verify one ballot completely: ``(rastreador, None)``, or ``(motivo, mensaje)`` when the box must refuse
    it. Plain values in and out, so it runs in a process of the verifier pool as well as in a thread."""
    try:
        return bo.verificar(eleccion_belenios(eleccion_json), texto, {publica: 1}).rastreador, None
    except bo.BoletaInvalida as exc:
        return exc.motivo, str(exc)


async def emitir(
    session: AsyncSession,
    e: Eleccion,
    votante: Votante,
    texto: str,
    idempotency_key: str | None,
    proceso: Proceso,
    ahora: dt.datetime,
    verificadores: Executor | None = None,
    sesion_at: dt.datetime | None = None,
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
    publica = await repository.credencial_publica(session, e.uuid, votante.numero)
    if votante.entidad != e.entidad or publica is None:
        raise Problem(
            403,
            "Usted no está en la Lista Nominal de Electores Residentes en el Extranjero de esta entidad "
            "para votar por internet.",
            slug="fuera-de-lista",
        )
    if not e.simulacro:
        postal = await repository.voto_postal(session, votante.entidad, votante.numero)
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
    insertada = await repository.guardar_boleta(
        session,
        {
            "eleccion": e.uuid,
            "votante_id": votante.id,
            "texto": texto,
            "rastreador": rastreador,
            "idempotency_key": idempotency_key,
            "emitida_at": ahora,
            "sesion_at": sesion_at,
        },
    )
    if not insertada:  # a concurrent submission of this voter won
        previa = await _existente(session, e, votante)
        assert previa is not None
        return _ya_voto(previa, idempotency_key)
    await emisor.emitir(
        session,
        ELECTRONICO_VOTO,
        event_type=eventos.VOTO_EMITIDO,
        aggregate_id=f"{votante.entidad}-{votante.numero:07d}",
        data=eventos.VotoEmitido(
            eleccion=e.uuid,
            entidad=votante.entidad,
            numero=votante.numero,
            simulacro=e.simulacro,
            emitido_at=ahora,
            sede=votante.sede,
        ),
    )
    return Acuse(rastreador, e.uuid, ahora, nuevo=True)
