"""registro use cases: (session, input) -> result. Stage events and audit records; never commit.

A module per concern; what the routes (``services/registro/api``) and tests use is re-exported here."""

from services.registro.service.cambios import (
    cambio_verificado,
    confirmar_cambio,
    pedir_cambio_modalidad,
    pedir_correccion,
    pedir_documento,
    sin_acceso,
)
from services.registro.service.comun import RechazoConEfecto, SolicitudDuplicada, obtener
from services.registro.service.documentos import MAX_DOCUMENTO, alertas, guardar_documento, tipo_por_contenido
from services.registro.service.estadisticas import estadisticas
from services.registro.service.importacion import COLUMNAS, cargar_lote
from services.registro.service.lnere import cerrar_lnere
from services.registro.service.observaciones import observar, resolver_observacion
from services.registro.service.revision import dar_de_baja, dictaminar, dictaminar_lote, pedir_aclaracion
from services.registro.service.solicitudes import reenviar_folio, solicitar

__all__ = [
    "COLUMNAS",
    "MAX_DOCUMENTO",
    "RechazoConEfecto",
    "SolicitudDuplicada",
    "alertas",
    "cambio_verificado",
    "cargar_lote",
    "cerrar_lnere",
    "confirmar_cambio",
    "dar_de_baja",
    "dictaminar",
    "dictaminar_lote",
    "estadisticas",
    "guardar_documento",
    "observar",
    "obtener",
    "pedir_aclaracion",
    "pedir_cambio_modalidad",
    "pedir_correccion",
    "pedir_documento",
    "reenviar_folio",
    "resolver_observacion",
    "sin_acceso",
    "solicitar",
    "tipo_por_contenido",
]
