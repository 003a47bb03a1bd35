from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pyotp
import pytest
from nacl.signing import VerifyKey
from sqlalchemy import select

from services.credenciales.config import Settings as AjustesAutoridad
from services.electronico import domain, service
from services.electronico.config import Settings
from services.electronico.models import Boleta, Credencial, Eleccion, Notificacion, Votante
from services.electronico.service import sello
from shared import firma
from shared.cripto import grupo as gr
from shared.cripto.archivo import leer
from shared.cripto.pruebas import cjson
from shared.cripto.verificador import verificar_archivo
from shared.notificaciones import Notificador
from tests.support.comun import Buzon
from tests.support.electronico import (
    PASSWORD,
    Cuenta,
    Electronico,
    ajustes_de_produccion,
    autoridad_de_prueba,
    centro,
    inscrito,
    voto_postal,
)
from tests.support.registro import PEL2021


def test_boleta_con_cada_forma_valida_de_votar() -> None:
    cdmx = domain.opciones(PEL2021.entidades["09"])
    assert cdmx[:11] == PEL2021.entidades["09"].partidos
    assert cdmx[11:] == [
        "PAN+PRI",
        "PAN+PRD",
        "PRI+PRD",
        "PAN+PRI+PRD",
        "PT+MORENA",
        "no_registrados",
        "nulos",
    ]
    nayarit = domain.opciones(PEL2021.entidades["18"])
    assert {"PT+PVEM", "PT+MORENA", "PVEM+MORENA", "PT+PVEM+MORENA"} <= set(nayarit)
    assert domain.opciones(PEL2021.entidades["22"])[-2:] == ["no_registrados", "nulos"]  # no coalitions
    q = domain.pregunta(PEL2021.entidades["09"], PEL2021.entidades["09"].cargos[0], PEL2021)
    assert (q.minimo, q.maximo, q.blanco, len(q.respuestas)) == (1, 1, False, len(cdmx))


def test_configuracion_rechaza_umbral_y_clave_de_desarrollo() -> None:
    with pytest.raises(ValueError, match="umbral 4 mayor"):
        Settings(umbral=4, custodios=3)
    produccion = ajustes_de_produccion()  # real gateways too
    with pytest.raises(ValueError, match="clave de firma de desarrollo"):
        Settings(**{k: v for k, v in produccion.items() if k != "clave_firma"})  # only the seed is missing
    # The credential authority's verification key: its own, set from its GET /v1/clave-firma.
    for clave in (None, firma.clave_verificacion("ab" * 32)):  # the development one; electronico's own
        extra: dict[str, Any] = {"clave_autoridad_credenciales": clave} if clave else {}
        with pytest.raises(ValueError, match="VMRE_ELECTRONICO_CLAVE_AUTORIDAD_CREDENCIALES"):
            Settings(**produccion, **extra)
    with pytest.raises(ValueError, match="64 dígitos hexadecimales"):
        Settings(**produccion, clave_autoridad_credenciales="no-es-hex")
    autoridad = firma.clave_verificacion("cd" * 32)
    assert (
        Settings(**produccion, clave_autoridad_credenciales=autoridad).clave_autoridad_credenciales
        == autoridad
    )
    with pytest.raises(ValueError, match="VMRE_CREDENCIALES_CLAVE_FIRMA"):
        AjustesAutoridad(**{**produccion, "clave_firma": firma.SEMILLA_DE_DESARROLLO_AUTORIDAD})


def _cuenta(e: Electronico, entidad: str, i: int = 0) -> Cuenta:
    return sorted((c for u, c in e.cuentas.items() if u.startswith(f"V{entidad}")), key=lambda c: c.usuario)[
        i
    ]


