#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_events
short_description: Collect control events from a wasmCloud lattice
version_added: 0.1.0
description:
  - Subscribes to the lattice's control events (CloudEvents) and returns those that match a filter,
    collected for O(duration) seconds, or until the first match when O(until_match=true).
  - 0.x hosts publish every event on one subject, 1.x hosts one subject per event type; with O(protocol=auto)
    the task listens to both. 1.x event types include C(component_scaled), C(component_scale_failed),
    C(provider_started), C(linkdef_set), C(config_set) and C(labels_changed).
  - Changes nothing.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.attributes.info_module
options:
  duration:
    description: Seconds to collect events for (the timeout, with O(until_match=true)).
    type: float
    default: 5
  types:
    description:
      - Event types to keep, short (V(actor_started)) or full (V(com.wasmcloud.lattice.actor_started)).
        All types when empty.
    type: list
    elements: str
    default: []
  source:
    description: Keep only events published by this host id.
    type: str
  data:
    description: Keep only events whose data has these fields with these values (compared as strings).
    type: dict
    default: {}
  until_match:
    description: Return as soon as one event matches.
    type: bool
    default: false
  fail_on_timeout:
    description: With O(until_match=true), fail when no event matched within O(duration).
    type: bool
    default: true
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Collect five seconds of heartbeats
  wasmcloud.lattice.wasmcloud_events:
    types: [host_heartbeat]
    duration: 5
  register: heartbeats

- name: Wait up to a minute for a given host to announce itself
  wasmcloud.lattice.wasmcloud_events:
    types: [host_started]
    source: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
    until_match: true
    duration: 60
"""

RETURN = r"""
events:
  description: The matching events in arrival order.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Short event type, for example V(actor_started).
      type: str
    source:
      description: Host id that published it.
      type: str
    data:
      description: The event's data.
      type: dict
    id:
      description: Event id.
      type: str
    time:
      description: When it was published.
      type: str
matched:
  description: Whether an event matched (meaningful with O(until_match=true)).
  returned: always
  type: bool
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import WaitTimeoutError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import EVENT_TYPE_PREFIX
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule

ARGSPEC = {
    "duration": {"type": "float", "default": 5.0},
    "types": {"type": "list", "elements": "str", "default": []},
    "source": {"type": "str"},
    "data": {"type": "dict", "default": {}},
    "until_match": {"type": "bool", "default": False},
    "fail_on_timeout": {"type": "bool", "default": True},
}


def event_filter(params: dict):
    """(duration, short event types) from the options, checked."""
    if params["source"]:
        check.public_key(params["source"], "host", "source")
    kinds = [kind[len(EVENT_TYPE_PREFIX):] if kind.startswith(EVENT_TYPE_PREFIX) else kind for kind in params["types"]]
    return check.positive_seconds(params["duration"], "duration"), kinds


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    duration, kinds = lattice.checked(event_filter)

    def collect(client):
        with client.events() as stream:
            events = stream.collect(duration, kinds=kinds, source=params["source"], data=params["data"],
                                    until_match=params["until_match"])
        lattice.result["events"] = [event.to_dict() for event in events]
        lattice.result["matched"] = bool(events)
        if params["until_match"] and not events and params["fail_on_timeout"]:
            raise WaitTimeoutError("no event matched within %gs" % duration, partial={"events": []}, elapsed=duration)

    lattice.run(collect)


if __name__ == "__main__":
    main()
