# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The one client of a connection, whatever the generation: chosen by the capability table.

Private to this collection; may change without notice.

Both clients are one BlockingClient over one NATS connection and show the runner the same face:
``generation``, ``execute(intent)`` (encoded by their dialect), ``confirmation(intent)``, ``warnings``
and ``sent``. The lattice control interface's client learns 0.x or 1.x from the first answer; the v2
hosts' client speaks 2.x and keeps the workload record.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import targets_v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.record import DEFAULT_RECORD_BUCKET
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client


def client_for(settings: ConnectionSettings, generations: Sequence[str],
               record_bucket: Optional[str] = DEFAULT_RECORD_BUCKET) -> Any:
    """The client for a module that serves ``generations``, asked for ``settings.protocol`` (``record_bucket``:
    where v2 workloads are recorded)."""
    if targets_v2(settings.protocol, generations):
        return V2Client(settings, record_bucket)
    return ControlClient(settings)
