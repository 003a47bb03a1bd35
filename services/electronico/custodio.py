"""The custodian's side, run on the custodian's own machine: the key ceremony (``vmre custodio ceremonia``)
and, at the close, the partial decryption of the tally (``vmre custodio descifrar``).

The seed — the custodian's only long-term secret — and every message are written to the state file
(mode 0600) *before* anything is sent, so the command can be interrupted and run again: it resumes where it
stopped and re-sends byte-identical messages. Only public messages leave the machine: the certificate, the
polynomial (its shares encrypted for each custodian) and the verification key. The decryption key stays in
the state file, itself encrypted under the seed.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shared.cripto import escrutinio as es
from shared.cripto.custodios import Custodio, generar_semilla
from shared.cripto.eleccion import Eleccion


class CeremoniaFallida(RuntimeError):
    pass


def _guardar(ruta: Path, estado: dict[str, Any]) -> None:
    tmp = ruta.with_suffix(ruta.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(estado, f, ensure_ascii=False, indent=1)
    os.replace(tmp, ruta)


def _cargar(ruta: Path, eleccion: str, indice: int) -> dict[str, Any]:
    if ruta.exists():
        estado: dict[str, Any] = json.loads(ruta.read_text(encoding="utf-8"))
        if estado.get("eleccion") != eleccion or estado.get("indice") != indice:
            raise CeremoniaFallida(
                f"{ruta} es de la elección {estado.get('eleccion')} posición {estado.get('indice')}: "
                "use otro archivo de estado"
            )
        return estado
    estado = {"eleccion": eleccion, "indice": indice, "semilla": generar_semilla()}
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


async def ceremonia(
    cliente: httpx.AsyncClient,
    eleccion: str,
    indice: int,
    ruta_estado: Path,
    *,
    espera: float = 2.0,
    limite: float = 3600.0,
    avisar: Callable[[str], None] = print,
) -> str:
    """Run (or resume) this custodian's three steps; return the election public key once all are in."""
    estado = _cargar(ruta_estado, eleccion, indice)
    info = await _get(cliente, eleccion)
    k, n = int(info["umbral"]), int(info["custodios"])
    if not 1 <= indice <= n:
        raise CeremoniaFallida(f"la posición {indice} no existe: la ceremonia es de {n} custodios")
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

    if "polinomio" not in estado:
        estado["polinomio"] = c.polinomio(certs)  # checks every certificate first
        _guardar(ruta_estado, estado)
    await _put(cliente, eleccion, indice, 2, estado["polinomio"])
    avisar("paso 2/3: polinomio entregado (compromisos firmados y partes cifradas)")
    info = await _esperar(
        cliente, eleccion, lambda i: i["polinomios"] is not None, "polinomios", espera, avisar, limite
    )

    if "clave_privada" not in estado:
        # Checks each share received against its sender's commitments.
        claves = c.clave_verificacion(certs, info["polinomios"])
        estado["clave_privada"] = claves["private_key"]
        estado["clave_verificacion"] = claves["public_key"]
        _guardar(ruta_estado, estado)
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
    clave = str(info["clave_publica"])
    estado["clave_eleccion"] = clave
    _guardar(ruta_estado, estado)
    avisar(f"listo: clave pública de la elección {clave}. Guarde {ruta_estado} para el descifrado.")
    return clave


def _estado_con_clave(ruta: Path, eleccion: str, indice: int) -> dict[str, Any]:
    if not ruta.exists():
        raise CeremoniaFallida(f"no existe {ruta}: es el archivo de estado de la ceremonia de llaves")
    estado: dict[str, Any] = json.loads(ruta.read_text(encoding="utf-8"))
    if estado.get("eleccion") != eleccion or estado.get("indice") != indice or "clave_privada" not in estado:
        raise CeremoniaFallida(f"{ruta} no tiene la clave del custodio {indice} de la elección {eleccion}")
    return estado


async def descifrar(
    cliente: httpx.AsyncClient,
    eleccion: str,
    indice: int,
    ruta_estado: Path,
    *,
    avisar: Callable[[str], None] = print,
) -> dict[str, Any]:
    """At the electronic MEC: this custodian's partial decryption of the sealed box's encrypted tally, with
    its proofs, computed here from the key in the state file and sent to computo. Returns computo's answer."""
    estado = _estado_con_clave(ruta_estado, eleccion, indice)
    r = await cliente.get(f"/v1/escrutinio-electronico/{eleccion}")
    if r.status_code != 200:
        raise CeremoniaFallida(f"el servidor respondió {r.status_code}: {_detalle(r)}")
    info = r.json()
    e = Eleccion.leer(info["eleccion_json"].encode())
    recuento = es.leer_recuento(info["recuento"], [q.opciones for q in e.preguntas])
    c = Custodio(estado["semilla"], indice, int(info["necesarios"]), int(info["custodios"]))
    texto = es.descifrado_parcial(e.huella, c.clave_descifrado(estado["clave_privada"]), recuento)
    avisar(f"descifrado parcial del custodio {indice}: {info['boletas']} boletas en el recuento")
    r = await cliente.put(
        f"/v1/escrutinio-electronico/{eleccion}/descifrados/{indice}",
        content=texto.encode(),
        headers={"content-type": "application/json"},
    )
    if r.status_code != 200:
        raise CeremoniaFallida(f"el servidor respondió {r.status_code}: {_detalle(r)}")
    respuesta: dict[str, Any] = r.json()
    avisar(respuesta.get("mensaje") or "resultado publicado con los descifrados necesarios")
    return respuesta
