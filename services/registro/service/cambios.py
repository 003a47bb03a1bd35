"""registro · changes the applicant confirms with a code: corrections, change of modality, lost access;
and the change INE verifies."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registro import avisos, repository
from services.registro.domain import Estado
from services.registro.models import CambioPendiente, Documento, DocumentoPendiente, Notificacion, Solicitud
from services.registro.schemas import CambioModalidad, CambioVerificado, ConfirmacionIn, Correccion, SinAcceso
from services.registro.service.comun import (
    RechazoConEfecto,
    _al_historial,
    _exigir_estado,
    _exigir_lista_abierta,
    _para_cambio,
    _publicar_cambio,
    nueva_confirmacion,
    obtener,
)
from services.registro.service.documentos import agregar, exigir_que_recibe, revisar_archivo, sin_codigo
from services.registro.service.solicitudes import _enviado_a
from services.registro.service.validacion import (
    _error,
    errores_contacto,
    errores_modalidad,
    errores_sede,
)
from shared.auth import Principal
from shared.events import registro as eventos
from shared.notificaciones import destinos, encolar
from shared.problems import Problem
from shared.proceso import Proceso

# A change code: valid this long, this many wrong tries, and at most this many codes per application an hour.
CODIGO_VIGENCIA = dt.timedelta(minutes=10)
MAX_INTENTOS = 5
MAX_CODIGOS_POR_HORA = 5


DOMICILIO = ("calle_numero", "ciudad", "region", "codigo_postal")
# What a change may touch: columns of the application.
CAMBIABLES = (
    "nombre",
    "apellido_paterno",
    "apellido_materno",
    "pais",
    *DOMICILIO,
    "email",
    "telefono",
    "modalidad",
)
OBLIGATORIOS = ("nombre", "apellido_paterno", "pais")
CORRECCION, MODALIDAD, DOCUMENTO = "correccion", "modalidad", "documento"


def _valores(solicitud: Solicitud) -> dict[str, Any]:
    return {c: getattr(solicitud, c) for c in CAMBIABLES}


def _domicilio(valores: dict[str, Any]) -> dict[str, Any]:
    return {c: valores.get(c) for c in DOMICILIO}


def _plano(cambios: dict[str, Any]) -> dict[str, Any]:
    """A request body (only the fields sent) as column → new value: the address's fields are columns."""
    nuevos = dict(cambios)
    domicilio = nuevos.pop("domicilio", None)
    if domicilio:  # absent or null: the address stays as it is
        nuevos.update(domicilio)
    if "email" in nuevos and nuevos["email"] is not None:
        nuevos["email"] = str(nuevos["email"])
    if "apellido_materno" in nuevos and nuevos["apellido_materno"] is None:
        nuevos["apellido_materno"] = ""  # may be empty, never null
    return nuevos


def _campos(nuevos: Any) -> list[str]:
    """The changed fields for the audit log (no values): the address counts as one."""
    return sorted({"domicilio" if c in DOMICILIO else c for c in nuevos})


def _validar_resultado(solicitud: Solicitud, nuevos: dict[str, Any], texto: str) -> None:
    vacios = [c for c in OBLIGATORIOS if c in nuevos and not nuevos[c]]
    if vacios:
        raise Problem(
            422,
            "Revise estos campos: " + ", ".join(vacios) + ".",
            errors=[_error(c, "No puede quedar vacío.") for c in vacios],
        )
    resultado = {**_valores(solicitud), **nuevos}
    errores = errores_modalidad(
        resultado["modalidad"], _domicilio(resultado), resultado["email"], resultado["telefono"]
    )
    if errores:
        raise Problem(422, texto, errors=errores)
    sin_contacto = errores_contacto(resultado["email"], resultado["telefono"])
    if sin_contacto:
        raise Problem(
            422, "La solicitud debe conservar al menos un correo o un teléfono.", errors=sin_contacto
        )


