# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""When host discovery and auctions stop listening for replies (pure; see docs/discovery.md).

Private to this collection; may change without notice.

A discovery or auction publishes one request and every host that is there (or that bids) answers;
nothing on the wire says how many will. The reference client listens for the whole
``auction_timeout`` window (2 s). This collection ends sooner when it can tell that nobody is left:

* **the record of recently seen hosts** (``host_record``): once every host it expects has
  answered, listening ends a grace later (``grace_after_expected``: as long again as they took, between
  ``GRACE_MIN`` and ``GRACE_MAX``, so a new host answering about as fast is found) (or once replies from hosts it did not
  expect pause, see below); while one of them has not answered, it listens up to the window;
* **no record** (first discovery of a lattice from here, or a record gone stale): after the first
  reply it listens for at least ``FLOOR_AFTER_FIRST`` seconds (measured from that reply, so a slow
  network path shifts it), then ends once no reply has come for ``QUIET_FACTOR`` times the largest
  gap between the recent replies (the last ``RECENT`` gaps), kept between ``QUIET_MIN`` and
  ``QUIET_MAX``: while replies still trickle in, it keeps listening. Before it ends so, the client
  asks the host that answered last for its inventory (``may_probe``): an answer slower than
  ``paused`` says the lattice (or the server between) is paused rather than done, and listening goes
  on for ``QUIET_MAX`` past that answer (``held``), at most ``MAX_PROBES`` times;
* ``complete``: the whole window, whatever the record says; for operations that act on every
  matching host (a host that was never seen cannot be expected);
* never beyond the window.

``discovery_stall`` replaces the record and the early finish with a fixed rule: end once no reply
has come for that many seconds (counted from the request until the first reply), never beyond the
window.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

FLOOR_AFTER_FIRST = 0.35
QUIET_FACTOR = 1.5
QUIET_MIN = 0.05
QUIET_MAX = 0.25
RECENT = 8
GRACE_MIN = 0.02
GRACE_MAX = 0.05
MAX_PROBES = 3
PROBE_SLACK = 0.05  # a probe answered within twice the first reply's time plus this: nothing is paused

# Why a listening ended (``Listening.deadline``):
WINDOW = "window"  # the whole window (or every host it asked has said there is nobody: no responders)
EXPECTED = "expected"  # every host the record expects had answered, plus the grace
STALL = "stall"  # replies paused (the early-finish rule, or discovery_stall)


def grace_after_expected(all_expected_at: float) -> float:
    """How long to go on listening once every expected host has answered (``all_expected_at`` seconds after the
    request): a host the record does not know yet answers about as fast as they did."""
    return min(GRACE_MAX, max(GRACE_MIN, all_expected_at))


def quiet_period(arrivals: Sequence[float]) -> float:
    """How long a pause in replies ends the listening, from the gaps between the recent ones."""
    recent = arrivals[-(RECENT + 1):]
    largest = max((later - earlier for earlier, later in zip(recent, recent[1:])), default=0.0)
    return min(QUIET_MAX, max(QUIET_MIN, QUIET_FACTOR * largest))


class Listening:
    """One discovery or auction in progress: the replies so far, and when to stop listening.

    Times are seconds after the request. ``expected`` are the host IDs the record of recently seen
    hosts expects to answer (empty: no record). Pure: fed by ``heard``, asked by ``deadline``.
    """

    def __init__(self, window: float, stall: Optional[float] = None, expected: Iterable[str] = (),
                 complete: bool = False) -> None:
        self.window = window
        self.stall = stall
        self.complete = complete
        self.expected: FrozenSet[str] = frozenset(expected)
        self.arrivals: List[float] = []
        self.answered: Dict[str, float] = {}  # host ID -> when it first answered
        self._waiting_for = set(self.expected)
        self.all_expected_at: Optional[float] = None  # when the last expected host answered
        self._last_unexpected: Optional[float] = None  # the last reply from a host the record did not know
        self._held_until: Optional[float] = None  # a probe found the lattice paused until then
        self.probes = 0

    def heard(self, at: float, host_id: Optional[str] = None) -> None:
        """A reply came ``at`` seconds after the request, from ``host_id`` when it could be read."""
        self.arrivals.append(at)
        if host_id not in self.expected:
            self._last_unexpected = at
        if host_id is None or host_id in self.answered:
            return
        self.answered[host_id] = at
        if host_id in self._waiting_for:
            self._waiting_for.discard(host_id)
            if not self._waiting_for:
                self.all_expected_at = at

    @property
    def may_probe(self) -> bool:
        """Whether to look, before ending by the early finish without a record, if the lattice is only paused."""
        return (self.stall is None and not self.expected and not self.complete and bool(self.answered)
                and self.probes < MAX_PROBES)

    def paused(self, asked_at: float, answered_at: float) -> bool:
        """A probe asked at ``asked_at`` was answered at ``answered_at``: True (and listening goes on) when it
        took much longer than the first reply did, so the lattice was paused rather than done."""
        self.probes += 1
        if answered_at - asked_at <= 2 * self.arrivals[0] + PROBE_SLACK:
            return False
        self._held_until = answered_at
        return True

    @property
    def missing(self) -> FrozenSet[str]:
        """Expected hosts that have not answered (yet)."""
        return frozenset(self._waiting_for)

    def until(self) -> float:
        return self.deadline()[0]

    def deadline(self) -> Tuple[float, str]:
        """(seconds after the request at which to stop unless another reply comes first, why then)."""
        end, why = self._end()
        if end >= self.window:
            return self.window, WINDOW
        return end, why

    def _end(self) -> Tuple[float, str]:
        arrivals = self.arrivals
        if self.complete:
            return self.window, WINDOW
        if self.stall is not None:
            return (arrivals[-1] if arrivals else 0.0) + self.stall, STALL
        if self.expected:
            if self._waiting_for or self.all_expected_at is None:
                return self.window, WINDOW
            end = self.all_expected_at + grace_after_expected(self.all_expected_at)
            if self._last_unexpected is not None:
                # hosts the record did not know keep it open as long as their replies keep coming
                end = max(end, self._last_unexpected + quiet_period(arrivals))
            return end, EXPECTED
        if not arrivals:
            return self.window, WINDOW
        end = max(arrivals[0] + FLOOR_AFTER_FIRST, arrivals[-1] + quiet_period(arrivals))
        if self._held_until is not None:
            end = max(end, self._held_until + QUIET_MAX)
        return end, STALL


def listen_until(arrivals: Sequence[float], window: float, stall: Optional[float] = None) -> float:
    """Seconds after the request at which to stop listening, without a record of expected hosts.

    ``arrivals`` are the reply times so far, in seconds after the request, ascending.
    """
    listening = Listening(window, stall)
    for at in arrivals:
        listening.heard(at)
    return listening.until()
