# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""When host discovery and auctions stop listening for replies (pure; see docs/discovery.md).

Private to this collection; may change without notice.

A discovery or auction publishes one request and every host that is there (or that bids) answers;
nothing says how many will. The reference client listens for the whole ``auction_timeout`` window
(2 s). By default this collection ends soon after the last host has answered instead:

* with no reply yet, it keeps listening until the window ends;
* after the first reply it listens for at least ``FLOOR_AFTER_FIRST`` seconds (measured from that
  reply, so a slow network path shifts it), so a host answering up to that much later than the first
  one is never missed, however alone it is;
* past that, it ends once no reply has come for ``QUIET_FACTOR`` times the largest gap between the
  recent replies (the last ``RECENT`` gaps), kept between ``QUIET_MIN`` and ``QUIET_MAX``: while
  replies still trickle in, it keeps listening;
* never beyond the window.

``discovery_stall`` replaces this with a fixed rule: end once no reply has come for that many
seconds (counted from the request until the first reply), never beyond the window.
"""

from __future__ import annotations

from typing import Optional, Sequence

FLOOR_AFTER_FIRST = 0.35
QUIET_FACTOR = 1.5
QUIET_MIN = 0.05
QUIET_MAX = 0.25
RECENT = 8


def quiet_period(arrivals: Sequence[float]) -> float:
    """How long a pause in replies ends the listening, from the gaps between the recent ones."""
    recent = arrivals[-(RECENT + 1):]
    largest = max((later - earlier for earlier, later in zip(recent, recent[1:])), default=0.0)
    return min(QUIET_MAX, max(QUIET_MIN, QUIET_FACTOR * largest))


def listen_until(arrivals: Sequence[float], window: float, stall: Optional[float] = None) -> float:
    """Seconds after the request at which to stop listening, unless another reply comes first.

    ``arrivals`` are the reply times so far, in seconds after the request, ascending.
    """
    if stall is not None:
        return min(window, (arrivals[-1] if arrivals else 0.0) + stall)
    if not arrivals:
        return window
    end = max(arrivals[0] + FLOOR_AFTER_FIRST, arrivals[-1] + quiet_period(arrivals))
    return min(window, end)