async def test_votar_acuse_tablon_sello_y_archivo_verificable(
    abierta: tuple[Electronico, str], belenios: object, tmp_path: object, buzon: Buzon
) -> None:
    e, uuid = abierta
    # The opening act: signed, with the election key and an empty box.
    acta = (await e.client.get(f"/v1/elecciones/{uuid}/acta-apertura")).json()
    clave = (await e.client.get("/v1/clave-firma")).json()["clave_verificacion"]
    assert acta["clave_verificacion"] == clave
    VerifyKey(bytes.fromhex(clave)).verify(cjson(acta["acta"]).encode(), bytes.fromhex(acta["firma"]))
    assert acta["acta"]["urna"]["boletas"] == 0
    assert acta["acta"]["credenciales"] == 4
    assert acta["acta"]["custodios"] == {"umbral": 3, "total": 5}
    vacio = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content

    # The voting server never had a private credential: the credential authority drew them, keeps only
    # their public halves too, and mails them itself. electronico mails only the access keys. Each stored
    # text is erased once the mail server accepted it.
    async with e.app.state.runtime.maker() as s:
        publicas = set((await s.execute(select(Credencial.publica))).scalars())
    privadas = [c for cu in e.cuentas.values() for c in cu.credenciales.values()]
    assert len(privadas) == 5
    assert not any(p in str(publicas) for p in privadas)
    assert acta["acta"]["lista_credenciales"]["acta"]["credenciales"] == 4
    for app in (e.app, e.autoridad):
        async with app.state.runtime.maker() as s:
            tablas = list(app.state.runtime.spec.outbox.metadata.sorted_tables)
            for t in tablas:  # no private credential anywhere in electronico's database (nor the authority's)
                filas = (await s.execute(select(t))).all()
                if app is e.app or t.name != "notificaciones":
                    assert not any(p in str(filas) for p in privadas), t.name
    assert await e.count(Notificacion, Notificacion.plantilla == "acceso_voto") == len(e.cuentas) == 5
    for app in (e.app, e.autoridad):
        modelo = app.state.runtime.spec.avisos[0]
        notificador = Notificador(app.state.runtime.maker, modelo, app.state.settings)
        assert await notificador.enviar_pendientes() == 5
    correos = buzon.mensajes()
    assert sorted(c["para"] for c in correos) == sorted(
        2 * ([[f"v09{n}@example.com"] for n in range(1, 5)] + [["v161@example.com"]])
    )
    asuntos = {"Su cuenta para votar por internet", "Su credencial para votar por internet"}
    assert {c["asunto"] for c in correos} == asuntos
    textos = [c["texto"].replace("\r\n", "\n") for c in correos]  # SMTP carries CRLF
    for cuenta in e.cuentas.values():
        (texto,) = [t for t in textos if f"Usuario: {cuenta.usuario}\n" in t]
        assert f"Clave de acceso: {cuenta.clave_acceso}\n" in texto
        assert not any(p in texto for p in privadas)
        (de_la_autoridad,) = [t for t in textos if all(f": {p}\n" in t for p in cuenta.credenciales.values())]
        assert "autoridad de credenciales" in de_la_autoridad
        assert "Usuario" not in de_la_autoridad
    for app in (e.app, e.autoridad):
        modelo = app.state.runtime.spec.avisos[0]
        async with app.state.runtime.maker() as s:
            guardados = (await s.execute(select(modelo.estado, modelo.mensaje))).all()
        assert [tuple(g) for g in guardados] == [("enviada", None)] * 5

    a = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 0))
    texto = await e.boleta(uuid, a, "MORENA")
    r = await e.votar(uuid, a, texto, idempotency_key="clave-1")
    assert r.status_code == 201, r.text
    rastreador = r.json()["rastreador"]
    assert rastreador == gr.sha256_b64(texto)
    # The same request again (a retry): the first receipt, nothing new.
    again = await e.votar(uuid, a, texto, idempotency_key="clave-1")
    assert again.status_code == 200
    assert again.json()["rastreador"] == rastreador
    # A second ballot: refused, with the receipt of the first.
    otra = await e.votar(uuid, a, await e.boleta(uuid, a, "PAN"), idempotency_key="clave-2")
    assert otra.status_code == 409
    assert otra.json()["rastreador"] == rastreador
    assert await e.count(Boleta) == 1

    tablon = (await e.client.get(f"/v1/elecciones/{uuid}/tablon", params={"rastreador": rastreador})).json()
    assert tablon["boletas"][0]["rastreador"] == rastreador
    mios = (await e.client.get("/v1/votante", headers=a.headers)).json()
    assert [x["rastreador"] for x in mios["elecciones"]] == [rastreador]
    participacion = (await e.client.get("/v1/participacion")).json()
    assert participacion == [
        {
            "eleccion": uuid,
            "entidad": "09",
            "simulacro": False,
            "hora": "2021-05-25T10:00:00-05:00",
            "votos": 1,
        }
    ]

    # The ballot passes belenios-tool's single-ballot check against the record as it was opened.
    d = tmp_path / "verify-ballot"  # type: ignore[operator]
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(vacio)
    (d / "boleta.json").write_text(texto)
    belenios("election", "verify-ballot", "--dir", str(d), "--ballot", str(d / "boleta.json"), cwd=d)  # type: ignore[operator]

    # Seal: not before 18:00 Centro on 6 June; after, the box takes nothing more.
    b = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 1))
    admin = e.token("ine-admin")
    assert (await e.client.post(f"/v1/elecciones/{uuid}/cierre", headers=admin)).status_code == 409
    e.reloj.ajustar(centro(2021, 6, 6, 18, 0))
    tarde = await e.votar(uuid, await e.ingresar(b), await e.boleta(uuid, b, "PAN"))
    assert tarde.status_code == 403
    assert "Fuera del periodo" in tarde.json()["detail"]
    sello = await e.client.post(f"/v1/elecciones/{uuid}/cierre", headers=admin)
    assert sello.status_code == 200, sello.text
    datos = (await e.client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
    archivo = leer(datos)
    # Sealed: EndBallots (its hash is the seal), then the encrypted tally the custodians will decrypt.
    assert [ev.tipo for ev in archivo.eventos[-2:]] == ["EndBallots", "EncryptedTally"]
    assert archivo.de_tipo("EndBallots")[0].hash == sello.json()["sello"]
    informe = verificar_archivo(datos, un_voto=True)
    assert informe.boletas == 1
    d2 = tmp_path / "verify"  # type: ignore[operator]
    d2.mkdir()
    (d2 / f"{uuid}.bel").write_bytes(datos)
    salida = belenios("election", "verify", "--dir", str(d2), cwd=d2)  # type: ignore[operator]
    assert "all checks passed" in salida.stderr


async def test_rechazos_sin_cambiar_nada(abierta: tuple[Electronico, str]) -> None:
    e, uuid = abierta
    a = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 0))
    b = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 1))
    de_michoacan = await e.primer_acceso_e_ingreso(_cuenta(e, "16"))
    texto_a = await e.boleta(uuid, a, "PAN+PRI")

    # Outside the window (before 22 May 20:00 Centro).
    e.reloj.ajustar(centro(2021, 5, 22, 19, 59))
    r = await e.votar(uuid, a, texto_a)
    assert r.status_code == 403
    assert "22/05/2021 20:00" in r.json()["detail"]
    e.reloj.ajustar(centro(2021, 5, 22, 20, 0))

    # Not on this entidad's internet list.
    r = await e.votar(uuid, de_michoacan, texto_a)
    assert r.status_code == 403
    assert r.json()["type"].endswith("fuera-de-lista")

    # A replayed ballot: another voter's, sent by b.
    r = await e.votar(uuid, b, texto_a)
    assert r.status_code == 422
    assert r.json()["motivo"] == "InvalidCredential"

    # A tampered proof (one digit of one response), still well-formed JSON.
    o = json.loads(texto_a)
    prueba = o["answers"][0]["individual_proofs"][3][0]
    prueba["response"] = str((int(prueba["response"]) + 1) % gr.L)
    r = await e.votar(uuid, a, cjson(o))
    assert r.status_code == 422
    assert r.json()["type"].endswith("boleta-invalida")

    # A postal voter («votó» by mail) cannot vote again by internet.
    async with e.app.state.runtime.maker() as s:
        numero_b = (await s.execute(select(Votante.numero).where(Votante.usuario == b.usuario))).scalar_one()
    assert await e.entregar(voto_postal(numero_b)) == 1
    r = await e.votar(uuid, b, await e.boleta(uuid, b, "PAN"))
    assert r.status_code == 409
    assert r.json()["type"].endswith("voto-postal")

    assert await e.count(Boleta) == 0
    assert (await e.votar(uuid, a, texto_a)).status_code == 201