async def _validar_cambio(
    session: AsyncSession,
    solicitud: Solicitud,
    tipo: str,
    nuevos: dict[str, Any],
    proceso: Proceso,
    ahora: dt.datetime,
) -> None:
    """The rules of a change: the same when it is asked for and when its code confirms it (state, deadline
    and LNERE close are checked again then)."""
    if tipo == CORRECCION:
        _exigir_estado(solicitud, "correccion", "corregir")
        await _exigir_lista_abierta(session, proceso, solicitud)
        if solicitud.plazo_aclaracion is None or ahora >= solicitud.plazo_aclaracion:
            limite = proceso.local(solicitud.plazo_aclaracion) if solicitud.plazo_aclaracion else None
            raise Problem(
                409,
                "El plazo para corregir esta solicitud ya venció"
                + (f" ({limite:%d/%m/%Y %H:%M}, hora del Centro)." if limite else "."),
                slug="plazo-vencido",
            )
        if not nuevos:
            raise Problem(
                422, "Envíe al menos un dato a corregir.", errors=[_error("cuerpo", "Sin cambios.")]
            )
        _validar_resultado(solicitud, nuevos, "La corrección deja incompletos los datos de su modalidad.")
    elif tipo == DOCUMENTO:
        await exigir_que_recibe(session, solicitud, proceso)
    else:
        _exigir_estado(solicitud, "cambio_modalidad", "cambiar la modalidad de")
        await _exigir_lista_abierta(session, proceso, solicitud)
        _modalidad_posible(proceso, nuevos["modalidad"], nuevos.get("sede"), ahora)
        _validar_resultado(solicitud, nuevos, "Faltan datos para la nueva modalidad.")


def _modalidad_posible(proceso: Proceso, modalidad: str, sede: str | None, ahora: dt.datetime) -> None:
    """A change to ``modalidad``: only before the LNERE cut, and only to one this process has (in person,
    with one of its sites)."""
    _antes_del_corte(proceso, ahora)
    if modalidad not in proceso.modalidades:
        raise Problem(
            422, "Modalidad no disponible en este proceso.", errors=[_error("modalidad", "No disponible.")]
        )
    if errores := errores_sede(modalidad, sede, proceso):
        raise Problem(422, "La sede no corresponde a la modalidad.", errors=errores)


def _antes_del_corte(proceso: Proceso, ahora: dt.datetime) -> None:
    if ahora >= proceso.calendario.cierre_lnere:
        raise Problem(
            409, "El cambio de modalidad solo procede antes del corte de la LNERE.", slug="plazo-vencido"
        )


def _hash_codigo(sal: str, codigo: str) -> str:
    return hmac.new(bytes.fromhex(sal), codigo.encode(), hashlib.sha256).hexdigest()


async def _anular_pendientes(
    session: AsyncSession, solicitud_id: int, ahora: dt.datetime, salvo: int | None = None
) -> None:
    """Unused codes of the application become void (a newer request, or a change applied meanwhile)."""
    await repository.anular_cambios(session, solicitud_id, ahora, salvo)


async def pedir_correccion(
    session: AsyncSession, folio: str, datos: Correccion, proceso: Proceso, ahora: dt.datetime
) -> tuple[CambioPendiente, list[str]]:
    """The citizen asks to correct within the deadline: nothing changes until the code confirms it."""
    nuevos = _plano(datos.model_dump(exclude_unset=True, mode="json"))
    return await _pedir_cambio(session, folio, CORRECCION, nuevos, proceso, ahora)


async def pedir_cambio_modalidad(
    session: AsyncSession, folio: str, datos: CambioModalidad, proceso: Proceso, ahora: dt.datetime
) -> tuple[CambioPendiente, list[str]]:
    nuevos: dict[str, Any] = {"modalidad": datos.modalidad, "sede": datos.sede}
    if datos.domicilio is not None:
        nuevos.update(datos.domicilio.model_dump(exclude_unset=True))
    if datos.email is not None:
        nuevos["email"] = str(datos.email)
    if datos.telefono is not None:
        nuevos["telefono"] = datos.telefono
    return await _pedir_cambio(session, folio, MODALIDAD, nuevos, proceso, ahora)


