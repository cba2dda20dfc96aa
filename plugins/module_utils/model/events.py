# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Control events and the expectations a command waits for.

Private to this collection; may change without notice.

Hosts acknowledge most commands before acting, so whether a start or stop
really happened is learnt from the event stream. Callers subscribe *before*
sending a command, then feed every event to an ``Expectation`` until it is
met, fails, or the deadline passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import _Plain

EVENT_TYPE_PREFIX = "com.wasmcloud.lattice."


@dataclass(frozen=True)
class LatticeEvent(_Plain):
    """One CloudEvent from the lattice; ``kind`` is the short type (actor_started)."""

    kind: str
    source: str
    data: Dict[str, Any] = field(default_factory=dict)
    id: str = ""
    time: str = ""

    def value(self, name: str, default: Any = "") -> Any:
        value = self.data.get(name, default)
        return default if value is None else value

    @property
    def public_key(self) -> str:
        return str(self.value("public_key"))

    @property
    def instance_id(self) -> str:
        return str(self.value("instance_id"))

    @property
    def error(self) -> str:
        return str(self.value("error") or self.value("reason"))


def matches_filter(event: LatticeEvent, kinds: Optional[List[str]] = None, source: Optional[str] = None,
                   data: Optional[Mapping[str, Any]] = None) -> bool:
    """The filter of the events module: any of ``kinds``, from ``source``, with these data fields."""
    if kinds and event.kind not in kinds:
        return False
    if source and event.source != source:
        return False
    for key, wanted in (data or {}).items():
        if key not in event.data or str(event.data[key]) != str(wanted):
            return False
    return True


class Expectation:
    """What a command waits for: ``feed`` events until ``done`` or ``failure``.

    ``progress()`` describes what has been reached so far, for timeouts.
    """

    description = "events"

    def __init__(self) -> None:
        self.failure: Optional[str] = None
        self.seen: List[LatticeEvent] = []

    @property
    def done(self) -> bool:
        raise NotImplementedError

    def feed(self, event: LatticeEvent) -> None:
        raise NotImplementedError

    def progress(self) -> Dict[str, Any]:
        return {"expected": self.description, "events": [event.to_dict() for event in self.seen]}


class CountEvents(Expectation):
    """Wait for ``count`` events that ``match`` (one per instance), failing on the
    first event that ``fails`` (its error text becomes the failure message)."""

    def __init__(self, description: str, count: int, match: Callable[[LatticeEvent], bool],
                 fails: Optional[Callable[[LatticeEvent], bool]] = None) -> None:
        super().__init__()
        self.description = description
        self.count = count
        self.match = match
        self.fails = fails
        self.matched = 0

    @property
    def done(self) -> bool:
        return self.matched >= self.count

    def feed(self, event: LatticeEvent) -> None:
        if self.done or self.failure:
            return
        if self.match(event):
            self.matched += 1
            self.seen.append(event)
        elif self.fails is not None and self.fails(event):
            self.seen.append(event)
            self.failure = "%s on host %s: %s" % (event.kind, event.source, event.error or "no reason given")

    def progress(self) -> Dict[str, Any]:
        result = super().progress()
        result.update(reached=self.matched, wanted=self.count)
        return result


class AllOf(Expectation):
    """Several expectations waited for together (e.g. one per host).

    ``description`` names only the parts still awaited, so a timeout says what is missing, not what arrived.
    """

    def __init__(self, parts: List[Expectation]) -> None:
        super().__init__()
        self.parts = parts

    @property  # type: ignore[override]
    def description(self) -> str:  # pylint: disable=invalid-overridden-method
        waiting = [part for part in self.parts if not part.done] or self.parts
        return "; ".join(part.description for part in waiting)

    @property
    def done(self) -> bool:
        return all(part.done for part in self.parts)

    def feed(self, event: LatticeEvent) -> None:
        for part in self.parts:
            part.feed(event)
            if part.failure and not self.failure:
                self.failure = part.failure

    def progress(self) -> Dict[str, Any]:
        return {"expected": "; ".join(part.description for part in self.parts),
                "parts": [part.progress() for part in self.parts]}
