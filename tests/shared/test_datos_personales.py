"""Personal data at rest: keys from configuration, refused in production when they are the development ones,
migrations that encrypt existing rows (and decrypt them going down), and the `vmre datos` commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select, text

from services.electronico.models import Notificacion as NotificacionElectronico
from services.electronico.models import Votante
from services.postal.models import Paquete
from services.registro import models as registro_models
from services.registro.models import Documento, Outbox, Solicitud
from shared import datos_personales, firma, migrations
from shared.datos_personales import DEV_CLAVE_DATOS, DEV_CLAVE_INDICE, Cifrador, DatoIlegible
from shared.db import make_engine, make_sessionmaker
from shared.settings import AuthSettings
from tests.shared.test_avisos import PASARELAS_PRODUCCION
from tests.support.comun import Databases
from vmre.cli import main

CLAVE_A = datos_personales.generar_clave()
CLAVE_B = datos_personales.generar_clave()
INDICE = "indice-de-prueba-0123456789abcdef0123456789"
CON_DATOS = ["registro", "postal", "electronico", "credenciales"]


def _produccion(service: str, **campos: object) -> object:
    settings = importlib.import_module(f"services.{service}.config").Settings
    base: dict[str, object] = {
        "mode": "production",
        "database_url": "postgresql+asyncpg://vmre@db/vmre",
        "auth": AuthSettings(jwks_url="https://idp.example/jwks.json"),
        "metricas_puerto": 9090,
        **PASARELAS_PRODUCCION,  # the four write to citizens: production needs their real gateways
    }
    if service == "postal":
        base["transportistas"] = {"dhl": SecretStr("secreto-propio")}
    if service in ("electronico", "credenciales"):
        base["clave_firma"] = SecretStr("ab" * 32 if service == "electronico" else "cd" * 32)
    if service == "electronico":
        base["clave_autoridad_credenciales"] = firma.clave_verificacion("cd" * 32)
    return settings(**{**base, **campos})


@pytest.mark.parametrize("service", CON_DATOS)
def test_produccion_se_niega_con_las_claves_de_desarrollo_y_dice_por_que(service: str) -> None:
    prefijo = f"VMRE_{service.upper()}"
    with pytest.raises(ValidationError, match=f"{prefijo}_CLAVES_DATOS"):
        _produccion(service, clave_indice=SecretStr(INDICE))  # the development Fernet key
    # Even as an old key kept for decryption: data under the development key has no place in production.
    with pytest.raises(ValidationError, match="clave de desarrollo de datos personales"):
        _produccion(
            service, claves_datos=SecretStr(f"{CLAVE_A},{DEV_CLAVE_DATOS}"), clave_indice=SecretStr(INDICE)
        )
    with pytest.raises(ValidationError, match=f"{prefijo}_CLAVE_INDICE"):
        _produccion(service, claves_datos=SecretStr(CLAVE_A))
    with pytest.raises(ValidationError, match="la clave 2 no es una clave Fernet"):
        _produccion(service, claves_datos=SecretStr(f"{CLAVE_A},no-es-clave"), clave_indice=SecretStr(INDICE))
    ok = _produccion(service, claves_datos=SecretStr(f"{CLAVE_B},{CLAVE_A}"), clave_indice=SecretStr(INDICE))
    assert datos_personales.cifrador_de(ok) is not None
    # Local mode: the development keys are the default.
    local = importlib.import_module(f"services.{service}.config").Settings(database_url="sqlite+aiosqlite://")
    assert local.claves_datos.get_secret_value() == DEV_CLAVE_DATOS
    assert local.clave_indice.get_secret_value() == DEV_CLAVE_INDICE


def test_cifrador_rota_y_el_indice_no_depende_de_las_claves_fernet() -> None:
    a = Cifrador([CLAVE_A], INDICE)
    ba = Cifrador([CLAVE_B, CLAVE_A], INDICE)
    b = Cifrador([CLAVE_B], INDICE)
    token = a.cifrar("María".encode())
    assert b"Mar" not in token
    assert ba.descifrar(token) == "María".encode()
    with pytest.raises(DatoIlegible):
        b.descifrar(token)
    nuevo = ba.recifrar(token)
    assert nuevo is not None
    assert b.descifrar(nuevo) == "María".encode()
    assert ba.recifrar(nuevo) is None  # already under the first key: nothing to do
    assert a.indice("GOMZAN85031209M700") == b.indice("GOMZAN85031209M700")
    assert a.indice("GOMZAN85031209M700") != Cifrador([CLAVE_A], "otra").indice("GOMZAN85031209M700")


def test_columna_cifrada_no_se_compara_en_la_base() -> None:
    with pytest.raises(TypeError, match="índice ciego"):
        _ = Solicitud.email == "x@example.com"
    with pytest.raises(TypeError, match="índice ciego"):
        _ = Solicitud.nombre.in_(["María"])
    # IS NULL is fine, and so is the blind index.
    assert str(Solicitud.email.is_(None)) == str(Solicitud.email == None)  # noqa: E711
    assert "clave_elector_indice" in str(Solicitud.clave_elector_indice == "GOMZAN85031209M700")


# --- migrations -------------------------------------------------------------------------------------------

AHORA = dt.datetime(2021, 1, 15, 16, 0, tzinfo=dt.UTC)
CLAVE = "GOMZAN85031209M700"
CONTACTO = {"email": "maria@example.com", "telefono": "+13105551234"}
DOMICILIO = {
    "calle_numero": "1234 W Olympic Blvd",
    "ciudad": "Los Angeles",
    "region": "CA",
    "codigo_postal": "90015",
}


async def _insertar(url: str, filas: list[tuple[str, dict[str, object]]]) -> None:
    """Rows as an older release wrote them: plain SQL, plaintext."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for tabla, fila in filas:
                columnas = ", ".join(fila)
                valores = ", ".join(f":{c}" for c in fila)
                await conn.execute(text(f"INSERT INTO {tabla} ({columnas}) VALUES ({valores})"), fila)
    finally:
        await engine.dispose()


