from services.tablero.config import Settings
from services.tablero.models import Base
from shared.migrations import run_env

run_env(Base.metadata, Settings)
