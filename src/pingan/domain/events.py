"""Domain events: facts the rest of the system reacts to, written to the outbox with the change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """`type` is dotted (`case.filed`); `unit_path` routes it to the jurisdictions that see it."""

    type: str
    aggregate_id: int
    unit_path: str
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
