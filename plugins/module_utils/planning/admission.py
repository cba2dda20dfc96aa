# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What a deployment must satisfy before anything is sent: the scheduler's admission rules.

Private to this collection; may change without notice.

The rules a scheduler of wasmCloud workloads applies before placing replicas (the Kubernetes
runtime-operator has the same ones), checked on the workload as the start request will carry it
(snake_case, as planning/v2workload.build returns it). Pure, unit-tested from data.

* Replicas of a workload with a messaging host interface each subscribe to its subjects. Without an
  explicit consumer group every replica gets its own queue group, and each message is delivered once
  per replica: so more than one replica needs ``consumer_group`` in the interface's (or a component's)
  config, unless the deployment asks for every replica to get every message (``broadcast``).
* A host interface is named by namespace, package, instance name and version: two equal ones, or two
  entries of one namespace:package without instance names, leave the host to guess which one a
  component means.
* ``allowed_hosts`` entries take the shapes the host accepts (``*``, ``*.example.com``, ``host``,
  ``host:port``, ``http(s)://host[:port]``); the host fails a start on any other, so the whole rollout
  would fail on its first replica.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Mapping, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError

MESSAGING = ("wasmcloud", "messaging")
# The config keys that name a consumer group (YAML users write either).
CONSUMER_GROUP_KEYS = ("consumer_group", "consumer-group")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = r"%s(?:\.%s)*" % (_LABEL, _LABEL)
_ALLOWED_HOST = re.compile(
    r"^(?:(?:https?)://)?"  # an optional scheme
    r"(?:\*\.%s|%s|\[[0-9A-Fa-f:.]+\])"  # *.domain, a name or IPv4 address, or [IPv6]
    r"(?::(?:[0-9]{1,5}|\*))?$" % (_DOMAIN, _DOMAIN))


def _messaging_entries(interfaces: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    return [entry for entry in interfaces if (entry.get("namespace"), entry.get("package")) == MESSAGING]


def _has_consumer_group(config: Mapping[str, Any]) -> bool:
    return any(str(config.get(key) or "").strip() for key in CONSUMER_GROUP_KEYS)


def _local_resources(workload: Mapping[str, Any]) -> List[Tuple[str, Mapping[str, Any]]]:
    """(where, local_resources) of every component and of the service."""
    found = []
    for index, component in enumerate((workload.get("wit_world") or {}).get("components") or []):
        found.append(("components[%d]" % index, component.get("local_resources") or {}))
    if workload.get("service"):
        found.append(("service", workload["service"].get("local_resources") or {}))
    return found


def check_consumer_groups(workload: Mapping[str, Any], replicas: int, broadcast: bool) -> None:
    """More than one replica of a messaging workload needs an explicit consumer group (or ``broadcast``)."""
    if replicas <= 1 or broadcast:
        return
    interfaces = (workload.get("wit_world") or {}).get("host_interfaces") or []
    messaging = _messaging_entries(interfaces)
    if not messaging:
        return
    components_grouped = any(_has_consumer_group(resources.get("config") or {})
                             for _where, resources in _local_resources(workload))
    for entry in messaging:
        if not _has_consumer_group(entry.get("config") or {}) and not components_grouped:
            raise InputError(
                "replicas is %d and host interface wasmcloud:messaging has no consumer_group in its config: each "
                "replica would subscribe in a queue group of its own, and every message would be handled %d times. "
                "Give the interface (or the component's local_resources.config) a consumer_group shared by the "
                "replicas, or set broadcast: true if every replica is meant to get every message"
                % (replicas, replicas))


def check_host_interfaces(interfaces: Iterable[Mapping[str, Any]]) -> None:
    """Refuse duplicate host interfaces and two unnamed entries of one namespace:package."""
    seen = {}
    unnamed = {}
    for index, entry in enumerate(interfaces):
        package = "%s:%s" % (entry.get("namespace"), entry.get("package"))
        key = (entry.get("namespace"), entry.get("package"), entry.get("name") or "", entry.get("version") or "")
        if key in seen:
            raise InputError("host_interfaces[%d] repeats host_interfaces[%d] (%s%s%s): give each entry once"
                             % (index, seen[key], package, (" named %r" % key[2]) if key[2] else "",
                                ("@%s" % key[3]) if key[3] else ""))
        seen[key] = index
        if not entry.get("name"):
            if package in unnamed:
                raise InputError(
                    "host_interfaces[%d] and host_interfaces[%d] are both %s without a name: the host could not tell "
                    "which one a component means; give each its instance name (name:)" % (unnamed[package], index,
                                                                                          package))
            unnamed[package] = index


def check_allowed_hosts(workload: Mapping[str, Any]) -> None:
    """Every allowed_hosts entry in a shape the host accepts (it fails the start on any other)."""
    for where, resources in _local_resources(workload):
        for index, entry in enumerate(resources.get("allowed_hosts") or []):
            if entry == "*":
                continue
            text = entry if isinstance(entry, str) else ""
            if not _ALLOWED_HOST.match(text) or not _valid_port(text):
                hint = " (a wildcard is '*' alone or '*.' before a domain)" if "*" in text else ""
                raise InputError(
                    "%s.local_resources.allowed_hosts[%d] %r is not a shape the host accepts: '*', '*.example.com', "
                    "'host', 'host:port' or 'https://host[:port]'%s" % (where, index, entry, hint))


def _valid_port(entry: str) -> bool:
    tail = entry.rsplit("]", 1)[-1] if entry.count(":") > 2 or "[" in entry else entry.split("://", 1)[-1]
    if ":" not in tail:
        return True
    port = tail.rsplit(":", 1)[1]
    return port == "*" or 0 < int(port) <= 65535


def admit(workload: Mapping[str, Any], replicas: int, broadcast: bool = False) -> None:
    """Every rule, in the order a user would fix them; InputError before anything is sent."""
    check_host_interfaces((workload.get("wit_world") or {}).get("host_interfaces") or [])
    check_allowed_hosts(workload)
    check_consumer_groups(workload, replicas, broadcast)
