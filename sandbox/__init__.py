"""Sandbox lattice: a real nats-server plus emulated wasmCloud OTP 0.5x hosts (see README.md)."""

from .connection import SandboxConnectError
from .hooks import HooksGroup, HostHooks
from .host import EmulatedHost, LatticeConfig
from .images import ImageResolutionError, clear_registered_images, register_image, resolve, unregister_image
from .lattice import AsyncSandboxLattice, SandboxLattice
from .nats_server import NatsServer, NatsServerError
from .records import MUTATING_OPERATIONS, Record

__all__ = [
    "AsyncSandboxLattice",
    "EmulatedHost",
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
    "clear_registered_images",
    "register_image",
    "resolve",
    "unregister_image",
]
