"""Events registro publishes (topic ``vmre.registro.solicitud``). Payloads carry only what consumers need."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

SOLICITUD_RECIBIDA = "registro.solicitud.recibida"


class SolicitudRecibida(BaseModel):
    """An application was received. No names, no clave de elector: tablero only counts."""

    folio: str
    entidad: str
    modalidad: Literal["postal", "electronica"]
    recibida_at: dt.datetime
