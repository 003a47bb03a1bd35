from services.registro.config import Settings
from services.registro.models import Base
from shared.migrations import run_env

run_env(Base.metadata, Settings)
