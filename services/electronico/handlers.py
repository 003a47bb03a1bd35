"""electronico consumes registro's closed internet list (accounts; in-person voters and the sites' extra
ballots: kiosk accounts), the credential authority's public
credentials and signed lists, postal's «votó» marks
(a postal voter may not vote again by internet) and computo's decryption of the tally (for the record)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.electronico import service
from services.electronico.config import Settings
from shared.bus.consumer import Handler
from shared.bus.envelope import Envelope
from shared.events import computo as eventos_computo
from shared.events import credenciales as eventos_credenciales
from shared.events import postal as eventos_postal
from shared.events import registro as eventos_registro
from shared.proceso import Proceso
from shared.reloj import Reloj


def build(proceso: Proceso, settings: Settings, reloj: Reloj) -> dict[str, Handler]:
    async def inscrito(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.InscritoElectronica.model_validate(envelope.data)
        await service.inscribir(session, datos, proceso, settings, reloj.ahora())

    async def presencial(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.InscritoPresencial.model_validate(envelope.data)
        await service.inscribir_presencial(session, datos, proceso, settings, reloj.ahora())

    async def probador(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.ProbadorInscrito.model_validate(envelope.data)
        await service.inscribir(session, datos, proceso, settings, reloj.ahora())

    async def adicional(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_registro.BoletaAdicionalEnModulo.model_validate(envelope.data)
        await service.boleta_adicional(session, datos, proceso, reloj.ahora())

    async def voto_postal(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_postal.VotoRegistrado.model_validate(envelope.data)
        await service.registrar_voto_postal(session, datos.entidad, datos.numero)

    async def escrutinio(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_computo.EscrutinioPublicado.model_validate(envelope.data)
        await service.registrar_escrutinio(session, datos)

    async def credenciales(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_credenciales.CredencialesEmitidas.model_validate(envelope.data)
        await service.credenciales_emitidas(session, datos)

    async def lista(session: AsyncSession, envelope: Envelope) -> None:
        datos = eventos_credenciales.ListaFirmada.model_validate(envelope.data)
        await service.lista_firmada(session, datos, settings)

    return {
        eventos_registro.LNERE_ELECTRONICA_INSCRITO: inscrito,
        eventos_registro.LNERE_PRESENCIAL_INSCRITO: presencial,
        eventos_registro.BOLETA_ADICIONAL_EN_MODULO: adicional,
        eventos_registro.PROBADOR_INSCRITO: probador,
        eventos_credenciales.CREDENCIALES_EMITIDAS: credenciales,
        eventos_credenciales.LISTA_FIRMADA: lista,
        eventos_postal.VOTO_REGISTRADO: voto_postal,
        eventos_computo.ESCRUTINIO_PUBLICADO: escrutinio,
    }
