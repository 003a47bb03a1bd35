from services.electronico.config import Settings
from services.electronico.models import Base
from shared.migrations import run_env

run_env(Base.metadata, Settings)