async def test_cincuenta_envios_simultaneos_dejan_uno(abierta: tuple[Electronico, str]) -> None:
    e, uuid = abierta
    a = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 2))
    textos = [await e.boleta(uuid, a, domain.NULOS if i % 2 else "PT") for i in range(50)]
    respuestas = await asyncio.gather(
        *(e.votar(uuid, a, t, idempotency_key=f"k{i}") for i, t in enumerate(textos))
    )
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos == [201] + [409] * 49, codigos
    assert await e.count(Boleta) == 1


async def test_segundo_factor_bloqueo_y_sesion(abierta: tuple[Electronico, str]) -> None:
    e, _ = abierta
    a = _cuenta(e, "09", 3)
    await e.primer_acceso_e_ingreso(a)
    assert a.totp is not None
    # The access key works once.
    r = await e.client.post(
        "/v1/acceso/primer",
        json={
            "usuario": a.usuario,
            "clave_acceso": a.clave_acceso,
            "password": PASSWORD,
            "segundo_factor": "sms",
        },
    )
    assert r.status_code == 401
    bueno = a.codigo()
    malo = f"{(int(bueno) + 1) % 10**6:06d}"
    for intento in range(1, 6):
        r = await e.client.post(
            "/v1/acceso", json={"usuario": a.usuario, "password": PASSWORD, "codigo": malo}
        )
        assert r.status_code == (401 if intento < 5 else 429), (intento, r.text)
    assert int(r.headers["Retry-After"]) == 15 * 60
    # Locked: even the right code is refused until the lockout ends.
    r = await e.client.post("/v1/acceso", json={"usuario": a.usuario, "password": PASSWORD, "codigo": bueno})
    assert r.status_code == 429
    e.reloj.avanzar(dt.timedelta(minutes=16))
    await e.ingresar(a)
    # Sessions expire.
    assert (await e.client.get("/v1/votante", headers=a.headers)).status_code == 200
    e.reloj.avanzar(dt.timedelta(minutes=31))
    assert (await e.client.get("/v1/votante", headers=a.headers)).status_code == 401


