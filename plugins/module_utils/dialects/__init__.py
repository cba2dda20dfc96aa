# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Wire dialects, one module per wasmCloud generation (v0 = 0.x, v1 = 1.x, v2 = 2.x).

Private to this collection; may change without notice. A dialect owns what differs
between generations: subjects, bodies, reply envelopes, event decoding.
"""

from __future__ import annotations

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.base import Dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v0 import ProtocolV0
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import ProtocolV1

# The generations with a lattice control interface; "auto" chooses among these during discovery.
DIALECTS = {"0.x": ProtocolV0, "1.x": ProtocolV1}


def get_dialect(generation: str, lattice: str, topic_prefix: str) -> Dialect:
    """The dialect of one generation ("0.x", "1.x"); "auto" is resolved by the client, not here."""
    try:
        return DIALECTS[generation](lattice, topic_prefix)
    except KeyError:
        raise ValueError("no lattice control dialect for protocol %r (known: %s)"
                         % (generation, ", ".join(sorted(DIALECTS))))
