"""The authorization matrix: every route of every service × who may use it.

This table is the specification. ``tests/test_autorizacion.py`` walks every route of each app with every
kind of caller and checks the code against it (nothing reachable that the table does not grant, and no route
the table does not list); ``docs/autorizacion.md`` is its rendering (``python -m shared.autorizacion``), and a
test keeps the two equal.

Who calls (``Quien``):

- ``PUBLICO``: nobody in particular, no credentials.
- ``CIUDADANO_FOLIO``: a person with the folio of their application; the folio is the key (no other
  credential), so these routes are open to whoever holds the folio and answer 404 to anyone else. The folio
  is a secret of the applicant: it is shown only in the 201 of the application, in messages to the
  applicant's own contact and to INE operators; a change of data also needs the code sent to that contact.
- ``VOTANTE``: an internet voter's session (``Authorization: Bearer <sesion>`` from ``POST /v1/acceso``).
- a JWT role of ``shared.auth.Rol``; for ``opl``, ``OPL_PROPIA`` is a token of the entidad the request is
  about and ``OPL_OTRA`` a token of another entidad.
- ``TRANSPORTISTA``: a carrier, by the HMAC of the body with its own secret (``X-VMRE-Firma``, the scheme of
  ``shared/webhooks.py``: timestamped, 5 minutes' tolerance), checked before the body is parsed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shared.settings import SERVICES


class Quien(StrEnum):
    PUBLICO = "público"
    CIUDADANO_FOLIO = "ciudadanía (folio)"
    VOTANTE = "votante"
    INE_OPERADOR = "ine-operador"
    INE_ADMIN = "ine-admin"
    OPL_PROPIA = "opl (su entidad)"
    OPL_OTRA = "opl (otra entidad)"
    CUSTODIO = "custodio"
    AUDITOR = "auditor"
    PARTIDO = "partido"
    TRANSPORTISTA = "transportista"


class Acceso(StrEnum):
    """How a route decides who may use it."""

    PUBLICO = "público"
    FOLIO = "folio"  # public, scoped by the folio in the path
    VOTANTE = "sesión de votante"
    TRANSPORTISTA = "firma HMAC"
    ROL = "JWT"
    CONSOLA = "sesión de la consola"  # cookie of the OIDC sign-in (shared/consola.py), CSRF on every form
    RED_INTERNA = "red interna"  # production: its own port, which the NetworkPolicy opens to Prometheus only


TODOS = frozenset(Quien)


@dataclass(frozen=True)
class Regla:
    acceso: Acceso
    permitidos: frozenset[Quien]
    nota: str = ""


def publico(nota: str = "") -> Regla:
    return Regla(Acceso.PUBLICO, TODOS, nota)


def interna(nota: str = "") -> Regla:
    return Regla(Acceso.RED_INTERNA, TODOS, nota)


def folio(nota: str = "") -> Regla:
    return Regla(Acceso.FOLIO, TODOS, nota or "quien tiene el folio; otro folio: 404")


def votante(nota: str = "") -> Regla:
    return Regla(Acceso.VOTANTE, frozenset({Quien.VOTANTE}), nota)


def transportista(nota: str = "") -> Regla:
    return Regla(Acceso.TRANSPORTISTA, frozenset({Quien.TRANSPORTISTA}), nota)


def roles(*quienes: Quien, nota: str = "") -> Regla:
    return Regla(Acceso.ROL, frozenset(quienes), nota)


def consola(*quienes: Quien, nota: str = "") -> Regla:
    """A console screen: who signed in with one of these roles (the same as the API route it uses)."""
    return Regla(Acceso.CONSOLA, frozenset(quienes), nota)


def ingreso_consola(servicio: str) -> Matriz:
    """The sign-in routes of a service's console: anyone may start one; only the provider's answer, checked
    against the state, nonce and PKCE verifier of that browser's own start, signs somebody in."""
    base = f"/consola/{servicio}"
    return {
        ("GET", base + "/entrar"): publico("consola: lleva al proveedor de identidad (OIDC con PKCE)"),
        ("GET", base + "/autorizado"): publico("consola: vuelta del proveedor; state, nonce y PKCE"),
        ("POST", base + "/salir"): publico("consola: borra la sesión (con su token CSRF)"),
    }


