"""The platform's keys, written once: the entidad (INEGI's two-digit key, 01..32) and an election's uuid
(Belenios'), as a pattern, a compiled regex, a pydantic field type and FastAPI path and query parameters."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

ENTIDAD = r"^(0[1-9]|[12][0-9]|3[0-2])$"
ENTIDAD_RE = re.compile(ENTIDAD)
_EJEMPLO_ENTIDAD = "Clave INEGI, p. ej. 09"

# A body's entidad; a field adds its own description: ``entidad: ClaveEntidad = Field(description=…)``.
ClaveEntidad = Annotated[str, Field(pattern=ENTIDAD)]
EntidadPath = Annotated[str, Path(pattern=ENTIDAD, description=_EJEMPLO_ENTIDAD)]
# Optional: ``entidad: EntidadQuery = None``.
EntidadQuery = Annotated[str | None, Query(pattern=ENTIDAD, description=_EJEMPLO_ENTIDAD)]

ELECCION = r"^[1-9A-HJ-NP-Za-km-z]{14,32}$"
EleccionPath = Annotated[str, Path(pattern=ELECCION, description="uuid de la elección")]

# A consular site where people vote in person (#27): its key in the process file (``[sedes.<clave>]``).
SEDE_RE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SedePath = Annotated[
    str, Path(pattern=SEDE_RE, max_length=40, description="Clave de la sede consular, p. ej. los-angeles")
]
