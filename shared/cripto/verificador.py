"""``vmre verificar``: the full, independent audit of a Belenios 3.0 election record.

More than ``belenios-tool election verify`` 3.0 does (its ballot check is dropped and it trusts the stored
tally):
here every ballot is checked completely, the stored encrypted tally must equal the product of the counted
ballots
byte for byte, every partial decryption's proof is checked, and the result is recomputed. The first failure is
named (event height, ballot tracker, question, choice).

With ``pruebas_fuertes`` (the document ``GET /v1/elecciones/{uuid}/pruebas-fuertes.json`` serves: VMRE's
extension, outside the .bel), every partial decryption of the record must also have its strong proof, whose
challenge binds the ciphertext and the factor: Belenios 3.0's proof does not bind the factor, so a custodian
can make one verify for a false factor.

With ``lista_credenciales`` (the credential authority's signed list: ``GET /v1/elecciones/{uuid}/lista`` of
the ``credenciales`` service, or the one in the opening act) and the authority's key, the record's public
credentials must be exactly the ones the authority issued: the voting server cannot add one of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from shared import firma
from shared.cripto import archivo as ar
from shared.cripto import boleta as bo
from shared.cripto import escrutinio as es
from shared.cripto.custodios import Custodios, CustodiosInvalidos
from shared.cripto.eleccion import (
    Eleccion,
    EleccionInvalida,
    huella_credenciales,
    leer_credenciales_publicas,
)
from shared.cripto.grupo import ErrorDeCodificacion, sha256_hex
from shared.cripto.pruebas import cjson


class VerificacionFallida(Exception):
    def __init__(self, elemento: str, motivo: str) -> None:
        super().__init__(f"{elemento}: {motivo}")
        self.elemento = elemento
        self.motivo = motivo


@dataclass
class Informe:
    uuid: str = ""
    nombre: str = ""
    eventos: int = 0
    boletas: int = 0
    contadas: int = 0
    reemplazadas: int = 0  # earlier ballots of a credential that voted again (Belenios: the last one counts)
    descifrados: list[int] = field(default_factory=list)  # owners whose partial decryption was used
    fuertes: list[int] | None = None  # owners whose strong proofs verified (None: not checked)
    lista_credenciales: str | None = None  # the credential authority's list it was checked against
    resultado: list[list[int]] | None = None
    fase: str = ""

    def lineas(self) -> list[str]:
        res = [
            f"elección {self.uuid} «{self.nombre}»: {self.eventos} eventos, fase {self.fase}",
            f"boletas: {self.boletas} verificadas (firma y todas las pruebas), {self.contadas} contadas"
            + (
                f", {self.reemplazadas} reemplazadas por un voto posterior de la misma credencial"
                if self.reemplazadas
                else ""
            ),
        ]
        if self.descifrados:
            res.append(
                f"descifrado: custodios {', '.join(map(str, self.descifrados))} (cada prueba verificada)"
            )
        if self.fuertes is not None:
            res.append(
                "pruebas fuertes de descifrado: "
                + (
                    f"custodios {', '.join(map(str, self.fuertes))} (cada una verificada)"
                    if self.fuertes
                    else "—"
                )
            )
        if self.lista_credenciales is not None:
            res.append(f"credenciales: {self.lista_credenciales}")
        if self.resultado is not None:
            res.append(f"resultado: {cjson(self.resultado)}")
        return res


# Per-process state for parallel ballot checks (set once per worker).
_CTX: tuple[Eleccion, dict[str, int]] | None = None


def _init(eleccion: Eleccion, pesos: dict[str, int]) -> None:
    global _CTX
    _CTX = (eleccion, pesos)


def _revisa(texto: bytes) -> bo.Boleta | tuple[str, str]:
    assert _CTX is not None
    return _revisa_en(_CTX[0], _CTX[1], texto)


def _revisa_en(eleccion: Eleccion, pesos: dict[str, int], texto: bytes) -> bo.Boleta | tuple[str, str]:
    try:
        return bo.verificar(eleccion, texto.decode("utf-8"), pesos)
    except UnicodeDecodeError:
        return ("NonCanonical", "la boleta no es UTF-8")
    except bo.BoletaInvalida as e:
        return (e.motivo, str(e))


def _boletas(
    eleccion: Eleccion, pesos: dict[str, int], textos: list[bytes], procesos: int
) -> Iterator[bo.Boleta | tuple[str, str]]:
    if procesos <= 1 or len(textos) < 64:
        # No module state here: several verifications may run at once in threads (custodians' clients).
        yield from (_revisa_en(eleccion, pesos, t) for t in textos)
        return
    with ProcessPoolExecutor(procesos, initializer=_init, initargs=(eleccion, pesos)) as pool:
        yield from pool.map(_revisa, textos, chunksize=32)


_ORDEN = ["Setup", "Ballot", "EndBallots", "EncryptedTally", "PartialDecryption", "Result"]
_REPETIBLES = {"Ballot", "PartialDecryption"}  # zero or more; every other phase event exactly once


def _gramatica(eventos: list[ar.Evento]) -> str:
    """Setup, Ballot*, EndBallots, EncryptedTally, PartialDecryption*, Result; the record may stop early."""
    previo = 0
    for e in eventos[1:]:
        donde = f"evento {e.altura} ({e.tipo})"
        if e.tipo not in _ORDEN:
            raise VerificacionFallida(donde, "tipo no admitido (solo preguntas homomórficas)")
        i = _ORDEN.index(e.tipo)
        if i < previo or (i == previo and e.tipo not in _REPETIBLES):
            raise VerificacionFallida(donde, f"fuera de orden: llega después de {_ORDEN[previo]}")
        faltan = [t for t in _ORDEN[previo + 1 : i] if t not in _REPETIBLES]
        if faltan:
            raise VerificacionFallida(donde, f"falta antes el evento {faltan[0]}")
        previo = i
    return _ORDEN[previo]


def _pruebas_fuertes(
    datos: bytes,
    eleccion: Eleccion,
    duenos: dict[int, tuple[int, int | None, bytes]],
    recuento: es.Recuento,
    parciales: dict[int, list[list[bytes]]],
) -> list[int]:
    """Every partial decryption of the record has, in the strong-proofs document, a strong proof of each of
    its factors; returns the owners checked."""
    donde = "pruebas fuertes"
    try:
        o = json.loads(datos)
        if not isinstance(o, dict) or not isinstance(o.get("descifrados"), list):
            raise ValueError(
                'se esperaba {"eleccion", "huella", "descifrados": [{"owner", "strong_proofs"}]}'
            )
        if o.get("eleccion") != eleccion.uuid or o.get("huella") != eleccion.huella:
            raise ValueError(
                f"el documento es de otra elección ({o.get('eleccion')!r:.40}, huella "
                f"{o.get('huella')!r:.60}); el archivo es {eleccion.uuid}, huella {eleccion.huella}"
            )
        fuertes: dict[int, object] = {}
        for d in o["descifrados"]:
            if not isinstance(d, dict) or type(d.get("owner")) is not int or "strong_proofs" not in d:
                raise ValueError('cada descifrado debe ser {"owner", "strong_proofs"}')
            if d["owner"] in fuertes:
                raise ValueError(f"el custodio {d['owner']} aparece más de una vez")
            fuertes[d["owner"]] = d["strong_proofs"]
    except ValueError as ex:
        raise VerificacionFallida(donde, str(ex)) from None
    sobran = sorted(set(fuertes) - set(parciales))
    if sobran:
        raise VerificacionFallida(
            donde, f"custodios {', '.join(map(str, sobran))} sin descifrado parcial en el archivo"
        )
    for owner in sorted(parciales):
        pruebas = fuertes.get(owner)
        if pruebas is None:
            raise VerificacionFallida(
                f"{donde} del custodio {owner}",
                "faltan: su descifrado parcial está en el archivo sin prueba fuerte (la prueba de Belenios "
                "3.0 no basta: no liga el factor)",
            )
        try:
            es.verificar_pruebas_fuertes(
                eleccion.huella, duenos[owner][2], recuento, parciales[owner], cjson(pruebas)
            )
        except es.EscrutinioInvalido as ex:
            raise VerificacionFallida(f"{donde} del custodio {owner}", str(ex)) from None
    return sorted(parciales)


def _lista_credenciales(documento: bytes, clave: str, eleccion: Eleccion, texto: bytes) -> str:
    """The record's public credentials are exactly the list the credential authority signed (VMRE: the
    authority is not the voting server; a credential the server added — to vote for someone who abstains —
    makes the count or the hash differ). ``clave``: the authority's key, obtained from the authority."""
    try:
        doc = json.loads(documento)
        acta = doc["acta"]
    except (ValueError, TypeError, KeyError):
        raise VerificacionFallida(
            "lista de credenciales", "no es una lista firmada (JSON con acta y firma)"
        ) from None
    if not firma.verificar(doc, clave):
        raise VerificacionFallida(
            "lista de credenciales",
            f"la firma no es de la autoridad de credenciales (o el documento fue alterado): no verifica con "
            f"la clave {clave}",
        )
    if not isinstance(acta, dict) or acta.get("eleccion") != eleccion.uuid:
        raise VerificacionFallida("lista de credenciales", "la lista firmada es de otra elección")
    credenciales = json.loads(texto)
    huella = huella_credenciales([c.partition(",")[0] for c in credenciales])
    if len(credenciales) != acta.get("credenciales") or huella != acta.get("huella_lista"):
        raise VerificacionFallida(
            "lista de credenciales",
            f"el archivo tiene {len(credenciales)} credenciales públicas (huella {huella[:16]}…) y la "
            f"autoridad firmó {acta.get('credenciales')} (huella {str(acta.get('huella_lista'))[:16]}…): el "
            "servidor de votación agregó, quitó o cambió credenciales",
        )
    return (
        f"{len(credenciales)}, las de la lista firmada por la autoridad de credenciales (clave {clave[:16]}…)"
    )