Q = Quien
INE = (Q.INE_ADMIN, Q.INE_OPERADOR, Q.AUDITOR)
OPERADOR = (Q.INE_OPERADOR, Q.INE_ADMIN)
ADMIN = (Q.INE_ADMIN,)
# The reports a process ends with: INE's admin, the auditor, each OPL for its own entidad.
CIERRE = (Q.INE_ADMIN, Q.AUDITOR, Q.OPL_PROPIA)

Ruta = tuple[str, str]  # (METHOD, path template as FastAPI writes it)
Matriz = dict[Ruta, Regla]

# Every service: shared/web.py (operation, audit log, simulated clock) and FastAPI's own documentation pages.
COMUNES: Matriz = {
    ("GET", "/healthz"): publico(),
    ("GET", "/readyz"): publico(),
    ("GET", "/metrics"): interna(
        "producción: solo en VMRE_METRICAS_PUERTO, que la NetworkPolicy abre a Prometheus; "
        "local: puerto de la API"
    ),
    ("GET", "/openapi.json"): publico(),
    ("GET", "/docs"): publico(),
    ("GET", "/docs/oauth2-redirect"): publico(),
    ("GET", "/redoc"): publico(),
    ("GET", "/v1/auditoria"): roles(Q.AUDITOR, Q.INE_ADMIN),
    ("GET", "/v1/reloj"): publico("solo con VMRE_RELOJ=simulado"),
    ("PUT", "/v1/reloj"): roles(*ADMIN, nota="solo con VMRE_RELOJ=simulado"),
}

# shared/webhooks_api.py (computo and tablero).
WEBHOOKS: Matriz = {
    ("POST", "/v1/webhooks"): roles(Q.INE_ADMIN, Q.OPL_PROPIA, nota="opl: solo para su entidad"),
    ("GET", "/v1/webhooks"): roles(Q.INE_ADMIN, Q.OPL_PROPIA, Q.OPL_OTRA, nota="opl: ve solo los suyos"),
    ("DELETE", "/v1/webhooks/{id}"): roles(
        Q.INE_ADMIN, Q.OPL_PROPIA, Q.OPL_OTRA, nota="opl: solo los suyos (los de otra entidad: 404)"
    ),
    ("GET", "/v1/webhooks/entregas"): roles(
        Q.INE_ADMIN, Q.OPL_PROPIA, Q.OPL_OTRA, nota="opl: ve solo las suyas"
    ),
}

# The style sheet and script of the pages people fill in (shared/paginas), in each service that has them.
COMUN_PAGINAS: Matriz = {("GET", "/comun/{archivo}"): publico("estilo y script de las páginas")}

