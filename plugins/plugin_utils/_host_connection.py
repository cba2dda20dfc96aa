# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Connection options that a task takes from the host it targets (hosts of the wasmcloud.lattice.hosts inventory).

Private to this collection; may change without notice.

The inventory plugin gives every host it adds one variable, ``wasmcloud_connection`` (HOST_VARIABLE): a
dictionary of the options it reached that host with, minus every secret: ``nats_url`` (without user
names or passwords), ``protocol`` (the generation found), ``lattice`` and ``ctl_topic_prefix`` (not for
v2 hosts) and, when it used them, the paths of ``creds_file``, ``tls_ca_file``, ``tls_cert_file`` and
``tls_key_file`` (absolute). That variable is the mark: a host that has it is one the modules know how to
reach, whoever set it (the plugin, or a person in host or group variables). Each option the task does
not set (module_defaults count as set) is taken from it, before the environment fallbacks and defaults
of the argument spec apply: task > host > environment > default. Passwords, tokens, JWTs and seeds are
never in it; they come from the task's options, a creds file or the environment.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import CONNECTION_ARGSPEC

HOST_VARIABLE = "wasmcloud_connection"

# The options a host can give, each with the names a task may set it by (its aliases in the argument spec).
HOST_OPTIONS: Dict[str, Tuple[str, ...]] = {
    name: (name,) + tuple(CONNECTION_ARGSPEC[name].get("aliases", ()))
    for name in ("nats_url", "lattice", "protocol", "ctl_topic_prefix",
                 "creds_file", "tls_ca_file", "tls_cert_file", "tls_key_file")
}
_FILES = ("creds_file", "tls_ca_file", "tls_cert_file", "tls_key_file")


def host_variable(nats_url: Any, protocol: Optional[str], lattice: Optional[str] = None,
                  ctl_topic_prefix: Optional[str] = None, **files: Optional[str]) -> Dict[str, Any]:
    """The value of ``wasmcloud_connection`` for a host the inventory plugin reached this way (no secrets)."""
    value: Dict[str, Any] = {"nats_url": list(nats_url or [])}
    if protocol:
        value["protocol"] = protocol
    if lattice:
        value["lattice"] = lattice
    if ctl_topic_prefix:
        value["ctl_topic_prefix"] = ctl_topic_prefix
    for name in _FILES:
        if files.get(name):
            value[name] = os.path.abspath(os.path.expanduser(str(files[name])))
    return value


def options_from_host(connection: Any, task_args: Mapping[str, Any]) -> Dict[str, Any]:
    """The options ``connection`` (a host's ``wasmcloud_connection``) gives that ``task_args`` do not set."""
    if not isinstance(connection, Mapping):
        return {}
    taken: Dict[str, Any] = {}
    for option, names in HOST_OPTIONS.items():
        if any(task_args.get(name) is not None for name in names):
            continue
        value = _plain(connection.get(option))
        if value is None or value == "" or value == []:
            continue
        taken[option] = value
    return taken


def _plain(value: Any) -> Any:
    """Plain strings and lists, whatever wrappers variables came in (unsafe text, lazy containers)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return str(value)
