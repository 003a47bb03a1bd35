"""The shape of the services' polling loops (webhook deliveries, messages to people, ballot boxes to seal,
pushes to the OPL): a round, a pause, again, for as long as the service runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NoReturn


async def repetir(
    ronda: Callable[[], Awaitable[bool | None]], intervalo: float, *, log: logging.Logger, aviso: str
) -> NoReturn:
    """Run ``ronda`` every ``intervalo`` seconds until the task is cancelled. A round that returns True (it
    took a full batch: more is waiting) is followed at once by the next one. A round that fails is logged as
    ``aviso`` with the class of its error (never its message, which may carry data) in ``log``, the caller's
    logger, and tried again after the pause."""
    while True:
        try:
            if await ronda():
                continue
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(aviso, extra={"error": type(exc).__name__})
        await asyncio.sleep(intervalo)