async def pedir_documento(
    session: AsyncSession, folio: str, tipo: str, contenido: bytes, proceso: Proceso, ahora: dt.datetime
) -> Documento | tuple[CambioPendiente, list[str]]:
    """A document for the application. One of its own, while it waits for its first review, joins at once
    (the Documento). Any other, after a review or replacing one, is held with a one-time code sent to the
    contact on file, as every change is (the pending change and where the code went): whoever learned the
    folio cannot swap the credential or the proof of address the review will read."""
    content_type = revisar_archivo(tipo, contenido)
    solicitud = await obtener(session, folio, para_actualizar=True)
    await exigir_que_recibe(session, solicitud, proceso)
    if await sin_codigo(session, solicitud, tipo):
        return await agregar(session, solicitud, tipo, content_type, contenido, ahora)
    cambio, enviado_a = await _pedir_cambio(session, folio, DOCUMENTO, {"documento": tipo}, proceso, ahora)
    session.add(
        DocumentoPendiente(
            cambio_id=cambio.id,
            tipo=tipo,
            content_type=content_type,
            tamano=len(contenido),
            sha256=hashlib.sha256(contenido).hexdigest(),
            contenido=contenido,
        )
    )
    await session.flush()
    return cambio, enviado_a


async def _pedir_cambio(
    session: AsyncSession, folio: str, tipo: str, nuevos: dict[str, Any], proceso: Proceso, ahora: dt.datetime
) -> tuple[CambioPendiente, list[str]]:
    """Validate the change as if applying it, keep it pending and send a one-time code to the contact
    already on file (never to a new one). Returns the pending change and where the code went (masked)."""
    solicitud = await obtener(session, folio, para_actualizar=True)
    await _validar_cambio(session, solicitud, tipo, nuevos, proceso, ahora)
    if not (solicitud.email or solicitud.telefono):
        raise Problem(
            409,
            "La solicitud no tiene correo ni teléfono registrados a dónde enviar el código de confirmación: "
            "avise con POST /v1/solicitudes/{folio}/sin-acceso o comuníquese con INETEL.",
            slug="sin-contacto",
        )
    hora = ahora - dt.timedelta(hours=1)
    recientes, primero = await repository.cambios_desde(session, solicitud.id, hora)
    if recientes >= MAX_CODIGOS_POR_HORA:
        assert primero is not None  # there are some
        espera = max(1, int((primero - hora).total_seconds()) + 1)
        raise Problem(
            429,
            f"Ya se enviaron {MAX_CODIGOS_POR_HORA} códigos para cambios de esta solicitud en la última "
            f"hora. Use el último que recibió o espere {espera // 60 + 1} minutos para pedir otro.",
            slug="demasiados-codigos",
            headers={"Retry-After": str(espera)},
        )
    await _anular_pendientes(session, solicitud.id, ahora)  # only the newest request can be confirmed
    codigo = f"{secrets.randbelow(10**6):06d}"
    sal = secrets.token_hex(16)
    vence = ahora + CODIGO_VIGENCIA
    aviso = avisos.codigo(solicitud, proceso, codigo, nuevos, vence)
    canal = destinos(aviso)[0][0]
    cambio = CambioPendiente(
        confirmacion=nueva_confirmacion(),
        solicitud_id=solicitud.id,
        tipo=tipo,
        cambio=json.dumps(nuevos, ensure_ascii=False),
        codigo_hash=_hash_codigo(sal, codigo),
        sal=sal,
        canal=canal,
        intentos=0,
        expira_at=vence,
        creado_at=ahora,
    )
    session.add(cambio)
    await session.flush()
    await encolar(session, Notificacion, [aviso], ahora)
    await _al_historial(
        session,
        folio,
        None,
        "cambio_pedido",
        ahora,
        tipo=tipo,
        campos=_campos(nuevos),
        canal=canal,
        confirmacion=cambio.confirmacion,
    )
    return cambio, _enviado_a(aviso)


