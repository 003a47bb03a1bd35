"""The electronic MEC: custodians decrypt the sealed box's encrypted tally; with k of n the result exists.

Each custodian delivers ``{"partial_decryption": <Belenios partial_decryption>, "strong_proofs":
{"strong_decryption_proofs": …}}``. On arrival both are checked against the custodian's verification key and
the tally: Belenios' proofs and VMRE's strong proofs must all verify, or the delivery is refused with a 422
and the refusal goes to the bitácora (a delivery without strong proofs too). The Belenios part is stored
re-serialised canonically, byte for byte what ``belenios-tool`` writes, and the strong proofs next to it; with
k valid ones, the factors are combined (Lagrange) and the result read off (discrete logarithms).

Why the strong proofs: Belenios 3.0's decryption proof hashes only its commitments (c = H(decrypt|huella|X|,
A, B)), not the ciphertext nor the factor, so a custodian who knows its share x can choose A = g^w₁,
B = α^w₂, take r = w₁ − x·c and publish the false factor f = (B·α^−r)^(1/c), whose proof verifies. The strong
proof's challenge also hashes α, β and f, so it cannot be made for any factor but α^x.

Fallback, kept for shares stored before the strong proofs existed: a false factor makes every combination it
enters give values outside [0, total weight]; then the other k-subsets of the valid shares are tried, the
result comes from one that works, and every share that does not lie on the polynomial of that subset (its
factor ≠ Π f_m^λ_m(i)) is put in quarantine and left out of the published record. ``ine-admin`` may void a
share; its custodian may then deliver again.

The decryptions (with their strong proofs) and the result go back to electronico in an event, to complete the
public Belenios record that anyone verifies with ``vmre verificar`` (``--pruebas-fuertes`` for the strong
proofs, published next to the record)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.computo import repository
from services.computo.models import DescifradoParcial, EscrutinioElectronico, emisor
from shared.bus.topics import COMPUTO_ESCRUTINIO
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import Custodios, Pedersen
from shared.cripto.eleccion import Eleccion
from shared.cripto.grupo import Elemento
from shared.events import computo as eventos
from shared.events import electronico as eventos_electronico
from shared.problems import Problem
from shared.proceso import Proceso, opciones


async def urna_sellada(session: AsyncSession, datos: eventos_electronico.UrnaSellada) -> None:
    await repository.insertar_escrutinio(
        session,
        {
            "eleccion": datos.eleccion,
            "entidad": datos.entidad,
            "cargo": datos.cargo,
            "simulacro": datos.simulacro,
            "boletas": datos.boletas,
            "presenciales": datos.presenciales,
            "sello": datos.sello,
            "eleccion_json": datos.eleccion_json,
            "custodios_json": datos.custodios_json,
            "recuento": datos.recuento,
            "recuento_dimensionado": datos.recuento_dimensionado,
        },
    )


def _umbral(custodios: Custodios) -> int:
    return sum(e.umbral if isinstance(e, Pedersen) else 1 for e in custodios.entradas)


async def o_404(session: AsyncSession, eleccion: str, bloqueo: bool = False) -> EscrutinioElectronico:
    e = await repository.escrutinio(session, eleccion, para_actualizar=bloqueo)
    if e is None:
        raise Problem(
            404,
            f"No hay urna sellada de la elección {eleccion}: "
            "el cómputo electrónico empieza al cerrar la votación.",
        )
    return e


VALIDO, CUARENTENA, ANULADO = "valido", "cuarentena", "anulado"


class DescifradoRechazado(Exception):
    """A partial decryption refused on arrival: the 422 to answer, and why (for the bitácora)."""

    def __init__(self, owner: int, motivo: str, texto: str) -> None:
        super().__init__(motivo)
        self.owner = owner
        self.motivo = motivo
        self.sha256 = hashlib.sha256(texto.encode()).hexdigest()
        self.problem = Problem(
            422,
            f"Descifrado parcial del custodio {owner} rechazado: {motivo}",
            slug="descifrado-invalido",
            indice=owner,
        )


@lru_cache(maxsize=64)
def _custodios_y_umbral(custodios_json: str) -> tuple[int, int]:
    """(custodians, shares needed) of a trustees record. Reading it checks the Pedersen parameters (~17 ms
    for 5 custodians): once per process and text, which never changes for an election (it is its version)."""
    custodios = Custodios.leer(json.loads(custodios_json))
    return len(custodios.duenos()), _umbral(custodios)


async def estado(session: AsyncSession, e: EscrutinioElectronico) -> dict[str, Any]:
    total, necesarios = _custodios_y_umbral(e.custodios_json)
    filas = await repository.descifrados(session, e.eleccion)
    recibidos = sorted(f.owner for f in filas if f.estado == VALIDO)

    def apartados(cual: str) -> list[dict[str, Any]]:
        return [
            {"indice": f.owner, "motivo": f.motivo, "at": f.cambio_at}
            for f in sorted(filas, key=lambda f: f.owner)
            if f.estado == cual
        ]

    o: dict[str, Any] = {
        "eleccion": e.eleccion,
        "entidad": e.entidad,
        "cargo": e.cargo,
        "simulacro": e.simulacro,
        "boletas": e.boletas,
        "sello": e.sello,
        "eleccion_json": e.eleccion_json,
        "recuento": e.recuento,
        "custodios": total,
        "necesarios": necesarios,
        "recibidos": recibidos,
        "cuarentena": apartados(CUARENTENA),
        "anulados": apartados(ANULADO),
        "votos": e.votos,
        "publicado_at": e.publicado_at,
    }
    if e.votos is None:
        faltan = max(0, necesarios - len(recibidos))
        if faltan:
            o["mensaje"] = (
                f"Sin resultado: faltan {faltan} descifrados parciales de custodios "
                f"({len(recibidos)} de {necesarios} necesarios)."
            )
        else:
            o["mensaje"] = (
                f"Sin resultado: ninguna combinación de {necesarios} de los {len(recibidos)} descifrados "
                "válidos da un resultado (algún factor es falso y aún no se identifica): hace falta el "
                "descifrado de otro custodio."
            )
    return o


@dataclass
class Combinado:
    """The outcome of trying the valid shares: the result (if some selection works) and the culprits."""

    resultado: str | None = None
    conteo: list[int] = field(default_factory=list)
    usados: list[int] = field(default_factory=list)
    culpables: dict[int, str] = field(default_factory=dict)


def _selecciones(custodios: Custodios, presentes: set[int]) -> list[list[int]]:
    """Every way to take what each trustee entry needs from the present shares: the Single, or k of the
    Pedersen group. In lexicographic order, so the first one is Belenios' own (the first k by index)."""
    duenos = custodios.duenos()
    por_entrada: list[list[tuple[int, ...]]] = []
    for e_i, entrada in enumerate(custodios.entradas):
        grupo = sorted(o for o, (ei, _, _) in duenos.items() if ei == e_i and o in presentes)
        k = entrada.umbral if isinstance(entrada, Pedersen) else 1
        por_entrada.append(list(itertools.combinations(grupo, k)))
    return [[o for parte in s for o in parte] for s in itertools.product(*por_entrada)]


