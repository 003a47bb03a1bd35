"""registro's pure rules: clave de elector, states and transitions, reasons, masking, age bands.

No I/O, no FastAPI, no session: plain functions over plain data.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from enum import StrEnum

# Crockford base32 without look-alikes: readable over the phone.
ALFABETO = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def aleatorio(n: int) -> str:
    return "".join(secrets.choice(ALFABETO) for _ in range(n))


def nueva_referencia() -> str:
    """The opaque name of a person on the party review: 60 random bits, unrelated to the folio."""
    return "R-" + aleatorio(12)


CLAVE_RE = re.compile(r"^[A-Z]{6}(\d{2})(\d{2})(\d{2})(\d{2})([HM])[0-9A-Z]{3}$")


class Estado(StrEnum):
    RECIBIDA = "recibida"
    PROCEDENTE = "procedente"
    IMPROCEDENTE = "improcedente"
    EN_ACLARACION = "en_aclaracion"
    INSCRITA = "inscrita"
    BAJA = "baja"


# What an operator or the citizen may do from each state. Inscription happens only at the LNERE close.
TRANSICIONES: dict[str, set[Estado]] = {
    "dictamen": {Estado.RECIBIDA},
    "aclaracion": {Estado.RECIBIDA, Estado.PROCEDENTE},
    "correccion": {Estado.EN_ACLARACION, Estado.IMPROCEDENTE},
    "baja": {Estado.RECIBIDA, Estado.PROCEDENTE, Estado.IMPROCEDENTE, Estado.EN_ACLARACION},
    "cambio_modalidad": {Estado.RECIBIDA, Estado.PROCEDENTE, Estado.EN_ACLARACION},
    "inscripcion": {Estado.PROCEDENTE},
    # The applicant lost access to the contact on file: to INE review (en_aclaración) instead of a change.
    "sin_acceso": {Estado.RECIBIDA, Estado.PROCEDENTE, Estado.IMPROCEDENTE, Estado.EN_ACLARACION},
    # A change INE applies after verifying the person's identity by other means.
    "cambio_verificado": {Estado.RECIBIDA, Estado.PROCEDENTE, Estado.IMPROCEDENTE, Estado.EN_ACLARACION},
}

MOTIVOS: dict[str, str] = {
    "firma": "La firma no coincide con la de la credencial o falta.",
    "requisitos": "No se cumplen los requisitos de la solicitud (datos o documentos incompletos).",
    "credencial_ilegible": "Las imágenes de la credencial no se leen o no corresponden a ambos lados.",
    "comprobante_domicilio": "El comprobante de domicilio en el extranjero falta o no es válido.",
    "comprobante_reutilizado": "El mismo comprobante de domicilio aparece en otras solicitudes.",
    "credencial_no_vigente": "La credencial para votar no está vigente.",
    "datos_inconsistentes": "Los datos no coinciden con los de la credencial.",
    "irregularidades_multiples": "La solicitud presenta varias irregularidades.",
    "contacto_inaccesible": "La persona ya no tiene acceso al correo o al teléfono registrados: el INE "
    "verificará su identidad antes de cambiar sus datos de contacto.",
}

MOTIVOS_BAJA: dict[str, str] = {
    "solicitud_ciudadana": "La persona pidió su baja.",
    "defuncion": "Baja por defunción.",
    "duplicada": "Registro duplicado.",
    "suspension_derechos": "Suspensión de derechos político-electorales.",
}

SIGUIENTE_PASO: dict[Estado, str] = {
    Estado.RECIBIDA: "Su solicitud está en revisión, en orden de llegada. No necesita hacer nada por ahora.",
    Estado.PROCEDENTE: "Su solicitud fue aceptada. Al cierre de la lista será inscrita en la LNERE.",
    Estado.IMPROCEDENTE: "Su solicitud no procedió por los motivos indicados. "
    "Puede corregirla antes del plazo.",
    Estado.EN_ACLARACION: "Corrija los datos o documentos señalados antes del plazo indicado.",
    Estado.INSCRITA: "Está inscrita en la LNERE. Recibirá su paquete o sus claves de voto electrónico.",
    Estado.BAJA: "Su solicitud fue dada de baja.",
}


def errores_clave(clave: str, fecha_nacimiento: dt.date, sexo: str) -> list[str]:
    """Consistency of the clave de elector with the birth date (YYMMDD) and the sex (H/M)."""
    match = CLAVE_RE.match(clave)
    if match is None:
        return ["Formato inválido: 6 letras, fecha AAMMDD, 2 dígitos de entidad, H o M y 3 caracteres."]
    yy, mm, dd, _entidad, sx = match.groups()
    errores = []
    if (int(yy), int(mm), int(dd)) != (
        fecha_nacimiento.year % 100,
        fecha_nacimiento.month,
        fecha_nacimiento.day,
    ):
        errores.append("La fecha en la clave de elector no coincide con la fecha de nacimiento.")
    if sx != sexo:
        errores.append("El sexo en la clave de elector no coincide con el indicado.")
    return errores


def edad(fecha_nacimiento: dt.date, hoy: dt.date) -> int:
    return (
        hoy.year
        - fecha_nacimiento.year
        - ((hoy.month, hoy.day) < (fecha_nacimiento.month, fecha_nacimiento.day))
    )


RANGOS_EDAD = [(18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200)]


def rango_edad(anios: int) -> str:
    for lo, hi in RANGOS_EDAD:
        if lo <= anios <= hi:
            return f"{lo}+" if hi == 200 else f"{lo}-{hi}"
    return "menor"


def normalizar(texto: str) -> str:
    """NFC, single spaces: 'Nuñez' typed with a combining tilde equals the precomposed one."""
    return " ".join(unicodedata.normalize("NFC", texto).split())


def suprimir_celdas(conteos: dict[str, int], minimo: int = 5) -> dict[str, int | None]:
    """Small-cell suppression: cells under ``minimo`` become None; if only one is hidden, the next smallest is
    hidden too, so it cannot be recovered as total minus the others."""
    ocultas = {k for k, v in conteos.items() if 0 < v < minimo}
    if len(ocultas) == 1 and len(conteos) > 1:
        visibles = sorted((v, k) for k, v in conteos.items() if k not in ocultas)
        if visibles:
            ocultas.add(visibles[0][1])
    return {k: (None if k in ocultas else v) for k, v in sorted(conteos.items())}
