"""Personal data at rest in registro: the database holds ciphertext and an HMAC, never the plaintext; the
clave de elector still finds duplicates; rotating keys keeps every application readable."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr
from sqlalchemy import text

from services.registro.config import Settings
from services.registro.main import create_app
from services.registro.models import Base
from shared import datos_personales
from shared.datos_personales import Cifrador
from shared.reloj import RelojManual
from shared.settings import KafkaSettings
from tests.factories import solicitud
from tests.support.comun import Databases, serve
from tests.support.registro import PEL2021, Registro, centro

Token = Callable[..., dict[str, str]]
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + "María Gómez Núñez".encode()


def _personales(datos: dict[str, object]) -> list[str]:
    domicilio = datos["domicilio"]
    assert isinstance(domicilio, dict)
    return [
        str(datos[c])
        for c in ("clave_elector", "nombre", "apellido_paterno", "apellido_materno", "email", "telefono")
    ] + [str(domicilio["calle_numero"]), str(domicilio["ciudad"]), str(domicilio["codigo_postal"])]


async def test_la_base_guarda_solo_texto_cifrado_y_el_duplicado_se_detecta_por_el_indice(
    registro: Registro, token: Token
) -> None:
    datos = solicitud(7, modalidad="postal", apellido_materno="Núñez")
    r = await registro.client.post("/v1/solicitudes", json=datos)
    assert r.status_code == 201, r.text
    folio = r.json()["folio"]
    r = await registro.client.post(
        f"/v1/solicitudes/{folio}/documentos",
        data={"tipo": "credencial_frente"},
        files={"archivo": ("frente.jpg", JPEG, "image/jpeg")},
    )
    assert r.status_code == 201, r.text

    # Plain SQL, not the ORM: what a stolen backup would show.
    async with registro.app.state.runtime.engine.connect() as conn:
        fila = (await conn.execute(text("SELECT * FROM solicitudes"))).mappings().one()
        contenido = bytes((await conn.execute(text("SELECT contenido FROM documentos"))).scalar_one())
        payloads = [p for (p,) in (await conn.execute(text("SELECT payload FROM outbox"))).all()]
    crudo = " ".join(str(v) for v in fila.values())
    for personal in _personales(datos):
        assert personal not in crudo, personal
    assert fila["clave_elector_indice"] == Cifrador.desde_texto(
        datos_personales.DEV_CLAVE_DATOS, datos_personales.DEV_CLAVE_INDICE
    ).indice(str(datos["clave_elector"]))
    assert "María".encode() not in contenido
    assert not contenido.startswith(b"\xff\xd8")
    assert payloads
    assert all("event_type" not in p for p in payloads)
    # Not personal: statistics read them in clear.
    assert (fila["entidad"], fila["pais"], fila["sexo"]) == ("09", "US", datos["sexo"])

    # The same clave (typed in lowercase) is the same person: 409, the folio re-sent to the contact on file.
    otra = solicitud(7, clave_elector=str(datos["clave_elector"]).lower(), email="otra@example.com")
    r = await registro.client.post("/v1/solicitudes", json=otra)
    assert r.status_code == 409
    assert folio not in r.text
    [reenvio] = await registro.avisos("folio_reenviado")
    assert reenvio.destino == datos["email"]
    assert folio in str(reenvio.mensaje)
    # Messages to applicants are personal data too: contact and text encrypted at rest.
    async with registro.app.state.runtime.engine.connect() as conn:
        avisos = (await conn.execute(text("SELECT destino, mensaje FROM notificaciones"))).all()
    assert len(avisos) == 2  # the receipt and the re-sent folio
    crudo = " ".join(str(v) for fila in avisos for v in fila)
    assert folio not in crudo
    assert str(datos["email"]) not in crudo

    # The operator sees it decrypted, and the document as uploaded.
    op = token("ine-operador")
    r = await registro.client.get(f"/v1/solicitudes/{folio}/expediente", headers=op)
    assert r.status_code == 200, r.text
    exp = r.json()
    assert (exp["clave_elector"], exp["apellido_materno"], exp["email"]) == (
        datos["clave_elector"],
        "Núñez",
        datos["email"],
    )
    assert exp["domicilio"]["calle_numero"] == datos["domicilio"]["calle_numero"]
    # Public and party views stay without (or with masked) personal data.
    publica = (await registro.client.get(f"/v1/solicitudes/{folio}")).text
    for personal in _personales(datos):
        assert personal not in publica


async def test_rotacion_de_claves_con_el_servicio(databases: Databases, offline_kafka: KafkaSettings) -> None:
    url = await databases.new("registro")
    indice = "indice-de-prueba-registro-0123456789abcdef"
    clave_a, clave_b = datos_personales.generar_clave(), datos_personales.generar_clave()

    def app(claves: str) -> object:
        return create_app(
            Settings(
                database_url=url,
                kafka=offline_kafka,
                relay_enabled=False,
                claves_datos=SecretStr(claves),
                clave_indice=SecretStr(indice),
            ),
            reloj=RelojManual(centro(2021, 1, 15, 10, 0)),
            proceso=PEL2021,
        )

    datos = solicitud(11)
    async with serve(app(clave_a)) as client:  # type: ignore[arg-type]
        r = await client.post("/v1/solicitudes", json=datos)
        assert r.status_code == 201, r.text
        folio = r.json()["folio"]

    # Step 1 of the runbook: the new key first, the old one after it. Old rows read, new rows use B.
    async with serve(app(f"{clave_b},{clave_a}")) as client:  # type: ignore[arg-type]
        r = await client.post("/v1/solicitudes", json=datos)
        assert r.status_code == 409
        assert folio not in r.text
        assert r.json()["reenviado"] is True
        r = await client.post("/v1/solicitudes", json=solicitud(12))
        assert r.status_code == 201, r.text
        # Step 2: vmre datos rotar (same function, same engine kind).
        engine = client._transport.app.state.runtime.engine  # type: ignore[attr-defined]
        hechos = await datos_personales.rotar(
            engine,
            datos_personales.columnas_de(Base.metadata),
            Cifrador.desde_texto(f"{clave_b},{clave_a}", indice),
        )
        assert hechos["solicitudes"] == 1  # only the row written under A
        assert hechos["outbox"] >= 1

    # Step 3: the old key is gone; everything still opens, and the clave still finds its application.
    async with serve(app(clave_b)) as client:  # type: ignore[arg-type]
        r = await client.post("/v1/solicitudes", json=datos)
        assert r.status_code == 409
        assert folio not in r.text
        assert r.json()["contacto"] == ["p***@example.com"]
        r = await client.get(f"/v1/solicitudes/{folio}")
        assert r.status_code == 200, r.text