def verificar_archivo(
    datos: bytes,
    *,
    un_voto: bool = False,
    procesos: int = 1,
    progreso: Callable[[str], None] | None = None,
    pruebas_fuertes: bytes | None = None,
    lista_credenciales: bytes | None = None,
    clave_autoridad: str | None = None,
) -> Informe:
    """Check everything in the record; return a summary or raise ``VerificacionFallida`` at the first.
    With ``pruebas_fuertes`` (the JSON document), also every partial decryption's strong proofs."""
    aviso = progreso or (lambda _m: None)
    try:
        archivo = ar.leer(datos)
    except ar.ArchivoInvalido as e:
        raise VerificacionFallida("archivo", str(e)) from None
    inf = Informe(eventos=len(archivo.eventos))
    inf.fase = _gramatica(archivo.eventos)

    setup = archivo.eventos[0]
    texto_eleccion, texto_custodios, texto_credenciales, texto_setup = setup.datos
    try:
        eleccion = Eleccion.leer(texto_eleccion)
        custodios = Custodios.leer(json.loads(texto_custodios))
        pesos = leer_credenciales_publicas(json.loads(texto_credenciales))
    except (EleccionInvalida, CustodiosInvalidos, ValueError) as e:
        raise VerificacionFallida("Setup", str(e)) from None
    esperado = cjson(
        {
            "election": sha256_hex(texto_eleccion),
            "trustees": sha256_hex(texto_custodios),
            "credentials": sha256_hex(texto_credenciales),
        }
    ).encode()
    if texto_setup != esperado:
        raise VerificacionFallida("Setup", "setup_data no es canónico")
    if custodios.clave_eleccion() != eleccion.clave_publica:
        raise VerificacionFallida(
            "Setup", "la clave pública de la elección no es el producto de las de los custodios"
        )
    inf.uuid, inf.nombre = eleccion.uuid, eleccion.nombre
    if un_voto and any(p != 1 for p in pesos.values()):
        con_peso = sorted({p for p in pesos.values() if p != 1})
        raise VerificacionFallida(
            "Setup",
            f"hay credenciales con peso {', '.join(map(str, con_peso))}: con la regla de un voto por "
            "ciudadano cada credencial pesa 1",
        )
    aviso(f"elección {eleccion.uuid}: custodios y {len(pesos)} credenciales públicas verificados")
    if lista_credenciales is not None:
        if not clave_autoridad:
            raise VerificacionFallida(
                "lista de credenciales", "falta la clave de la autoridad de credenciales"
            )
        inf.lista_credenciales = _lista_credenciales(
            lista_credenciales, clave_autoridad, eleccion, texto_credenciales
        )

    ballots = archivo.de_tipo("Ballot")
    vistas: set[str] = set()
    boletas: list[bo.Boleta] = []
    textos = [ev.datos[0] for ev in ballots]
    for n, (ev, r) in enumerate(
        zip(ballots, _boletas(eleccion, pesos, textos, procesos), strict=True), start=1
    ):
        donde = f"boleta en el evento {ev.altura} (rastreador {bo.gr.sha256_b64(ev.datos[0])})"
        if isinstance(r, tuple):
            raise VerificacionFallida(donde, f"{r[0]}: {r[1]}")
        if r.hash_hex in vistas:
            raise VerificacionFallida(donde, "DuplicateBallot: boleta idéntica a una anterior")
        vistas.add(r.hash_hex)
        boletas.append(r)
        if n % 1000 == 0:
            aviso(f"boletas verificadas: {n}/{len(ballots)}")
    inf.boletas = len(boletas)
    contadas = es.ultimas(boletas)
    inf.contadas = len(contadas)
    inf.reemplazadas = len(boletas) - len(contadas)
    if un_voto and inf.reemplazadas:
        repetida = next(b for b in boletas if b not in contadas)
        raise VerificacionFallida(
            f"boleta {repetida.rastreador}",
            "la credencial votó más de una vez (regla de un voto por ciudadano)",
        )
    aviso(f"boletas: {inf.boletas} verificadas, {inf.contadas} contadas")

    tally_ev = archivo.de_tipo("EncryptedTally")
    if not tally_ev:
        return inf
    formas = [q.opciones for q in eleccion.preguntas]
    recuento, peso_total = es.recuento(formas, contadas, pesos)
    texto_recuento, texto_dimension = tally_ev[0].datos
    if es.recuento_json(recuento).encode() != texto_recuento:
        raise VerificacionFallida(
            f"evento {tally_ev[0].altura} (EncryptedTally)",
            "el recuento cifrado guardado no es el producto de las boletas contadas",
        )
    esperado = es.recuento_dimensionado_json(len(contadas), peso_total, sha256_hex(texto_recuento)).encode()
    if texto_dimension != esperado:
        raise VerificacionFallida(
            f"evento {tally_ev[0].altura} (EncryptedTally)",
            f"num_tallied/total_weight no corresponden: se esperaba {esperado.decode()}",
        )
    aviso("recuento cifrado recalculado: idéntico al guardado")

    duenos = custodios.duenos()
    parciales: dict[int, list[list[bytes]]] = {}
    for ev in archivo.de_tipo("PartialDecryption"):
        donde = f"descifrado parcial en el evento {ev.altura}"
        texto_pd, texto_owned = ev.datos
        try:
            owned = json.loads(texto_owned)
            owner = owned["owner"]
            if texto_owned != cjson({"owner": owner, "payload": sha256_hex(texto_pd)}).encode():
                raise ValueError("owned no canónico")
            if owner not in duenos:
                raise ValueError(f"custodio {owner} inexistente")
            parciales[owner] = es.verificar_descifrado(eleccion.huella, duenos[owner][2], recuento, texto_pd)
        except (ValueError, KeyError, TypeError, ErrorDeCodificacion) as ex:
            raise VerificacionFallida(donde, str(ex)) from None
    if pruebas_fuertes is not None:
        inf.fuertes = _pruebas_fuertes(pruebas_fuertes, eleccion, duenos, recuento, parciales)
        aviso(f"pruebas fuertes verificadas: custodios {', '.join(map(str, inf.fuertes)) or '—'}")

    res_ev = archivo.de_tipo("Result")
    if not res_ev:
        return inf
    donde = f"evento {res_ev[0].altura} (Result)"
    try:
        comb = es.combinar(custodios, parciales, formas)
        resultado = es.resultado(recuento, comb.factores, peso_total)
    except (es.EscrutinioInvalido, ValueError) as ex:
        raise VerificacionFallida(donde, str(ex)) from None
    if res_ev[0].datos[0] != es.resultado_json(resultado).encode():
        raise VerificacionFallida(
            donde, f"el resultado publicado no es el descifrado: debería ser {resultado}"
        )
    inf.descifrados = sorted(comb.usados)
    inf.resultado = resultado
    return inf


def procesos_por_defecto() -> int:
    return max(1, len(os.sched_getaffinity(0)))
