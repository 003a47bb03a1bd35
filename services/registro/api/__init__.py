from services.registro import paginas
from services.registro.api import estadisticas, lnere, probadores, revision, sedes, solicitudes

routers = [
    solicitudes.router,
    revision.router,
    lnere.router,
    estadisticas.router,
    sedes.router,
    probadores.router,
    paginas.router,
]
