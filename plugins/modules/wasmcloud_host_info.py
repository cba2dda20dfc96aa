#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_host_info
short_description: Read wasmCloud v2 hosts (wash host) from their heartbeats
version_added: 0.2.0
description:
  - With O(host_ids), asks each of those v2 hosts for its heartbeat (one request each, about a millisecond),
    instead of waiting for its next periodic one.
  - Without O(host_ids), discovers the hosts. v2 has no ping, so hosts are found from their heartbeats (one
    at start-up, then every 15 seconds), and each one found is confirmed by a heartbeat request. When the
    NATS server has JetStream, the latest heartbeat of every host is kept in the stream O(heartbeat_stream)
    (created by the first discovery); once it has recorded for a heartbeat period, discovery reads it at once.
    Otherwise discovery listens for O(heartbeat_window) seconds.
  - Discovery fails, instead of returning fewer hosts or none, when the connection to NATS is lost meanwhile
    or when more than 4096 host IDs send heartbeats (a flood of fake heartbeats). Heartbeats that are not a
    host's (too large, not the protocol's JSON, an ID that cannot address a host) are skipped with one warning.
  - Works with O(protocol=2.x) (the default O(protocol=auto) means 2.x for this module). Changes no host.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.attributes.info_module
options:
  host_ids:
    description:
      - IDs of the hosts to read. When set, no discovery is done.
      - Each ID becomes a token of the host's NATS subjects, so one with V(.), V(*), V(>), spaces or control
        characters, or longer than 255 characters, is refused before anything is sent.
    type: list
    elements: str
  heartbeat_window:
    description:
      - Seconds to listen for heartbeats when the stream O(heartbeat_stream) cannot tell every host (there is
        none, or it is younger than a heartbeat period). Hosts beat every 15 seconds, so the default, just over
        that, hears every host; a shorter window finds the hosts that started (or beat) meanwhile.
    type: float
    default: 16
  heartbeat_stream:
    description:
      - JetStream stream that keeps the latest heartbeat of every host. An empty string never uses one.
    type: str
    default: WASMCLOUD_LATTICE_HEARTBEATS
  host_group:
    description: Only hosts of this host group (C(wash host --host-group)).
    type: str
notes:
  - A v2 host gets a new ID (and a new friendly name) every time it starts.
seealso:
  - module: wasmcloud.lattice.wasmcloud_workload
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Every v2 host that is alive
  wasmcloud.lattice.wasmcloud_host_info:
    protocol: 2.x
    nats_url: nats://nats.internal:4222
  register: v2

- name: One host, now
  wasmcloud.lattice.wasmcloud_host_info:
    host_ids: ["{{ v2.hosts[0].id }}"]
"""

RETURN = r"""
hosts:
  description: The hosts, sorted by friendly name.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Host ID (a UUID, new at every start).
      type: str
    friendly_name:
      description: Random name chosen by the host at start.
      type: str
    hostname:
      description: Name of the machine (or C(--host-name)).
      type: str
    version:
      description: wasmCloud version of the host.
      type: str
    labels:
      description: Host labels (v2 hosts have C(hostgroup) only).
      type: dict
    host_group:
      description: The host group.
      type: str
    environment:
      description: The host's C(--environment), empty when not set.
      type: str
    http_port:
      description: Port of the host's HTTP ingress, null without one.
      type: int
    workload_count:
      description: Workloads in the host's table (ERROR entries included).
      type: int
    component_count:
      description: Components of running workloads.
      type: int
    os:
      description: C(name), C(arch) and C(kernel).
      type: dict
    memory:
      description: C(total) and C(free), in bytes.
      type: dict
    cpu_usage:
      description: System CPU usage in percent.
      type: float
    started_at:
      description: When the host started (RFC 3339).
      type: str
    imports:
      description: Interfaces the host's plugins offer to components, as C(ns:pkg/{a,b}@version).
      type: list
      elements: str
    exports:
      description: Handler interfaces the host can call into.
      type: list
      elements: str
missing:
  description: Hosts of O(host_ids) that did not answer (stopped, or restarted with a new ID).
  returned: always
  type: list
  elements: str
"""

from typing import Any, Dict

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client, host_view
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

ARGSPEC = {
    "host_ids": {"type": "list", "elements": "str"},
    "heartbeat_window": {"type": "float", "default": 16.0},
    "heartbeat_stream": {"type": "str", "default": "WASMCLOUD_LATTICE_HEARTBEATS"},
    "host_group": {"type": "str"},
}


def _checked(params: Dict[str, Any]) -> None:
    for index, host_id in enumerate(params["host_ids"] or []):
        v2.host_id(host_id, "host_ids[%d]" % index)
    if params["heartbeat_stream"]:
        v2.jetstream_name(params["heartbeat_stream"], "heartbeat_stream")


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    window = params["heartbeat_window"]
    if not window > 0 or window > 3600:
        lattice.module.fail_json(msg="heartbeat_window must be between 0 and 3600 seconds, got %r" % window)
    lattice.checked(_checked)

    def read(client: V2Client) -> None:
        missing = []
        if params["host_ids"]:
            beats = {}
            for host_id, answer in client.heartbeats(params["host_ids"]).items():
                if isinstance(answer, LatticeError):
                    missing.append(host_id)
                    lattice.module.warn(str(answer))
                else:
                    beats[host_id] = answer
        else:
            beats = client.discover(window, stream=params["heartbeat_stream"] or None)
        views = [host_view(beat) for beat in beats.values()]
        if params["host_group"] is not None:
            views = [view for view in views if view["host_group"] == params["host_group"]]
        lattice.result["hosts"] = sorted(views, key=lambda view: (view["friendly_name"], view["id"]))
        lattice.result["missing"] = missing

    lattice.run(read, client_class=V2Client)


if __name__ == "__main__":
    main()
