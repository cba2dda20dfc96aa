"""Make the collection importable as ansible_collections.wasmcloud.lattice for every test."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "wasmcloud", "lattice")

if not os.path.lexists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(os.path.join("..", "..", "..", ".."), LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the sandbox package
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS)


# Fixtures shared by every test that needs a real nats-server and the sandbox lattice.
import uuid  # noqa: E402
from typing import Any, Callable, Iterator  # noqa: E402

import pytest  # noqa: E402

from sandbox import NatsServer, SandboxLattice, SandboxLatticeV1  # noqa: E402


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """One nats-server (JetStream on, loopback, free port) for the session, stopped by PID."""
    with NatsServer() as server:
        yield server


@pytest.fixture
def sandbox_lattice(nats_server: NatsServer) -> Iterator[Callable[..., SandboxLattice]]:
    """Factory ``sandbox_lattice(hosts=3, labels=[...], **options)``; each lattice has a unique name."""
    created: list = []

    def make(hosts: int = 0, labels: Any = None, **options: Any) -> SandboxLattice:
        options.setdefault("lattice", "t%s" % uuid.uuid4().hex[:12])
        lattice = SandboxLattice(nats_server.url, **options)
        created.append(lattice)
        return lattice.start(hosts, labels)

    yield make
    for lattice in created:
        lattice.stop()


@pytest.fixture
def sandbox_lattice_v1(nats_server: NatsServer) -> Iterator[Callable[..., SandboxLatticeV1]]:
    """Factory ``sandbox_lattice_v1(hosts=3, labels=[...], **options)`` of emulated wasmCloud 1.x hosts.

    Same shape as ``sandbox_lattice``; each lattice has a unique name, so its KV buckets
    (``LATTICEDATA_{lattice}``, ``CONFIGDATA_{lattice}``) are fresh.
    """
    created: list = []

    def make(hosts: int = 0, labels: Any = None, **options: Any) -> SandboxLatticeV1:
        options.setdefault("lattice", "t%s" % uuid.uuid4().hex[:12])
        lattice = SandboxLatticeV1(nats_server.url, **options)
        created.append(lattice)
        return lattice.start(hosts, labels)

    yield make
    for lattice in created:
        lattice.stop()
