"""The rule that ends host discovery and auctions early (module_utils/_discovery.py), on reply timelines."""

from __future__ import annotations

import random
from typing import List, Optional, Sequence, Tuple

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import discovery as rule


def listen(replies: Sequence[float], window: float = 2.0, stall: Optional[float] = None) -> Tuple[List[float], float]:
    """What a scatter-gather collects from replies at these times: (the replies taken, when it stops)."""
    taken: List[float] = []
    for at in sorted(replies):
        if at > rule.listen_until(taken, window, stall):
            break
        taken.append(at)
    return taken, rule.listen_until(taken, window, stall)


def lattice(fast: int, slow: int, seed: int) -> List[float]:
    """``fast`` hosts answering within 30 ms, ``slow`` hosts answering 50 to 300 ms later than that."""
    rand = random.Random(seed)
    times = [rand.uniform(0.001, 0.03) for index in range(fast)]
    return times + [rand.uniform(0.001, 0.03) + rand.uniform(0.05, 0.3) for index in range(slow)]


def test_without_replies_it_listens_for_the_whole_window():
    assert rule.listen_until([], 2.0) == 2.0
    assert listen([], 1.5) == ([], 1.5)


@pytest.mark.parametrize("slow", [0, 1, 3, 10, 30])
def test_every_host_answering_up_to_300ms_late_is_found_among_100(slow):
    for seed in range(300):
        replies = lattice(100 - slow, slow, seed)
        taken, end = listen(replies)
        assert len(taken) == 100, (slow, seed)
        # and it ends soon after the last reply, far from the 2 s window
        assert max(replies) < end <= max(replies[0] + rule.FLOOR_AFTER_FIRST, max(replies) + rule.QUIET_MAX)


def test_a_lone_host_answering_late_is_found():
    burst = [0.002 + i * 0.0002 for i in range(99)]
    for late in (0.05, 0.2, 0.3, 0.34):
        taken, _end = listen(burst + [burst[0] + late])
        assert len(taken) == 100, late


def test_ends_at_the_floor_after_a_quick_burst():
    burst = [0.002 + i * 0.0001 for i in range(100)]
    taken, end = listen(burst)
    assert len(taken) == 100 and end == pytest.approx(burst[0] + rule.FLOOR_AFTER_FIRST)


def test_a_steady_trickle_keeps_it_listening_until_the_window():
    # 5 000 hosts on a slow path: one reply every 40 ms for 3 s, window 5 s
    replies = [0.01 + i * 0.04 for i in range(75)]
    taken, end = listen(replies, window=5.0)
    assert len(taken) == 75 and end == pytest.approx(replies[-1] + rule.QUIET_FACTOR * 0.04)


def test_the_pause_it_waits_for_stays_within_bounds():
    assert rule.quiet_period([0.1]) == rule.QUIET_MIN
    assert rule.quiet_period([0.1, 0.1001, 0.1002]) == rule.QUIET_MIN
    assert rule.quiet_period([0.0, 1.0, 2.0]) == rule.QUIET_MAX
    assert rule.quiet_period([0.0, 0.04, 0.08, 0.12]) == pytest.approx(rule.QUIET_FACTOR * 0.04)
    # only the recent gaps count: an early long pause is forgotten once replies come steadily again
    steady = [0.5 + 0.01 * index for index in range(rule.RECENT + 1)]
    assert rule.quiet_period([0.0] + steady) == rule.QUIET_MIN


def test_never_beyond_the_window():
    assert rule.listen_until([1.95], 2.0) == 2.0
    assert rule.listen_until([1.95], 2.0, stall=0.5) == 2.0
    assert listen([0.1, 2.5], 2.0)[0] == [0.1]


def test_a_fixed_stall_counts_from_the_request_then_from_the_last_reply():
    assert rule.listen_until([], 2.0, stall=0.25) == 0.25
    assert rule.listen_until([0.1, 0.2], 2.0, stall=0.25) == pytest.approx(0.45)
    # a fixed stall shorter than a late host's lateness misses it, as documented
    taken, _end = listen([0.01, 0.02, 0.4], stall=0.25)
    assert taken == [0.01, 0.02]
    # and the stall equal to the window waits for the whole window
    assert listen([0.01, 1.9], 2.0, stall=2.0) == ([0.01, 1.9], 2.0)
