"""computo use cases: mesas, postal actas (double capture, review, corrections with history).
Stage events; never commit (the caller owns the transaction)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.computo import domain, repository
from services.computo.models import Acta, CorreccionActa, Mesa
from services.computo.schemas import ActaIn, CorreccionIn, InstalacionIn
from shared.problems import Problem
from shared.proceso import NULOS, Proceso

MESA_ELECTRONICA = 0


# --- Mesas ------------------------------------------------------------------------------------------------


async def mesa_postal_asignada(session: AsyncSession, entidad: str, numero: int, sobres: int) -> None:
    """Postal's custody assignment: one postal MEC per group of ≤ 1,500 sobres (a replay changes nothing)."""
    nueva = await repository.insertar_mesa(
        session, {"entidad": entidad, "numero": numero, "tipo": "postal", "sobres": sobres}
    )
    if not nueva:
        mesa = await repository.mesa(session, entidad, numero)
        assert mesa is not None
        mesa.sobres = sobres


async def lnere_cerrada(
    session: AsyncSession, entidad: str, postal: int, electronica: int, total: int, presencial: int = 0
) -> None:
    valores = {"postal": postal, "electronica": electronica, "presencial": presencial, "total": total}
    if not await repository.insertar_lnere(session, {"entidad": entidad, **valores}):
        lnere = await repository.lnere(session, entidad)
        assert lnere is not None
        lnere.postal, lnere.electronica, lnere.presencial, lnere.total = (
            postal,
            electronica,
            presencial,
            total,
        )


async def mesa_electronica(session: AsyncSession, entidad: str) -> None:
    await repository.insertar_mesa(
        session, {"entidad": entidad, "numero": MESA_ELECTRONICA, "tipo": "electronica", "sobres": 0}
    )


async def mesa_o_404(session: AsyncSession, entidad: str, numero: int) -> Mesa:
    mesa = await repository.mesa(session, entidad, numero)
    if mesa is None:
        raise Problem(
            404,
            f"No existe la mesa {numero} de la entidad {entidad}: las mesas postales se integran cuando "
            "postal asigna los sobres en resguardo.",
        )
    return mesa


async def instalar(mesa: Mesa, datos: InstalacionIn, proceso: Proceso, ahora: dt.datetime) -> Mesa:
    ent = proceso.entidades[mesa.entidad]
    ajenos = sorted(set(datos.representantes) - set(ent.partidos))
    if ajenos:
        raise Problem(422, f"Representantes de partidos que no compiten en la entidad: {', '.join(ajenos)}.")
    excedidos = sorted(p for p, nombres in datos.representantes.items() if len(nombres) > 2)
    if excedidos:
        raise Problem(
            422, f"Cada partido acredita hasta dos representantes por mesa: {', '.join(excedidos)}."
        )
    mesa.funcionarios = datos.funcionarios.model_dump()
    mesa.representantes = datos.representantes
    mesa.instalada_at = ahora
    return mesa


# --- Postal actas ------------------------------------------------------------------------------------------


def revisar(acta: ActaIn, mesa: Mesa, proceso: Proceso) -> tuple[list[dict[str, str]], list[str]]:
    """Blocking errors (the acta is refused: nothing stored) and incidents (stored, flagged for recount)."""
    ent = proceso.entidades[mesa.entidad]
    cargos = [c.clave for c in ent.cargos]
    if acta.cargo not in cargos:
        mensaje = f"El cargo {acta.cargo!r} no se elige en la entidad {mesa.entidad} ({', '.join(cargos)})."
        return [{"campo": "cargo", "mensaje": mensaje}], []
    revision = domain.revisar_acta(
        acta.votos,
        ent,
        total_capturado=acta.total,
        sobres_recibidos=acta.sobres_recibidos,
        marcas_voto=mesa.sobres,
    )
    errores = [{"campo": "total" if "total" in e else "votos", "mensaje": e} for e in revision.errores]
    nulos_por_sobre = acta.sobres_vacios + acta.sobres_con_varias_boletas
    if not errores and nulos_por_sobre > acta.votos.get(NULOS, 0):
        errores.append(
            {
                "campo": "votos.nulos",
                "mensaje": f"Hay {nulos_por_sobre} sobres vacíos o con varias boletas, que son votos nulos, "
                f"pero solo {acta.votos.get(NULOS, 0)} nulos asentados.",
            }
        )
    return errores, list(revision.incidentes)


