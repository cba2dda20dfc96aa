"""How 1.x hosts shape their lattice events: one subject per event type, ULID ids, humantime uptimes."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from ..cloudevents import cloud_event


def event_subject(lattice: str, name: str) -> str:
    # Events never use the control topic prefix; the event type is the last token.
    return "wasmbus.evt.%s.%s" % (lattice, name)


def ulid_uuid() -> str:
    """A ULID (48-bit millisecond time, 80 random bits) written as a UUID, so ids sort by time."""
    millis = int(time.time() * 1000) & ((1 << 48) - 1)
    return str(uuid.UUID(int=(millis << 80) | int.from_bytes(os.urandom(10), "big")))


def rfc3339_now() -> str:
    """UTC with milliseconds and a ``Z`` suffix, e.g. 2024-07-01T12:00:03.512Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def encode_event(name: str, host_id: str, data: dict[str, Any]) -> bytes:
    return cloud_event(name, host_id, data, event_id=ulid_uuid(), time=rfc3339_now())


def uptime_human(seconds: int) -> str:
    """Whole-second durations as the host's humantime formatting prints them: ``1day 3h 5m 2s``, ``0s``."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append("%dday%s" % (days, "" if days == 1 else "s"))
    parts.extend("%d%s" % (amount, unit) for amount, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if amount)
    return " ".join(parts) or "0s"
