"""Emulated wasmCloud 1.x hosts (the ``wasmbus.ctl.v1`` control interface) for the sandbox lattice."""

from .host import DEFAULT_HOST_VERSION, EmulatedHostV1, LatticeConfigV1
from .lattice import AsyncSandboxLatticeV1, SandboxLatticeV1
from .state import LatticeState, configdata_bucket, latticedata_bucket

__all__ = [
    "AsyncSandboxLatticeV1",
    "DEFAULT_HOST_VERSION",
    "EmulatedHostV1",
    "LatticeConfigV1",
    "LatticeState",
    "SandboxLatticeV1",
    "configdata_bucket",
    "latticedata_bucket",
]