REGISTRO: Matriz = {
    **COMUN_PAGINAS,
    ("GET", "/inscripcion"): publico("página: formulario de inscripción"),
    ("POST", "/inscripcion/revisar"): publico("página: valida y muestra la revisión; no escribe"),
    ("POST", "/inscripcion/editar"): publico("página: vuelve al formulario con lo escrito; no escribe"),
    ("POST", "/inscripcion/enviar"): publico(
        "página: como POST /v1/solicitudes y sus documentos; duplicada: el folio va al contacto registrado"
    ),
    ("GET", "/mi-solicitud"): publico("página: pide el folio"),
    ("POST", "/mi-solicitud"): folio("página: estado, sin datos personales"),
    ("POST", "/mi-solicitud/corregir"): folio("página: no aplica nada; código al contacto registrado"),
    ("POST", "/mi-solicitud/modalidad"): folio("página: no aplica nada; código al contacto registrado"),
    ("POST", "/mi-solicitud/confirmar"): folio("página: aplica el cambio con el código recibido"),
    ("POST", "/mi-solicitud/documentos"): folio("página: como POST /v1/solicitudes/{folio}/documentos"),
    ("POST", "/v1/solicitudes"): publico("duplicada: 409 sin folio; el folio va al contacto registrado"),
    ("GET", "/v1/solicitudes/{folio}"): folio("sin datos personales"),
    ("PATCH", "/v1/solicitudes/{folio}"): folio("no aplica nada: código al contacto registrado (202)"),
    ("POST", "/v1/solicitudes/{folio}/modalidad"): folio(
        "no aplica nada: código al contacto registrado (202)"
    ),
    ("POST", "/v1/solicitudes/{folio}/confirmacion"): folio("aplica el cambio con el código recibido"),
    ("POST", "/v1/solicitudes/{folio}/sin-acceso"): folio("pasa a revisión del INE; no cambia datos"),
    ("POST", "/v1/solicitudes/{folio}/documentos"): folio(
        "tras la primera revisión o para reemplazar: no entra nada; código al contacto registrado (202)"
    ),
    ("GET", "/v1/catalogos/motivos"): publico(),
    ("GET", "/v1/catalogos/sedes"): publico(),
    ("POST", "/v1/sedes/{sede}/boletas-adicionales"): roles(
        Q.INE_OPERADOR, nota="solo el personal de esa sede (claim `sede` del token)"
    ),
    ("POST", "/v1/sedes/{sede}/consultas"): roles(
        Q.INE_OPERADOR, nota="solo el personal de esa sede; nombra solo a quien está en su lista"
    ),
    ("GET", "/v1/sedes/{sede}/boletas-adicionales"): roles(
        Q.INE_OPERADOR, Q.INE_ADMIN, Q.AUDITOR, nota="ine-operador: solo su sede"
    ),
    ("POST", "/v1/probadores"): roles(*ADMIN, nota="probadores de los simulacros: fuera de la LNERE"),
    ("GET", "/v1/probadores"): roles(*ADMIN, Q.AUDITOR, nota="solo cuentas por entidad"),
    ("GET", "/v1/estadisticas"): publico("celdas pequeñas suprimidas"),
    ("GET", "/v1/revision/cola"): roles(*OPERADOR),
    ("GET", "/v1/solicitudes/{folio}/expediente"): roles(*OPERADOR, nota="lectura registrada en la bitácora"),
    ("GET", "/v1/solicitudes/{folio}/documentos/{tipo}"): roles(
        *OPERADOR, nota="lectura registrada en la bitácora"
    ),
    ("POST", "/v1/solicitudes/{folio}/dictamen"): roles(*OPERADOR),
    ("POST", "/v1/solicitudes/dictamenes"): roles(*OPERADOR),
    ("POST", "/v1/solicitudes/{folio}/aclaracion"): roles(*OPERADOR),
    ("POST", "/v1/solicitudes/{folio}/baja"): roles(*OPERADOR),
    ("POST", "/v1/solicitudes/{folio}/cambio-verificado"): roles(
        *OPERADOR, nota="identidad verificada por el INE; sin código"
    ),
    ("POST", "/v1/solicitudes/lote"): roles(*OPERADOR),
    ("GET", "/v1/lnere/{entidad}"): roles(
        Q.PARTIDO, *INE, nota="nombres enmascarados; `referencia` opaca; folio solo para el INE operativo"
    ),
    ("POST", "/v1/lnere/{entidad}/observaciones"): roles(Q.PARTIDO, nota="por `referencia`"),
    ("GET", "/v1/lnere/{entidad}/observaciones"): roles(
        Q.PARTIDO, *INE, nota="un partido ve solo las suyas; folio solo para el INE operativo"
    ),
    ("POST", "/v1/observaciones/{observacion_id}/resolucion"): roles(*OPERADOR),
    ("POST", "/v1/lnere/{entidad}/cierre"): roles(*ADMIN),
    **ingreso_consola("registro"),
    ("GET", "/consola/registro/"): publico("consola: lleva a la cola de revisión"),
    ("GET", "/consola/registro/cola"): consola(*OPERADOR, nota="consola: como GET /v1/revision/cola"),
    ("GET", "/consola/registro/sede"): consola(Q.INE_OPERADOR, nota="consola: la entrada de su sede"),
    ("POST", "/consola/registro/sede"): consola(
        Q.INE_OPERADOR, nota="consola: como POST /v1/sedes/{sede}/consultas, en su sede"
    ),
    ("POST", "/consola/registro/sede/boleta"): consola(
        Q.INE_OPERADOR, nota="consola: como POST /v1/sedes/{sede}/boletas-adicionales, en su sede"
    ),
    ("POST", "/consola/registro/cola/lote"): consola(
        *OPERADOR, nota="consola: como POST /v1/solicitudes/dictamenes; token CSRF"
    ),
    ("GET", "/consola/registro/solicitudes/{folio}"): consola(
        *OPERADOR, nota="consola: como GET /v1/solicitudes/{folio}/expediente; lectura en la bitácora"
    ),
    ("GET", "/consola/registro/solicitudes/{folio}/documentos/{tipo}"): consola(
        *OPERADOR, nota="consola: como GET /v1/solicitudes/{folio}/documentos/{tipo}; inline, nosniff"
    ),
    ("POST", "/consola/registro/solicitudes/{folio}/dictamen"): consola(
        *OPERADOR, nota="consola: como POST /v1/solicitudes/{folio}/dictamen; token CSRF"
    ),
    ("POST", "/consola/registro/solicitudes/{folio}/aclaracion"): consola(
        *OPERADOR, nota="consola: como POST /v1/solicitudes/{folio}/aclaracion; token CSRF"
    ),
    ("POST", "/consola/registro/solicitudes/{folio}/baja"): consola(
        *OPERADOR, nota="consola: como POST /v1/solicitudes/{folio}/baja; token CSRF"
    ),
}

