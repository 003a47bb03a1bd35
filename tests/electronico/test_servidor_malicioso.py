"""Trust no server: each custodian's CLI checks everything itself (issue 22).

A malicious server, over real HTTP (a small app served by uvicorn on a free port), tries:

(a) a split view of the ceremony: custodian 1 is shown four custodians the server made up. One custodian alone
    cannot tell (its shares to the fakes do leak, as shown), but its printed fingerprint differs from the one
    the real custodians get and the opening act publishes: compared out of band, the key is not used. A
    partial split view (polynomials signed over other certificates) is caught at step 2, before step 3;
(b) final trustee parameters or an election key not derived from what the custodian saw: refused;
(c) one voter's ballot to decrypt instead of the tally (or a record that does not verify): refused, through
    the function and through ``vmre custodio descifrar``, and nothing is sent.

The real CLI functions run against it; every request the fake receives is recorded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clientes.custodio import CeremoniaFallida, ceremonia, descifrar
from shared.cripto import archivo as ar
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto.custodios import (
    Custodio,
    Custodios,
    descifrar_con,
    generar_semilla,
    huella_custodios,
    parametros_umbral,
)
from shared.cripto.eleccion import Eleccion
from shared.cripto.pruebas import cjson
from shared.hijos import free_port
from tests.support.comun import en_http
from tests.support.electronico import FRASE, Electronico, inscrito
from tests.support.registro import centro

Responder = Callable[[Request, bytes], Awaitable[Response]]


@dataclass
class Falso:
    url: str
    pedidos: list[tuple[str, str]] = field(default_factory=list)

    def enviados(self) -> list[tuple[str, str]]:
        return [p for p in self.pedidos if p[0] in ("PUT", "POST")]


@asynccontextmanager
async def servidor_falso(responder: Responder) -> AsyncIterator[Falso]:
    """A malicious server on 127.0.0.1, recording every request it receives."""
    puerto = free_port()
    falso = Falso(f"http://127.0.0.1:{puerto}")

    async def todo(request: Request) -> Response:
        cuerpo = await request.body()
        falso.pedidos.append((request.method, request.url.path))
        return await responder(request, cuerpo)

    app = Starlette(routes=[Route("/{ruta:path}", todo, methods=["GET", "PUT", "POST"])])
    async with en_http(app, puerto=puerto, lifespan="off"):
        yield falso


# --- (a), (b): a ceremony the server makes up ---------------------------------------------------------------


class Mundo:
    """The ceremony one server shows: custodians at ``reales`` are real clients; the server plays every other
    position with keys of its own, and so can read every share sent to those positions."""

    def __init__(self, uuid: str, reales: set[int], k: int = 3, n: int = 5) -> None:
        self.uuid, self.reales, self.k, self.n = uuid, reales, k, n
        self.falsos = {j: Custodio(generar_semilla(), j, k, n) for j in range(1, n + 1) if j not in reales}
        self.pasos: dict[int, dict[int, Any]] = {1: {}, 2: {}, 3: {}}
        self.certs_para_firmar: Callable[[list[Any]], list[Any]] = lambda certs: certs
        self.alterar_final: Callable[[dict[str, Any]], dict[str, Any]] = lambda o: o

    def _lista(self, paso: int) -> list[Any] | None:
        m = self.pasos[paso]
        return [m[i] for i in range(1, self.n + 1)] if len(m) == self.n else None

    def _completar(self) -> None:
        if all(i in self.pasos[1] for i in self.reales):
            for j, c in self.falsos.items():
                self.pasos[1].setdefault(j, c.certificado())
        certs = self._lista(1)
        if certs is not None and all(i in self.pasos[2] for i in self.reales) and len(self.pasos[2]) < self.n:
            for j, c in self.falsos.items():
                self.pasos[2][j] = c.polinomio(self.certs_para_firmar(certs))
        polis = self._lista(2)
        if (
            certs is not None
            and polis is not None
            and all(i in self.pasos[3] for i in self.reales)
            and len(self.pasos[3]) < self.n
        ):
            for j, c in self.falsos.items():
                self.pasos[3][j] = {"public_key": c.clave_verificacion(certs, polis)["public_key"]}

    def estado(self) -> dict[str, Any]:
        self._completar()
        o: dict[str, Any] = {
            "eleccion": self.uuid,
            "umbral": self.k,
            "custodios": self.n,
            "paso": None,
            "recibidos": {nombre: sorted(self.pasos[p]) for p, nombre in ((1, "c"), (2, "p"), (3, "v"))},
            "certificados": self._lista(1),
            "polinomios": self._lista(2),
            "clave_publica": None,
            "parametros": None,
            "huella": None,
        }
        claves = self._lista(3)
        if claves is not None:
            assert o["certificados"] is not None
            assert o["polinomios"] is not None
            trustees = Custodios([parametros_umbral(o["certificados"], o["polinomios"], claves)]).json()
            o["clave_publica"] = gr.s(Custodios.leer(trustees).clave_eleccion())
            o["parametros"] = trustees
            o["huella"] = huella_custodios(trustees)
            o = self.alterar_final(o)
        return o

    async def responder(self, request: Request, cuerpo: bytes) -> Response:
        partes = request.url.path.strip("/").split("/")  # v1 elecciones UUID ceremonia [indice paso]
        if request.method == "PUT" and len(partes) == 6:
            self.pasos[int(partes[5])][int(partes[4])] = json.loads(cuerpo)
        return JSONResponse(self.estado())


async def custodio_en(falso: Falso, uuid: str, i: int, ruta: Path, avisos: list[str] | None = None) -> str:
    async with httpx.AsyncClient(base_url=falso.url, timeout=30) as c:
        return await ceremonia(
            c, uuid, i, ruta, frase=FRASE, espera=0.02, limite=30,
            avisar=(avisos.append if avisos is not None else print),
        )  # fmt: skip


UUID = "Ab3dEf6hIj9kLm"


@pytest.mark.slow
async def test_vista_dividida_se_descubre_al_comparar_huellas(tmp_path: Path) -> None:
    """Custodian 1 sees four server-made custodians; the four real ones see a server-made custodian 1."""
    victima, resto = Mundo(UUID, {1}), Mundo(UUID, {2, 3, 4, 5})
    avisos: list[str] = []
    async with servidor_falso(victima.responder) as fa, servidor_falso(resto.responder) as fb:
        await asyncio.gather(
            custodio_en(fa, UUID, 1, tmp_path / "c1.json", avisos),
            *(custodio_en(fb, UUID, i, tmp_path / f"c{i}.json", []) for i in range(2, 6)),
        )
    huellas = {i: json.loads((tmp_path / f"c{i}.json").read_text())["huella"] for i in range(1, 6)}

    # What the split view costs: the server reads custodian 1's shares to its fakes and rebuilds its secret
    # coefficient (g^{f(0)} is custodian 1's first commitment) …
    polinomio = victima.pasos[2][1]
    vk = gr.elemento(json.loads(victima.pasos[1][1]["message"])["verification"])
    partes = {
        j: gr.escalar(
            json.loads(descifrar_con(victima.falsos[j].dk, vk, polinomio["secrets"][j - 1]))["secret"]
        )
        for j in (2, 3, 4)
    }
    f0 = sum(lam * partes[j] for j, lam in es.lagrange([2, 3, 4]).items()) % gr.L
    assert gr.s(gr.gpot(f0)) == json.loads(polinomio["coefexps"]["message"])["coefexps"][0]

    # … which no custodian can see alone; but the fingerprints, read aloud, differ: the key is not used.
    assert len({huellas[i] for i in range(2, 6)}) == 1
    assert huellas[1] != huellas[2]
    assert huellas[2] == resto.estado()["huella"]  # what the server would publish in the opening act
    assert any(f"HUELLA DE LA CEREMONIA: {huellas[1]}" in a for a in avisos)
    assert any("un custodio solo no puede detectarlo" in a for a in avisos)


@pytest.mark.slow
async def test_vista_dividida_se_detiene_antes_de_enviar_las_partes(tmp_path: Path) -> None:
    """With the certificates' fingerprint compared aloud before step 2, the split view costs nothing: the
    victim's encrypted shares never leave."""
    victima, resto = Mundo(UUID, {1}), Mundo(UUID, {2, 3, 4, 5})
    vistas: dict[int, str] = {}

    def comparar(i: int) -> Callable[[str], Awaitable[bool]]:
        async def confirmar(h: str) -> bool:
            vistas[i] = h
            while len(vistas) < 5:  # the five read theirs aloud
                await asyncio.sleep(0.01)
            return len(set(vistas.values())) == 1

        return confirmar

    async def uno(falso: Falso, i: int) -> str:
        async with httpx.AsyncClient(base_url=falso.url, timeout=30) as c:
            return await ceremonia(
                c, UUID, i, tmp_path / f"c{i}.json", frase=FRASE, espera=0.02, limite=30,
                avisar=lambda _m: None, confirmar=comparar(i),
            )  # fmt: skip

    async with servidor_falso(victima.responder) as fa, servidor_falso(resto.responder) as fb:
        resultados = await asyncio.gather(
            uno(fa, 1), *(uno(fb, i) for i in range(2, 6)), return_exceptions=True
        )
    assert all(isinstance(r, CeremoniaFallida) and "no coincide" in str(r) for r in resultados), resultados
    assert 1 not in victima.pasos[2]
    assert not resto.pasos[2]
    assert vistas[1] != vistas[2] == vistas[3] == vistas[4] == vistas[5]


