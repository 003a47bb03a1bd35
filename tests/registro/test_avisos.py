"""registro's messages leave through the real gateways, and the operator's file shows what reached the
applicant: a message the gateway refused for good is on the record (and in /metrics), never its text."""

from __future__ import annotations

from collections.abc import Callable

from services.registro.models import Notificacion
from shared.notificaciones import Notificador
from tests.factories import solicitud
from tests.support.comun import Buzon
from tests.support.registro import Registro


async def test_el_acuse_llega_y_un_rechazo_queda_en_el_expediente(
    registro: Registro, buzon: Buzon, token: Callable[..., dict[str, str]]
) -> None:
    # One applicant by e-mail, one with only a phone the SMS provider refuses (Twilio's invalid test number).
    r = await registro.client.post("/v1/solicitudes", json=solicitud(1))
    folio_bien = r.json()["folio"]
    r = await registro.client.post(
        "/v1/solicitudes", json=solicitud(2, modalidad="postal", email=None, telefono="+15005550001")
    )
    assert r.status_code == 201, r.text
    folio_mal = r.json()["folio"]

    remitente = Notificador(
        registro.app.state.runtime.maker,
        Notificacion,
        registro.app.state.settings.model_copy(update=buzon.ajustes()),
        metrics=registro.app.state.metrics,
    )
    assert await remitente.enviar_pendientes() == 1
    [acuse] = buzon.mensajes("persona1@example.com")
    assert folio_bien in acuse["texto"]
    assert acuse["asunto"].startswith("Su solicitud de inscripción")
    assert buzon.mensajes("+15005550001") == []

    op = token("ine-operador")
    bien = (await registro.client.get(f"/v1/solicitudes/{folio_bien}/expediente", headers=op)).json()
    assert [(a["plantilla"], a["canal"], a["estado"]) for a in bien["avisos"]] == [
        ("solicitud_recibida", "email", "enviada")
    ]
    assert bien["avisos"][0]["destino"] == "p***@example.com"
    mal = (await registro.client.get(f"/v1/solicitudes/{folio_mal}/expediente", headers=op)).json()
    [aviso] = mal["avisos"]
    assert (aviso["canal"], aviso["estado"], aviso["intentos"]) == ("sms", "fallida", 1)
    assert "21211" in aviso["error"]
    assert aviso["destino"] == "+1******0001"
    assert "mensaje" not in aviso
    assert folio_mal not in str(mal["avisos"])
    metricas = (await registro.client.get("/metrics")).text
    assert 'vmre_avisos_total{canal="sms",resultado="fallida"} 1.0' in metricas
    # Refused for good: not tried again, and the folio it carried is erased.
    assert await remitente.enviar_pendientes() == 0
    [fila] = await registro.avisos(destino="+15005550001")
    assert fila.mensaje is None
