# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The face every dialect shows: what it can carry, how an intent goes on the wire, what proves it done.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import abc
from typing import Any, Dict, FrozenSet, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.common import Request
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    InputError,
    UnsupportedOperationError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import Expectation
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent


class Dialect(abc.ABC):
    """One wasmCloud generation's wire. ``intents`` maps each operation it has to the parameters it takes:
    an operation it does not list does not exist in that generation, and a parameter it does not list is
    refused, so an intent meant for another generation never goes out half-understood."""

    name = ""
    intents: Mapping[str, FrozenSet[str]] = {}
    # the option to name when an operation's body is too large for the server
    large_values: Mapping[str, str] = {}

    def has(self, operation: str) -> bool:
        return operation in self.intents

    def encode(self, intent: Intent) -> Request:
        """The request that carries ``intent``, its arguments checked (InputError before anything is sent)."""
        allowed = self.intents.get(intent.operation)
        if allowed is None:
            raise UnsupportedOperationError("%s is not an operation of wasmCloud %s" % (intent.operation, self.name))
        given: Dict[str, Any] = {key: value for key, value in intent.params.items() if value is not None}
        unknown = sorted(set(given) - allowed)
        if unknown:
            raise InputError("%s takes no %s on wasmCloud %s" % (intent.operation, ", ".join(unknown), self.name))
        return self._encode(intent.operation, intent.host_id, given)

    @abc.abstractmethod
    def _encode(self, operation: str, host_id: str, params: Dict[str, Any]) -> Request:
        """Build the request of ``operation`` from checked, known parameters."""

    def rechecks(self, intent: Intent) -> bool:
        """True when ``intent`` must be checked against a fresh read of its host just before it is sent
        (see ``revise``)."""
        return False

    def revise(self, intent: Intent, planned_from: Any, now: Any) -> Optional[Intent]:
        """``intent`` as it should go out now that its host reads ``now`` instead of ``planned_from`` (what the
        plan was made from); None when nothing is left to do."""
        return intent

    @abc.abstractmethod
    def confirmation(self, intent: Intent, observed: Optional[Mapping[str, Any]] = None) -> Optional[Expectation]:
        """What proves ``intent`` done: the events to wait for, or None when the reply itself is the proof.
        ``observed`` is what was read before planning (host inventories), for confirmations that count."""