POSTAL: Matriz = {
    **COMUN_PAGINAS,
    **ingreso_consola("postal"),
    ("GET", "/consola/postal/"): publico("consola: lleva a la recepción de sobres"),
    ("GET", "/consola/postal/sobres"): consola(*OPERADOR, nota="consola: recepción de sobres"),
    ("POST", "/consola/postal/sobres"): consola(*OPERADOR, nota="consola: como POST /v1/sobres; token CSRF"),
    ("GET", "/consola/postal/mesas"): consola(*ADMIN, nota="consola: asignación de sobres a mesas"),
    ("POST", "/consola/postal/mesas"): consola(
        *ADMIN, nota="consola: como POST /v1/mesas/{entidad}/asignacion; token CSRF"
    ),
    ("GET", "/consola/postal/extemporaneos"): consola(
        *CIERRE, nota="consola: como GET /v1/extemporaneos/{entidad} y sus actas de destrucción"
    ),
    ("POST", "/consola/postal/extemporaneos"): consola(
        *ADMIN, nota="consola: como POST /v1/extemporaneos/{entidad}/destrucciones; token CSRF"
    ),
    ("GET", "/consola/postal/extemporaneos/{entidad}/destrucciones/{acta}.pdf"): consola(
        *CIERRE, nota="consola: como GET /v1/extemporaneos/{entidad}/destrucciones/{acta}.pdf"
    ),
    ("GET", "/mi-paquete"): publico("página: pide el folio (un folio en la consulta se ignora)"),
    ("POST", "/mi-paquete"): folio(
        "página: dónde está el paquete, si llegó el sobre y el plazo; sin datos personales"
    ),
    ("POST", "/v1/envios"): roles(*OPERADOR),
    ("POST", "/v1/paquetes/{entidad}/{numero}/reenvio"): roles(*OPERADOR),
    ("POST", "/v1/paquetes/{entidad}/{numero}/destruccion"): roles(*ADMIN),
    ("POST", "/v1/transportistas/{transportista}/eventos"): transportista(
        "cada transportista con su secreto; transportista desconocido: 404; firma de hace más de 5 minutos: "
        "401; demasiados rechazos desde una IP en un minuto: 429"
    ),
    ("POST", "/v1/sobres"): roles(*OPERADOR),
    ("POST", "/v1/mesas/{entidad}/asignacion"): roles(*ADMIN),
    ("GET", "/v1/paquetes/{folio}"): folio(),
    ("GET", "/v1/estadisticas"): publico(),
    ("GET", "/v1/en-transito"): roles(*INE, Q.OPL_PROPIA, nota="opl: `?entidad=` la suya (por omisión)"),
    ("POST", "/v1/avisos/retraso"): roles(*OPERADOR),
    ("GET", "/v1/extemporaneos/{entidad}"): roles(
        *CIERRE, nota="nombres completos solo para ine-admin; enmascarados para los demás"
    ),
    ("POST", "/v1/extemporaneos/{entidad}/destrucciones"): roles(*ADMIN),
    ("GET", "/v1/extemporaneos/{entidad}/destrucciones"): roles(*CIERRE),
    ("GET", "/v1/extemporaneos/{entidad}/destrucciones/{acta}.pdf"): roles(
        *CIERRE, nota="nombres completos solo para ine-admin; enmascarados para los demás"
    ),
    ("GET", "/v1/boletas/{entidad}/{cargo}"): publico("partidos y candidaturas aprobadas: públicos"),
    ("GET", "/v1/boletas/{entidad}/{cargo}.pdf"): publico(),
}

