"""Personal data at rest: encrypted columns and blind indexes, with keys from configuration.

- ``Cifrado`` / ``CifradoBinario``: a column that holds a Fernet token (AES-128-CBC + HMAC-SHA256, from
  ``cryptography``). The model reads and writes plaintext; the database only ever sees the token.
- ``IndiceCiego``: HMAC-SHA256 of a value, for equality lookups and unique constraints on a value that is
  itself stored encrypted (the clave de elector). Bind the plaintext: the type computes the digest.
- Keys: ``VMRE_<SERVICIO>_CLAVES_DATOS`` (Fernet keys, comma-separated: the first encrypts, all decrypt) and
  ``VMRE_<SERVICIO>_CLAVE_INDICE`` (the HMAC key). The keys travel with the engine (``instalar``): each
  service's connection has its own, and one that has none fails loudly instead of writing plaintext.
- Rotation: put the new key first (``nueva,vieja``), restart, run ``vmre datos rotar SERVICIO`` (re-encrypts
  every token not yet under the first key, in batches), then drop the old key. See docs/operacion.md,
  «Datos personales».
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

# Only valid in local mode: a production service refuses to start with either.
# The Fernet key is base64url("vmre-desarrollo-datos-personales"): its name says what it is.
DEV_CLAVE_DATOS = "dm1yZS1kZXNhcnJvbGxvLWRhdG9zLXBlcnNvbmFsZXM="
DEV_CLAVE_INDICE = "vmre-dev-indice-solo-para-desarrollo-local"
# Digital copies of the LNERE's personal data are kept seven years (then `vmre datos depurar`).
RETENCION_ANIOS = 7

_ATRIBUTO = "vmre_cifrador"


def enmascarar_nombre(texto: str) -> str:
    """'José Núñez' -> 'J*** N***': enough for a party representative or an auditor to spot an oddity, not
    to identify."""
    return " ".join(f"{p[0]}***" for p in texto.split() if p)


class DatoIlegible(RuntimeError):
    """A token no configured key opens (a key was dropped before ``vmre datos rotar`` finished)."""


class Cifrador:
    """Built once per engine (no per-row key derivation): Fernet instances and the HMAC state are reused."""

    def __init__(self, claves: Sequence[str], clave_indice: str) -> None:
        if not claves:
            raise ValueError("sin claves de datos personales")
        fernets: list[Fernet] = []
        for n, clave in enumerate(claves, 1):
            try:
                fernets.append(Fernet(clave.strip()))
            except (ValueError, binascii.Error):
                raise ValueError(
                    f"la clave {n} no es una clave Fernet (32 bytes en base64 url-safe; genere una con "
                    "`vmre datos clave`)"
                ) from None
        if not clave_indice:
            raise ValueError("sin clave del índice ciego")
        self._primaria = fernets[0]
        self._todas = MultiFernet(fernets)
        self._hmac = hmac.new(clave_indice.encode(), digestmod=hashlib.sha256)

    @classmethod
    def desde_texto(cls, claves: str, clave_indice: str) -> Cifrador:
        return cls([c for c in claves.split(",") if c.strip()], clave_indice)

    def cifrar(self, dato: bytes) -> bytes:
        return self._primaria.encrypt(dato)

    def descifrar(self, token: bytes) -> bytes:
        try:
            return self._todas.decrypt(token)
        except InvalidToken:
            raise DatoIlegible(
                "un dato personal no se pudo descifrar con las claves configuradas: ¿se quitó la clave con "
                "que se cifró antes de terminar `vmre datos rotar`?"
            ) from None

    def recifrar(self, token: bytes) -> bytes | None:
        """The token under the first key, or None if it already is (rotation is idempotent)."""
        try:
            self._primaria.decrypt(token)
            return None
        except InvalidToken:
            pass
        try:
            return self._todas.rotate(token)
        except InvalidToken:
            raise DatoIlegible("un dato personal no se abre con ninguna clave configurada") from None

    def indice(self, valor: str) -> str:
        h = self._hmac.copy()
        h.update(valor.encode())
        return h.hexdigest()


def generar_clave() -> str:
    return Fernet.generate_key().decode("ascii")


# --- settings ---------------------------------------------------------------------------------------------


def validar_claves(claves: SecretStr, clave_indice: SecretStr, mode: str, prefijo: str) -> Cifrador:
    """Check the keys at start-up (a bad key stops the service, saying which); refuse development keys
    outside local mode. ``prefijo``: ``VMRE_REGISTRO`` and so on, to name the variables."""
    texto, indice = claves.get_secret_value(), clave_indice.get_secret_value()
    try:
        cifrador = Cifrador.desde_texto(texto, indice)
    except ValueError as exc:
        raise ValueError(f"{prefijo}_CLAVES_DATOS / {prefijo}_CLAVE_INDICE: {exc}") from None
    if mode != "local":
        if DEV_CLAVE_DATOS in [c.strip() for c in texto.split(",")]:
            raise ValueError(
                f"VMRE_MODE=production con la clave de desarrollo de datos personales: configure "
                f"{prefijo}_CLAVES_DATOS con claves propias (`vmre datos clave`; los datos cifrados con la "
                "de desarrollo no deben llegar a producción)."
            )
        if indice == DEV_CLAVE_INDICE:
            raise ValueError(
                f"VMRE_MODE=production con la clave de desarrollo del índice ciego: configure "
                f"{prefijo}_CLAVE_INDICE (32 bytes aleatorios o más)."
            )
    return cifrador


class AjustesDatosPersonales(BaseSettings):
    """The settings of a service that keeps personal data (registro, postal, electronico): a mixin of its
    ``Settings``, whose ``env_prefix`` names the variables (``VMRE_REGISTRO_CLAVES_DATOS`` and so on)."""

    # Fernet keys, comma-separated (the first encrypts, all decrypt: rotation), and the HMAC key of the blind
    # indexes. The defaults only in local mode.
    claves_datos: SecretStr = SecretStr(DEV_CLAVE_DATOS)
    clave_indice: SecretStr = SecretStr(DEV_CLAVE_INDICE)
    retencion_anios: int = Field(
        default=RETENCION_ANIOS,
        ge=1,
        description="Años que se guardan los datos personales (`vmre datos depurar`)",
    )

    @model_validator(mode="after")
    def _claves_de_datos(self) -> AjustesDatosPersonales:
        prefijo = str(self.model_config.get("env_prefix", "VMRE_")).rstrip("_")
        validar_claves(self.claves_datos, self.clave_indice, getattr(self, "mode", "local"), prefijo)
        return self


def cifrador_de(settings: Any) -> Cifrador | None:
    """The settings' keys, or None for a service that keeps no personal data (no such fields)."""
    claves = getattr(settings, "claves_datos", None)
    indice = getattr(settings, "clave_indice", None)
    if claves is None or indice is None:
        return None
    return Cifrador.desde_texto(claves.get_secret_value(), indice.get_secret_value())


