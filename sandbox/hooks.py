"""Per-host misbehaviour switches for tests, settable at any time from any thread.

Operation names are those of ``Record.operation`` (``la``, ``lp``, ``ping``, ``inv``,
``linkdefs.put`` …); ``"*"`` matches every operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

ANY_OPERATION = "*"
DEFAULT_HOOK_ERROR = '{:error, "sandbox: start failed by test hook"}'
DEFAULT_START_DELAY = 0.05


@dataclass
class HostHooks:
    # Seconds between the ack of la/lp/scale and the *_started events.
    start_delay: float = DEFAULT_START_DELAY
    # ref -> error text: starts of exactly this ref fail (actor_start_failed / provider_start_failed).
    failing_refs: dict[str, str] = field(default_factory=dict)
    # The next N start commands fail with ``fail_next_error``, whatever the ref.
    fail_next: int = 0
    fail_next_error: str = DEFAULT_HOOK_ERROR
    # operation -> error text: answer ``{"accepted": false, "error": text}`` and do nothing.
    rejections: dict[str, str] = field(default_factory=dict)
    # operation -> seconds to wait before handling (and so before replying).
    reply_delays: dict[str, float] = field(default_factory=dict)
    # operations ignored entirely: no reply, no action (a hung host).
    silenced: set[str] = field(default_factory=set)
    # provider ids whose health checks fail (1.x hosts only).
    unhealthy_providers: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._initial_start_delay = self.start_delay

    # Setters -----------------------------------------------------------------------------
    def fail_ref(self, ref: str, error: str = DEFAULT_HOOK_ERROR) -> None:
        self.failing_refs[ref] = error

    def fail_next_starts(self, count: int, error: str = DEFAULT_HOOK_ERROR) -> None:
        self.fail_next_error = error
        self.fail_next = count

    def reject(self, operation: str, error: str) -> None:
        self.rejections[operation] = error

    def delay(self, operation: str, seconds: float) -> None:
        self.reply_delays[operation] = seconds

    def silence(self, operation: str) -> None:
        self.silenced.add(operation)

    def set_unhealthy(self, provider_id: str, unhealthy: bool = True) -> None:
        if unhealthy:
            self.unhealthy_providers.add(provider_id)
        else:
            self.unhealthy_providers.discard(provider_id)

    def reset(self) -> None:
        """Back to a well-behaved host (start_delay back to its initial value too)."""
        self.start_delay = self._initial_start_delay
        self.failing_refs.clear()
        self.fail_next = 0
        self.fail_next_error = DEFAULT_HOOK_ERROR
        self.rejections.clear()
        self.reply_delays.clear()
        self.silenced.clear()
        self.unhealthy_providers.clear()

    # Queries used by the host ------------------------------------------------------------
    def is_silenced(self, operation: str) -> bool:
        return operation in self.silenced or ANY_OPERATION in self.silenced

    def rejection_for(self, operation: str) -> Optional[str]:
        return self.rejections.get(operation, self.rejections.get(ANY_OPERATION))

    def delay_for(self, operation: str) -> float:
        return self.reply_delays.get(operation, self.reply_delays.get(ANY_OPERATION, 0.0))

    def failure_for_ref(self, ref: str) -> Optional[str]:
        return self.failing_refs.get(ref)

    def take_start_failure(self, ref: str) -> Optional[str]:
        """The error text a start of ``ref`` must fail with, consuming one "fail next" if used."""
        if ref in self.failing_refs:
            return self.failing_refs[ref]
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_next_error
        return None


class HooksGroup(list):
    """The hooks of several hosts at once, e.g. for queue-group operations any host may answer."""

    def __init__(self, hooks: Iterable[HostHooks]) -> None:
        super().__init__(hooks)

    def fail_ref(self, ref: str, error: str = DEFAULT_HOOK_ERROR) -> None:
        for hooks in self:
            hooks.fail_ref(ref, error)

    def fail_next_starts(self, count: int, error: str = DEFAULT_HOOK_ERROR) -> None:
        for hooks in self:
            hooks.fail_next_starts(count, error)

    def reject(self, operation: str, error: str) -> None:
        for hooks in self:
            hooks.reject(operation, error)

    def delay(self, operation: str, seconds: float) -> None:
        for hooks in self:
            hooks.delay(operation, seconds)

    def silence(self, operation: str) -> None:
        for hooks in self:
            hooks.silence(operation)

    def set_unhealthy(self, provider_id: str, unhealthy: bool = True) -> None:
        for hooks in self:
            hooks.set_unhealthy(provider_id, unhealthy)

    def set_start_delay(self, seconds: float) -> None:
        for hooks in self:
            hooks.start_delay = seconds

    def reset(self) -> None:
        for hooks in self:
            hooks.reset()