async def _crudo(url: str, *consultas: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            valores = []
            for q in consultas:
                valores += [str(v) for f in (await conn.execute(text(q))).all() for v in f]
            return " ".join(valores)
    finally:
        await engine.dispose()


async def test_migracion_cifra_las_filas_existentes_y_la_vuelta_las_descifra(databases: Databases) -> None:
    url = await databases.new("registro", migrate=False)
    await asyncio.to_thread(migrations.upgrade, "registro", url, "0003")
    solicitud: dict[str, object] = {
        "id": 1,
        "folio": "F-1",
        "proceso": "pel2021",
        "clave_elector": CLAVE,
        "nombre": "María",
        "apellido_paterno": "Gómez",
        "apellido_materno": "Núñez",
        "fecha_nacimiento": dt.date(1985, 3, 12),
        "sexo": "M",
        "entidad": "09",
        "pais": "US",
        **DOMICILIO,
        **CONTACTO,
        "modalidad": "postal",
        "canal": "internet",
        "estado": "recibida",
        "motivos": "[]",
        "version": 1,
        "recibida_at": AHORA,
        "actualizada_at": AHORA,
    }
    documento: dict[str, object] = {
        "id": 1,
        "solicitud_id": 1,
        "tipo": "credencial_frente",
        "content_type": "image/jpeg",
        "tamano": 4,
        "sha256": "0" * 64,
        "contenido": b"JPEG",
        "recibido_at": AHORA,
    }
    evento: dict[str, object] = {
        "event_id": "e1",
        "topic": "vmre.registro.lnere_postal",
        "key": "09-0000001",
        "event_type": "registro.lnere_postal.inscrito",
        "payload": '{"nombre": "María"}',
        "created_at": AHORA,
    }
    await _insertar(url, [("solicitudes", solicitud), ("documentos", documento), ("outbox", evento)])

    await asyncio.to_thread(migrations.upgrade, "registro", url)
    crudo = await _crudo(url, "SELECT * FROM solicitudes", "SELECT payload FROM outbox")
    for personal in (
        "GOMZAN",
        "María",
        "Gómez",
        "Núñez",
        "Olympic",
        "Los Angeles",
        "90015",
        "maria@",
        "+13105551234",
    ):
        assert personal not in crudo
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert (
                bytes((await conn.execute(text("SELECT contenido FROM documentos"))).scalar_one()) != b"JPEG"
            )
        datos_personales.instalar(engine, Cifrador([DEV_CLAVE_DATOS], DEV_CLAVE_INDICE))
        async with make_sessionmaker(engine)() as session:
            s = (
                await session.execute(select(Solicitud).where(Solicitud.clave_elector_indice == CLAVE))
            ).scalar_one()
            assert (s.nombre, s.apellido_materno, s.email, s.codigo_postal) == (
                "María",
                "Núñez",
                "maria@example.com",
                "90015",
            )
            # The document survived the table rebuild (SQLite) and opens.
            assert (await session.execute(select(Documento.contenido))).scalar_one() == b"JPEG"
            assert "María" in (await session.execute(select(Outbox.payload))).scalar_one()
    finally:
        await engine.dispose()

    await asyncio.to_thread(migrations.downgrade, "registro", url, "0003")
    crudo = await _crudo(url, "SELECT clave_elector, nombre, email FROM solicitudes")
    assert crudo == f"{CLAVE} María maria@example.com"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            assert (
                bytes((await conn.execute(text("SELECT contenido FROM documentos"))).scalar_one()) == b"JPEG"
            )
    finally:
        await engine.dispose()


async def test_migraciones_de_postal_y_electronico_cifran_lo_existente(databases: Databases) -> None:
    cifrador = Cifrador([DEV_CLAVE_DATOS], DEV_CLAVE_INDICE)
    postal = await databases.new("postal", migrate=False)
    electronico = await databases.new("electronico", migrate=False)
    await asyncio.to_thread(migrations.upgrade, "postal", postal, "0003")
    await asyncio.to_thread(migrations.upgrade, "electronico", electronico, "0003")
    paquete: dict[str, object] = {
        "id": 1,
        "entidad": "09",
        "numero": 1,
        "folio": "F-1",
        "clave_elector": CLAVE,
        "nombre": "María Gómez",
        **DOMICILIO,
        "pais": "US",
        **CONTACTO,
        "boletas": '["dm"]',
        "sobres_voto": 1,
        "lote": 1,
        "estado": "integrado",
        "envios": 0,
        "version": 1,
        "integrado_at": AHORA,
    }
    sobre: dict[str, object] = {
        "id": 1,
        "clave_elector": CLAVE,
        "paquete_id": 1,
        "entidad": "09",
        "clasificacion": "en_tiempo",
        "recibido_at": AHORA,
        "operador": "op",
    }
    await _insertar(postal, [("paquetes", paquete), ("sobres", sobre)])
    votante: dict[str, object] = {
        "id": 1,
        "entidad": "09",
        "numero": 1,
        "usuario": "u1",
        **CONTACTO,
        "totp_secreto": "JBSWY3DPEHPK3PXP",
        "fallos": 0,
        "creado_at": AHORA,
    }
    aviso: dict[str, object] = {
        "canal": "email",
        "destino": "maria@example.com",
        "plantilla": "credenciales",
        "mensaje": "Hola María",
        "referencia": "u1",
        "creada_at": AHORA,
    }
    await _insertar(electronico, [("votantes", votante), ("notificaciones", aviso)])

    await asyncio.to_thread(migrations.upgrade, "postal", postal)
    await asyncio.to_thread(migrations.upgrade, "electronico", electronico)

    crudo = await _crudo(postal, "SELECT * FROM paquetes", "SELECT * FROM sobres")
    for personal in ("GOMZAN", "María", "Olympic", "Los Angeles", "maria@", "+13105551234"):
        assert personal not in crudo
    crudo = await _crudo(electronico, "SELECT * FROM votantes", "SELECT * FROM notificaciones")
    for personal in ("maria@", "+13105551234", "JBSWY3DP", "María"):
        assert personal not in crudo

    engine = make_engine(postal)
    datos_personales.instalar(engine, cifrador)
    try:
        async with make_sessionmaker(engine)() as session:
            p = (
                await session.execute(select(Paquete).where(Paquete.clave_elector_indice == CLAVE))
            ).scalar_one()
            assert (p.nombre, p.calle_numero, p.telefono) == (
                "María Gómez",
                "1234 W Olympic Blvd",
                "+13105551234",
            )
    finally:
        await engine.dispose()
    engine = make_engine(electronico)
    datos_personales.instalar(engine, cifrador)
    try:
        async with make_sessionmaker(engine)() as session:
            v = (await session.execute(select(Votante))).scalar_one()
            n = (await session.execute(select(NotificacionElectronico))).scalar_one()
            assert (v.email, v.totp_secreto, n.destino, n.mensaje) == (
                "maria@example.com",
                "JBSWY3DPEHPK3PXP",
                "maria@example.com",
                "Hola María",
            )
    finally:
        await engine.dispose()


# --- vmre datos -------------------------------------------------------------------------------------------


def _sembrar(url: str, claves: str, n: int) -> None:
    async def correr() -> None:
        engine = make_engine(url)
        datos_personales.instalar(engine, Cifrador.desde_texto(claves, INDICE))
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                for i in range(n):
                    session.add(
                        Solicitud(
                            folio=f"F-{i}",
                            proceso="pel2021",
                            clave_elector=f"CLAVE{i:013d}",
                            clave_elector_indice=f"CLAVE{i:013d}",
                            nombre=f"Persona {i}",
                            apellido_paterno="Gómez",
                            fecha_nacimiento=dt.date(1985, 3, 12),
                            sexo="M",
                            entidad="09",
                            pais="US",
                            email=f"p{i}@example.com",
                            telefono=None,
                            modalidad="electronica",
                            recibida_at=dt.datetime(2010, 1, 1, tzinfo=dt.UTC),
                            actualizada_at=dt.datetime(2010, 1, 1 + i % 2, tzinfo=dt.UTC),
                        )
                    )
        finally:
            await engine.dispose()

    asyncio.run(correr())


def _leer(url: str, claves: str) -> list[tuple[str, str | None]]:
    async def correr() -> list[tuple[str, str | None]]:
        engine = make_engine(url)
        datos_personales.instalar(engine, Cifrador.desde_texto(claves, INDICE))
        try:
            async with make_sessionmaker(engine)() as session:
                filas = await session.execute(
                    select(Solicitud.nombre, Solicitud.email)
                    .where(Solicitud.clave_elector_indice.in_(["CLAVE0000000000000", "CLAVE0000000000002"]))
                    .order_by(Solicitud.id)
                )
                return [tuple(f) for f in filas]
        finally:
            await engine.dispose()

    return asyncio.run(correr())


def test_vmre_datos_rotar_y_depurar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.registro.config import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'registro.db'}"
    migrations.upgrade("registro", url, cifrador=Cifrador([CLAVE_A], INDICE))
    _sembrar(url, CLAVE_A, 5)
    esperado = [("Persona 0", "p0@example.com"), ("Persona 2", "p2@example.com")]

    def vmre(*args: str, claves: str) -> int:
        monkeypatch.setenv("VMRE_REGISTRO_DATABASE_URL", url)
        monkeypatch.setenv("VMRE_REGISTRO_CLAVES_DATOS", claves)
        monkeypatch.setenv("VMRE_REGISTRO_CLAVE_INDICE", INDICE)
        get_settings.cache_clear()
        try:
            return main(list(args))
        finally:
            get_settings.cache_clear()

    # The new key goes first; the old one still decrypts what it wrote.
    assert _leer(url, f"{CLAVE_B},{CLAVE_A}") == esperado
    assert vmre("datos", "rotar", "registro", "--lote", "2", claves=f"{CLAVE_B},{CLAVE_A}") == 0
    salida = capsys.readouterr()
    assert "solicitudes: 5 filas recifradas" in salida.out
    assert "solicitudes: 4/5 filas revisadas" in salida.err  # progress per batch
    # Now the old key can go: everything opens with the new one alone, and the blind index still finds rows.
    assert _leer(url, CLAVE_B) == esperado
    with pytest.raises(DatoIlegible):
        _leer(url, CLAVE_A)
    # Again: nothing left to rewrite.
    assert vmre("datos", "rotar", "registro", claves=CLAVE_B) == 0
    assert "solicitudes: 0 filas recifradas" in capsys.readouterr().out

    # Retention: nothing younger than 7 years; a dry run first; then the old rows go.
    hoy = dt.datetime.now(dt.UTC).date()
    assert vmre("datos", "depurar", "registro", "--antes-de", hoy.isoformat(), claves=CLAVE_B) == 2
    assert "la retención es de 7 años" in capsys.readouterr().err
    assert vmre("datos", "depurar", "registro", "--antes-de", "2010-01-02", claves=CLAVE_B) == 0
    assert "solicitudes: 3 filas se borrarían" in capsys.readouterr().out
    assert _leer(url, CLAVE_B) == esperado
    assert (
        vmre("datos", "depurar", "registro", "--antes-de", "2010-01-02", "--confirmar", claves=CLAVE_B) == 0
    )
    assert "solicitudes: 3 filas borradas" in capsys.readouterr().out
    assert _leer(url, CLAVE_B) == []


