# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Event-Driven Ansible source ``wasmcloud.lattice.events``: a lattice's events, hosts appearing and lost."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Callable, Dict, Mapping, Tuple

DOCUMENTATION = r"""
---
short_description: Events of a wasmCloud lattice (0.x, 1.x) or of wasmCloud v2 hosts, for ansible-rulebook
description:
  - Puts one event on the rulebook's queue for each control event a 0.x or 1.x lattice publishes
    (C(component_scaled), C(provider_started), C(host_started), ...; decoded like M(wasmcloud.lattice.wasmcloud_events)
    does), and for what it derives from the hosts' heartbeats, for every generation
    (C(host_appeared), C(host_lost)) and, on v2, from the workload record (C(workload_failed)).
  - Every event is a mapping with the keys C(type), C(generation) (V(0.x), V(1.x) or V(2.x)), C(lattice)
    (empty on v2), C(host_id), C(id), C(time) (UTC, ISO 8601) and C(data); C(docs/event-driven.md) in the collection
    shows each type's C(data).
  - C(host_lost) comes when a host's heartbeat has been missing for O(lost_after) seconds (checked every second),
    or at once when the host says it stops (C(host_stopped)); its C(data) holds the host's labels, name and version,
    C(reason) (V(heartbeat_missing) or V(host_stopped)), C(last_seen), C(silent_for) and C(running), what it ran
    when last seen (0.x actors and providers, 1.x components and providers from its inventory, v2 the workloads the
    collection's record places there).
  - C(workload_failed) (v2) comes when a workload the record says runs on a live host is in state C(ERROR) or
    C(NOT_FOUND) there, checked every O(poll_interval) seconds; said once, and again only after it ran again.
  - A host first heard of is believed only once it answers a request (its inventory; its heartbeat request on v2),
    so forged heartbeats make no host appear and none get lost.
  - Never ends on its own. A lost NATS connection is re-established (every URL in turn, waiting up to 30 seconds
    between tries) and reported as C(connection_lost) and C(connection_restored) events; hosts are judged again
    from the reconnection on. Only the first connection must succeed: a wrong URL, credentials or TLS setting
    fails the source at once with the reason.
  - Memory stays bounded under a flood. Events the rulebook has not taken yet (O(buffer_size)), hosts tracked
    (O(max_hosts)), confirmations in flight and what the NATS client queues are all capped; what does not fit is
    dropped and counted, and the counts come as C(events_dropped) events at most every O(report_interval) seconds.
  - Needs the Python packages C(nats-py) (and C(nkeys) for seeds and credentials files) where ansible-rulebook
    runs, and the collection's C(requirements.txt) in a decision environment.
options:
  protocol:
    description:
      - The wasmCloud generation the hosts speak. V(auto) listens to 0.x and 1.x events at once; V(2.x) watches
        C(wash host) heartbeats and the workload record. E(WASMCLOUD_PROTOCOL) when not set.
    type: str
    choices: [auto, 0.x, 1.x, 2.x]
    default: auto
  types:
    description:
      - Event types to put on the queue, short (V(component_scaled)) or full (V(com.wasmcloud.lattice.component_scaled)).
      - Empty means every type except C(host_heartbeat), which comes only when listed.
      - C(connection_lost), C(connection_restored) and C(events_dropped) always come.
    type: list
    elements: str
    default: []
  hosts:
    description: Only events of these host ids (empty means every host).
    type: list
    elements: str
    default: []
  heartbeat_interval:
    description: Seconds between a host's heartbeats. The default is what hosts use, 30 for 0.x and 1.x, 15 for v2.
    type: float
  lost_after:
    description: Seconds without a heartbeat after which a host is lost. Three heartbeat intervals by default.
    type: float
  poll_interval:
    description: v2, seconds between two checks of the recorded workloads' states.
    type: float
    default: 15
  record_bucket:
    description: v2, the JetStream key-value bucket of workload records that M(wasmcloud.lattice.wasmcloud_workload) keeps.
    type: str
    default: wasmcloud_lattice_workloads
  buffer_size:
    description: Events that may wait for the rulebook; beyond it new events are dropped and counted.
    type: int
    default: 1000
  max_hosts:
    description: Hosts tracked at most; a host beyond it is not tracked, and counted.
    type: int
    default: 10000
  report_interval:
    description: Seconds between two C(events_dropped) events, at most.
    type: float
    default: 10
  nats_url:
    description:
      - NATS server URLs, as for the modules; E(WASMCLOUD_NATS_URL), E(WASMCLOUD_CTL_HOST)/E(WASMCLOUD_CTL_PORT) or
        E(NATS_URL) when not set. A V(tls://) URL asks for TLS, which is then TLS or nothing.
    type: list
    elements: str
    default: [nats://127.0.0.1:4222]
  lattice:
    description: The lattice prefix; E(WASMCLOUD_LATTICE_PREFIX) when not set. Ignored with O(protocol=2.x).
    type: str
    default: default
  ctl_topic_prefix:
    description: Subject prefix of the control interface; E(WASMCLOUD_CTL_TOPIC_PREFIX) when not set.
    type: str
    default: wasmbus.ctl
  timeout:
    description: Seconds to wait for a host's reply (inventory, heartbeat request); E(WASMCLOUD_CTL_TIMEOUT) when not set.
    type: float
    default: 2
  creds_file:
    description: NATS C(.creds) file; E(WASMCLOUD_CTL_CREDSFILE) when not set.
    type: str
  jwt:
    description: User JWT, with O(nkey_seed); E(WASMCLOUD_CTL_JWT) when not set.
    type: str
  nkey_seed:
    description: User nkey seed; E(WASMCLOUD_CTL_SEED) when not set.
    type: str
  user:
    description: User name for user/password authentication.
    type: str
  password:
    description: Password, with O(user). Never part of an event or a message.
    type: str
  token:
    description: Token authentication.
    type: str
  tls_ca_file:
    description: CA certificate to verify the server with.
    type: str
  tls_cert_file:
    description: Client certificate for mutual TLS, with O(tls_key_file).
    type: str
  tls_key_file:
    description: Private key of O(tls_cert_file).
    type: str
  tls_verify:
    description: Verify the server's certificate and name.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Heal a 1.x application when a host is lost
  hosts: localhost
  sources:
    - wasmcloud.lattice.events:
        nats_url: nats://nats.internal:4222
        lattice: prod
        types: [host_lost]
  rules:
    - name: Redeploy
      condition: event.type == "host_lost"
      throttle:
        once_within: 1 minute
        group_by_attributes: [event.host_id]
      action:
        run_playbook:
          name: wasmcloud.lattice.heal

- name: v2 hosts and their workloads
  hosts: localhost
  sources:
    - wasmcloud.lattice.events:
        protocol: 2.x
        nats_url: nats://nats.internal:4222
        lost_after: 45
        poll_interval: 10
  rules:
    - name: Show what failed
      condition: event.type in ["host_lost", "workload_failed"]
      action:
        print_event:
          pretty: true
"""


