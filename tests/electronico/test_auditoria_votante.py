"""The audit log of the voters' side: only "votante", never who, nor anything of the ballot."""

from __future__ import annotations

from sqlalchemy import select

from services.electronico.models import Bitacora
from shared import auditoria
from tests.support.electronico import PASSWORD, Electronico


async def test_acciones_de_votante_quedan_como_votante_sin_identidad(
    abierta: tuple[Electronico, str],
) -> None:
    e, uuid = abierta
    cuenta = sorted((c for u, c in e.cuentas.items() if u.startswith("V09")), key=lambda c: c.usuario)[0]
    await e.primer_acceso_e_ingreso(cuenta)
    r = await e.client.post(
        "/v1/acceso", json={"usuario": cuenta.usuario, "password": "mala", "codigo": "000000"}
    )
    assert r.status_code == 401
    texto = await e.boleta(
        uuid, cuenta, (await e.client.get(f"/v1/elecciones/{uuid}")).json()["opciones"][0]["clave"]
    )
    r = await e.votar(uuid, cuenta, texto)
    assert r.status_code == 201, r.text

    async with e.app.state.runtime.maker() as s:
        filas = list((await s.execute(select(Bitacora).order_by(Bitacora.id))).scalars())
    de_votante = [f for f in filas if f.actor == auditoria.VOTANTE]
    acciones = [(f.accion, f.estado) for f in de_votante]
    assert acciones == [
        ("POST /v1/acceso/primer", "ok"),
        ("POST /v1/acceso", "ok"),
        ("POST /v1/acceso", "rechazado"),  # failed logins count, and are recorded
        ("POST /v1/elecciones/{uuid}/boletas", "ok"),
    ]
    assert all(f.rol == auditoria.VOTANTE for f in de_votante)
    registro = str([auditoria.como_dict(f) for f in filas])
    for secreto in (
        cuenta.usuario,
        cuenta.clave_acceso,
        PASSWORD,
        r.json()["rastreador"],
        *cuenta.credenciales.values(),
    ):
        assert secreto not in registro
    assert await auditoria.sellar(e.app.state.runtime.maker, Bitacora) == len(filas)
    assert await auditoria.verificar_base(e.app.state.runtime.maker, Bitacora) == len(filas)
