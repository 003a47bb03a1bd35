"""Each service's settings as its own process would read them (its ``config.get_settings()``)."""

from __future__ import annotations

import importlib

from shared.settings import ServiceSettings


def service_settings(service: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{service}.config")
    settings: ServiceSettings = module.get_settings()
    return settings
