"""Notifications to citizens (email, SMS) through an outbox: staged in the same transaction as the change
that causes them, delivered afterwards by a sender. The only sink here is a local one — JSON lines in a file
(``var/buzon/<servicio>.jsonl``) that a developer or a test can read; a real gateway is an outside edge."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import String, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime, utcnow

log = logging.getLogger(__name__)


class NotificacionMixin:
    __tablename__ = "notificaciones"

    id: Mapped[int] = mapped_column(primary_key=True)
    canal: Mapped[str] = mapped_column(String(8))
    destino: Mapped[str] = mapped_column(String(254))
    plantilla: Mapped[str] = mapped_column(String(64))
    mensaje: Mapped[str] = mapped_column(Text)
    referencia: Mapped[str] = mapped_column(String(64))
    creada_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enviada_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)


@dataclass(frozen=True, slots=True)
class Aviso:
    """One message to a citizen, by email and by SMS where there is an address."""

    email: str | None
    telefono: str | None
    plantilla: str
    mensaje: str
    referencia: str


async def encolar(
    session: AsyncSession, model: type[NotificacionMixin], avisos: list[Aviso], ahora: dt.datetime
) -> None:
    """Stage the notices in the caller's transaction, in one insert."""
    filas = [
        {
            "canal": canal,
            "destino": destino,
            "plantilla": a.plantilla,
            "mensaje": a.mensaje,
            "referencia": a.referencia,
            "creada_at": ahora,
        }
        for a in avisos
        for canal, destino in (("email", a.email), ("sms", a.telefono))
        if destino
    ]
    if filas:
        await session.execute(insert(model), filas)


class BuzonLocal:
    """Development sink: one JSON line per delivered message."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entregar(self, mensajes: list[dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            for m in mensajes:
                f.write(json.dumps(m, ensure_ascii=False) + "\n")


class Notificador:
    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        model: type[NotificacionMixin],
        buzon: BuzonLocal,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        borrar_tras_entrega: frozenset[str] = frozenset(),
    ) -> None:
        self.maker, self.model, self.buzon = maker, model, buzon
        self.poll_interval, self.batch_size = poll_interval, batch_size
        # Templates whose body is a secret meant only for the recipient (a voting credential): once handed
        # to the gateway, the stored copy is erased.
        self.borrar_tras_entrega = borrar_tras_entrega

    async def enviar_pendientes(self) -> int:
        async with self.maker() as session, session.begin():
            filas = (
                (
                    await session.execute(
                        select(self.model)
                        .where(self.model.enviada_at.is_(None))
                        .order_by(self.model.id)
                        .limit(self.batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not filas:
                return 0
            await asyncio.to_thread(
                self.buzon.entregar,
                [
                    {
                        "canal": f.canal,
                        "destino": f.destino,
                        "plantilla": f.plantilla,
                        "mensaje": f.mensaje,
                        "referencia": f.referencia,
                        "creada_at": f.creada_at.isoformat(),
                    }
                    for f in filas
                ],
            )
            await session.execute(
                update(self.model).where(self.model.id.in_([f.id for f in filas])).values(enviada_at=utcnow())
            )
            if self.borrar_tras_entrega:
                await session.execute(
                    update(self.model)
                    .where(
                        self.model.id.in_([f.id for f in filas]),
                        self.model.plantilla.in_(self.borrar_tras_entrega),
                    )
                    .values(mensaje="(contenido secreto borrado tras la entrega)")
                )
        return len(filas)

    async def run(self) -> None:
        while True:
            try:
                if await self.enviar_pendientes() >= self.batch_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "notificaciones: error al entregar, se reintenta", extra={"error": type(exc).__name__}
                )
            await asyncio.sleep(self.poll_interval)