def test_la_cli_confirma_la_huella_acordada() -> None:
    from vmre.cli import _confirmar_huella

    assert _confirmar_huella("ab12-cd34", " AB12-CD34 ")
    assert not _confirmar_huella("ab12-cd34", "ab12-cd35")


async def test_polinomios_firmados_sobre_otros_certificados_se_rechazan(tmp_path: Path) -> None:
    """A partial split view: the others signed (certs_sig) a different certificate list. Caught at step 2;
    the verification key (step 3) is never sent."""
    mundo = Mundo(UUID, {1})
    otro = Custodio(generar_semilla(), 1, 3, 5).certificado()
    mundo.certs_para_firmar = lambda certs: [otro, *certs[1:]]
    async with servidor_falso(mundo.responder) as f:
        with pytest.raises(CeremoniaFallida, match="certs_sig no cubre los certificados"):
            await custodio_en(f, UUID, 1, tmp_path / "c1.json", [])
    assert ("PUT", f"/v1/elecciones/{UUID}/ceremonia/1/3") not in f.pedidos
    assert f.enviados() == [
        ("PUT", f"/v1/elecciones/{UUID}/ceremonia/1/1"),
        ("PUT", f"/v1/elecciones/{UUID}/ceremonia/1/2"),
    ]
    assert "clave_privada" not in json.loads((tmp_path / "c1.json").read_text())