def _exigir_vigente(cambio: CambioPendiente, ahora: dt.datetime) -> None:
    if cambio.usado_at is not None:
        raise Problem(
            409,
            "Este código ya se usó: el cambio ya se aplicó. Si necesita otro cambio, pídalo de nuevo.",
            slug="confirmacion-usada",
        )
    if cambio.anulado_at is not None:
        raise Problem(
            409,
            "Esta confirmación quedó anulada: se pidió otro cambio después, o la solicitud cambió o pasó a "
            "revisión del INE. Use el código del mensaje más reciente o pida el cambio de nuevo.",
            slug="confirmacion-anulada",
        )
    if cambio.intentos >= MAX_INTENTOS:
        raise Problem(
            409,
            f"Se agotaron los {MAX_INTENTOS} intentos: esta confirmación quedó anulada. Pida el cambio de "
            "nuevo para recibir otro código.",
            slug="confirmacion-bloqueada",
        )
    if ahora >= cambio.expira_at:
        raise Problem(
            409,
            f"El código venció (vale {int(CODIGO_VIGENCIA.total_seconds() // 60)} minutos). Pida el cambio "
            "de nuevo para recibir otro código.",
            slug="confirmacion-vencida",
        )


async def confirmar_cambio(
    session: AsyncSession, folio: str, datos: ConfirmacionIn, proceso: Proceso, ahora: dt.datetime
) -> Solicitud:
    """Apply a pending change with the code sent to the contact on file: once, within 10 minutes, at most 5
    wrong tries. Race-free: the attempt and the use are conditional UPDATEs of the pending change's row (of
    many simultaneous confirmations one applies; of many wrong codes exactly ``MAX_INTENTOS`` count). A wrong
    code raises ``RechazoConEfecto``: the caller commits the counted try and answers its problem.

    The application is locked first, as a new request for a change locks it before voiding the pending
    codes: taking the two rows in the other order, a confirmation and a newer request at once would deadlock
    on PostgreSQL. Whichever comes first, the other sees its outcome (a used code, or a voided one)."""
    solicitud = await obtener(session, folio, para_actualizar=True)
    cambio = await repository.cambio_por_confirmacion(session, solicitud.id, datos.confirmacion)
    if cambio is None:
        raise Problem(
            404,
            "No hay ningún cambio por confirmar con ese identificador para esta solicitud.",
            errors=[
                _error("confirmacion", "Use el valor `confirmacion` de la respuesta a su pedido de cambio.")
            ],
        )
    _exigir_vigente(cambio, ahora)
    if not hmac.compare_digest(_hash_codigo(cambio.sal, datos.codigo), cambio.codigo_hash):
        intentos = await repository.contar_intento(session, cambio.id, ahora, MAX_INTENTOS)
        if intentos is None:  # used, voided or blocked meanwhile
            _exigir_vigente(await repository.cambio_releido(session, cambio.id), ahora)
            raise Problem(409, "Esta confirmación ya no es válida.", slug="confirmacion-anulada")
        restantes = MAX_INTENTOS - intentos
        await _al_historial(
            session, folio, None, "codigo_incorrecto", ahora, confirmacion=cambio.confirmacion
        )
        if restantes > 0:
            raise RechazoConEfecto(
                Problem(
                    422,
                    f"El código no es correcto. Le quedan {restantes} intento(s).",
                    slug="codigo-incorrecto",
                    errors=[_error("codigo", f"Código incorrecto; le quedan {restantes} intento(s).")],
                    intentos_restantes=restantes,
                )
            )
        raise RechazoConEfecto(
            Problem(
                409,
                f"El código no es correcto y se agotaron los {MAX_INTENTOS} intentos: esta confirmación "
                "quedó anulada y no se cambió nada. Pida el cambio de nuevo para recibir otro código.",
                slug="confirmacion-bloqueada",
                intentos_restantes=0,
            )
        )
    if not await repository.usar_cambio(session, cambio.id, ahora, MAX_INTENTOS):
        _exigir_vigente(await repository.cambio_releido(session, cambio.id), ahora)
        raise Problem(409, "Esta confirmación ya no es válida.", slug="confirmacion-anulada")
    # Fresh and locked: the state and the list may have changed since the change was asked for (on SQLite,
    # read again now that this transaction writes). A refusal here rolls the use back (the code stays valid
    # until it expires).
    solicitud = await obtener(session, folio, para_actualizar=True)
    nuevos: dict[str, Any] = json.loads(cambio.cambio)
    await _validar_cambio(session, solicitud, cambio.tipo, nuevos, proceso, ahora)
    anterior = {"email": solicitud.email, "telefono": solicitud.telefono}
    anterior_modalidad = solicitud.modalidad
    if cambio.tipo == DOCUMENTO:
        pendiente = await repository.documento_pendiente(session, cambio.id)
        if pendiente is None:  # deleted by a newer request that was rolled back: never applied half
            raise Problem(409, "Esta confirmación ya no es válida.", slug="confirmacion-anulada")
        await agregar(session, solicitud, pendiente.tipo, pendiente.content_type, pendiente.contenido, ahora)
        await session.delete(pendiente)
        cambiados = nuevos
    else:
        cambiados = _aplicar(solicitud, nuevos)
    if cambio.tipo == CORRECCION:
        await _volver_a_revision(session, solicitud, nuevos, ahora)
    elif cambio.tipo == MODALIDAD:
        await _publicar_modalidad(session, solicitud, anterior_modalidad, ahora)
    await _al_historial(
        session,
        folio,
        None,
        "cambio_confirmado",
        ahora,
        tipo=cambio.tipo,
        campos=_campos(cambiados),
        canal=cambio.canal,
        confirmacion=cambio.confirmacion,
    )
    await _anular_pendientes(session, solicitud.id, ahora, salvo=cambio.id)
    aviso = avisos.cambio_aplicado(anterior, solicitud.referencia, proceso, cambiados or nuevos, ahora)
    await encolar(session, Notificacion, [aviso], ahora)
    return solicitud