def test_cada_columna_de_datos_personales_esta_cifrada() -> None:
    """What `vmre datos rotar` walks: a new personal column that is not Cifrado shows up here."""
    from services.electronico import models as electronico_models
    from services.postal import models as postal_models

    def tablas(metadata: object) -> dict[str, set[str]]:
        return {
            c.tabla: {*c.texto, *c.binario, *(i for i, _ in c.indices)}
            for c in datos_personales.columnas_de(metadata)  # type: ignore[arg-type]
        }

    domicilio = {"calle_numero", "ciudad", "region", "codigo_postal"}
    contacto = {"email", "telefono"}
    clave = {"clave_elector", "clave_elector_indice"}
    assert tablas(registro_models.Base.metadata) == {
        "solicitudes": {"nombre", "apellido_paterno", "apellido_materno", *clave, *domicilio, *contacto},
        "documentos": {"contenido"},
        "outbox": {"payload"},
        "notificaciones": {"destino", "mensaje"},
        "cambios_pendientes": {"cambio", "codigo_hash"},
        "documentos_pendientes": {"contenido"},
        "boletas_adicionales": clave,  # who voted at a site without being on the list (#27)
        "probadores": {"nombre", "email", "email_indice", "telefono"},  # the drills' outside testers (#27)
    }
    assert tablas(postal_models.Base.metadata) == {
        "paquetes": {"nombre", *clave, *domicilio, *contacto},
        "sobres": {"clave_elector"},
        "notificaciones": {"destino", "mensaje"},
    }
    assert tablas(electronico_models.Base.metadata) == {
        "votantes": {*contacto, "totp_secreto"},
        "notificaciones": {"destino", "mensaje"},
    }