async def test_reanudar_ante_otros_certificados_se_rechaza(tmp_path: Path) -> None:
    """A resumed run must be shown exactly what was seen before: a server that swaps the certificates between
    runs (to have the polynomial re-sent to keys of its own) is refused before step 2."""
    ruta = tmp_path / "c1.json"
    async with servidor_falso(Mundo(UUID, {1}).responder) as f:
        await custodio_en(f, UUID, 1, ruta, [])
    async with servidor_falso(Mundo(UUID, {1}).responder) as f:
        with pytest.raises(CeremoniaFallida, match="ahora muestra otros certificados"):
            await custodio_en(f, UUID, 1, ruta, [])
    assert f.enviados() == [("PUT", f"/v1/elecciones/{UUID}/ceremonia/1/1")]  # its public certificate only


@pytest.mark.parametrize(
    ("alteracion", "mensaje"),
    [
        ("clave", "la clave pública de la elección que anuncia el servidor no es la que resulta"),
        ("parametros", r"los parámetros publicados \(certs\) no son los que este custodio vio"),
        ("huella_sin_parametros", "los parámetros publicados de los custodios no verifican"),
    ],
)
async def test_parametros_finales_no_derivados_se_rechazan(
    tmp_path: Path, alteracion: str, mensaje: str
) -> None:
    mundo = Mundo(UUID, {1})
    ajeno = Mundo(UUID, set())  # a complete, valid ceremony of the server's own
    final_ajeno = ajeno.estado()

    def alterar(o: dict[str, Any]) -> dict[str, Any]:
        if alteracion == "clave":
            return o | {"clave_publica": final_ajeno["clave_publica"]}
        if alteracion == "parametros":
            return o | {k: final_ajeno[k] for k in ("parametros", "clave_publica", "huella")}
        return o | {"parametros": None}

    mundo.alterar_final = alterar
    async with servidor_falso(mundo.responder) as f:
        with pytest.raises(CeremoniaFallida, match=mensaje) as exc:
            await custodio_en(f, UUID, 1, tmp_path / "c1.json", [])
    assert "no se envió nada más" in str(exc.value)
    estado = json.loads((tmp_path / "c1.json").read_text())
    assert "huella" not in estado
    assert "clave_eleccion" not in estado
    assert f.enviados()[-1] == ("PUT", f"/v1/elecciones/{UUID}/ceremonia/1/3")