def _aplicar(solicitud: Solicitud, nuevos: dict[str, Any]) -> dict[str, Any]:
    """Set the new values; returns those that differ from before."""
    cambiados: dict[str, Any] = {}
    for campo, valor in nuevos.items():
        if getattr(solicitud, campo) != valor:
            cambiados[campo] = valor
        setattr(solicitud, campo, valor)
    return cambiados


async def _volver_a_revision(
    session: AsyncSession, solicitud: Solicitud, nuevos: dict[str, Any], ahora: dt.datetime
) -> None:
    """A correction sends the application back to review (recibida)."""
    solicitud.estado = Estado.RECIBIDA.value
    solicitud.motivos = []
    solicitud.plazo_aclaracion = None
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_CORREGIDA, ahora)
    await _al_historial(session, solicitud.folio, None, "correccion", ahora, campos=_campos(nuevos))


async def _publicar_modalidad(
    session: AsyncSession, solicitud: Solicitud, anterior_modalidad: str, ahora: dt.datetime
) -> None:
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_MODALIDAD_CAMBIADA, ahora)
    await _al_historial(
        session,
        solicitud.folio,
        None,
        "cambio_modalidad",
        ahora,
        anterior=anterior_modalidad,
        nueva=solicitud.modalidad,
    )


async def sin_acceso(
    session: AsyncSession, folio: str, datos: SinAcceso, proceso: Proceso, ahora: dt.datetime
) -> Solicitud:
    """The applicant lost the contact on file, so no code can confirm a change: the application goes to INE
    review (en_aclaración, motivo ``contacto_inaccesible``) and nothing changes; the contact on file is told.
    Saying it again changes nothing and sends nothing."""
    solicitud = await _para_cambio(session, folio, proceso, "sin_acceso", "pasar a revisión del INE")
    if solicitud.estado == Estado.EN_ACLARACION.value and "contacto_inaccesible" in solicitud.motivos:
        return solicitud
    solicitud.estado = Estado.EN_ACLARACION.value
    solicitud.motivos = list(dict.fromkeys([*solicitud.motivos, "contacto_inaccesible"]))
    plazo = ahora + dt.timedelta(days=proceso.calendario.aclaracion_dias)
    if solicitud.plazo_aclaracion is None or solicitud.plazo_aclaracion < plazo:
        solicitud.plazo_aclaracion = plazo
    await _anular_pendientes(session, solicitud.id, ahora)
    await _publicar_cambio(session, solicitud, eventos.SOLICITUD_ACLARACION_SOLICITADA, ahora)
    await _al_historial(
        session, folio, None, "sin_acceso", ahora, perdido=datos.perdido, motivos=solicitud.motivos
    )
    await encolar(
        session, Notificacion, [avisos.en_revision(solicitud, proceso, datos.perdido, ahora)], ahora
    )
    return solicitud


