"""The rule that ends host discovery and auctions early (module_utils/runtime/discovery.py), on reply timelines."""

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


# -- with the record of recently seen hosts (module_utils/runtime/host_record.py) -------------------------------------


def listen_expecting(replies: Sequence[Tuple[float, str]], expected: Sequence[str], window: float = 2.0,
                     stall: Optional[float] = None, complete: bool = False) -> Tuple[List[str], float, str]:
    """Replies (time, host) taken while the rule with ``expected`` hosts listens: (hosts taken, end, why)."""
    listening = rule.Listening(window, stall, expected, complete)
    for at, host in sorted(replies):
        if at > listening.until():
            break
        listening.heard(at, host)
    end, why = listening.deadline()
    return list(listening.answered), end, why


def hosts(count: int) -> List[str]:
    return ["N%03d" % index for index in range(count)]


def test_every_expected_host_answering_ends_it_a_grace_after_the_last():
    quick = [(0.002 + index * 0.0003, host) for index, host in enumerate(hosts(10))]
    taken, end, why = listen_expecting(quick, hosts(10))
    assert len(taken) == 10 and why == rule.EXPECTED
    assert end == pytest.approx(quick[-1][0] + rule.GRACE_MIN)  # quick answers: the shortest grace


@pytest.mark.parametrize("late", [0.6, 1.9])
def test_an_expected_host_answering_late_is_waited_for(late):
    # the case: 10 hosts, one far behind the others (well inside wash's 2 s window)
    replies = [(0.002 + index * 0.0003, host) for index, host in enumerate(hosts(9))] + [(late, "N009")]
    taken, end, why = listen_expecting(replies, hosts(10))
    assert sorted(taken) == hosts(10) and why == rule.EXPECTED
    assert end == pytest.approx(late + rule.GRACE_MAX)  # a slow answer: the longest grace
    # without the record the early finish misses it
    assert len(listen([at for at, _host in replies])[0]) == 9


def test_an_expected_host_that_never_answers_keeps_it_listening_for_the_whole_window():
    replies = [(0.002 + index * 0.0003, host) for index, host in enumerate(hosts(9))]
    listening = rule.Listening(2.0, None, hosts(10))
    for at, host in replies:
        listening.heard(at, host)
    assert listening.deadline() == (2.0, rule.WINDOW) and listening.missing == {"N009"}


def test_a_new_host_is_found_when_it_answers_within_the_grace():
    known = [(0.002 + index * 0.0003, host) for index, host in enumerate(hosts(5))]
    last_known = known[-1][0]
    taken, _end, _why = listen_expecting(known + [(last_known + rule.GRACE_MIN * 0.8, "NEW")], hosts(5))
    assert "NEW" in taken
    # one answering well after the grace (and after the pause that follows it) is not waited for
    taken, _end, _why = listen_expecting(known + [(last_known + 0.5, "NEW")], hosts(5))
    assert "NEW" not in taken


def test_the_grace_is_as_long_again_as_the_expected_hosts_took_within_its_bounds():
    assert rule.grace_after_expected(0.001) == rule.GRACE_MIN
    assert rule.grace_after_expected(0.03) == pytest.approx(0.03)
    assert rule.grace_after_expected(1.9) == rule.GRACE_MAX
    # a new host as slow as the expected ones (a farther network) is still found
    known = [(0.025 + index * 0.0003, host) for index, host in enumerate(hosts(5))]
    taken, _end, _why = listen_expecting(known + [(known[-1][0] + 0.02, "NEW")], hosts(5))
    assert "NEW" in taken


def test_new_hosts_still_replying_keep_it_open_as_the_early_finish_does():
    known = [(0.002, "N000")]
    trickle = [(0.01 + 0.04 * index, "NEW%d" % index) for index in range(20)]  # one every 40 ms, for 0.8 s
    taken, end, why = listen_expecting(known + trickle, ["N000"])
    assert len(taken) == 21 and why == rule.EXPECTED
    assert end == pytest.approx(trickle[-1][0] + rule.QUIET_FACTOR * 0.04)


def test_complete_listens_for_the_whole_window_and_finds_new_late_hosts():
    replies = [(0.002 + index * 0.0003, host) for index, host in enumerate(hosts(9))] + [(1.9, "NEW")]
    taken, end, why = listen_expecting(replies, hosts(9), complete=True)
    assert "NEW" in taken and (end, why) == (2.0, rule.WINDOW)
    taken, end, why = listen_expecting(replies, (), complete=True)  # no record either
    assert "NEW" in taken and (end, why) == (2.0, rule.WINDOW)
    # a stall does not end it early either
    taken, end, why = listen_expecting(replies, (), stall=0.1, complete=True)
    assert "NEW" in taken and (end, why) == (2.0, rule.WINDOW)


def test_discovery_stall_is_a_fixed_rule_even_with_a_record():
    replies = [(0.01, "N000"), (0.02, "N001"), (0.6, "N002")]
    taken, end, why = listen_expecting(replies, hosts(3), stall=0.25)
    assert taken == ["N000", "N001"] and why == rule.STALL and end == pytest.approx(0.27)
    # equal to the window: the whole window, as wash listens
    assert listen_expecting(replies, hosts(3), stall=2.0)[1:] == (2.0, rule.WINDOW)


def test_replies_that_name_no_host_count_as_replies_only():
    listening = rule.Listening(2.0, None, ["N000"])
    listening.heard(0.01)  # undecodable
    assert listening.deadline() == (2.0, rule.WINDOW) and listening.arrivals == [0.01]
    listening.heard(0.02, "N000")
    listening.heard(0.03, "N000")  # the same host twice: its first answer counts
    assert listening.answered == {"N000": 0.02} and listening.deadline()[1] == rule.EXPECTED


def test_a_probe_answered_slowly_holds_the_early_finish_open():
    listening = rule.Listening(2.0)
    for index in range(50):
        listening.heard(0.002 + index * 0.0002, "N%03d" % index)
    end, why = listening.deadline()
    assert why == rule.STALL and listening.may_probe
    # the host that answered last answers a read as fast as the ping: the stream is over
    assert not listening.paused(end, end + 0.003) and listening.deadline() == (end, rule.STALL)
    # it takes 0.4 s: the hosts were paused (a collector, a busy server), so listening goes on past the answer
    assert listening.paused(end, end + 0.4)
    assert listening.deadline() == (pytest.approx(end + 0.4 + rule.QUIET_MAX), rule.STALL)
    assert listening.may_probe and not listening.paused(end + 0.7, end + 0.701)
    assert not listening.may_probe  # three probes at most
    # no probe with a record, a fixed stall, or the whole window: those do not end on a pause
    assert not rule.Listening(2.0, expected=["N000"]).may_probe
    fixed = rule.Listening(2.0, stall=0.2)
    fixed.heard(0.01, "N000")
    assert not fixed.may_probe
