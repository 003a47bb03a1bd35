from sqlalchemy.orm import DeclarativeBase

from shared.bus.consumer import ProcessedEventMixin
from shared.bus.outbox import OutboxMixin
from shared.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass
