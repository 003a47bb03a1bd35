"""electronico's HTTP routes, a module per resource. ``routers`` keeps the order the routes are matched and
listed in the OpenAPI; ``ESTATICOS`` is the booth's static directory, mounted by ``main.py``."""

from services.electronico import paginas
from services.electronico.api import acceso, cabina, candidaturas, ceremonia, modulos, publico, votacion
from services.electronico.api.cabina import ESTATICOS

routers = [
    publico.router,
    acceso.router,
    votacion.router,
    ceremonia.router,
    candidaturas.router,
    modulos.router,
    cabina.paginas,
    paginas.router,
]

__all__ = ["ESTATICOS", "routers"]
