"""postal's page for people (outside the OpenAPI): «my package» by folio — where the ballot package is
(the carrier's reports as a timeline), whether the return envelope (SPV) arrived and counts, and how long is
left to mail it back.

Rendered on the server over the same queries as ``GET /v1/paquetes/{folio}`` (``services/postal/repository``):
it works without JavaScript, which only adds the deadline in the person's own time zone and a live
countdown. The folio travels in the body of a POST, never in a URL. The page shows the state, the carrier,
the tracking number and dates: nothing personal (no name, no address, no clave de elector, nor the carrier's
free-text detail, which may name who signed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.postal import repository
from services.postal.domain import DIAS_RETRASO, Clasificacion
from services.postal.models import Paquete
from shared.paginas import Paginas, fecha, leer_campos
from shared.proceso import Proceso
from shared.reloj import Reloj, RelojSistema
from shared.web import ProcesoDep, RelojDep, transaccion

router = APIRouter(include_in_schema=False)
PAGINAS = Paginas(Path(__file__).resolve().parent)

ACCIONES = {"consultar": "/mi-paquete"}
FOLIO_MAX = 32
Errores = dict[str, str]


def _render(request: Request, plantilla: str, status_code: int = 200, **contexto: Any) -> HTMLResponse:
    return PAGINAS.render(request, plantilla, status_code, acciones=ACCIONES, **contexto)


@dataclass(frozen=True)
class Paso:
    """One point of the package's timeline: what happened (a catalog key) and when."""

    clave: str
    instante: dt.datetime


def _linea(
    paquete: Paquete, eventos: list[tuple[str, dt.datetime]], sobres: list[tuple[str, dt.datetime]]
) -> list[Paso]:
    """Prepared, shipped (or shipped again), every carrier report of this shipment, the envelope received."""
    pasos = [Paso("linea.integrado", paquete.integrado_at)]
    if paquete.enviado_at is not None:
        pasos.append(Paso("linea.reenviado" if paquete.envios > 1 else "linea.enviado", paquete.enviado_at))
    pasos += [Paso(f"linea.{estado}", ocurrido_at) for estado, ocurrido_at in eventos]
    pasos += [
        Paso(f"linea.sobre_{clasificacion}", recibido_at)
        for clasificacion, recibido_at in sobres
        if clasificacion in (Clasificacion.EN_TIEMPO, Clasificacion.EXTEMPORANEO)
    ]
    return sorted(pasos, key=lambda p: p.instante)


def _restante(limite: dt.datetime, ahora: dt.datetime) -> dict[str, int]:
    minutos = max(int((limite - ahora).total_seconds()) // 60, 0)
    return {"d": minutos // (24 * 60), "h": minutos // 60 % 24, "m": minutos % 60}


def _puede_retrasarse(paquete: Paquete, ahora: dt.datetime) -> bool:
    """postal's rule for the delay notice: on its way ``DIAS_RETRASO`` days or more (or already warned)."""
    if paquete.estado not in repository.EN_CAMINO or paquete.voto_recibido_at is not None:
        return False
    if paquete.aviso_retraso_at is not None:
        return True
    return paquete.enviado_at is not None and ahora - paquete.enviado_at >= dt.timedelta(days=DIAS_RETRASO)


async def _estado(
    request: Request, session: AsyncSession, paquete: Paquete, proceso: Proceso, reloj: Reloj
) -> HTMLResponse:
    t = PAGINAS.textos(request)
    ahora = reloj.ahora()
    eventos: list[tuple[str, dt.datetime]] = []
    if paquete.transportista and paquete.guia and paquete.enviado_at is not None:
        filas = await repository.eventos_de_envio(
            session, paquete.transportista, paquete.guia, paquete.enviado_at
        )
        eventos = [(estado, ocurrido_at) for estado, ocurrido_at in filas]
    sobres = [(c, r) for c, r in await repository.sobres_de_paquete(session, paquete.id)]
    limite = proceso.calendario.recepcion_spv_limite
    vencido = ahora >= limite
    if paquete.voto_recibido_at is not None:
        sobre, sobre_at = "en_tiempo", paquete.voto_recibido_at
    elif tardio := [r for c, r in sobres if c == Clasificacion.EXTEMPORANEO]:
        sobre, sobre_at = "extemporaneo", tardio[0]
    else:
        sobre, sobre_at = ("vencido" if vencido else "pendiente"), None
    cuenta = t("paquete.cuenta_formato", **_restante(limite, ahora))
    # The browser counts down on its own clock: right when the platform runs on the system's. In a drill (or
    # a test) the platform's clock is elsewhere in time, so the countdown keeps the server's figure (the
    # script writes the same text whichever way it goes); the deadline in the person's time zone is shown
    # either way.
    en_vivo = isinstance(reloj, RelojSistema)
    return _render(
        request,
        "paquete.html",
        estado=paquete.estado,
        transportista=paquete.transportista or "",
        guia=paquete.guia or "",
        envios=paquete.envios,
        enviado=fecha(paquete.enviado_at, proceso, t.idioma) if paquete.enviado_at else "",
        linea=[
            {"clave": p.clave, "fecha": fecha(p.instante, proceso, t.idioma), "iso": p.instante.isoformat()}
            for p in _linea(paquete, eventos, sobres)
        ],
        sobre=sobre,
        sobre_fecha=fecha(sobre_at, proceso, t.idioma) if sobre_at else "",
        plazo=fecha(limite, proceso, t.idioma),
        plazo_iso=limite.astimezone(dt.UTC).isoformat(),
        cuenta=cuenta,
        cuenta_formato=t("paquete.cuenta_formato") if en_vivo else cuenta,
        cuenta_vencida=t("paquete.cuenta_vencida") if en_vivo else cuenta,
        retraso=_puede_retrasarse(paquete, ahora) and not vencido,
        dias_retraso=DIAS_RETRASO,
    )


def _consulta(request: Request, folio: str, errores: Errores, status_code: int) -> HTMLResponse:
    return _render(request, "mi_paquete.html", status_code, folio=folio, errores=errores)


@router.get("/mi-paquete")
async def mi_paquete(request: Request) -> HTMLResponse:
    # A folio in the query string is ignored: it would stay in the history, logs and proxies.
    return _consulta(request, "", {}, 200)


@router.post("/mi-paquete")
async def consultar(request: Request, proceso: ProcesoDep, reloj: RelojDep) -> HTMLResponse:
    """The package of the folio in the form, or the page that says there is none (the same for any unknown
    folio: it tells nothing about which folios exist)."""
    t = PAGINAS.textos(request)
    folio = leer_campos(await request.form(), ("folio",))["folio"][:FOLIO_MAX]
    if not folio:
        return _consulta(request, "", {"folio": t("comun.obligatorio")}, 422)
    no_encontrado = {"folio": t("paquete.no_encontrado")}
    async with transaccion(request, lectura=True) as session:
        paquete = await repository.por_folio(session, folio)
        if paquete is None:
            return _consulta(request, folio, no_encontrado, 404)
        return await _estado(request, session, paquete, proceso, reloj)