def _find_collection() -> None:
    """ansible-rulebook runs this file by path: make the collection's own code importable from where it lies
    (<root>/ansible_collections/wasmcloud/lattice/extensions/eda/plugins/event_source/events.py)."""
    try:
        import ansible_collections.wasmcloud.lattice.plugins.module_utils  # noqa: F401  pylint: disable=unused-import
        return
    except ImportError:
        pass
    here = os.path.abspath(__file__)  # not resolved: the collection may be a symlink into a checkout
    root = here
    for _level in range(8):
        root = os.path.dirname(root)
    if root not in sys.path:
        sys.path.insert(0, root)


_find_collection()

# pylint: disable=wrong-import-position
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import (  # noqa: E402
    CONNECTION_ARGSPEC,
    ConnectionSettings,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError  # noqa: E402
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.watch import Watch, WatchOptions  # noqa: E402

SOURCE_OPTIONS = ("types", "hosts", "heartbeat_interval", "lost_after", "poll_interval", "record_bucket",
                  "buffer_size", "max_hosts", "report_interval")


def _from_environment(spec: Mapping[str, Any]) -> Any:
    """The environment variable a module would fall back to for this connection option."""
    fallback = spec.get("fallback") or ()
    names = fallback[1] if len(fallback) > 1 else []
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def configure(args: Mapping[str, Any]) -> Tuple[ConnectionSettings, WatchOptions]:
    """Settings and options from the source's arguments, checked like the modules check theirs."""
    known = set(SOURCE_OPTIONS) | set(CONNECTION_ARGSPEC)
    for spec in CONNECTION_ARGSPEC.values():
        known.update(spec.get("aliases", ()))
    unknown = sorted(str(name) for name in args if name not in known and not str(name).startswith("eda_"))
    if unknown:
        raise InputError("wasmcloud.lattice.events does not know the option(s) %s" % ", ".join(unknown))
    connection: Dict[str, Any] = {}
    for name, spec in CONNECTION_ARGSPEC.items():
        value = args.get(name)
        for alias in spec.get("aliases", ()):
            value = args.get(alias) if value is None else value
        connection[name] = _from_environment(spec) if value is None else value
    settings = ConnectionSettings.from_options(connection)
    return settings, WatchOptions.from_args(args, settings.protocol)


def _backlog(queue: Any) -> Callable[[], int]:
    """How many events the rulebook has not taken yet (ansible-rulebook wraps its asyncio.Queue)."""
    inner = getattr(queue, "queue", queue)
    size = getattr(inner, "qsize", None)
    return size if callable(size) else (lambda: 0)


async def main(queue: Any, args: Dict[str, Any]) -> None:
    """The entry point ansible-rulebook calls; runs until cancelled."""
    settings, options = configure(args)
    await Watch(settings, options).run(queue.put, _backlog(queue))


if __name__ == "__main__":

    class _PrintQueue:
        async def put(self, event: Dict[str, Any]) -> None:
            print(event)  # noqa: T201

    asyncio.run(main(_PrintQueue(), {"nats_url": os.environ.get("WASMCLOUD_NATS_URL", "nats://127.0.0.1:4222")}))
