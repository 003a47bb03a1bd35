"""The custodian's side, run on the custodian's own machine: the key ceremony (``vmre custodio ceremonia``)
and, at the close, the partial decryption of the tally (``vmre custodio descifrar``).

The seed — the custodian's only long-term secret — and every message are written to the state file
(mode 0600) *before* anything is sent, so the command can be interrupted and run again: it resumes where it
stopped and re-sends byte-identical messages. Only public messages leave the machine: the certificate, the
polynomial (its shares encrypted for each custodian) and the verification key. The decryption key stays in
the state file, encrypted under the seed; the seed itself is never written in clear: it is sealed
(libsodium's secretbox) under a key derived from the custodian's passphrase with argon2id, so a copy of the
file alone opens nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from argon2.low_level import Type, hash_secret_raw
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from nacl.utils import random as aleatorios

from shared.cripto import archivo as ar
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import (
    Custodio,
    Custodios,
    CustodiosInvalidos,
    Pedersen,
    generar_semilla,
    huella,
    huella_custodios,
)
from shared.cripto.eleccion import Eleccion, EleccionInvalida
from shared.cripto.verificador import VerificacionFallida, verificar_archivo


class CeremoniaFallida(RuntimeError):
    pass


# argon2id for the passphrase (RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes).
KDF = {"t": 3, "m_kib": 65536, "p": 4}
FRASE_MINIMA = 12


def _llave(frase: str, sal: bytes, kdf: dict[str, int]) -> bytes:
    return hash_secret_raw(
        frase.encode(),
        sal,
        time_cost=kdf["t"],
        memory_cost=kdf["m_kib"],
        parallelism=kdf["p"],
        hash_len=SecretBox.KEY_SIZE,
        type=Type.ID,
    )


def _guardar(ruta: Path, estado: dict[str, Any]) -> None:
    """Write the state (mode 0600, atomically): the seed only sealed under the passphrase's key."""
    en_disco = {k: v for k, v in estado.items() if not k.startswith("_") and k != "semilla"}
    caja = SecretBox(estado["_llave"]).encrypt(estado["semilla"].encode())
    en_disco["semilla_cifrada"] = {"kdf": "argon2id", **estado["_kdf"], "caja": caja.hex()}
    tmp = ruta.with_suffix(ruta.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(en_disco, f, ensure_ascii=False, indent=1)
    os.replace(tmp, ruta)


def _abrir(ruta: Path, frase: str) -> dict[str, Any]:
    """The state file with its seed unsealed in memory (and the key to seal it again)."""
    estado: dict[str, Any] = json.loads(ruta.read_text(encoding="utf-8"))
    if "semilla" in estado:  # a state file written before the seed was sealed: sealed on the next write
        estado["_kdf"] = {**KDF, "sal": aleatorios(16).hex()}
        estado["_llave"] = _llave(frase, bytes.fromhex(estado["_kdf"]["sal"]), KDF)
        return estado
    cifrada = estado.pop("semilla_cifrada", None)
    if not isinstance(cifrada, dict) or cifrada.get("kdf") != "argon2id":
        raise CeremoniaFallida(f"{ruta} no es un archivo de estado de custodio (falta la semilla cifrada)")
    kdf = {k: int(cifrada[k]) for k in ("t", "m_kib", "p")}
    llave = _llave(frase, bytes.fromhex(cifrada["sal"]), kdf)
    try:
        estado["semilla"] = SecretBox(llave).decrypt(bytes.fromhex(cifrada["caja"])).decode()
    except CryptoError:
        raise CeremoniaFallida(
            f"la frase de paso no abre {ruta}: escriba la misma con que se creó (nada se envió)"
        ) from None
    estado["_kdf"], estado["_llave"] = {**kdf, "sal": cifrada["sal"]}, llave
    return estado


def leer_estado(ruta: Path, frase: str) -> dict[str, Any]:
    """A custodian's state file as the commands see it (its seed unsealed with the passphrase)."""
    return {k: v for k, v in _abrir(ruta, frase).items() if not k.startswith("_")}


def _cargar(ruta: Path, eleccion: str, indice: int, frase: str) -> dict[str, Any]:
    if ruta.exists():
        estado = _abrir(ruta, frase)
        if estado.get("eleccion") != eleccion or estado.get("indice") != indice:
            raise CeremoniaFallida(
                f"{ruta} es de la elección {estado.get('eleccion')} posición {estado.get('indice')}: "
                "use otro archivo de estado"
            )
        return estado
    if len(frase) < FRASE_MINIMA:
        raise CeremoniaFallida(
            f"la frase de paso debe tener al menos {FRASE_MINIMA} caracteres: protege la semilla del custodio"
        )
    sal = aleatorios(16)
    estado = {"eleccion": eleccion, "indice": indice, "semilla": generar_semilla()}
    estado["_kdf"], estado["_llave"] = {**KDF, "sal": sal.hex()}, _llave(frase, sal, KDF)
    _guardar(ruta, estado)
    return estado


async def _get(cliente: httpx.AsyncClient, eleccion: str) -> dict[str, Any]:
    r = await cliente.get(f"/v1/elecciones/{eleccion}/ceremonia")
    if r.status_code != 200:
        raise CeremoniaFallida(f"el servidor respondió {r.status_code}: {_detalle(r)}")
    o: dict[str, Any] = r.json()
    return o


def _detalle(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail", r.text))
    except ValueError:
        return r.text[:300]


async def _put(cliente: httpx.AsyncClient, eleccion: str, indice: int, paso: int, contenido: Any) -> None:
    r = await cliente.put(f"/v1/elecciones/{eleccion}/ceremonia/{indice}/{paso}", json=contenido)
    if r.status_code != 200:
        raise CeremoniaFallida(f"paso {paso}: el servidor respondió {r.status_code}: {_detalle(r)}")


async def _esperar(
    cliente: httpx.AsyncClient,
    eleccion: str,
    listo: Callable[[dict[str, Any]], bool],
    que: str,
    espera: float,
    avisar: Callable[[str], None],
    limite: float,
) -> dict[str, Any]:
    transcurrido = 0.0
    ultimo = ""
    while True:
        info = await _get(cliente, eleccion)
        if listo(info):
            return info
        recibidos = info["recibidos"]
        linea = f"esperando {que}: " + ", ".join(
            f"{k} {len(v)}/{info['custodios']}" for k, v in recibidos.items()
        )
        if linea != ultimo:
            avisar(linea)
            ultimo = linea
        if transcurrido >= limite:
            raise CeremoniaFallida(
                f"se agotó la espera de {que} ({limite:.0f} s); vuelva a ejecutar para seguir"
            )
        await asyncio.sleep(espera)
        transcurrido += espera


SERVIDOR_DUDOSO = (
    "No continúe y avise a los demás custodios y a la autoridad por un canal ajeno al servidor: "
    "no se envió nada más."
)


def _visto(estado: dict[str, Any], ruta: Path, clave: str, valor: Any, que: str) -> None:
    """Remember what the server showed at each step; on a resumed run it must show exactly the same."""
    if clave in estado and estado[clave] != valor:
        raise CeremoniaFallida(
            f"el servidor ahora muestra otros {que} que los que este custodio ya vio y usó. {SERVIDOR_DUDOSO}"
        )
    if clave not in estado:
        estado[clave] = valor
        _guardar(ruta, estado)


def _verificar_final(c: Custodio, estado: dict[str, Any], info: dict[str, Any]) -> str:
    """The published trustee parameters and election key must be exactly the ones derived from what this
    custodian saw (certificates, polynomials) and sent (its verification key). Returns the fingerprint."""
    certs, polinomios = estado["vistos_certificados"], estado["vistos_polinomios"]
    parametros = info.get("parametros")
    try:
        custodios = Custodios.leer(parametros)  # checks every cert, commitment, signature, verification key
    except CustodiosInvalidos as exc:
        raise CeremoniaFallida(
            f"los parámetros publicados de los custodios no verifican: {exc}. {SERVIDOR_DUDOSO}"
        ) from None
    if len(custodios.entradas) != 1 or not isinstance(custodios.entradas[0], Pedersen):
        raise CeremoniaFallida(
            f"los parámetros publicados no son los de esta ceremonia (k de n). {SERVIDOR_DUDOSO}"
        )
    p = custodios.entradas[0].json()
    esperado = {
        "threshold": c.umbral,
        "certs": certs,
        "coefexps": [x["coefexps"] for x in polinomios],
        "signatures": [x["signature"] for x in polinomios],
    }
    for campo, valor in esperado.items():
        if p[campo] != valor:
            raise CeremoniaFallida(
                f"los parámetros publicados ({campo}) no son los que este custodio vio en la ceremonia. "
                f"{SERVIDOR_DUDOSO}"
            )
    if p["verification_keys"][c.indice - 1] != estado["clave_verificacion"]:
        raise CeremoniaFallida(
            f"la clave de verificación publicada en la posición {c.indice} no es la de este custodio. "
            f"{SERVIDOR_DUDOSO}"
        )
    if info.get("clave_publica") != gr.s(custodios.clave_eleccion()):
        raise CeremoniaFallida(
            "la clave pública de la elección que anuncia el servidor no es la que resulta de los "
            f"parámetros de los custodios. {SERVIDOR_DUDOSO}"
        )
    propia = huella_custodios(parametros)
    if info.get("huella") not in (None, propia):
        raise CeremoniaFallida(
            f"la huella que anuncia el servidor ({info.get('huella')}) no es la de los parámetros publicados "
            f"({propia}). {SERVIDOR_DUDOSO}"
        )
    return propia


async def ceremonia(
    cliente: httpx.AsyncClient,
    eleccion: str,
    indice: int,
    ruta_estado: Path,
    *,
    frase: str,
    espera: float = 2.0,
    limite: float = 3600.0,
    avisar: Callable[[str], None] = print,
    confirmar: Callable[[str], Awaitable[bool]] | None = None,
) -> str:
    """Run (or resume) this custodian's three steps; return the election public key once all are in.

    ``confirmar``: called with the certificates' fingerprint before this custodian's encrypted shares leave
    (step 2); the custodians compare it aloud and a "no" stops here, so a split view costs nothing. The CLI
    asks at the terminal (or takes ``--huella-certificados``).

    Nothing from the server is taken on trust: every certificate (its own at its position), every polynomial
    (signed commitments, a certs_sig over the very certificates seen here, its share decrypted and checked
    against the sender's commitments) and, at the end, the published trustee parameters and election key,
    which must be exactly the ones derived from what was seen here. Any mismatch raises ``CeremoniaFallida``
    before anything else is sent. What one custodian cannot see alone — that the server showed the others a
    different ceremony — is what the printed fingerprint is for: custodians compare it out of band, and it
    must also equal ``huella_custodios`` in the signed opening act."""
    estado = _cargar(ruta_estado, eleccion, indice, frase)
    info = await _get(cliente, eleccion)
    k, n = int(info["umbral"]), int(info["custodios"])
    if not 1 <= indice <= n:
        raise CeremoniaFallida(f"la posición {indice} no existe: la ceremonia es de {n} custodios")
    if "umbral" in estado and (estado["umbral"], estado["custodios"]) != (k, n):
        raise CeremoniaFallida(
            f"el servidor ahora dice {k} de {n}; este custodio empezó con {estado['umbral']} de "
            f"{estado['custodios']}. {SERVIDOR_DUDOSO}"
        )
    estado["umbral"], estado["custodios"] = k, n
    c = Custodio(estado["semilla"], indice, k, n)
    avisar(f"ceremonia de la elección {eleccion}: custodio {indice} de {n}, umbral {k}")

    if "certificado" not in estado:
        estado["certificado"] = c.certificado()
        _guardar(ruta_estado, estado)
    await _put(cliente, eleccion, indice, 1, estado["certificado"])
    avisar("paso 1/3: certificado entregado")
    info = await _esperar(
        cliente, eleccion, lambda i: i["certificados"] is not None, "certificados", espera, avisar, limite
    )
    certs = info["certificados"]
    try:
        c.verificar_certificados(certs)  # every self-signature, context, and its own at its index
    except CustodiosInvalidos as exc:
        raise CeremoniaFallida(f"certificados inválidos: {exc}. {SERVIDOR_DUDOSO}") from None
    _visto(estado, ruta_estado, "vistos_certificados", certs, "certificados")
    avisar(f"certificados verificados; huella de los certificados: {huella(certs)}")

    if "polinomio" not in estado:
        if confirmar is not None and not await confirmar(huella(certs)):
            raise CeremoniaFallida(
                "la huella de los certificados no coincide con la de los demás custodios: el servidor pudo "
                "mostrarles certificados distintos. No se envió nada más; avise a los demás y al INE."
            )
        estado["polinomio"] = c.polinomio(certs)
        _guardar(ruta_estado, estado)
    await _put(cliente, eleccion, indice, 2, estado["polinomio"])
    avisar("paso 2/3: polinomio entregado (compromisos firmados y partes cifradas)")
    info = await _esperar(
        cliente, eleccion, lambda i: i["polinomios"] is not None, "polinomios", espera, avisar, limite
    )
    polinomios = info["polinomios"]
    if (
        not isinstance(polinomios, list)
        or len(polinomios) != n
        or polinomios[indice - 1] != estado["polinomio"]
    ):
        raise CeremoniaFallida(
            f"el polinomio que el servidor muestra en la posición {indice} no es el que este custodio envió. "
            f"{SERVIDOR_DUDOSO}"
        )
    if "clave_privada" not in estado:
        # Every polynomial's signatures, and each share received checked against its sender's commitments.
        try:
            claves = c.clave_verificacion(certs, polinomios)
        except CustodiosInvalidos as exc:
            raise CeremoniaFallida(f"polinomios inválidos: {exc}. {SERVIDOR_DUDOSO}") from None
        estado["vistos_polinomios"] = polinomios
        estado["clave_privada"] = claves["private_key"]
        estado["clave_verificacion"] = claves["public_key"]
        _guardar(ruta_estado, estado)
    else:
        _visto(estado, ruta_estado, "vistos_polinomios", polinomios, "polinomios")
    await _put(cliente, eleccion, indice, 3, {"public_key": estado["clave_verificacion"]})
    avisar("paso 3/3: clave de verificación entregada")
    info = await _esperar(
        cliente,
        eleccion,
        lambda i: i["clave_publica"] is not None,
        "la clave de la elección",
        espera,
        avisar,
        limite,
    )
    huella_final = _verificar_final(c, estado, info)
    clave = str(info["clave_publica"])
    estado["clave_eleccion"] = clave
    estado["parametros"] = info["parametros"]
    estado["huella"] = huella_final
    _guardar(ruta_estado, estado)
    avisar(
        f"listo: clave pública de la elección {clave}, derivada de lo que este custodio verificó.\n"
        f"HUELLA DE LA CEREMONIA: {huella_final}\n"
        "Léala en voz alta con los demás custodios por un canal ajeno al servidor (teléfono, en persona) y "
        "compárela con «huella_custodios» del acta de apertura: si alguna difiere, el servidor mostró "
        "ceremonias distintas y la clave no debe usarse (un custodio solo no puede detectarlo). "
        f"Guarde {ruta_estado} para el descifrado."
    )
    return clave


def _estado_con_clave(ruta: Path, eleccion: str, indice: int, frase: str) -> dict[str, Any]:
    if not ruta.exists():
        raise CeremoniaFallida(f"no existe {ruta}: es el archivo de estado de la ceremonia de llaves")
    estado = _abrir(ruta, frase)
    if estado.get("eleccion") != eleccion or estado.get("indice") != indice or "clave_privada" not in estado:
        raise CeremoniaFallida(f"{ruta} no tiene la clave del custodio {indice} de la elección {eleccion}")
    return estado


ELECTRONICO = "http://127.0.0.1:8003"

NO_DESCIFRA = "No se descifró ni se envió nada."


def _tally_del_archivo(
    datos: bytes, estado: dict[str, Any], indice: int, procesos: int
) -> tuple[bytes, bytes, int, int]:
    """The election's public record, verified completely here (every ballot and proof, the stored encrypted
    tally recomputed from the counted ballots); this custodian's setup entries must be in it. Returns the
    election text, the encrypted tally the record proves, and the record's threshold k of n."""
    try:
        verificar_archivo(datos, procesos=procesos)
    except VerificacionFallida as exc:
        raise CeremoniaFallida(
            f"el archivo público de la elección no verifica ({exc}). {NO_DESCIFRA}"
        ) from None
    archivo = ar.leer(datos)
    texto_eleccion, texto_custodios = archivo.eventos[0].datos[:2]
    trustees = json.loads(texto_custodios)
    propias = {
        "certs": estado.get("certificado"),
        "coefexps": (estado.get("polinomio") or {}).get("coefexps"),
        "signatures": (estado.get("polinomio") or {}).get("signature"),
        "verification_keys": estado.get("clave_verificacion"),
    }
    entrada = trustees[0][1] if len(trustees) == 1 and trustees[0][0] == "Pedersen" else None
    if entrada is None or any(
        len(entrada[campo]) < indice or entrada[campo][indice - 1] != valor
        for campo, valor in propias.items()
    ):
        raise CeremoniaFallida(
            f"los custodios del archivo público no incluyen, en la posición {indice}, el certificado, los "
            f"compromisos y la clave de verificación de este custodio. {NO_DESCIFRA}"
        )
    if "huella" in estado and huella_custodios(trustees) != estado["huella"]:
        raise CeremoniaFallida(
            "los custodios del archivo público no son los de la ceremonia que este custodio verificó "
            f"(huella {huella_custodios(trustees)}, se esperaba {estado['huella']}). {NO_DESCIFRA}"
        )
    tally = archivo.de_tipo("EncryptedTally")
    if not tally:
        raise CeremoniaFallida(
            f"el archivo público aún no tiene el recuento cifrado (la urna no está sellada). {NO_DESCIFRA}"
        )
    assert entrada is not None
    return texto_eleccion, tally[0].datos[0], int(entrada["threshold"]), len(entrada["certs"])


async def descifrar(
    cliente: httpx.AsyncClient,
    eleccion: str,
    indice: int,
    ruta_estado: Path,
    *,
    frase: str,
    electronico: httpx.AsyncClient | str = ELECTRONICO,
    procesos: int = 1,
    avisar: Callable[[str], None] = print,
) -> dict[str, Any]:
    """At the electronic MEC: this custodian's partial decryption of the sealed box's encrypted tally, with
    its Belenios proofs and its strong proofs, computed here from the key in the state file and sent to
    computo as {"partial_decryption", "strong_proofs"}. Returns computo's answer.

    Only the tally of the public record is decrypted: the record (``archivo.bel``, from ``electronico``, a
    URL or a client) is verified completely here, this custodian's setup entries must be in it, and the
    encrypted tally recomputed from its ballots must equal exactly what computo asks to decrypt. Otherwise
    ``CeremoniaFallida`` and nothing is sent (a server asking to decrypt one ballot would learn a vote)."""
    estado = _estado_con_clave(ruta_estado, eleccion, indice, frase)
    r = await cliente.get(f"/v1/escrutinio-electronico/{eleccion}")
    if r.status_code != 200:
        raise CeremoniaFallida(f"el servidor respondió {r.status_code}: {_detalle(r)}")
    info = r.json()
    if not isinstance(info, dict):
        raise CeremoniaFallida(f"respuesta inesperada del servidor. {NO_DESCIFRA}")

    if isinstance(electronico, str):
        async with httpx.AsyncClient(base_url=electronico, timeout=300) as pub:
            ra = await pub.get(f"/v1/elecciones/{eleccion}/archivo.bel")
    else:
        ra = await electronico.get(f"/v1/elecciones/{eleccion}/archivo.bel")
    if ra.status_code != 200:
        raise CeremoniaFallida(
            f"no se pudo obtener el archivo público de la elección: electronico respondió {ra.status_code}: "
            f"{_detalle(ra)}. {NO_DESCIFRA}"
        )
    avisar(f"verificando el archivo público de la elección ({len(ra.content):,} bytes) …")
    texto_eleccion, texto_tally, k, n = await asyncio.to_thread(
        _tally_del_archivo, ra.content, estado, indice, procesos
    )
    try:
        e = Eleccion.leer(texto_eleccion)
        pedido = info["recuento"]
        formas = [q.opciones for q in e.preguntas]
        igual = (
            isinstance(pedido, str)
            and es.recuento_json(es.leer_recuento(pedido, formas)).encode() == texto_tally
        )
    except (EleccionInvalida, es.EscrutinioInvalido, gr.ErrorDeCodificacion, KeyError, TypeError, ValueError):
        igual = False
    pedida = info.get("eleccion_json")
    if not igual or not isinstance(pedida, str) or pedida.encode() != texto_eleccion:
        raise CeremoniaFallida(
            "lo que el servidor pide descifrar no es el recuento cifrado que resulta de las boletas del "
            "archivo público (podría ser la boleta de un votante): este custodio se niega a descifrarlo. "
            f"{NO_DESCIFRA}"
        )
    recuento = es.leer_recuento(texto_tally, formas)
    c = Custodio(estado["semilla"], indice, k, n)
    # The Belenios partial decryption and, next to it, the strong proofs (their challenge binds the
    # ciphertext and the factor): computo refuses a delivery without them.
    entrega = es.entrega_descifrado(e.huella, c.clave_descifrado(estado["clave_privada"]), recuento)
    avisar(
        f"archivo público verificado y recuento recalculado: idéntico al pedido. Descifrado parcial del "
        f"custodio {indice}, con pruebas fuertes: {info.get('boletas')} boletas en el recuento"
    )
    r = await cliente.put(
        f"/v1/escrutinio-electronico/{eleccion}/descifrados/{indice}",
        content=entrega.encode(),
        headers={"content-type": "application/json"},
    )
    if r.status_code != 200:
        raise CeremoniaFallida(f"el servidor respondió {r.status_code}: {_detalle(r)}")
    respuesta: dict[str, Any] = r.json()
    avisar(respuesta.get("mensaje") or "resultado publicado con los descifrados necesarios")
    return respuesta