async def test_ceremonia_rechaza_mensajes_invalidos(electronico: Electronico) -> None:
    e = electronico
    await e.entregar(inscrito(1))
    uuid = (await e.elecciones("09"))[0]["uuid"]
    r = await e.client.post(f"/v1/elecciones/{uuid}/apertura", headers=e.token("ine-admin"))
    assert r.status_code == 409
    assert "lista de credenciales firmada" in r.json()["detail"]
    await e.cerrar_lnere("09")  # the authority signs the list: now only the key ceremony is missing
    r = await e.client.post(f"/v1/elecciones/{uuid}/apertura", headers=e.token("ine-admin"))
    assert r.status_code == 409
    assert "ceremonia" in r.json()["detail"]
    from shared.cripto.custodios import Custodio, generar_semilla

    c1 = Custodio(generar_semilla(), 1, 3, 5)
    url = f"/v1/elecciones/{uuid}/ceremonia"
    uno = e.token("custodio", sub="custodio-1")
    # A certificate made for another position is refused, and nothing is stored.
    r = await e.client.put(f"{url}/2/1", json=c1.certificado(), headers=e.token("custodio", sub="custodio-2"))
    assert r.status_code == 422
    assert "contexto" in r.json()["detail"]
    assert (await e.client.put(f"{url}/1/1", json=c1.certificado(), headers=uno)).status_code == 200
    # One custodian, one position; a step before the previous one is complete is refused.
    c2 = Custodio(generar_semilla(), 2, 3, 5)
    assert (await e.client.put(f"{url}/2/1", json=c2.certificado(), headers=uno)).status_code == 409
    r = await e.client.put(f"{url}/1/2", json={"coefexps": {}, "signature": {}, "secrets": []}, headers=uno)
    assert r.status_code == 409
    assert "faltan mensajes del paso 1" in r.json()["detail"]
    # Only custodians speak in the ceremony.
    assert (await e.client.put(f"{url}/3/1", json={}, headers=e.token("ine-admin"))).status_code == 403
    estado = (await e.client.get(url)).json()
    assert estado["recibidos"]["certificado"] == [1]
    assert estado["paso"] == 1