async def cambio_verificado(
    session: AsyncSession,
    folio: str,
    datos: CambioVerificado,
    proceso: Proceso,
    operador: Principal,
    ahora: dt.datetime,
) -> Solicitud:
    """INE applies a change after verifying the person by other means (they lost the contact on file): no
    code; the same data rules; audited with the operator; the contacts before and after are told. Clears
    ``contacto_inaccesible``; an application left in aclaración without motivos goes back to review."""
    solicitud = await _para_cambio(session, folio, proceso, "cambio_verificado", "cambiar los datos de")
    nuevos = _plano(datos.model_dump(exclude_unset=True, exclude={"verificacion"}, mode="json"))
    if not nuevos:
        raise Problem(422, "Envíe al menos un dato a cambiar.", errors=[_error("cuerpo", "Sin cambios.")])
    if "modalidad" in nuevos and nuevos["modalidad"] is None:
        del nuevos["modalidad"]
    if "modalidad" in nuevos and nuevos["modalidad"] != "presencial":
        nuevos["sede"] = None
    if "sede" in nuevos and nuevos["sede"] is None and "modalidad" not in nuevos:
        del nuevos["sede"]
    modalidad, sede = nuevos.get("modalidad", solicitud.modalidad), nuevos.get("sede", solicitud.sede)
    if (modalidad, sede) != (solicitud.modalidad, solicitud.sede):
        _modalidad_posible(proceso, modalidad, sede, ahora)
    _validar_resultado(solicitud, nuevos, "El cambio deja incompletos los datos de la modalidad.")
    anterior = {"email": solicitud.email, "telefono": solicitud.telefono}
    anterior_modalidad = solicitud.modalidad
    cambiados = _aplicar(solicitud, nuevos)
    if "contacto_inaccesible" in solicitud.motivos:
        solicitud.motivos = [m for m in solicitud.motivos if m != "contacto_inaccesible"]
        if solicitud.estado == Estado.EN_ACLARACION.value and not solicitud.motivos:
            solicitud.estado = Estado.RECIBIDA.value
            solicitud.plazo_aclaracion = None
    evento = (
        eventos.SOLICITUD_MODALIDAD_CAMBIADA
        if solicitud.modalidad != anterior_modalidad
        else eventos.SOLICITUD_CORREGIDA
    )
    await _publicar_cambio(session, solicitud, evento, ahora)
    await _al_historial(
        session,
        folio,
        operador,
        "cambio_verificado",
        ahora,
        campos=_campos(cambiados),
        verificacion=datos.verificacion,
        **(
            {"anterior": anterior_modalidad, "nueva": solicitud.modalidad} if "modalidad" in cambiados else {}
        ),
    )
    await _anular_pendientes(session, solicitud.id, ahora)
    descritos = cambiados or nuevos
    mensajes = [avisos.cambio_aplicado(anterior, solicitud.referencia, proceso, descritos, ahora, True)]
    nuevo_contacto = {
        c: v for c, v in (("email", solicitud.email), ("telefono", solicitud.telefono)) if v != anterior[c]
    }
    if nuevo_contacto:  # the verified person's new contact hears it too
        mensajes.append(
            avisos.cambio_aplicado(nuevo_contacto, solicitud.referencia, proceso, descritos, ahora, True)
        )
    await encolar(session, Notificacion, mensajes, ahora)
    return solicitud
