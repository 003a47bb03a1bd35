from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.registro import service as registro_service
from shared.web import ProcesoDep, SessionDep

router = APIRouter(prefix="/v1", tags=["estadísticas"])


@router.get(
    "/estadisticas",
    summary="Cifras de solicitudes y de la LNERE (público)",
    description="Por entidad, país, modalidad, estado, sexo, rango de edad (a la fecha de la jornada) y día "
    "de recepción (hora del Centro). Las celdas con menos de 5 personas se suprimen (`null`), y si en una "
    "dimensión solo una quedaría oculta se oculta también la siguiente más pequeña, para que nadie pueda ser "
    "identificado restando del total.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "proceso": "pel2021",
                        "celda_minima": 5,
                        "solicitudes": {
                            "total": 120,
                            "por_entidad": {"09": 80, "14": 40},
                            "por_pais": {"US": 115, "CA": None},
                        },
                        "lnere": {"total": 0},
                    }
                }
            }
        }
    },
)
async def estadisticas(session: SessionDep, proceso: ProcesoDep) -> dict[str, Any]:
    return await registro_service.estadisticas(session, proceso)
