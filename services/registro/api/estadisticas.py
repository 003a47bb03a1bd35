from __future__ import annotations

from fastapi import APIRouter

from services.registro import service as registro_service
from services.registro.schemas import Estadisticas
from shared.web import ProcesoDep, SessionDep

router = APIRouter(prefix="/v1", tags=["estadísticas"])


@router.get(
    "/estadisticas",
    summary="Cifras de solicitudes y de la LNERE (público)",
    description="Por entidad, país, modalidad, estado, sexo, rango de edad (a la fecha de la jornada) y día "
    "de recepción (hora del Centro). Las celdas con menos de 5 personas se suprimen (`null`), y si en una "
    "dimensión solo una quedaría oculta se oculta también la siguiente más pequeña, para que nadie pueda ser "
    "identificado restando del total.",
)
async def estadisticas(session: SessionDep, proceso: ProcesoDep) -> Estadisticas:
    return Estadisticas.model_validate(await registro_service.estadisticas(session, proceso))
