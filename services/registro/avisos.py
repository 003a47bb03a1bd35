"""What registro tells the applicant, in plain Spanish: one ``Aviso`` per message (staged with ``encolar``).

Only the messages marked ``secreto`` carry the folio or a code (their text is erased once delivered); they go
to one contact (``preferido``: the e-mail, else the phone). The notices of a change or of a review go to every
contact on file (``ambos``): the owner must hear of it wherever they still read. No message shows a new
address or contact in full: masked. The ``referencia`` of each message is the application's opaque referencia,
never the folio. Pure functions: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from services.registro import domain
from services.registro.domain import Estado
from services.registro.models import Solicitud
from shared.datos_personales import enmascarar_nombre
from shared.notificaciones import Aviso, enmascarar
from shared.proceso import Proceso

MODALIDADES = {
    "postal": "por correo postal",
    "electronica": "por internet",
    "presencial": "en persona, en una sede consular",
}
CAMPOS = {
    "nombre": "nombre",
    "apellido_paterno": "primer apellido",
    "apellido_materno": "segundo apellido",
    "pais": "país de residencia",
    "domicilio": "domicilio en el extranjero",
    "email": "correo electrónico",
    "telefono": "teléfono",
    "modalidad": "modalidad de voto",
}
PERDIDO = {"email": "el correo electrónico", "telefono": "el teléfono", "ambos": "el correo y el teléfono"}
NO_COMPARTA = (
    "Es personal: no lo comparta. El INE nunca le pedirá su folio ni sus códigos por teléfono, correo "
    "o redes sociales."
)
SI_NO_FUE_USTED = (
    "Si usted no hizo esto, comuníquese de inmediato con INETEL, el servicio de atención telefónica del INE."
)


def fecha(proceso: Proceso, instante: dt.datetime) -> str:
    local = proceso.local(instante)
    return f"{local:%d/%m/%Y} a las {local:%H:%M} (hora del Centro de México)"


def dia(proceso: Proceso, instante: dt.datetime) -> str:
    return f"{proceso.local(instante):%d/%m/%Y}"


def _aviso(
    contacto: Solicitud | Mapping[str, Any],
    referencia: str,
    plantilla: str,
    mensaje: str,
    *,
    secreto: bool = False,
    ambos: bool = False,
) -> Aviso:
    email, telefono = (
        (contacto.email, contacto.telefono)
        if isinstance(contacto, Solicitud)
        else (contacto.get("email"), contacto.get("telefono"))
    )
    return Aviso(
        email=email,
        telefono=telefono,
        plantilla=plantilla,
        mensaje=mensaje,
        referencia=referencia,
        secreto=secreto,
        canales="ambos" if ambos else "preferido",
    )


def _motivos(motivos: Iterable[str]) -> str:
    catalogo = {**domain.MOTIVOS, **domain.MOTIVOS_BAJA}
    return "\n".join(f"- {catalogo.get(m, m)}" for m in motivos)


def recibida(s: Solicitud, proceso: Proceso) -> Aviso:
    mensaje = (
        "Recibimos su solicitud de inscripción a la Lista Nominal de Electores Residentes en el Extranjero "
        f"(LNERE) para {proceso.nombre}.\n\n"
        f"Su folio es: {s.folio}\n\n"
        "Guárdelo: con él consulta el estado de su solicitud, sube documentos y pide correcciones. "
        f"{NO_COMPARTA}\n\n"
        f"Eligió votar {MODALIDADES[s.modalidad]}. {domain.SIGUIENTE_PASO[Estado.RECIBIDA]}"
    )
    return _aviso(s, s.referencia, "solicitud_recibida", mensaje, secreto=True)


def folio_reenviado(s: Solicitud, proceso: Proceso, ahora: dt.datetime) -> Aviso:
    mensaje = (
        f"El {fecha(proceso, ahora)} se intentó registrar otra solicitud a la LNERE con su clave de elector. "
        "Como usted ya tiene una, no se registró otra y le reenviamos su folio.\n\n"
        f"Su folio es: {s.folio}\n\n"
        f"{NO_COMPARTA} Si no fue usted quien lo intentó, su solicitud sigue igual: nadie puede cambiar sus "
        "datos sin el código que le enviaríamos a este mismo contacto."
    )
    return _aviso(s, s.referencia, "folio_reenviado", mensaje, secreto=True)


def dictaminada(s: Solicitud, proceso: Proceso) -> Aviso:
    if s.estado == Estado.PROCEDENTE.value:
        mensaje = (
            "Revisamos su solicitud de inscripción a la Lista Nominal de Electores Residentes en el "
            f"Extranjero y es PROCEDENTE. Al cierre de la lista, el "
            f"{dia(proceso, proceso.calendario.cierre_lnere)}, quedará inscrita o inscrito para votar "
            f"{MODALIDADES[s.modalidad]} y le avisaremos qué sigue. "
            "No necesita hacer nada más."
        )
    else:
        plazo = (
            f"a más tardar el {fecha(proceso, s.plazo_aclaracion)}"
            if s.plazo_aclaracion
            else "dentro del plazo"
        )
        mensaje = (
            "Revisamos su solicitud de inscripción a la Lista Nominal de Electores Residentes en el "
            f"Extranjero y NO PROCEDIÓ por estos motivos:\n{_motivos(s.motivos)}\n\n"
            "Qué puede hacer: corregir sus datos o volver a subir sus documentos con su folio, "
            f"{plazo}. Después de esa fecha ya no se podrá corregir y no quedará inscrita o inscrito."
        )
    return _aviso(s, s.referencia, "solicitud_dictaminada", mensaje)


def aclaracion(s: Solicitud, proceso: Proceso) -> Aviso:
    assert s.plazo_aclaracion is not None
    mensaje = (
        "El INE revisó su solicitud de inscripción a la Lista Nominal de Electores Residentes en el "
        f"Extranjero y necesita que aclare o corrija lo siguiente:\n{_motivos(s.motivos)}\n\n"
        f"Hágalo con su folio a más tardar el {fecha(proceso, s.plazo_aclaracion)}. Si no lo hace, su "
        "solicitud no podrá quedar inscrita."
    )
    return _aviso(s, s.referencia, "aclaracion_solicitada", mensaje)


def inscripcion(s: Solicitud, proceso: Proceso) -> Aviso:
    cal = proceso.calendario
    entidad = proceso.entidades[s.entidad].nombre if s.entidad in proceso.entidades else s.entidad
    if s.modalidad == "postal":
        sigue = (
            f"Entre el {dia(proceso, cal.envio_pep_inicio)} y el {dia(proceso, cal.envio_pep_fin)} le "
            "enviaremos por mensajería, al domicilio que registró, su paquete electoral: las boletas, las "
            "instrucciones y el sobre para devolver su voto sin costo. Su voto debe llegar a más tardar el "
            f"{fecha(proceso, cal.recepcion_spv_limite)}."
        )
    elif s.modalidad == "presencial" and s.sede in proceso.sedes:
        sede = proceso.sedes[s.sede]
        apertura, cierre = proceso.horario(s.sede)
        tz = ZoneInfo(sede.zona_horaria)
        sigue = (
            f"Vote el {dia(proceso, cal.jornada)} en {sede.nombre} ({sede.ciudad}), de "
            f"{apertura.astimezone(tz):%H:%M} a {cierre.astimezone(tz):%H:%M}, hora local. Lleve su "
            "credencial para votar vigente: el personal de la sede la revisa y le abre una sesión en un "
            "módulo de votación. No necesita claves de acceso."
        )
    else:
        sigue = (
            "Antes de que abra la votación por internet le enviaremos a este contacto sus claves de acceso. "
            f"Podrá votar del {fecha(proceso, cal.voto_electronico_inicio)} al "
            f"{fecha(proceso, cal.voto_electronico_fin)}."
        )
    mensaje = (
        "Usted quedó inscrita o inscrito en la Lista Nominal de Electores Residentes en el Extranjero de "
        f"{entidad} para {proceso.nombre}. Votará {MODALIDADES[s.modalidad]}.\n\n{sigue}"
    )
    return _aviso(s, s.referencia, "inscripcion", mensaje)


DOCUMENTOS = {
    "credencial_frente": "credencial para votar (frente)",
    "credencial_reverso": "credencial para votar (reverso)",
    "comprobante_domicilio": "comprobante de domicilio",
}


def describir(cambios: Mapping[str, Any]) -> list[str]:
    """Each change in words, new values masked (an address never in full)."""
    lineas = []
    if "modalidad" in cambios:
        lineas.append(f"{CAMPOS['modalidad']}: ahora {MODALIDADES.get(cambios['modalidad'], '')}".strip())
    for campo in ("email", "telefono"):
        if campo in cambios:
            valor = cambios[campo]
            lineas.append(f"{CAMPOS[campo]}: " + (f"ahora {enmascarar(valor)}" if valor else "se quitó"))
    if any(c in cambios for c in ("calle_numero", "ciudad", "region", "codigo_postal")):
        ciudad = cambios.get("ciudad")
        lineas.append(
            f"{CAMPOS['domicilio']}: se cambió"
            + (f" (ahora en {enmascarar_nombre(ciudad)})" if ciudad else "")
        )
    if "pais" in cambios:
        lineas.append(f"{CAMPOS['pais']}: ahora {cambios['pais']}")
    for campo in ("nombre", "apellido_paterno", "apellido_materno"):
        if campo in cambios:
            lineas.append(f"{CAMPOS[campo]}: se corrigió")
    if "documento" in cambios:
        lineas.append(
            f"Documento: {DOCUMENTOS.get(cambios['documento'], cambios['documento'])}, nuevo o reemplazado"
        )
    return lineas


def codigo(
    s: Solicitud, proceso: Proceso, codigo: str, cambios: Mapping[str, Any], vence: dt.datetime
) -> Aviso:
    que = "\n".join(f"- {linea}" for linea in describir(cambios)) or "- sin cambios de datos"
    mensaje = (
        f"Su código para confirmar un cambio en su solicitud a la LNERE es: {codigo}\n\n"
        f"Vale 10 minutos (hasta las {proceso.local(vence):%H:%M}, hora del Centro de México) y una sola "
        f"vez. El cambio pedido:\n{que}\n\n"
        "Si usted no lo pidió, no comparta este código con nadie: sin él no se cambia nada. "
        f"{SI_NO_FUE_USTED}"
    )
    return _aviso(s, s.referencia, "codigo_confirmacion", mensaje, secreto=True)


def cambio_aplicado(
    contacto_anterior: Mapping[str, Any],
    referencia: str,
    proceso: Proceso,
    cambios: Mapping[str, Any],
    ahora: dt.datetime,
    verificado: bool = False,
) -> Aviso:
    que = "\n".join(f"- {linea}" for linea in describir(cambios))
    como = (
        "El INE lo aplicó después de verificar su identidad."
        if verificado
        else "Se confirmó con el código que enviamos a este contacto."
    )
    mensaje = (
        f"El {fecha(proceso, ahora)} se cambiaron estos datos de su solicitud a la Lista Nominal de "
        f"Electores Residentes en el Extranjero:\n{que}\n\n{como} {SI_NO_FUE_USTED}"
    )
    return _aviso(contacto_anterior, referencia, "cambio_aplicado", mensaje, ambos=True)


def en_revision(s: Solicitud, proceso: Proceso, perdido: str, ahora: dt.datetime) -> Aviso:
    assert s.plazo_aclaracion is not None
    mensaje = (
        f"El {fecha(proceso, ahora)} se avisó que ya no hay acceso a {PERDIDO[perdido]} registrado en su "
        "solicitud a la Lista Nominal de Electores Residentes en el Extranjero. No se cambió ningún dato: la "
        "solicitud pasó a revisión del INE (en aclaración), que verificará la identidad de la persona antes "
        f"de cambiar sus datos de contacto. Comuníquese con INETEL a más tardar el "
        f"{fecha(proceso, s.plazo_aclaracion)}. {SI_NO_FUE_USTED}"
    )
    return _aviso(s, s.referencia, "cambio_en_revision", mensaje, ambos=True)