def _lagrange_en(indices: list[int], x: int) -> dict[int, int]:
    """λ_m(x) = Π_{t≠m} (x−t)·(m−t)⁻¹ mod ℓ: what gives f(x) from the shares at ``indices``."""
    coef = {}
    for m in indices:
        num, den = 1, 1
        for t in indices:
            if t != m:
                num = num * (x - t) % gr.L
                den = den * (m - t) % gr.L
        coef[m] = num * pow(den, -1, gr.L) % gr.L
    return coef


def _culpables(
    custodios: Custodios, parciales: dict[int, list[list[Elemento]]], usados: list[int]
) -> dict[int, str]:
    """The shares outside a working selection whose factors are not the ones its polynomial gives."""
    duenos = custodios.duenos()
    culpables = {}
    for o, factores in parciales.items():
        if o in usados:
            continue
        e_i, j, _ = duenos[o]
        if j is None:  # a Single is never left out of a selection
            continue
        del_grupo = {duenos[u][1]: u for u in usados if duenos[u][0] == e_i}
        lam = _lagrange_en(sorted(i for i in del_grupo if i is not None), j)
        for q, fila in enumerate(factores):
            for r, f in enumerate(fila):
                esperado = gr.producto([gr.pot(parciales[del_grupo[m]][q][r], c) for m, c in lam.items()])
                if esperado != f:
                    culpables[o] = (
                        f"pregunta {q + 1}, opción {r + 1}: su factor de descifrado no corresponde al de los "
                        f"custodios {', '.join(map(str, sorted(del_grupo.values())))}, que sí dan un "
                        "resultado válido (la prueba verifica pero el factor es falso)"
                    )
                    break
            if o in culpables:
                break
    return culpables