# --- (c): computo asks to decrypt something else than the tally --------------------------------------------


async def _urna_sellada(e: Electronico, token: Callable[..., dict[str, str]]) -> str:
    await e.entregar(*(inscrito(n) for n in range(1, 4)))
    uuid: str = (await e.elecciones("09"))[0]["uuid"]
    await e.abrir(uuid)
    await e.cuentas_del_buzon()
    for cuenta, opcion in zip(
        sorted(e.cuentas.values(), key=lambda c: c.usuario), ["MORENA", "PAN", "MORENA"], strict=True
    ):
        await e.primer_acceso_e_ingreso(cuenta)
        assert (await e.votar(uuid, cuenta, await e.boleta(uuid, cuenta, opcion))).status_code == 201
    e.reloj.ajustar(centro(2021, 6, 6, 18, 0))
    r = await e.client.post(f"/v1/elecciones/{uuid}/cierre", headers=token("ine-admin"))
    assert r.status_code == 200, r.text
    return uuid


def _computo_falso(e: Electronico, uuid: str, datos: bytes, que: str) -> tuple[Responder, list[bytes]]:
    """A computo that serves ``que`` to decrypt (and electronico's archivo.bel, proxied or tampered)."""
    archivo = ar.leer(datos)
    texto_eleccion = archivo.eventos[0].datos[0]
    tally = archivo.de_tipo("EncryptedTally")[0].datos[0].decode()
    boleta = json.loads(archivo.de_tipo("Ballot")[0].datos[0])
    una = cjson([[{"alpha": c["alpha"], "beta": c["beta"]} for c in a["choices"]] for a in boleta["answers"]])
    recibidos: list[bytes] = []

    async def responder(request: Request, cuerpo: bytes) -> Response:
        ruta = request.url.path
        if ruta.endswith("/archivo.bel"):
            if que == "archivo_alterado":  # a record whose tally is that one ballot
                return Response(datos.replace(tally.encode(), una.encode()))
            return Response((await e.client.get(ruta)).content)
        if request.method == "PUT":
            recibidos.append(cuerpo)
            return JSONResponse({"votos": None, "recibidos": [1], "mensaje": "faltan 2"})
        return JSONResponse(
            {
                "eleccion": uuid,
                "boletas": 1 if que == "una_boleta" else 3,
                "eleccion_json": texto_eleccion.decode(),
                "recuento": una if que in ("una_boleta", "archivo_alterado") else tally,
                "custodios": 5,
                "necesarios": 3,
                "recibidos": [],
                "votos": None,
            }
        )

    return responder, recibidos


