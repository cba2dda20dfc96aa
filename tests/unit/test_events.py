"""Expectations: what a wait says it is still waiting for."""

from __future__ import annotations

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import AllOf, CountEvents, LatticeEvent

H1, H2 = "N" + "A" * 55, "N" + "B" * 55


def started(host):
    return CountEvents("1 actor_started on host %s" % host, 1, lambda e, h=host: e.kind == "actor_started" and e.source == h)


def test_all_of_describes_only_the_parts_still_awaited():
    quick, slow = started(H1), started(H2)
    waiting = AllOf([quick, slow])
    assert waiting.description == "1 actor_started on host %s; 1 actor_started on host %s" % (H1, H2)
    waiting.feed(LatticeEvent("actor_started", H1, {"public_key": "M" + "E" * 55}))
    assert waiting.description == "1 actor_started on host %s" % H2 and not waiting.done
    assert waiting.progress()["expected"] == "1 actor_started on host %s; 1 actor_started on host %s" % (H1, H2)
    assert [part["reached"] for part in waiting.progress()["parts"]] == [1, 0]
    waiting.feed(LatticeEvent("actor_started", H2, {}))
    assert waiting.done and waiting.description.count("actor_started") == 2  # nothing missing: all of them
