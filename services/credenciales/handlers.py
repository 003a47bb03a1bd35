"""The credential authority consumes registro's closed internet list (who gets a credential, and how many
there must be) and electronico's prepared elections (each credential is derived from the election's uuid)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.credenciales import service
from services.credenciales.config import Settings
from shared.bus.consumer import Handler
from shared.bus.envelope import Envelope
from shared.events import electronico as eventos_electronico
from shared.events import registro as eventos_registro
from shared.proceso import Proceso
from shared.reloj import Reloj


def build(proceso: Proceso, settings: Settings, reloj: Reloj) -> dict[str, Handler]:
    async def inscrito(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.InscritoElectronica.model_validate(envelope.data)
        await service.votante_inscrito(session, datos, proceso, settings, reloj.ahora())

    async def probador(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.ProbadorInscrito.model_validate(envelope.data)
        await service.votante_inscrito(session, datos, proceso, settings, reloj.ahora())

    async def presencial(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.InscritoPresencial.model_validate(envelope.data)
        await service.votante_inscrito(session, datos, proceso, settings, reloj.ahora())

    async def cerrada(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.LnereCerrada.model_validate(envelope.data)
        await service.lnere_cerrada(session, datos, proceso, settings, reloj.ahora())

    async def preparada(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_electronico.EleccionPreparada.model_validate(envelope.data)
        await service.eleccion_preparada(session, datos, proceso, settings, reloj.ahora())

    return {
        eventos_registro.LNERE_ELECTRONICA_INSCRITO: inscrito,
        eventos_registro.LNERE_PRESENCIAL_INSCRITO: presencial,
        eventos_registro.PROBADOR_INSCRITO: probador,
        eventos_registro.LNERE_CERRADA: cerrada,
        eventos_electronico.ELECCION_PREPARADA: preparada,
    }