def _combinar(e: EscrutinioElectronico, textos: dict[int, str]) -> Combinado:
    """Try the selections of valid shares until one gives a valid tally (every entry in [0, total])."""
    eleccion = Eleccion.leer(e.eleccion_json.encode())
    custodios = Custodios.leer(json.loads(e.custodios_json))
    formas = [q.opciones for q in eleccion.preguntas]
    recuento = es.leer_recuento(e.recuento, formas)
    duenos = custodios.duenos()
    parciales = {
        o: es.verificar_descifrado(eleccion.huella, duenos[o][2], recuento, t) for o, t in textos.items()
    }
    total = int(json.loads(e.recuento_dimensionado)["total_weight"] or 0)
    for seleccion in _selecciones(custodios, set(parciales)):
        comb = es.combinar(custodios, {o: parciales[o] for o in seleccion}, formas)
        try:
            res = es.resultado(recuento, comb.factores, total)
        except ValueError:  # a value outside [0, total]: some factor of this selection is false
            continue
        return Combinado(
            es.resultado_json(res), res[0], comb.usados, _culpables(custodios, parciales, comb.usados)
        )
    return Combinado()


def _verificar_entrega(
    huella: str, publica: Elemento, recuento: es.Recuento, entrega: str
) -> tuple[str, str]:
    """The delivery's Belenios partial decryption (canonical text) and strong proofs, every proof checked."""
    texto, fuertes = es.leer_entrega(entrega)
    factores = es.verificar_descifrado(huella, publica, recuento, texto)
    es.verificar_pruebas_fuertes(huella, publica, recuento, factores, fuertes)
    return texto, fuertes