async def test_simulacro_aparte_de_la_eleccion_real(abierta: tuple[Electronico, str]) -> None:
    e, real = abierta
    r = await e.client.post(
        "/v1/simulacros",
        json={"entidad": "09", "inicio": "2021-05-01T00:00:00Z", "fin": "2021-05-30T00:00:00Z"},
        headers=e.token("ine-admin"),
    )
    assert r.status_code == 201, r.text
    sim = r.json()[0]
    assert sim["simulacro"]
    assert sim["nombre"].startswith("SIMULACRO")
    assert sim["uuid"] != real
    await e.abrir(sim["uuid"])
    e.cuentas.clear()
    await e.cuentas_del_buzon()
    a = _cuenta(e, "09", 0)
    # The drill credential comes from the credential authority, in a message of its own (no account data).
    modelo = e.autoridad.state.runtime.spec.avisos[0]
    async with e.autoridad.state.runtime.maker() as s:
        mensajes = (await s.execute(select(modelo.mensaje).where(modelo.canal == "email"))).scalars()
        drill = [m for m in mensajes if f": {a.credenciales[sim['nombre']]}" in m]
    assert len(drill) == 1
    assert "Usuario" not in drill[0]
    assert "SIMULACRO" in drill[0]
    # Voting in the drill does not count as voting in the real election.
    a = await e.primer_acceso_e_ingreso(a)
    assert sim["nombre"] in a.credenciales
    assert (await e.votar(sim["uuid"], a, await e.boleta(sim["uuid"], a, "PAN"))).status_code == 201
    assert (await e.votar(real, a, await e.boleta(real, a, "PAN"))).status_code == 201
    participacion = (await e.client.get("/v1/participacion")).json()
    assert sorted((p["simulacro"], p["votos"]) for p in participacion) == [(False, 1), (True, 1)]


async def test_segundo_factor_por_sms(abierta: tuple[Electronico, str]) -> None:
    e, _ = abierta
    a = _cuenta(e, "16")
    r = await e.client.post(
        "/v1/acceso/primer",
        json={
            "usuario": a.usuario,
            "clave_acceso": a.clave_acceso,
            "password": PASSWORD,
            "segundo_factor": "sms",
        },
    )
    assert r.status_code == 200
    assert r.json()["telefono"].endswith("0101")
    assert "+1310" not in r.json()["telefono"]
    r = await e.client.post("/v1/acceso/codigo", json={"usuario": a.usuario, "password": PASSWORD})
    assert r.status_code == 200, r.text
    async with e.app.state.runtime.maker() as s:
        sms = (
            await s.execute(select(Notificacion).where(Notificacion.plantilla == "codigo_acceso"))
        ).scalar_one()
    assert sms.canal == "sms"
    assert sms.destino == "+13105550101"
    codigo = sms.mensaje.split("es ")[1][:6]
    r = await e.client.post("/v1/acceso", json={"usuario": a.usuario, "password": PASSWORD, "codigo": codigo})
    assert r.status_code == 200, r.text
    # A code works once.
    r = await e.client.post("/v1/acceso", json={"usuario": a.usuario, "password": PASSWORD, "codigo": codigo})
    assert r.status_code == 401


