"""Valid applications, deterministic per number ``n`` (unique clave de elector for each n)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from shared.bus.envelope import Envelope
from shared.events.registro import SOLICITUD_RECIBIDA
from simulacion.personas import letras


def clave(n: int, nacimiento: dt.date = dt.date(1985, 3, 12), sexo: str = "M") -> str:
    return f"{letras(n)}{nacimiento:%y%m%d}09{sexo}{n % 1000:03d}"


def solicitud(
    n: int, entidad: str = "09", modalidad: str = "electronica", pais: str = "US", **cambios: Any
) -> dict[str, Any]:
    sexo = "HM"[n % 2]
    nacimiento = dt.date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
    datos: dict[str, Any] = {
        "clave_elector": clave(n, nacimiento, sexo),
        "nombre": "María José" if sexo == "M" else "José Ángel",
        "apellido_paterno": "Núñez",
        "apellido_materno": "Peña",
        "fecha_nacimiento": nacimiento.isoformat(),
        "sexo": sexo,
        "entidad": entidad,
        "pais": pais,
        "domicilio": {
            "calle_numero": f"{100 + n} Main St",
            "ciudad": "Los Angeles",
            "region": "CA",
            "codigo_postal": "90015",
        },
        "email": f"persona{n}@example.com",
        "telefono": f"+1310555{n % 10000:04d}",
        "modalidad": modalidad,
    }
    datos.update(cambios)
    return datos


def evento_recibida(entidad: str = "09", modalidad: str = "postal", folio: str | None = None) -> Envelope:
    """A ``registro.solicitud.recibida`` event, as tablero receives it."""
    folio = folio or f"F-{uuid.uuid4().hex[:8]}"
    return Envelope.new(
        event_type=SOLICITUD_RECIBIDA,
        source="registro",
        aggregate_id=folio,
        data={
            "folio": folio,
            "entidad": entidad,
            "modalidad": modalidad,
            "recibida_at": "2021-01-01T00:00:00Z",
        },
    )
