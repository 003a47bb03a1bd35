"""Figures as the actas print them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def porcentaje(parte: int, todo: int) -> str:
    """Two decimals, half-up, exact (the cómputo's rounding): 18,079 of 32,305 → ``"55.96"``; of nothing,
    ``"0.00"``."""
    if todo == 0:
        return "0.00"
    return str((Decimal(100 * parte) / Decimal(todo)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
