"""CloudEvents 1.0 envelopes as OTP 0.5x hosts publish them on ``wasmbus.evt.{lattice}``."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

EVENT_TYPE_PREFIX = "com.wasmcloud.lattice."


def event_subject(lattice: str) -> str:
    # The control topic-prefix override never applies to events.
    return "wasmbus.evt.%s" % lattice


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with microseconds and a ``Z`` suffix, e.g. 2022-09-29T14:03:11.284113Z."""
    moment = moment or datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cloud_event(name: str, source: str, data: dict[str, Any], *, event_id: str | None = None,
                time: str | None = None) -> bytes:
    """Encode one event; ``name`` is the short type (``actor_started``); id defaults to a uuid4."""
    envelope = {
        "specversion": "1.0",
        "type": EVENT_TYPE_PREFIX + name,
        "source": source,
        "id": event_id or str(uuid.uuid4()),
        "time": time or utc_timestamp(),
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")


def uptime_human(seconds: int) -> str:
    """Humanized duration in the style of the OTP host ("1 hour, 2 minutes, 5 seconds")."""
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    parts = []
    for unit, size in units:
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append("%d %s%s" % (amount, unit, "" if amount == 1 else "s"))
    return ", ".join(parts) or "0 seconds"