def instalar(engine: AsyncEngine | sa.Engine, cifrador: Cifrador | None) -> None:
    """Give the engine its keys: every ``Cifrado`` and ``IndiceCiego`` value it binds or reads uses them."""
    if cifrador is not None:
        sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        setattr(sync.dialect, _ATRIBUTO, cifrador)


def _cifrador(dialect: Dialect) -> Cifrador:
    cifrador: Cifrador | None = getattr(dialect, _ATRIBUTO, None)
    if cifrador is None:
        raise RuntimeError(
            "esta conexión no tiene claves de datos personales: llame a datos_personales.instalar(engine, …)"
        )
    return cifrador


# --- column types -----------------------------------------------------------------------------------------

# A fresh IV per value: comparing ciphertexts finds nothing. Lookups go through an ``IndiceCiego`` column.
_SIN_COMPARAR = {
    operators.eq,
    operators.ne,
    operators.in_op,
    operators.not_in_op,
    operators.like_op,
    operators.ilike_op,
    operators.startswith_op,
    operators.endswith_op,
    operators.contains_op,
    operators.lt,
    operators.le,
    operators.gt,
    operators.ge,
}


class _Comparador(TypeDecorator.Comparator[Any]):
    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        # Against a value (not NULL, not another column: SQLAlchemy compares columns internally).
        if op in _SIN_COMPARAR and not all(
            o is None or (isinstance(o, sa.ColumnElement) and not isinstance(o, sa.BindParameter))
            for o in other
        ):
            raise TypeError(f"{self.expr} está cifrada: no se compara en la base; busque por su índice ciego")
        return super().operate(op, *other, **kwargs)