def test_limite_por_conexion_responde_429_con_retry_after() -> None:
    from services.electronico.acceso import LimiteDeSolicitudes
    from shared.problems import Problem

    limite = LimiteDeSolicitudes(por_minuto=3)
    for _ in range(3):
        limite.revisar("203.0.113.7")
    with pytest.raises(Problem) as exc:
        limite.revisar("203.0.113.7")
    assert exc.value.status == 429
    assert 1 <= int((exc.value.headers or {})["Retry-After"]) <= 61
    limite.revisar("198.51.100.1")  # another client is not affected


@pytest.mark.slow
async def test_la_urna_se_sella_sola_a_la_hora_del_cierre(
    databases: object, offline_kafka: object, tmp_path: object, token: object, buzon: Buzon
) -> None:
    from services.electronico.main import create_app
    from shared.reloj import RelojManual
    from tests.support.comun import serve
    from tests.support.electronico import EN_PERIODO

    url = await databases.new("electronico")  # type: ignore[attr-defined]
    reloj = RelojManual(EN_PERIODO)
    settings = Settings(
        database_url=url,
        kafka=offline_kafka,
        relay_enabled=False,
        consumers_enabled=True,  # starts the background loops (the consumer just retries: no broker)
        sello_intervalo=0.1,
        **buzon.ajustes(),
    )
    app = create_app(settings, reloj=reloj, proceso=PEL2021)
    autoridad = await autoridad_de_prueba(databases, offline_kafka, buzon, reloj)  # type: ignore[arg-type]
    async with serve(app) as client, serve(autoridad):
        e = Electronico(app, client, reloj, PEL2021, token, tmp_path, autoridad)  # type: ignore[arg-type]
        for _ in range(100):  # the loop first creates every entidad's elections
            if len(await e.elecciones("09")) == 1:
                break
            await asyncio.sleep(0.05)
        await e.entregar(inscrito(1))
        uuid = (await e.elecciones("09"))[0]["uuid"]
        await e.abrir(uuid)
        await asyncio.sleep(0.3)
        assert (await e.elecciones("09"))[0]["estado"] == "abierta"
        reloj.ajustar(centro(2021, 6, 6, 18, 0))
        for _ in range(100):
            if (await e.elecciones("09"))[0]["estado"] == "sellada":
                break
            await asyncio.sleep(0.05)
        eleccion = (await e.elecciones("09"))[0]
        assert eleccion["estado"] == "sellada"
        assert eleccion["sello"]
        datos = (await client.get(f"/v1/elecciones/{uuid}/archivo.bel")).content
        assert leer(datos).de_tipo("EndBallots")[0].hash == eleccion["sello"]


