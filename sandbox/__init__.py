"""Sandbox lattice: a real nats-server plus emulated wasmCloud hosts, OTP 0.5x or 1.x (see README.md)."""

from .connection import SandboxConnectError
from .hooks import HooksGroup, HostHooks
from .host import EmulatedHost, LatticeConfig
from .images import ImageResolutionError, clear_registered_images, register_image, resolve, unregister_image
from .lattice import AsyncSandboxLattice, SandboxLattice
from .nats_server import NatsServer, NatsServerError
from .records import MUTATING_OPERATIONS, Record
from .v1 import AsyncSandboxLatticeV1, EmulatedHostV1, SandboxLatticeV1

__all__ = [
    "AsyncSandboxLattice",
    "AsyncSandboxLatticeV1",
    "EmulatedHost",
    "EmulatedHostV1",
    "HooksGroup",
    "HostHooks",
    "ImageResolutionError",
    "LatticeConfig",
    "MUTATING_OPERATIONS",
    "NatsServer",
    "NatsServerError",
    "Record",
    "SandboxConnectError",
    "SandboxLattice",
    "SandboxLatticeV1",
    "clear_registered_images",
    "register_image",
    "resolve",
    "unregister_image",
]
