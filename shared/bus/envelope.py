"""The event envelope every service publishes (CloudEvents words, outbox columns)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.observability import correlation_id_var


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    event_type: str = Field(
        description="<servicio>.<agregado>.<participio>, p. ej. registro.solicitud.recibida"
    )
    schema_version: int = 1
    source: str
    aggregate_id: str = Field(description="Llave del mensaje en Kafka: orden por agregado")
    aggregate_version: int = 1
    occurred_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def new(
        cls,
        *,
        event_type: str,
        source: str,
        aggregate_id: str,
        data: BaseModel | dict[str, Any],
        aggregate_version: int = 1,
        schema_version: int = 1,
        causation_id: str | None = None,
    ) -> Envelope:
        payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        return cls(
            event_type=event_type,
            source=source,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            schema_version=schema_version,
            correlation_id=correlation_id_var.get() or str(uuid.uuid4()),
            causation_id=causation_id,
            data=payload,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)