ELECTRONICO: Matriz = {
    ("GET", "/v1/elecciones"): publico(),
    ("GET", "/v1/elecciones/{uuid}"): publico(),
    ("GET", "/v1/elecciones/{uuid}/tablon"): publico("solo rastreadores"),
    ("GET", "/v1/elecciones/{uuid}/archivo.bel"): publico(),
    ("GET", "/v1/elecciones/{uuid}/pruebas-fuertes.json"): publico("404 antes del resultado"),
    ("GET", "/v1/elecciones/{uuid}/acta-apertura"): publico(),
    ("GET", "/v1/elecciones/{uuid}/ceremonia"): publico("mensajes públicos de la ceremonia"),
    ("GET", "/v1/clave-firma"): publico(),
    ("GET", "/v1/participacion"): publico("solo conteos por hora"),
    ("POST", "/v1/acceso/primer"): publico("el votante se identifica en el cuerpo; límite por conexión"),
    ("POST", "/v1/acceso/codigo"): publico("el votante se identifica en el cuerpo; límite por conexión"),
    ("POST", "/v1/acceso"): publico("el votante se identifica en el cuerpo; da la sesión de votante"),
    ("DELETE", "/v1/acceso"): publico("cierra la sesión presentada, si la hay; siempre 204"),
    ("GET", "/v1/votante"): votante(),
    ("POST", "/v1/elecciones/{uuid}/boletas"): votante(),
    ("PUT", "/v1/elecciones/{uuid}/ceremonia/{indice}/{paso}"): roles(Q.CUSTODIO),
    ("POST", "/v1/elecciones/{uuid}/apertura"): roles(*ADMIN),
    ("POST", "/v1/elecciones/{uuid}/cierre"): roles(*ADMIN),
    ("POST", "/v1/simulacros"): roles(*ADMIN),
    ("GET", "/v1/simulacros/informe"): roles(
        Q.INE_ADMIN, Q.AUDITOR, Q.OPL_PROPIA, nota="opl: solo su entidad; cuentas, nunca quién"
    ),
    ("GET", "/v1/candidaturas"): publico("las candidaturas de cada boleta: son públicas"),
    ("PUT", "/v1/candidaturas/{ambito}/{cargo}"): roles(
        Q.INE_ADMIN, Q.OPL_PROPIA, nota="opl: los cargos locales de su entidad; un cargo nacional: ine-admin"
    ),
    ("POST", "/v1/candidaturas/{ambito}/{cargo}/aprobacion"): roles(
        *ADMIN, nota="aprueba la huella revisada"
    ),
    ("POST", "/v1/modulo/{sede}/turnos"): roles(
        Q.INE_OPERADOR, nota="solo el personal de esa sede (claim `sede` del token)"
    ),
    ("POST", "/v1/modulo/turno"): publico(
        "el código del turno en el cuerpo, una vez; da la sesión y credenciales selladas a la sede"
    ),
    ("GET", "/modulo"): publico("el módulo de votación de una sede (página)"),
    **ingreso_consola("electronico"),
    ("GET", "/consola/electronico/turnos"): consola(Q.INE_OPERADOR, nota="consola: los turnos de su sede"),
    ("POST", "/consola/electronico/turnos"): consola(
        Q.INE_OPERADOR, nota="consola: como POST /v1/modulo/{sede}/turnos, en su sede"
    ),
    ("GET", "/cabina"): publico("la cabina de votación (página)"),
    ("GET", "/cabina/static/{archivo}"): publico("archivos de la cabina"),
    **COMUN_PAGINAS,
    ("GET", "/verificar"): publico("página: pide el acuse (un ?rastreador= en la URL se ignora)"),
    ("POST", "/verificar"): publico(
        "página: el acuse en el cuerpo → en el tablón o no, elección y hora; lo mismo que el tablón público"
    ),
}

