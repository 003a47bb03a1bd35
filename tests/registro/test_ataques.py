"""Issue 21, replayed over HTTP: what an attacker could do with somebody else's clave de elector or folio, and
what a party representative could see. Each attack now fails and the victim's data stays as it was; the
messages the platform stages for the applicant (registro's ``notificaciones``, read decrypted) carry the
folio and the codes, and only to the contact already on file."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from services.registro.models import (
    Bitacora,
    CambioPendiente,
    Documento,
    DocumentoPendiente,
    Historial,
    Notificacion,
    Outbox,
    Solicitud,
)
from shared import auditoria
from shared.autorizacion import Quien, matriz
from shared.events import registro as eventos
from tests.factories import solicitud
from tests.registro.test_revision import JPEG, PDF, nueva
from tests.support.registro import Registro, centro
from tests.test_autorizacion import rutas_de

Token = Callable[..., dict[str, str]]

VICTIMA = "persona1@example.com"
TELEFONO_VICTIMA = solicitud(1)["telefono"]
INTRUSO = "intruso@example.org"
ROBO = {  # what the attacker wants: the ballot package at their address, the messages in their mailbox
    "modalidad": "postal",
    "domicilio": {"calle_numero": "13 Elm St", "ciudad": "Tijuana Norte", "codigo_postal": "92173"},
    "email": INTRUSO,
}


def sin_folio(texto: str, *folios: str) -> None:
    for folio in folios:
        assert folio not in texto, f"el folio {folio} aparece en: {texto[:300]}"


async def datos_de(registro: Registro, folio: str) -> tuple[Any, ...]:
    s = await registro.solicitud(folio)
    return (s.modalidad, s.email, s.telefono, s.calle_numero, s.ciudad, s.estado, s.version)


async def pedir_robo(registro: Registro, folio: str) -> Any:
    r = await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json=ROBO)
    assert r.status_code == 202, r.text
    return r


async def confirmar_con(registro: Registro, folio: str, confirmacion: str, codigo: str) -> Any:
    return await registro.client.post(
        f"/v1/solicitudes/{folio}/confirmacion", json={"confirmacion": confirmacion, "codigo": codigo}
    )


def otro_codigo(codigo: str, n: int = 1) -> str:
    return f"{(int(codigo) + n) % 1_000_000:06d}"


# --- (1) somebody else's clave de elector --------------------------------------------------------------


async def test_clave_ajena_no_da_el_folio_y_el_reenvio_no_es_spam(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    antes = await datos_de(registro, folio)
    ataque = solicitud(1, email=INTRUSO, telefono="+15550000001", modalidad="postal")
    r = await registro.client.post("/v1/solicitudes", json=ataque)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    sin_folio(r.text, folio)
    cuerpo = r.json()
    assert "estado" not in cuerpo
    assert "recibida" not in cuerpo["detail"]
    assert (cuerpo["contacto"], cuerpo["reenviado"]) == (["p***@example.com"], True)
    # The folio went to the victim's own contact, as a secret message; nothing to the attacker.
    [reenvio] = await registro.avisos("folio_reenviado")
    assert (reenvio.destino, reenvio.canal, reenvio.secreto) == (VICTIMA, "email", True)
    assert folio in str(reenvio.mensaje)
    assert not await registro.avisos(destino=INTRUSO)
    assert not await registro.avisos(destino="+15550000001")

    # A burst of duplicates: no more messages for 15 minutes, and the answer says so.
    for _ in range(5):
        r = await registro.client.post("/v1/solicitudes", json=ataque)
        assert r.status_code == 409
        assert r.json()["reenviado"] is False
        assert "15 minutos" in r.json()["detail"]
        sin_folio(r.text, folio)
    assert len(await registro.avisos("folio_reenviado")) == 1
    registro.reloj.avanzar(dt.timedelta(minutes=15))
    r = await registro.client.post("/v1/solicitudes", json=ataque)
    assert r.json()["reenviado"] is True
    assert len(await registro.avisos("folio_reenviado", VICTIMA)) == 2
    assert await datos_de(registro, folio) == antes
    assert await registro.count(Solicitud) == 1
    reenvios = await registro.rows(Historial, Historial.accion == "folio_reenviado")
    assert [(a.actor, a.detalle) for a in reenvios] == [("ciudadania", {"canal": "email"})] * 2


async def test_sin_correo_el_folio_va_por_sms(registro: Registro) -> None:
    folio = await nueva(registro, 2, modalidad="postal", email=None)
    telefono = solicitud(2)["telefono"]
    [recibo] = await registro.avisos("solicitud_recibida")
    assert (recibo.canal, recibo.destino, recibo.secreto) == ("sms", telefono, True)
    r = await registro.client.post("/v1/solicitudes", json=solicitud(2, modalidad="postal", email=None))
    assert r.status_code == 409
    assert r.json()["contacto"] == ["+1******0002"]
    [reenvio] = await registro.avisos("folio_reenviado")
    assert (reenvio.canal, reenvio.destino) == ("sms", telefono)
    assert folio in str(reenvio.mensaje)


async def test_toda_solicitud_necesita_un_contacto(registro: Registro) -> None:
    r = await registro.client.post(
        "/v1/solicitudes", json=solicitud(3, modalidad="postal", email=None, telefono=None)
    )
    assert r.status_code == 422
    errores = {e["campo"]: e["mensaje"] for e in r.json()["errors"]}
    assert set(errores) == {"email", "telefono"}
    assert "folio" in errores["email"]
    assert await registro.count(Solicitud) == 0
    # One of the two is enough.
    assert (
        await registro.client.post("/v1/solicitudes", json=solicitud(3, modalidad="postal", email=None))
    ).status_code == 201


async def test_recibo_con_folio_al_contacto_preferido(registro: Registro) -> None:
    folio = await nueva(registro, 4)
    [recibo] = await registro.rows(Notificacion)
    s = await registro.solicitud(folio)
    assert (recibo.plantilla, recibo.canal, recibo.destino, recibo.secreto) == (
        "solicitud_recibida",
        "email",  # "preferido": the e-mail when there is one, not also the SMS
        "persona4@example.com",
        True,
    )
    assert folio in str(recibo.mensaje)
    assert recibo.referencia == s.referencia != folio
    assert recibo.asunto
    assert recibo.estado == "pendiente"


# --- (2) the party review ------------------------------------------------------------------------------

LECTORES = {
    Quien.PARTIDO: ("partido", None, "PAN"),
    Quien.AUDITOR: ("auditor", None, None),
    Quien.OPL_PROPIA: ("opl", "09", None),
    Quien.OPL_OTRA: ("opl", "14", None),
}


async def test_partidos_auditoria_y_opl_nunca_ven_un_folio(
    registro: Registro, token: Token, caplog: pytest.LogCaptureFixture
) -> None:
    """Every route the authorization matrix grants partido, auditor or opl, with data present (applications
    in every state, observations, a closed list, the sealed audit log): no folio in any answer."""
    caplog.set_level(logging.INFO)
    op, admin = token("ine-operador"), token("ine-admin")
    folios = [await nueva(registro, n, entidad="09" if n < 7 else "14") for n in range(1, 9)]
    for folio in folios[:5]:  # procedentes
        r = await registro.client.post(
            f"/v1/solicitudes/{folio}/dictamen", json={"resultado": "procedente", "motivos": []}, headers=op
        )
        assert r.status_code == 200
    await registro.client.post(
        f"/v1/solicitudes/{folios[5]}/dictamen",
        json={"resultado": "improcedente", "motivos": ["firma"]},
        headers=op,
    )
    await registro.client.post(
        f"/v1/solicitudes/{folios[7]}/aclaracion", json={"motivos": ["requisitos"]}, headers=op
    )
    await pedir_robo(registro, folios[6])  # a pending change
    await registro.client.post("/v1/solicitudes", json=solicitud(1))  # a duplicate: a re-sent folio
    registro.reloj.ajustar(centro(2021, 2, 20, 10, 0))
    pan = token("partido", partido="PAN", sub="rep-pan")
    [persona, *_] = (await registro.client.get("/v1/lnere/09", headers=pan)).json()["personas"]
    r = await registro.client.post(
        "/v1/lnere/09/observaciones",
        json={"referencia": persona["referencia"], "descripcion": "Posible duplicado."},
        headers=pan,
    )
    assert r.status_code == 201, r.text
    observacion = r.json()["id"]
    r = await registro.client.post(
        f"/v1/observaciones/{observacion}/resolucion",
        json={"resultado": "improcedente", "respuesta": "Son dos personas."},
        headers=op,
    )
    assert r.status_code == 200
    await registro.client.post(
        "/v1/lnere/09/observaciones",
        json={"referencia": persona["referencia"], "descripcion": "Otra observación."},
        headers=pan,
    )
    registro.reloj.ajustar(registro.proceso.calendario.cierre_lnere)
    assert (await registro.client.post("/v1/lnere/09/cierre", headers=admin)).status_code == 200
    await auditoria.sellar(registro.app.state.runtime.maker, Bitacora)

    rutas = rutas_de(registro.app)
    valores = {
        "entidad": "09",
        "folio": "VMRE-99999-ZZZZZ-ZZZZZ-09ZZZ",  # who does not hold a folio can only guess one
        "observacion_id": str(observacion),
        "tipo": "credencial_frente",
        "archivo": "vmre.css",
        "sede": "los-angeles",  # 2021 had no sites: 404 for everyone
    }
    cuerpos: dict[tuple[str, str], Any] = {
        ("POST", "/v1/solicitudes"): solicitud(2),  # somebody else's clave: the 409
        ("POST", "/v1/lnere/{entidad}/observaciones"): {
            "referencia": persona["referencia"],
            "descripcion": "Fuera de plazo.",
        },
    }
    vistas = 0
    for (metodo, plantilla), regla in sorted(matriz("registro").items()):
        if (metodo, plantilla) not in rutas:  # /v1/reloj: only with the simulated clock
            continue
        for quien, (rol, entidad, partido) in LECTORES.items():
            if quien not in regla.permitidos:
                continue
            headers = token(rol, entidad=entidad, partido=partido)
            for e in ("09", "14"):
                ruta = plantilla.format(**{**valores, "entidad": e})
                params = {"limite": 1000} if plantilla == "/v1/lnere/{entidad}" else {}
                if metodo == "GET":
                    r = await registro.client.get(ruta, params=params, headers=headers)
                else:
                    cuerpo = cuerpos.get((metodo, plantilla), {})
                    if plantilla.endswith("/documentos"):
                        r = await registro.client.post(
                            ruta,
                            data={"tipo": "credencial_frente"},
                            files={"archivo": ("a.pdf", b"%PDF-1.4")},
                            headers=headers,
                        )
                    else:
                        r = await registro.client.request(metodo, ruta, json=cuerpo, headers=headers)
                assert r.status_code not in (401, 403, 500), (metodo, ruta, quien, r.text[:200])
                sin_folio(r.text + json.dumps(dict(r.headers)), *folios)
                vistas += 1
    assert vistas >= 30, vistas
    # What those routes showed is real: the list (with referencias and numbers) and the audit export.
    lista = (await registro.client.get("/v1/lnere/09", headers=pan)).json()
    assert lista["total"] == 5
    assert all(p["numero"] and p["referencia"] for p in lista["personas"])
    exportado = await registro.client.get("/v1/auditoria", headers=token("auditor"))
    assert exportado.status_code == 200
    assert exportado.text.count("\n") > 10
    assert "folio_sha256" in exportado.text
    # Nor in the logs of all of the above (routes are logged by template).
    registros = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "/v1/solicitudes/{folio}/modalidad" in registros
    sin_folio(registros, *folios)


# --- (3) rewriting the contact, the address or the modality with only the folio --------------------------


async def test_con_solo_el_folio_no_se_cambia_nada(registro: Registro, token: Token) -> None:
    folio = await nueva(registro, 1)
    antes = await datos_de(registro, folio)
    pedido = await pedir_robo(registro, folio)
    cuerpo = pedido.json()
    assert cuerpo["enviado_a"] == ["p***@example.com"]
    assert cuerpo["confirmacion"].startswith("C-")
    assert dt.datetime.fromisoformat(cuerpo["vence_at"]) == centro(2021, 1, 15, 10, 10)
    assert await datos_de(registro, folio) == antes
    assert [o.event_type for o in await registro.rows(Outbox)] == [eventos.SOLICITUD_RECIBIDA]
    # The code went to the contact on file, never to the new one.
    [mensaje] = await registro.avisos("codigo_confirmacion")
    assert (mensaje.destino, mensaje.secreto) == (VICTIMA, True)
    assert "i***@example.org" in str(mensaje.mensaje)
    assert INTRUSO not in str(mensaje.mensaje)
    assert not await registro.avisos(destino=INTRUSO)
    # The same with a correction in aclaración.
    await registro.client.post(
        f"/v1/solicitudes/{folio}/aclaracion",
        json={"motivos": ["comprobante_domicilio"]},
        headers=token("ine-operador"),
    )
    antes = await datos_de(registro, folio)
    r = await registro.client.patch(f"/v1/solicitudes/{folio}", json={"email": INTRUSO})
    assert r.status_code == 202
    assert await datos_de(registro, folio) == antes
    assert not await registro.avisos(destino=INTRUSO)


async def _subir(registro: Registro, folio: str, tipo: str, contenido: bytes) -> Any:
    return await registro.client.post(
        f"/v1/solicitudes/{folio}/documentos",
        data={"tipo": tipo},
        files={"archivo": ("archivo", contenido, "application/octet-stream")},
    )


async def _expediente(registro: Registro) -> dict[str, tuple[str, bytes]]:
    return {d.tipo: (d.sha256, d.contenido) for d in await registro.rows(Documento)}


async def test_con_solo_el_folio_no_se_cambia_un_documento(registro: Registro, token: Token) -> None:
    """The application's own documents go in while it waits for its first review; after that, or to
    replace one, whoever holds only the folio gets a 202 and the expediente stays as it was: the file waits
    for the code sent to the contact on file."""
    folio = await nueva(registro, 1)
    FALSO = PDF + b"% otro comprobante"
    assert (await _subir(registro, folio, "comprobante_domicilio", PDF)).status_code == 201
    antes = await _expediente(registro)
    # Replacing it, even before the review: held, not stored.
    r = await _subir(registro, folio, "comprobante_domicilio", FALSO)
    assert r.status_code == 202, r.text
    assert r.json()["enviado_a"] == ["p***@example.com"]
    assert await _expediente(registro) == antes
    # After a review (aclaración), even a document the application did not have: held too.
    await registro.client.post(
        f"/v1/solicitudes/{folio}/aclaracion",
        json={"motivos": ["credencial_ilegible"]},
        headers=token("ine-operador"),
    )
    r = await _subir(registro, folio, "credencial_frente", JPEG)
    assert r.status_code == 202, r.text
    assert await _expediente(registro) == antes
    # The newer request voids the older one and its file: one pending file per application.
    assert len(await registro.rows(DocumentoPendiente)) == 1
    [mensaje, *_] = await registro.avisos("codigo_confirmacion")
    assert mensaje.destino == VICTIMA
    assert "comprobante de domicilio, nuevo o reemplazado" in str(mensaje.mensaje)
    # A wrong code applies nothing; the older confirmation is void even with its own code.
    confirmacion = r.json()["confirmacion"]
    codigo = await registro.codigo(VICTIMA)
    assert (await confirmar_con(registro, folio, confirmacion, otro_codigo(codigo))).status_code == 422
    assert await _expediente(registro) == antes
    # With the code the applicant received, it joins the expediente, once; the file waits no more.
    r = await confirmar_con(registro, folio, confirmacion, codigo)
    assert r.status_code == 200, r.text
    despues = await _expediente(registro)
    assert despues["credencial_frente"][1] == JPEG
    assert despues["comprobante_domicilio"] == antes["comprobante_domicilio"]
    assert await registro.rows(DocumentoPendiente) == []
    r = await confirmar_con(registro, folio, confirmacion, codigo)
    assert (r.status_code, r.json()["type"]) == (409, "/problemas/confirmacion-usada")
    aplicados = await registro.avisos("cambio_aplicado")  # to the e-mail and the phone on file
    assert {a.destino for a in aplicados} == {VICTIMA, TELEFONO_VICTIMA}
    assert all("credencial para votar (frente), nuevo o reemplazado" in str(a.mensaje) for a in aplicados)
    historial = await registro.rows(Historial, Historial.folio == folio, order=Historial.id)
    assert [h.accion for h in historial][-2:] == ["documento", "cambio_confirmado"]


async def test_cinco_codigos_equivocados_anulan_el_cambio(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    antes = await datos_de(registro, folio)
    pedido = await pedir_robo(registro, folio)
    confirmacion, codigo = pedido.json()["confirmacion"], await registro.codigo(VICTIMA)
    for quedan in (4, 3, 2, 1):
        r = await confirmar_con(registro, folio, confirmacion, otro_codigo(codigo, quedan))
        assert r.status_code == 422
        assert r.json()["type"] == "/problemas/codigo-incorrecto"
        assert r.json()["intentos_restantes"] == quedan
        assert f"quedan {quedan}" in r.json()["detail"]
        assert r.json()["errors"][0]["campo"] == "codigo"
    r = await confirmar_con(registro, folio, confirmacion, otro_codigo(codigo, 7))
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/confirmacion-bloqueada"
    # Void: not even the right code applies it now.
    r = await confirmar_con(registro, folio, confirmacion, codigo)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/confirmacion-bloqueada"
    assert await datos_de(registro, folio) == antes
    [cambio] = await registro.rows(CambioPendiente)
    assert (cambio.intentos, cambio.usado_at) == (5, None)
    assert len(await registro.rows(Historial, Historial.accion == "codigo_incorrecto")) == 5


async def test_el_codigo_no_se_reusa_vence_y_solo_vale_el_ultimo(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    # The owner changes their phone; the code cannot be used twice.
    pedido = await registro.client.post(
        f"/v1/solicitudes/{folio}/modalidad", json={"modalidad": "electronica", "telefono": "+13105550999"}
    )
    codigo = await registro.codigo(VICTIMA)
    r = await confirmar_con(registro, folio, pedido.json()["confirmacion"], codigo)
    assert r.status_code == 200, r.text
    assert (await registro.solicitud(folio)).telefono == "+13105550999"
    r = await confirmar_con(registro, folio, pedido.json()["confirmacion"], codigo)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/confirmacion-usada"

    # Ten minutes, no more.
    pedido = await pedir_robo(registro, folio)
    registro.reloj.avanzar(dt.timedelta(minutes=10))
    r = await confirmar_con(registro, folio, pedido.json()["confirmacion"], await registro.codigo(VICTIMA))
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/confirmacion-vencida"

    # A newer request voids the older code.
    viejo = await pedir_robo(registro, folio)
    codigo_viejo = await registro.codigo(VICTIMA)
    await pedir_robo(registro, folio)
    r = await confirmar_con(registro, folio, viejo.json()["confirmacion"], codigo_viejo)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/confirmacion-anulada"
    # A confirmation of another application is not found from this one.
    otro = await nueva(registro, 2)
    r = await confirmar_con(registro, otro, viejo.json()["confirmacion"], codigo_viejo)
    assert r.status_code == 404
    assert r.json()["errors"][0]["campo"] == "confirmacion"
    assert (await registro.solicitud(folio)).modalidad == "electronica"


async def test_diez_confirmaciones_a_la_vez_aplican_una(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    pedido = await registro.client.post(
        f"/v1/solicitudes/{folio}/modalidad",
        json={
            "modalidad": "postal",
            "domicilio": {"calle_numero": "1 Rue de Rivoli", "codigo_postal": "75001"},
        },
    )
    codigo = await registro.codigo(VICTIMA)
    respuestas = await asyncio.gather(
        *(confirmar_con(registro, folio, pedido.json()["confirmacion"], codigo) for _ in range(10))
    )
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos == [200] + [409] * 9, [r.text for r in respuestas]
    assert {r.json()["type"] for r in respuestas if r.status_code == 409} == {"/problemas/confirmacion-usada"}
    s = await registro.solicitud(folio)
    assert (s.modalidad, s.calle_numero, s.version) == ("postal", "1 Rue de Rivoli", 2)
    assert await registro.count(Outbox, Outbox.event_type == eventos.SOLICITUD_MODALIDAD_CAMBIADA) == 1
    assert len(await registro.avisos("cambio_aplicado")) == 2  # once, to the e-mail and the phone on file
    assert await registro.count(Historial, Historial.accion == "cambio_confirmado") == 1


async def test_veinte_codigos_equivocados_a_la_vez_cuentan_cinco(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    antes = await datos_de(registro, folio)
    pedido = await pedir_robo(registro, folio)
    confirmacion, codigo = pedido.json()["confirmacion"], await registro.codigo(VICTIMA)
    respuestas = await asyncio.gather(
        *(confirmar_con(registro, folio, confirmacion, otro_codigo(codigo, n)) for n in range(1, 21))
    )
    codigos = sorted(r.status_code for r in respuestas)
    assert codigos == [409] * 16 + [422] * 4, codigos
    restantes = sorted(r.json()["intentos_restantes"] for r in respuestas if r.status_code == 422)
    assert restantes == [1, 2, 3, 4]
    [cambio] = await registro.rows(CambioPendiente)
    assert cambio.intentos == 5
    assert await registro.count(Historial, Historial.accion == "codigo_incorrecto") == 5
    r = await confirmar_con(registro, folio, confirmacion, codigo)
    assert r.status_code == 409
    assert await datos_de(registro, folio) == antes


async def test_cambio_confirmado_despues_del_cierre_se_rechaza(registro: Registro, token: Token) -> None:
    folio = await nueva(registro, 1)  # stays recibida: never inscribed
    antes = await datos_de(registro, folio)
    cal = registro.proceso.calendario
    registro.reloj.ajustar(cal.cierre_lnere - dt.timedelta(minutes=5))
    pedido = await pedir_robo(registro, folio)
    registro.reloj.ajustar(cal.cierre_lnere)
    assert (await registro.client.post("/v1/lnere/09/cierre", headers=token("ine-admin"))).status_code == 200
    r = await registro.confirmar(folio, pedido, VICTIMA)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/lnere-cerrada"
    assert await datos_de(registro, folio) == antes
    [cambio] = await registro.rows(CambioPendiente)
    assert cambio.usado_at is None  # refused: the use rolled back
    # And asked after the close: refused as before.
    r = await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json=ROBO)
    assert r.status_code == 409
    assert len(await registro.avisos("codigo_confirmacion")) == 1


async def test_el_contacto_anterior_recibe_el_aviso_del_cambio(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    pedido = await registro.client.post(
        f"/v1/solicitudes/{folio}/modalidad",
        json={
            "modalidad": "postal",
            "email": "nuevo.correo@example.net",
            "telefono": "+13105550999",
            "domicilio": {
                "calle_numero": "742 Evergreen Ter",
                "ciudad": "Springfield",
                "codigo_postal": "97477",
            },
        },
    )
    r = await registro.confirmar(folio, pedido, VICTIMA)
    assert r.status_code == 200
    assert r.json()["modalidad"] == "postal"
    s = await registro.solicitud(folio)
    assert (s.email, s.telefono, s.calle_numero) == (
        "nuevo.correo@example.net",
        "+13105550999",
        "742 Evergreen Ter",
    )
    avisos = await registro.avisos("cambio_aplicado")
    assert {(a.canal, a.destino) for a in avisos} == {("email", VICTIMA), ("sms", TELEFONO_VICTIMA)}
    texto = str(avisos[0].mensaje)
    for linea in ("correo postal", "n***@example.net", "+1******0999", "S***"):
        assert linea in texto, texto
    for completo in ("nuevo.correo@example.net", "+13105550999", "742 Evergreen", "Springfield", folio):
        assert completo not in texto
    assert not avisos[0].secreto
    assert not await registro.avisos(destino="nuevo.correo@example.net")
    [auditado] = await registro.rows(Historial, Historial.accion == "cambio_confirmado")
    assert (auditado.actor, auditado.rol) == ("ciudadania", "ciudadania")
    assert auditado.detalle == {
        "tipo": "modalidad",
        "campos": ["domicilio", "email", "modalidad", "telefono"],
        "canal": "email",
        "confirmacion": pedido.json()["confirmacion"],
    }
    assert "nuevo.correo" not in json.dumps(auditado.detalle)


async def test_cinco_codigos_por_hora_y_sin_contacto_no_hay_codigo(registro: Registro) -> None:
    folio = await nueva(registro, 1)
    for _ in range(5):
        await pedir_robo(registro, folio)
    r = await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json=ROBO)
    assert r.status_code == 429
    assert r.json()["type"] == "/problemas/demasiados-codigos"
    assert int(r.headers["retry-after"]) > 0
    assert len(await registro.avisos("codigo_confirmacion")) == 5
    registro.reloj.avanzar(dt.timedelta(hours=1))
    assert (await registro.client.post(f"/v1/solicitudes/{folio}/modalidad", json=ROBO)).status_code == 202


# --- the owner without access to the contact on file ------------------------------------------------------


async def test_sin_acceso_pasa_a_revision_y_el_ine_aplica_el_cambio_verificado(
    registro: Registro, token: Token
) -> None:
    folio = await nueva(registro, 1)
    op = token("ine-operador", sub="operadora-3")
    await registro.client.post(
        f"/v1/solicitudes/{folio}/dictamen", json={"resultado": "procedente", "motivos": []}, headers=op
    )
    pendiente = await pedir_robo(registro, folio)
    antes = await datos_de(registro, folio)
    r = await registro.client.post(f"/v1/solicitudes/{folio}/sin-acceso", json={"perdido": "email"})
    assert r.status_code == 200, r.text
    assert (r.json()["estado"], r.json()["motivos"]) == ("en_aclaracion", ["contacto_inaccesible"])
    assert "INE" in r.json()["motivos_detalle"][0]["descripcion"]
    assert (await datos_de(registro, folio))[:5] == antes[:5]  # no data changed
    avisos = await registro.avisos("cambio_en_revision")
    assert {a.destino for a in avisos} == {VICTIMA, TELEFONO_VICTIMA}
    assert "INETEL" in str(avisos[0].mensaje)
    # The pending code is void now.
    r = await registro.confirmar(folio, pendiente, VICTIMA)
    assert r.status_code == 409
    assert r.json()["type"] == "/problemas/confirmacion-anulada"
    # Saying it again: nothing changes, nothing is sent.
    r = await registro.client.post(f"/v1/solicitudes/{folio}/sin-acceso", json={"perdido": "ambos"})
    assert r.status_code == 200
    assert len(await registro.avisos("cambio_en_revision")) == 2
    assert (await registro.client.get("/v1/revision/cola", headers=op)).json()["solicitudes"] == []

    # INE verified the person by phone and applies the new contact: no code; audited with the operator.
    url = f"/v1/solicitudes/{folio}/cambio-verificado"
    cuerpo = {"verificacion": "inetel", "email": "recuperado@example.com"}
    assert (await registro.client.post(url, json=cuerpo)).status_code == 401
    assert (
        await registro.client.post(url, json=cuerpo, headers=token("partido", partido="PAN"))
    ).status_code == 403
    r = await registro.client.post(url, json={"verificacion": "inetel"}, headers=op)
    assert r.status_code == 422
    r = await registro.client.post(url, json=cuerpo, headers=op)
    assert r.status_code == 200, r.text
    assert (r.json()["estado"], r.json()["motivos"]) == ("recibida", [])  # back to review
    assert (await registro.solicitud(folio)).email == "recuperado@example.com"
    avisos = await registro.avisos("cambio_aplicado")
    assert {a.destino for a in avisos} == {VICTIMA, TELEFONO_VICTIMA, "recuperado@example.com"}
    [auditado] = await registro.rows(Historial, Historial.accion == "cambio_verificado")
    assert (auditado.actor, auditado.rol, auditado.detalle) == (
        "operadora-3",
        "ine-operador",
        {"campos": ["email"], "verificacion": "inetel"},
    )
    eventos_folio = [o.event_type for o in await registro.rows(Outbox, Outbox.key == folio, order=Outbox.id)]
    assert eventos_folio[-2:] == [eventos.SOLICITUD_ACLARACION_SOLICITADA, eventos.SOLICITUD_CORREGIDA]


# --- registro talks to the applicant ------------------------------------------------------------------


async def test_avisos_de_dictamen_aclaracion_e_inscripcion(registro: Registro, token: Token) -> None:
    op, admin = token("ine-operador"), token("ine-admin")
    a, b, c = await nueva(registro, 1), await nueva(registro, 2, modalidad="postal"), await nueva(registro, 3)
    r = await registro.client.post(
        f"/v1/solicitudes/{a}/dictamen",
        json={"resultado": "improcedente", "motivos": ["firma", "comprobante_domicilio"]},
        headers=op,
    )
    plazo = dt.datetime.fromisoformat(r.json()["plazo_aclaracion"])
    [dictamen] = await registro.avisos("solicitud_dictaminada")
    texto = str(dictamen.mensaje)
    assert dictamen.destino == VICTIMA
    assert not dictamen.secreto
    assert "NO PROCEDIÓ" in texto
    assert "La firma no coincide" in texto
    assert "comprobante de domicilio" in texto
    assert f"{plazo:%d/%m/%Y} a las {plazo:%H:%M} (hora del Centro de México)" in texto
    assert a not in texto  # only the receipt and the re-send carry the folio
    r = await registro.client.post(
        f"/v1/solicitudes/{c}/aclaracion", json={"motivos": ["credencial_ilegible"]}, headers=op
    )
    [aclaracion] = await registro.avisos("aclaracion_solicitada")
    assert aclaracion.destino == "persona3@example.com"
    assert "credencial no se leen" in str(aclaracion.mensaje)
    # A batch of dictámenes: one message each, staged together.
    r = await registro.client.post(
        "/v1/solicitudes/dictamenes",
        json={"dictamenes": [{"folio": b, "resultado": "procedente", "motivos": []}]},
        headers=op,
    )
    assert r.json()["aplicados"] == 1
    procedente = (await registro.avisos("solicitud_dictaminada", "persona2@example.com"))[0]
    assert "PROCEDENTE" in str(procedente.mensaje)
    assert "10/04/2021" in str(procedente.mensaje)

    registro.reloj.ajustar(registro.proceso.calendario.cierre_lnere)
    assert (await registro.client.post("/v1/lnere/09/cierre", headers=admin)).status_code == 200
    [inscripcion] = await registro.avisos("inscripcion")
    texto = str(inscripcion.mensaje)
    assert inscripcion.destino == "persona2@example.com"
    assert "Ciudad de México" in texto
    assert "por correo postal" in texto
    assert "paquete electoral" in texto
    assert (await registro.client.post("/v1/lnere/09/cierre", headers=admin)).status_code == 200
    assert len(await registro.avisos("inscripcion")) == 1  # closing again sends nothing


async def test_carga_inetel_muestra_el_folio_al_operador_sin_reenviarlo(
    registro: Registro, token: Token
) -> None:
    from services.registro.service import COLUMNAS

    def fila(datos: dict[str, Any]) -> str:
        plano = {**datos, **datos["domicilio"]}
        return ",".join(str(plano.get(c) or "") for c in COLUMNAS)

    folio = await nueva(registro, 1)
    csv = "\n".join([",".join(COLUMNAS), fila(solicitud(1)), fila(solicitud(2)), fila(solicitud(3))]).encode()
    r = await registro.client.post(
        "/v1/solicitudes/lote?parcial=true",
        content=csv,
        headers={**token("ine-operador"), "content-type": "text/csv"},
    )
    assert r.status_code == 200
    assert r.json()["cargadas"] == 2
    [rechazada] = r.json()["rechazadas"]
    assert folio in rechazada["errores"][0]["mensaje"]  # operators may see folios
    assert not await registro.avisos("folio_reenviado")
    recibos = await registro.avisos("solicitud_recibida")
    assert [a.destino for a in recibos] == [VICTIMA, "persona2@example.com", "persona3@example.com"]
