"""Child processes (nats-server, wash host) that must not outlive the process that started them.

``atexit`` covers a normal exit and an exception; a SIGTERM (CI's timeout, ``kill PID``, a test runner
stopping its workers) ends Python without running it. ``track`` installs, once, a SIGTERM handler that
stops every tracked child by its PID, then lets the signal do what it did before (the previous
handler, or the default: the process ends with SIGTERM's status).
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any, Callable, Dict

_children: Dict[int, Callable[[], None]] = {}
_lock = threading.Lock()
_previous: Any = None
_installed = False


def track(pid: int, stop: Callable[[], None]) -> None:
    """Stop ``pid`` with ``stop()`` if this process receives SIGTERM before ``untrack(pid)``."""
    with _lock:
        _children[pid] = stop
    _install()


def untrack(pid: int) -> None:
    with _lock:
        _children.pop(pid, None)


def _install() -> None:
    global _installed, _previous
    if _installed or threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still covers the rest
    _previous = signal.signal(signal.SIGTERM, _on_sigterm)
    _installed = True


def stop_all() -> None:
    with _lock:
        stops = list(_children.values())
        _children.clear()
    for stop in stops:
        try:
            stop()
        except Exception:  # noqa: BLE001 - stop the others whatever one of them does
            pass


def _on_sigterm(signum: int, frame: Any) -> None:
    global _installed
    stop_all()
    previous = _previous if _previous is not None else signal.SIG_DFL
    signal.signal(signal.SIGTERM, previous)
    _installed = False
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGTERM)