COMPUTO: Matriz = {
    **COMUN_PAGINAS,
    **ingreso_consola("computo"),
    ("GET", "/consola/computo/"): publico("consola: lleva a las mesas"),
    ("GET", "/consola/computo/mesas"): consola(
        *INE, Q.OPL_PROPIA, Q.PARTIDO, nota="consola: como GET /v1/mesas (opl: su entidad)"
    ),
    ("GET", "/consola/computo/mesas/{entidad}/{mesa}"): consola(
        *INE, Q.OPL_PROPIA, Q.PARTIDO, nota="consola: la mesa y sus actas, como GET …/actas/{cargo}"
    ),
    ("POST", "/consola/computo/mesas/{entidad}/{mesa}/instalacion"): consola(
        *OPERADOR, nota="consola: como POST /v1/mesas/{entidad}/{mesa}/instalacion; token CSRF"
    ),
    ("POST", "/consola/computo/mesas/{entidad}/{mesa}/actas"): consola(
        *OPERADOR, nota="consola: como POST /v1/mesas/{entidad}/{mesa}/actas (doble captura); token CSRF"
    ),
    ("POST", "/consola/computo/mesas/{entidad}/{mesa}/actas/{cargo}/correccion"): consola(
        *ADMIN, nota="consola: como PUT /v1/mesas/{entidad}/{mesa}/actas/{cargo}; token CSRF"
    ),
    ("GET", "/consola/computo/computos/{entidad}"): consola(
        *INE, Q.OPL_PROPIA, Q.PARTIDO, nota="consola: el acta de cómputo y su firma verificada"
    ),
    ("GET", "/consola/computo/computos/{entidad}/acta.pdf"): consola(
        *INE, Q.OPL_PROPIA, Q.PARTIDO, nota="consola: como GET /v1/computos/{entidad}/acta.pdf"
    ),
    ("POST", "/consola/computo/computos/{entidad}/cierre"): consola(
        *ADMIN, nota="consola: como POST /v1/computos/{entidad}/cierre; token CSRF"
    ),
    ("GET", "/v1/mesas"): roles(*INE, Q.OPL_PROPIA, Q.PARTIDO, nota="opl: `?entidad=` la suya (por omisión)"),
    ("POST", "/v1/mesas/{entidad}/{mesa}/instalacion"): roles(*OPERADOR),
    ("POST", "/v1/mesas/{entidad}/{mesa}/actas"): roles(*OPERADOR, nota="doble captura"),
    ("PUT", "/v1/mesas/{entidad}/{mesa}/actas/{cargo}"): roles(*ADMIN),
    ("GET", "/v1/mesas/{entidad}/{mesa}/actas/{cargo}"): roles(*INE, Q.OPL_PROPIA, Q.PARTIDO),
    ("GET", "/v1/escrutinio-electronico/{eleccion}"): publico(),
    ("PUT", "/v1/escrutinio-electronico/{eleccion}/descifrados/{indice}"): roles(Q.CUSTODIO),
    ("POST", "/v1/escrutinio-electronico/{eleccion}/descifrados/{indice}/anulacion"): roles(*ADMIN),
    ("POST", "/v1/computos/{entidad}/cierre"): roles(*ADMIN),
    ("GET", "/v1/computos/{entidad}"): roles(*INE, Q.OPL_PROPIA, Q.PARTIDO, nota="404 antes del cierre"),
    ("GET", "/v1/computos/{entidad}/acta.csv"): roles(*INE, Q.OPL_PROPIA, Q.PARTIDO),
    ("GET", "/v1/computos/{entidad}/acta.pdf"): roles(*INE, Q.OPL_PROPIA, Q.PARTIDO),
    ("GET", "/v1/clave-firma"): publico(),
    **WEBHOOKS,
}