class Cifrado(TypeDecorator[str]):
    """Text encrypted at rest (a Fernet token, ~1.4× the UTF-8 length plus 73 bytes): Text on every
    database."""

    impl = sa.Text
    cache_ok = True
    comparator_factory = _Comparador

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cifrador(dialect).cifrar(value.encode()).decode("ascii")

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cifrador(dialect).descifrar(value.encode("ascii")).decode()


class CifradoBinario(TypeDecorator[bytes]):
    """Bytes encrypted at rest (document images)."""

    impl = sa.LargeBinary
    cache_ok = True
    comparator_factory = _Comparador

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return _cifrador(dialect).cifrar(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return _cifrador(dialect).descifrar(bytes(value))


class IndiceCiego(TypeDecorator[str]):
    """HMAC-SHA256 (hex) of the column ``de``: bind the plaintext (insert, ``where(col == valor)``); the
    database holds only the digest. Reading it back gives the digest."""

    impl = sa.String(64)
    cache_ok = True

    def __init__(self, de: str) -> None:
        super().__init__()
        self.de = de

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cifrador(dialect).indice(value)


# --- migrations and rotation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Columnas:
    """The protected columns of one table (its primary key is an integer ``id``)."""

    tabla: str
    texto: tuple[str, ...] = ()
    binario: tuple[str, ...] = ()
    indices: tuple[tuple[str, str], ...] = ()  # (index column, plaintext column)


def columnas_de(metadata: sa.MetaData) -> list[Columnas]:
    """Every table of a service's models with ``Cifrado``, ``CifradoBinario`` or ``IndiceCiego`` columns."""
    out = []
    for tabla in metadata.sorted_tables:
        texto = tuple(c.name for c in tabla.columns if isinstance(c.type, Cifrado))
        binario = tuple(c.name for c in tabla.columns if isinstance(c.type, CifradoBinario))
        indices = tuple((c.name, c.type.de) for c in tabla.columns if isinstance(c.type, IndiceCiego))
        if texto or binario or indices:
            out.append(Columnas(tabla.name, texto, binario, indices))
    return out


def _tabla(cols: Columnas) -> sa.TableClause:
    tipos: list[sa.ColumnClause[Any]] = [sa.column("id", sa.Integer)]
    tipos += [sa.column(c, sa.Text) for c in cols.texto]
    tipos += [sa.column(c, sa.LargeBinary) for c in cols.binario]
    tipos += [sa.column(c, sa.String) for c, _ in cols.indices]
    return sa.table(cols.tabla, *tipos)


def convertir(
    conn: Connection,
    cols: Columnas,
    cifrador: Cifrador,
    *,
    cifrar: bool,
    lote: int = 1000,
) -> int:
    """Data step of a migration: plaintext → ciphertext (and fill the blind indexes), or back when
    ``cifrar`` is False (downgrade). Keyset batches on ``id``; returns the rows rewritten."""
    t = _tabla(cols)
    if cifrar:

        def texto(v: Any) -> Any:
            return cifrador.cifrar(v.encode()).decode("ascii")

        def binario(v: Any) -> Any:
            return cifrador.cifrar(bytes(v))
    else:

        def texto(v: Any) -> Any:
            return cifrador.descifrar(v.encode("ascii")).decode()

        def binario(v: Any) -> Any:
            return cifrador.descifrar(bytes(v))

    nombres = [*cols.texto, *cols.binario]
    destino = [*nombres, *(i for i, _ in cols.indices)] if cifrar else nombres
    actualizar = (
        t.update()
        .where(t.c.id == sa.bindparam("_id"))
        .values({c: sa.bindparam(f"_{c}", type_=t.c[c].type) for c in destino})
    )
    total, ultimo = 0, None
    while True:
        q = sa.select(t.c.id, *(t.c[c] for c in nombres)).order_by(t.c.id).limit(lote)
        if ultimo is not None:
            q = q.where(t.c.id > ultimo)
        filas = conn.execute(q).all()
        if not filas:
            return total
        cambios = []
        for fila in filas:
            valores = dict(zip(nombres, fila[1:], strict=True))
            nuevo: dict[str, Any] = {"_id": fila[0]}
            for c in cols.texto:
                nuevo[f"_{c}"] = None if valores[c] is None else texto(valores[c])
            for c in cols.binario:
                nuevo[f"_{c}"] = None if valores[c] is None else binario(valores[c])
            if cifrar:
                for indice, de in cols.indices:
                    nuevo[f"_{indice}"] = None if valores[de] is None else cifrador.indice(valores[de])
            cambios.append(nuevo)
        conn.execute(actualizar, cambios)
        total += len(filas)
        ultimo = filas[-1][0]


async def rotar(
    engine: AsyncEngine,
    columnas: list[Columnas],
    cifrador: Cifrador,
    *,
    lote: int = 500,
    avisar: Callable[[str], None] = lambda _m: None,
) -> dict[str, int]:
    """Re-encrypt every token not yet under the first key and recompute every blind index with the current
    index key. One transaction per batch; a row the service changed meanwhile is left alone (it already
    carries the service's first key). Running it again rewrites nothing. Returns rows rewritten per table."""
    hechos: dict[str, int] = {}
    for cols in columnas:
        t = _tabla(cols)
        nombres = [*cols.texto, *cols.binario, *(i for i, _ in cols.indices)]
        async with engine.connect() as conn:
            total = int((await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one())
        vistos = reescritos = 0
        ultimo: int | None = None
        while True:
            async with engine.begin() as conn:
                q = sa.select(t.c.id, *(t.c[c] for c in nombres)).order_by(t.c.id).limit(lote)
                if ultimo is not None:
                    q = q.where(t.c.id > ultimo)
                filas = (await conn.execute(q)).all()
                if not filas:
                    break
                for fila in filas:
                    viejo = dict(zip(nombres, fila[1:], strict=True))
                    nuevo = _rotar_fila(cols, viejo, cifrador)
                    if nuevo:
                        condicion = [t.c.id == fila[0]]
                        condicion += [
                            t.c[c].is_(None) if viejo[c] is None else t.c[c] == viejo[c] for c in nuevo
                        ]
                        r = await conn.execute(t.update().where(*condicion).values(nuevo))
                        reescritos += int(r.rowcount or 0)
                vistos += len(filas)
                ultimo = filas[-1][0]
            avisar(f"{cols.tabla}: {vistos}/{total} filas revisadas, {reescritos} reescritas")
        hechos[cols.tabla] = reescritos
    return hechos


def _rotar_fila(cols: Columnas, viejo: dict[str, Any], cifrador: Cifrador) -> dict[str, Any]:
    nuevo: dict[str, Any] = {}
    for c in cols.texto:
        if viejo[c] is not None:
            token = cifrador.recifrar(viejo[c].encode("ascii"))
            if token is not None:
                nuevo[c] = token.decode("ascii")
    for c in cols.binario:
        if viejo[c] is not None:
            token = cifrador.recifrar(bytes(viejo[c]))
            if token is not None:
                nuevo[c] = token
    for indice, de in cols.indices:
        if viejo[de] is not None:
            digest = cifrador.indice(cifrador.descifrar(viejo[de].encode("ascii")).decode())
            if digest != viejo[indice]:
                nuevo[indice] = digest
    return nuevo