async def recibir(
    session: AsyncSession,
    e: EscrutinioElectronico,
    owner: int,
    entrega: str,
    custodio: str,
    proceso: Proceso,
    ahora: dt.datetime,
    auditar: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """A custodian's delivery, {"partial_decryption", "strong_proofs"}: kept only if the Belenios proofs and
    the strong proofs verify (else ``DescifradoRechazado``); the Belenios part is stored re-serialised
    canonically (what ``es.descifrado_parcial`` writes), the strong proofs next to it. With k valid ones, the
    result from the first selection of them that combines into a valid tally; shares that contradict it go to
    quarantine (``auditar`` is told, for the request's bitácora record)."""
    if e.votos is not None:
        raise Problem(409, "El resultado ya se publicó con los descifrados necesarios.")
    eleccion = Eleccion.leer(e.eleccion_json.encode())
    custodios = Custodios.leer(json.loads(e.custodios_json))
    duenos = custodios.duenos()
    if owner not in duenos:
        raise Problem(404, f"No existe el custodio {owner} (1..{len(duenos)}).")
    formas = [q.opciones for q in eleccion.preguntas]
    recuento = es.leer_recuento(e.recuento, formas)
    try:
        texto, fuertes = await asyncio.to_thread(
            _verificar_entrega, eleccion.huella, duenos[owner][2], recuento, entrega
        )
    except es.EscrutinioInvalido as exc:
        raise DescifradoRechazado(owner, str(exc), entrega) from None
    previo = await repository.descifrado(session, e.eleccion, owner)
    if previo is None:
        nuevo = await repository.insertar_descifrado(
            session,
            {
                "eleccion": e.eleccion,
                "owner": owner,
                "texto": texto,
                "pruebas_fuertes": fuertes,
                "custodio": custodio,
                "recibido_at": ahora,
            },
        )
        if not nuevo:  # another delivery of this custodian got in first
            previo = await repository.descifrado(session, e.eleccion, owner)
    if previo is not None and previo.estado == ANULADO:
        previo.texto, previo.pruebas_fuertes, previo.custodio = texto, fuertes, custodio
        previo.recibido_at = ahora
        previo.estado, previo.motivo, previo.cambio_at = VALIDO, None, None
    elif previo is not None and previo.texto != texto:
        if previo.estado == CUARENTENA:
            raise Problem(
                409,
                f"El descifrado parcial del custodio {owner} está en cuarentena ({previo.motivo}): para "
                "entregar otro, ine-admin debe anularlo.",
            )
        raise Problem(409, f"Ya se recibió el descifrado parcial del custodio {owner}.")
    await session.flush()
    validos = [f for f in await repository.descifrados(session, e.eleccion) if f.estado == VALIDO]
    if len(validos) >= _umbral(custodios):
        c = await asyncio.to_thread(_combinar, e, {f.owner: f.texto for f in validos})
        for f in validos:
            if f.owner in c.culpables:
                f.estado, f.motivo, f.cambio_at = CUARENTENA, c.culpables[f.owner], ahora
        if c.culpables and auditar is not None:
            auditar(cuarentena=sorted(c.culpables))
        if c.resultado is not None:
            await _publicar(session, e, c, [f for f in validos if f.owner not in c.culpables], proceso, ahora)
    await session.flush()
    return await estado(session, e)


async def _publicar(
    session: AsyncSession,
    e: EscrutinioElectronico,
    c: Combinado,
    filas: list[DescifradoParcial],
    proceso: Proceso,
    ahora: dt.datetime,
) -> None:
    """The result, and the event that takes it with the valid shares (never a quarantined one) to
    electronico's public record."""
    assert c.resultado is not None
    claves = opciones(proceso.entidades[e.entidad])
    if len(claves) != len(c.conteo):
        raise Problem(500, "Las opciones del proceso no corresponden a la boleta de la elección.")
    e.resultado = c.resultado
    e.votos = dict(zip(claves, c.conteo, strict=True))
    e.publicado_at = ahora
    await emisor.emitir(
        session,
        COMPUTO_ESCRUTINIO,
        event_type=eventos.ESCRUTINIO_PUBLICADO,
        aggregate_id=e.eleccion,
        data=eventos.EscrutinioPublicado(
            eleccion=e.eleccion,
            entidad=e.entidad,
            cargo=e.cargo,
            simulacro=e.simulacro,
            descifrados=[
                eventos.Descifrado(owner=f.owner, texto=f.texto, pruebas_fuertes=f.pruebas_fuertes)
                for f in filas
            ],
            resultado=c.resultado,
            votos=e.votos,
        ),
    )


async def anular(
    session: AsyncSession, e: EscrutinioElectronico, owner: int, motivo: str, ahora: dt.datetime
) -> tuple[dict[str, Any], str]:
    """ine-admin voids a share: it is no longer used, and its custodian may deliver again. Returns the
    state and the SHA-256 of the voided text (for the bitácora)."""
    if e.votos is not None:
        raise Problem(409, "El resultado ya se publicó: sus descifrados no se anulan.")
    f = await repository.descifrado(session, e.eleccion, owner)
    if f is None:
        raise Problem(404, f"No hay descifrado parcial del custodio {owner} en la elección {e.eleccion}.")
    if f.estado == ANULADO:
        raise Problem(409, f"El descifrado parcial del custodio {owner} ya está anulado.")
    sha256 = hashlib.sha256(f.texto.encode()).hexdigest()
    f.estado, f.motivo, f.cambio_at = ANULADO, motivo, ahora
    await session.flush()
    return await estado(session, e), sha256
