"""registro · the bulk load (INETEL): a CSV of applications."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import avisos
from services.registro.models import Notificacion
from services.registro.schemas import FilaRechazada, ReporteLote, SolicitudIn
from services.registro.service.comun import SolicitudDuplicada, _al_historial
from services.registro.service.solicitudes import solicitar
from services.registro.service.validacion import _error, errores_solicitud
from shared.auth import Principal
from shared.notificaciones import Aviso, encolar
from shared.problems import Problem, validation_errors
from shared.proceso import Proceso

# Optional: a file without them is read as before (``sede``: only for the in-person modality).
COLUMNAS_OPCIONALES = ("sede",)
COLUMNAS = (
    "clave_elector",
    "nombre",
    "apellido_paterno",
    "apellido_materno",
    "fecha_nacimiento",
    "sexo",
    "entidad",
    "pais",
    "calle_numero",
    "ciudad",
    "region",
    "codigo_postal",
    "email",
    "telefono",
    "modalidad",
)


async def cargar_lote(
    session: AsyncSession,
    contenido: bytes,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
    parcial: bool,
) -> ReporteLote:
    """Validate every row; load in one transaction. Strict (default): any rejected row loads nothing."""
    try:
        texto = contenido.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(
            422, "El archivo no está en UTF-8.", errors=[_error("archivo", "Codificación inválida.")]
        ) from exc
    lector = csv.DictReader(io.StringIO(texto))
    faltantes = [c for c in COLUMNAS if c not in (lector.fieldnames or [])]
    if faltantes:
        raise Problem(
            422,
            f"Faltan columnas en la cabecera: {', '.join(faltantes)}.",
            errors=[_error("archivo", f"Columnas esperadas: {','.join(COLUMNAS)}")],
        )
    rechazadas: list[FilaRechazada] = []
    validas: list[tuple[int, SolicitudIn]] = []
    vistas: dict[str, int] = {}
    recibidas = 0
    for fila, registro in enumerate(lector, start=2):
        recibidas += 1
        clave = (registro.get("clave_elector") or "").strip().upper() or None
        datos = {
            k: (v.strip() if isinstance(v, str) else v)
            for k, v in registro.items()
            if k in COLUMNAS or k in COLUMNAS_OPCIONALES
        }
        cuerpo: dict[str, Any] = {
            k: v
            for k, v in datos.items()
            if k not in ("calle_numero", "ciudad", "region", "codigo_postal") and v != ""
        }
        cuerpo["apellido_materno"] = datos.get("apellido_materno") or ""
        cuerpo["domicilio"] = {
            k: datos.get(k) or None for k in ("calle_numero", "ciudad", "region", "codigo_postal")
        }
        nulos = [k for k, v in datos.items() if isinstance(v, str) and "\x00" in v]
        if nulos:  # as on the JSON route (problems.sin_caracter_nulo): no text of the platform holds U+0000
            errores_nulo = [_error(k, "No se admite el carácter nulo (U+0000).") for k in nulos]
            rechazadas.append(FilaRechazada(fila=fila, clave_elector=None, errores=errores_nulo))
            continue
        try:
            solicitud = SolicitudIn.model_validate(cuerpo)
        except ValidationError as exc:
            rechazadas.append(FilaRechazada(fila=fila, clave_elector=clave, errores=validation_errors(exc)))
            continue
        errores = errores_solicitud(solicitud, proceso)
        if solicitud.clave_elector in vistas:
            errores.append(
                _error("clave_elector", f"Repetida en el archivo (fila {vistas[solicitud.clave_elector]}).")
            )
        if errores:
            rechazadas.append(FilaRechazada(fila=fila, clave_elector=clave, errores=errores))
            continue
        vistas[solicitud.clave_elector] = fila
        validas.append((fila, solicitud))

    cargadas = 0
    recibos: list[Aviso] = []
    for fila, solicitud in validas:
        try:
            # Rows are validated already: what can still fail here (duplicate, out of window) is refused
            # before writing, so the transaction stays whole.
            nueva = await solicitar(
                session, solicitud, proceso, ahora, canal="inetel", actor=operador, avisar=False
            )
            recibos.append(avisos.recibida(nueva, proceso))
            cargadas += 1
        except SolicitudDuplicada as duplicada:
            # Operators may see folios (the person calls INETEL for it); nothing is re-sent to the person.
            existente = duplicada.existente
            errores = [
                _error(
                    "clave_elector",
                    "Ya existe una solicitud con esta clave de elector en este proceso. "
                    f"Folio: {existente.folio} (estado {existente.estado}).",
                )
            ]
            rechazadas.append(
                FilaRechazada(fila=fila, clave_elector=solicitud.clave_elector, errores=errores)
            )
        except Problem as problem:
            errores = problem.errors or [_error("solicitud", problem.detail)]
            rechazadas.append(
                FilaRechazada(fila=fila, clave_elector=solicitud.clave_elector, errores=errores)
            )
    rechazadas.sort(key=lambda r: r.fila)
    aplicado = parcial or not rechazadas
    if not aplicado:
        # Strict: nothing half-loaded. Raising rolls back the caller's transaction.
        reporte = ReporteLote(recibidas=recibidas, cargadas=0, rechazadas=rechazadas, aplicado=False)
        raise Problem(
            422,
            f"{len(rechazadas)} fila(s) rechazada(s); no se cargó ninguna. Corrija el archivo o "
            "use ?parcial=true para cargar solo las válidas.",
            slug="lote-rechazado",
            reporte=reporte.model_dump(mode="json"),
        )
    await _al_historial(session, None, operador, "lote", ahora, cargadas=cargadas, rechazadas=len(rechazadas))
    await encolar(session, Notificacion, recibos, ahora)  # each receipt with its folio, in one insert
    return ReporteLote(recibidas=recibidas, cargadas=cargadas, rechazadas=rechazadas, aplicado=True)