def _datos(acta: ActaIn, advertencias: list[str]) -> dict[str, Any]:
    d = acta.model_dump(exclude={"cargo", "motivo"})
    d["advertencias"] = advertencias
    return d


def _diferencias(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = []
    for k in sorted(set(a["votos"]) | set(b["votos"])):
        if a["votos"].get(k) != b["votos"].get(k):
            out.append(f"votos.{k}: {a['votos'].get(k)} ≠ {b['votos'].get(k)}")
    for k in ("total", "sobres_recibidos", "sobres_vacios", "sobres_con_varias_boletas"):
        if a[k] != b[k]:
            out.append(f"{k}: {a[k]} ≠ {b[k]}")
    return out


async def capturar(
    session: AsyncSession, mesa: Mesa, acta: ActaIn, operador: str, proceso: Proceso, ahora: dt.datetime
) -> tuple[Acta, list[str]]:
    """One operator's capture. The first waits for a second by another operator; if both agree the acta is
    validated, else it goes to review with the differences. A refused acta stores nothing."""
    errores, advertencias = revisar(acta, mesa, proceso)
    if errores:
        raise Problem(
            422,
            "El acta no cuadra; no se guardó nada. "
            + " ".join(e["mensaje"] for e in errores)
            + " Vuelva a contar o corrija la cifra equivocada y capture de nuevo.",
            errors=errores,
        )
    existente = await repository.acta(session, mesa.entidad, mesa.numero, acta.cargo, para_actualizar=True)
    if existente is not None and existente.estado in ("validada", "corregida"):
        raise Problem(
            409, f"El acta ya está {existente.estado}: para cambiarla, un ine-admin la corrige con motivo."
        )
    datos = _datos(acta, advertencias)
    insertada = await repository.insertar_captura(
        session,
        {
            "entidad": mesa.entidad,
            "mesa": mesa.numero,
            "cargo": acta.cargo,
            "operador": operador,
            "datos": datos,
            "capturada_at": ahora,
        },
    )
    if not insertada:
        raise Problem(409, "Usted ya capturó esta acta: la segunda captura la hace otra persona.")
    capturas = await repository.datos_capturas(session, mesa.entidad, mesa.numero, acta.cargo)
    if existente is None:
        existente = Acta(
            entidad=mesa.entidad,
            mesa=mesa.numero,
            cargo=acta.cargo,
            estado="capturada",
            version=1,
            actualizada_at=ahora,
        )
        session.add(existente)
    if len(capturas) >= 2:
        diferencias = _diferencias(capturas[0], capturas[1])
        if diferencias:
            existente.estado = "revision"
            existente.diferencias = diferencias
        else:
            existente.estado = "validada"
            existente.datos = capturas[0] | {
                "incidentes": sorted({*capturas[0]["incidentes"], *capturas[1]["incidentes"]})
            }
            existente.diferencias = None
    existente.actualizada_at = ahora
    await session.flush()
    return existente, advertencias


async def corregir(
    session: AsyncSession, mesa: Mesa, acta: CorreccionIn, quien: str, proceso: Proceso, ahora: dt.datetime
) -> Acta:
    """Resolve a review or fix a validated acta: new figures, with who, when and why kept in the history."""
    errores, advertencias = revisar(acta, mesa, proceso)
    if errores:
        raise Problem(
            422, "La corrección no cuadra: " + " ".join(e["mensaje"] for e in errores), errors=errores
        )
    existente = await repository.acta(session, mesa.entidad, mesa.numero, acta.cargo, para_actualizar=True)
    if existente is None:
        raise Problem(404, "No hay acta capturada que corregir: primero se captura.")
    despues = _datos(acta, advertencias)
    session.add(
        CorreccionActa(
            entidad=mesa.entidad,
            mesa=mesa.numero,
            cargo=acta.cargo,
            version=existente.version + 1,
            quien=quien,
            cuando=ahora,
            motivo=acta.motivo,
            antes=existente.datos,
            despues=despues,
        )
    )
    existente.version += 1
    existente.estado = "corregida"
    existente.datos = despues
    existente.diferencias = None
    existente.actualizada_at = ahora
    await session.flush()
    return existente


async def historial(session: AsyncSession, acta: Acta) -> tuple[int, list[dict[str, Any]]]:
    capturas = await repository.contar_capturas(session, acta)
    correcciones = await repository.correcciones(session, acta)
    return capturas, [
        {
            "version": c.version,
            "quien": c.quien,
            "cuando": c.cuando,
            "motivo": c.motivo,
            "antes": c.antes,
            "despues": c.despues,
        }
        for c in correcciones
    ]
