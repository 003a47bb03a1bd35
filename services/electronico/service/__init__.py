"""electronico use cases, one module per concern: elections and drills (``elecciones``), voters and their
credentials (``votantes``), opening (``apertura``), casting (``emision``), the public record
(``archivo_publico``), sealing and the tally (``sello``), public counts (``conteos``). Stage events; never
commit (the caller owns the transaction).

The names the routes, the event handlers, ``main``, tests and benchmarks use are re-exported here
(``service.abrir``…). A module-level setting (``TROZO``, ``LOTE_BOLETAS``, ``RECUENTO_EN_PARALELO``…) is read
where it is defined: change it there (``service.archivo_publico.TROZO``), not here."""

from services.electronico.service.apertura import abrir, clave_verificacion
from services.electronico.service.archivo_publico import (
    DatosArchivo,
    archivo,
    archivo_desde_la_base,
    archivo_guardado,
)
from services.electronico.service.conteos import boletas_contadas, participacion
from services.electronico.service.elecciones import (
    asegurar_elecciones,
    crear_simulacro,
    eleccion_belenios,
    eleccion_o_404,
    pregunta,
)
from services.electronico.service.emision import emitir
from services.electronico.service.sello import por_sellar, registrar_escrutinio, sellar
from services.electronico.service.votantes import (
    boleta_adicional,
    credenciales_emitidas,
    inscribir,
    inscribir_presencial,
    lista_firmada,
    registrar_voto_postal,
)

__all__ = [
    "DatosArchivo",
    "abrir",
    "archivo",
    "archivo_desde_la_base",
    "archivo_guardado",
    "asegurar_elecciones",
    "boleta_adicional",
    "boletas_contadas",
    "clave_verificacion",
    "crear_simulacro",
    "credenciales_emitidas",
    "eleccion_belenios",
    "eleccion_o_404",
    "emitir",
    "inscribir",
    "inscribir_presencial",
    "lista_firmada",
    "participacion",
    "por_sellar",
    "pregunta",
    "registrar_escrutinio",
    "registrar_voto_postal",
    "sellar",
]
