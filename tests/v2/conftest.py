"""Fixtures for the wasmCloud v2 tests: nats-server, a loopback OCI registry, components built from WAT,
and real `wash host` processes. Session-scoped where a test cannot disturb another."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
