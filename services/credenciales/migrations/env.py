from services.credenciales.config import Settings
from services.credenciales.models import Base
from shared.migrations import run_env

run_env(Base.metadata, Settings)