@pytest.mark.slow
async def test_descifrar_solo_el_recuento_del_archivo_publico(
    electronico: Electronico, token: Callable[..., dict[str, str]]
) -> None:
    e = electronico
    uuid = await _urna_sellada(e, token)
    datos = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    estado = e.estados / f"custodio-{uuid}-1.json"

    for que, mensaje in (
        ("una_boleta", "se niega a descifrarlo"),
        ("archivo_alterado", "el archivo público de la elección no verifica"),
    ):
        responder, recibidos = _computo_falso(e, uuid, datos, que)
        async with servidor_falso(responder) as f, httpx.AsyncClient(base_url=f.url) as c:
            with pytest.raises(CeremoniaFallida, match=mensaje) as exc:
                await descifrar(c, uuid, 1, estado, frase=FRASE, electronico=f.url, avisar=lambda _m: None)
        assert "No se descifró ni se envió nada" in str(exc.value)
        assert f.enviados() == []
        assert recibidos == []

    # The honest request, against the same harness: decrypted, sent, and its proofs (Belenios' and the strong
    # ones) verify.
    responder, recibidos = _computo_falso(e, uuid, datos, "recuento")
    async with servidor_falso(responder) as f, httpx.AsyncClient(base_url=f.url) as c:
        r = await descifrar(c, uuid, 1, estado, frase=FRASE, electronico=f.url, avisar=lambda _m: None)
    assert r["recibidos"] == [1]
    assert f.enviados() == [("PUT", f"/v1/escrutinio-electronico/{uuid}/descifrados/1")]
    archivo = ar.leer(datos)
    eleccion = Eleccion.leer(archivo.eventos[0].datos[0])
    custodios = Custodios.leer(json.loads(archivo.eventos[0].datos[1]))
    recuento = es.leer_recuento(
        archivo.de_tipo("EncryptedTally")[0].datos[0], [q.opciones for q in eleccion.preguntas]
    )
    texto, fuertes = es.leer_entrega(recibidos[0])
    publica = custodios.duenos()[1][2]
    factores = es.verificar_descifrado(eleccion.huella, publica, recuento, texto)
    es.verificar_pruebas_fuertes(eleccion.huella, publica, recuento, factores, fuertes)


@pytest.mark.slow
async def test_cli_descifrar_se_niega_con_codigo_1(
    electronico: Electronico, token: Callable[..., dict[str, str]]
) -> None:
    """``vmre custodio descifrar``, as a custodian runs it, served one ballot: exit code 1, nothing sent."""
    e = electronico
    uuid = await _urna_sellada(e, token)
    datos = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    responder, recibidos = _computo_falso(e, uuid, datos, "una_boleta")
    jwt = token("custodio", sub="custodio-1")["Authorization"].split()[1]
    async with servidor_falso(responder) as f:
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("vmre")),
            "custodio",
            "descifrar",
            "--servidor",
            f.url,
            "--electronico",
            f.url,
            "--eleccion",
            uuid,
            "--indice",
            "1",
            "--estado",
            str(e.estados / f"custodio-{uuid}-1.json"),
            "--token",
            jwt,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "VMRE_CUSTODIO_FRASE": FRASE},
        )
        salida, errores = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 1, (salida, errores)
    assert "se niega a descifrarlo" in errores.decode()
    assert f.enviados() == []
    assert recibidos == []
    assert ("GET", f"/v1/elecciones/{uuid}/archivo.bel") in f.pedidos