async def test_verificadores_en_procesos_aparte(
    abierta: tuple[Electronico, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``VMRE_ELECTRONICO_VERIFICADORES=N``: proofs checked in a process pool, with the same answers."""
    e, uuid = abierta
    e.app.state.verificadores = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    try:
        a = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 0))
        b = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 1))
        texto_a = await e.boleta(uuid, a, "MORENA")
        r = await e.votar(uuid, b, texto_a)
        assert r.status_code == 422
        assert r.json()["motivo"] == "InvalidCredential"
        o = json.loads(texto_a)
        o["answers"][0]["individual_proofs"][0][0]["challenge"] = "1"
        r = await e.votar(uuid, a, cjson(o))
        assert r.status_code == 422
        assert r.json()["type"].endswith("boleta-invalida")
        assert await e.count(Boleta) == 0
        r = await e.votar(uuid, a, texto_a)
        assert r.status_code == 201
        assert r.json()["rastreador"] == gr.sha256_b64(texto_a)
        assert await e.count(Boleta) == 1
        c = await e.primer_acceso_e_ingreso(_cuenta(e, "09", 2))
        assert (await e.votar(uuid, c, await e.boleta(uuid, c, "PAN+PRI"))).status_code == 201

        # The seal's tally in slices across the pool: the same EncryptedTally as in one thread.
        monkeypatch.setattr(sello, "RECUENTO_EN_PARALELO", 1)
        e.reloj.ajustar(centro(2021, 6, 6, 18, 0))
        r = await e.client.post(f"/v1/elecciones/{uuid}/cierre", headers=e.token("ine-admin"))
        assert r.status_code == 200, r.text
        async with e.app.state.runtime.maker() as s:
            eleccion = await s.get(Eleccion, uuid)
            textos = list((await s.execute(select(Boleta.texto).order_by(Boleta.id))).scalars())
        assert eleccion is not None
        assert len(textos) == 2
        en_un_hilo = sello._recuento(service.eleccion_belenios(eleccion.eleccion_json or ""), textos)
        assert (eleccion.recuento, eleccion.recuento_dimensionado) == en_un_hilo
    finally:
        e.app.state.verificadores.shutdown()


async def test_primer_acceso_sin_qr_para_quien_escribe_la_clave(abierta: tuple[Electronico, str]) -> None:
    e, _ = abierta
    cuenta = _cuenta(e, "09", 3)
    datos = {"usuario": cuenta.usuario, "clave_acceso": cuenta.clave_acceso, "password": PASSWORD}
    r = await e.client.post("/v1/acceso/primer", json={**datos, "segundo_factor": "totp", "qr": False})
    assert r.status_code == 200, r.text
    assert r.json()["qr_svg"] is None
    assert r.json()["totp_uri"].startswith("otpauth://totp/")
    otra = _cuenta(e, "09", 2)
    datos = {"usuario": otra.usuario, "clave_acceso": otra.clave_acceso, "password": PASSWORD}
    r = await e.client.post("/v1/acceso/primer", json={**datos, "segundo_factor": "totp"})
    assert r.json()["qr_svg"].startswith("<svg")


async def test_primer_acceso_repetido_antes_del_primer_ingreso(abierta: tuple[Electronico, str]) -> None:
    """The answer to a first access can be lost (a connection cut, the service restarting): the same request
    again gets the same enrolment, never a second one; a different password or factor is refused; after the
    first login the access key is gone."""
    e, _ = abierta
    cuenta = _cuenta(e, "09", 1)
    datos = {"usuario": cuenta.usuario, "clave_acceso": cuenta.clave_acceso, "password": PASSWORD}
    primero = await e.client.post("/v1/acceso/primer", json={**datos, "segundo_factor": "totp", "qr": False})
    assert primero.status_code == 200, primero.text
    otra_vez = await e.client.post("/v1/acceso/primer", json={**datos, "segundo_factor": "totp", "qr": False})
    assert otra_vez.status_code == 200
    assert otra_vez.json()["totp_uri"] == primero.json()["totp_uri"]
    for cambio in ({"password": PASSWORD + " otra"}, {"segundo_factor": "sms"}):
        r = await e.client.post("/v1/acceso/primer", json={**datos, "segundo_factor": "totp", **cambio})
        assert r.status_code == 401, (cambio, r.text)
    cuenta.totp = pyotp.parse_uri(primero.json()["totp_uri"])  # type: ignore[assignment]
    await e.ingresar(cuenta)
    r = await e.client.post("/v1/acceso/primer", json={**datos, "segundo_factor": "totp"})
    assert r.status_code == 401
