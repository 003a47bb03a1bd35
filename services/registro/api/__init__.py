from services.registro import paginas
from services.registro.api import estadisticas, lnere, revision, solicitudes

routers = [solicitudes.router, revision.router, lnere.router, estadisticas.router, paginas.router]
