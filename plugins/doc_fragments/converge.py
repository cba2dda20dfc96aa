# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules that start and stop things: waiting on events."""

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the hosts report, in the lattice's control events, that every start, stop or update
        has happened. The events are subscribed to before any command is sent.
      - Without waiting, the task ends when the hosts have acknowledged the commands.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for those events. When they run out, the task fails with what was reached so far.
    type: float
    default: 60
"""
