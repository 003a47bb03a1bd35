from services.postal.config import Settings
from services.postal.models import Base
from shared.migrations import run_env

run_env(Base.metadata, Settings)