# The credential authority: only what is public (the private credentials never leave it but to each voter).
CREDENCIALES: Matriz = {
    ("GET", "/v1/elecciones"): publico("conteos por elección"),
    ("GET", "/v1/elecciones/{eleccion}/lista"): publico("404 antes de firmarse"),
    ("GET", "/v1/clave-firma"): publico(),
}

TABLERO: Matriz = {
    **COMUN_PAGINAS,
    **ingreso_consola("tablero"),
    ("GET", "/consola/tablero/"): publico("consola: lleva al panorama del proceso"),
    ("GET", "/consola/tablero/proceso"): consola(
        *ADMIN, nota="consola: panorama del proceso (calendario, elecciones, /readyz de cada servicio)"
    ),
    ("GET", "/consola/tablero/informe"): consola(
        *CIERRE, nota="consola: como GET /v1/informe-final.json; el opl, solo su entidad"
    ),
    ("GET", "/consola/tablero/informe.pdf"): consola(
        *CIERRE, nota="consola: como GET /v1/informe-final.pdf; el opl, solo su entidad"
    ),
    ("GET", "/v1/resumen"): publico(),
    ("GET", "/v1/tablero"): publico("solo conteos"),
    ("GET", "/v1/tablero/stream"): publico("Server-Sent Events"),
    ("GET", "/v1/datos-abiertos/esquema.json"): publico(),
    ("GET", "/v1/datos-abiertos/agregados.{formato}"): publico(),
    ("GET", "/v1/entidades/{entidad}/resumen"): roles(*INE, Q.OPL_PROPIA),
    ("GET", "/v1/entidades/{entidad}/cifras"): roles(*INE, Q.OPL_PROPIA),
    ("GET", "/v1/entidades/{entidad}/series/{serie}"): roles(*INE, Q.OPL_PROPIA),
    ("GET", "/v1/entidades/{entidad}/actas"): roles(*INE, Q.OPL_PROPIA),
    ("GET", "/v1/informe-final.json"): roles(Q.INE_ADMIN, Q.AUDITOR, nota="todas las entidades"),
    ("GET", "/v1/informe-final.pdf"): roles(Q.INE_ADMIN, Q.AUDITOR, nota="todas las entidades"),
    ("GET", "/v1/entidades/{entidad}/informe-final.{formato}"): roles(*CIERRE),
    ("GET", "/"): publico("el tablero en vivo (página)"),
    ("GET", "/static/{archivo}"): publico("archivos estáticos"),
    **WEBHOOKS,
}

POR_SERVICIO: dict[str, Matriz] = {
    "registro": REGISTRO,
    "postal": POSTAL,
    "electronico": ELECTRONICO,
    "computo": COMPUTO,
    "tablero": TABLERO,
    "credenciales": CREDENCIALES,
}
assert set(POR_SERVICIO) == set(SERVICES)


def matriz(servicio: str) -> Matriz:
    """Every route of ``servicio`` (the common ones included) and who may use it."""
    return {**COMUNES, **POR_SERVICIO[servicio]}


# --- Rendering ---------------------------------------------------------------------------------------------

