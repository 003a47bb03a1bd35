from services.registro import paginas
from services.registro.api import estadisticas, lnere, revision, sedes, solicitudes

routers = [
    solicitudes.router,
    revision.router,
    lnere.router,
    estadisticas.router,
    sedes.router,
    paginas.router,
]
