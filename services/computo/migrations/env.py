from services.computo.config import Settings
from services.computo.models import Base
from shared.migrations import run_env

run_env(Base.metadata, Settings)