ENCABEZADO = """\
# Matriz de autorización

<!-- Generado con `python -m shared.autorizacion > docs/autorizacion.md`; no lo edite a mano.
     La tabla vive en shared/autorizacion.py y tests/test_autorizacion.py la comprueba contra el código. -->

Cada ruta de cada servicio y quién puede usarla. La tabla está en el código (`shared/autorizacion.py`) y es
la especificación: `tests/test_autorizacion.py` recorre todas las rutas de las seis aplicaciones con cada
tipo de llamante y falla si algo es alcanzable sin que la tabla lo conceda (quien no tiene permiso recibe
401 sin credenciales válidas o 403 con un rol o una entidad que no corresponden), si quien tiene permiso
recibe 401 o 403, o si hay una ruta que la tabla no lista (o al revés).

Columnas:

- **público**: sin credenciales.
- **ciudadanía (folio)**: quien tiene el folio de su solicitud; el folio es la llave (con otro folio, 404).
- **votante**: la sesión de votante (`Authorization: Bearer <sesion>` de `POST /v1/acceso`).
- **ine-operador**, **ine-admin**, **custodio**, **auditor**, **partido**: el `rol` del JWT.
- **opl (su entidad)** / **opl (otra entidad)**: un token `opl` de la entidad de la que trata la petición
  (en la ruta, en `?entidad=` o en el cuerpo) o de otra.
- **transportista**: la firma HMAC-SHA256 del cuerpo con el secreto del transportista, con su hora dentro
  (`X-VMRE-Firma: t=<unix>,v1=<hex>`, el mismo esquema que los webhooks a los OPL; ver `shared/webhooks.py`).

`acceso` dice cómo decide la ruta: `público`, `folio`, `sesión de votante`, `firma HMAC`, `JWT` o `red
interna` (la red decide: en producción `/metrics` se sirve en su propio puerto, `VMRE_METRICAS_PUERTO`, que
la NetworkPolicy abre solo al namespace de Prometheus; el puerto de la API, que publica el gateway, no la
tiene).
✓: permitido; —: 401 o 403.

Excepción conocida: un cuerpo que no es JSON válido (p. ej. `{`) recibe 422 antes de revisar credenciales,
porque FastAPI lee el cuerpo antes de resolver las dependencias; también un texto con el carácter nulo
(U+0000) en la ruta, la consulta o el cuerpo JSON (la primera dependencia de cada ruta lo rechaza). No da
acceso a nada ni dice más de lo que ya publica `/openapi.json`.
"""

TITULOS = {
    "comunes": "Comunes a los seis servicios",
    "registro": "registro",
    "postal": "postal",
    "electronico": "electronico",
    "computo": "computo",
    "tablero": "tablero",
    "credenciales": "credenciales (autoridad de credenciales)",
}


def _tabla(filas: Iterable[tuple[Ruta, Regla]]) -> list[str]:
    columnas = ["método", "ruta", "acceso", *(q.value for q in Quien), "nota"]
    lineas = ["| " + " | ".join(columnas) + " |", "|" + "---|" * len(columnas)]
    orden = {m: i for i, m in enumerate(["GET", "POST", "PUT", "PATCH", "DELETE"])}
    for (metodo, ruta), regla in sorted(filas, key=lambda f: (f[0][1], orden.get(f[0][0], 9))):
        celdas = ["✓" if q in regla.permitidos else "—" for q in Quien]
        lineas.append(
            "| " + " | ".join([metodo, f"`{ruta}`", regla.acceso.value, *celdas, regla.nota]) + " |"
        )
    return lineas


def render() -> str:
    partes = [ENCABEZADO]
    for clave, filas in [("comunes", COMUNES), *POR_SERVICIO.items()]:
        partes.append(f"## {TITULOS[clave]}\n")
        if clave == "comunes":
            partes.append(
                "`/v1/reloj` existe solo con `VMRE_RELOJ=simulado` (simulacros locales). "
                "`/v1/auditoria` en los cinco.\n"
            )
        partes.append("\n".join(_tabla(filas.items())) + "\n")
    return "\n".join(partes)


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
