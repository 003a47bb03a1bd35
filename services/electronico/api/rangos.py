"""Conditional and partial downloads of a stored record: If-None-Match, Range and If-Range (RFC 9110)."""

from __future__ import annotations

import re

from shared.problems import Problem

RANGO = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)


def coincide(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match (weak comparison): ``*`` or one of the listed tags is ``etag``."""
    if if_none_match is None:
        return False
    etiquetas = [x.strip().removeprefix("W/") for x in if_none_match.split(",")]
    return "*" in etiquetas or etag in etiquetas


def intervalo_pedido(
    cabecera: str | None, if_range: str | None, etag: str, tamano: int
) -> tuple[int, int] | None:
    """The one byte range asked for, as [inicio, fin); None to send the whole record (no Range, one this
    server ignores — several ranges, another unit, malformed — or an If-Range that is not the current ETag).
    A range that starts past the end is a 416."""
    if cabecera is None or (if_range is not None and if_range.strip() != etag):
        return None
    m = RANGO.fullmatch(cabecera.replace(" ", ""))
    if m is None or m.groups() == ("", ""):
        return None
    a, b = m.groups()
    if a == "":  # the last b bytes
        inicio, fin = max(0, tamano - int(b)), tamano
        if int(b) == 0:
            inicio = tamano
    else:
        inicio = int(a)
        fin = tamano if b == "" else min(int(b) + 1, tamano)
        if b != "" and int(b) < inicio:
            return None
    if inicio >= tamano:
        raise Problem(
            416,
            f"El rango pedido ({cabecera}) queda fuera del archivo, que tiene {tamano} bytes.",
            slug="rango-no-satisfacible",
            headers={"Content-Range": f"bytes */{tamano}"},
        )
    return inicio, fin
