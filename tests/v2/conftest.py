"""Fixtures for the wasmCloud v2 tests: nats-server, a loopback OCI registry, components built from WAT,
and real `wash host` processes. Session-scoped where a test cannot disturb another."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))

import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Iterator, List  # noqa: E402

import pytest  # noqa: E402

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import DEFAULT_HEARTBEAT_STREAM  # noqa: E402
from oci_registry import OciRegistry  # noqa: E402
from sandbox.nats_server import free_port  # noqa: E402
from v2env import WashHost, build_component, v2_client, wash_host_args  # noqa: E402


HELLO_BODY = "hello from wasmcloud.lattice\n"
HELLO2_BODY = "HELLO FROM WASMCLOUD.LATTICE\n"  # the second version of hello answers this


@dataclass
class Images:
    echo: str
    hello: str
    hello2: str  # another version of hello (another body), in the same repository
    missing: str  # a reference the registry does not have
    counter: str  # an HTTP handler that counts its requests in the host's wasi:keyvalue store
    registry: OciRegistry
    echo_wasm: Path  # the built component, for tests that publish it under references of their own


@pytest.fixture(scope="session")
def v2_nats(nats_server: Any) -> Any:
    """The session's nats-server, with the heartbeat stream created before any host beats."""
    with v2_client(nats_server.url) as client:
        assert client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM), client.warnings
    return nats_server


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    """The echo, hello and counter components, built from WAT with wasm-tools, served by a loopback OCI registry."""
    out = tmp_path_factory.mktemp("components")
    echo = build_component("echo", out)
    hello2 = build_component("hello", out, {HELLO_BODY.strip(): HELLO2_BODY.strip()}, label="2")
    counter = build_component("counter", out, shares=["hello"])  # hello's slices of wasi:http and wasi:io
    with OciRegistry() as registry:
        yield Images(echo=registry.publish("lattice/echo", "0.1.0", echo),
                     hello=registry.publish("lattice/hello", "0.1.0", build_component("hello", out)),
                     hello2=registry.publish("lattice/hello", "0.2.0", hello2),
                     missing="%s/lattice/missing:0.0.1" % registry.address,
                     counter=registry.publish("lattice/counter", "0.1.0", counter),
                     registry=registry, echo_wasm=echo)


@pytest.fixture(scope="session")
def host_factory(v2_nats: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., WashHost]]:
    """``host_factory(http=True, host_group=..., environment=...)`` starts a real `wash host`; all are stopped
    (by PID) at the end of the session."""
    started: List[WashHost] = []

    def make(http: bool = True, **flags: Any) -> WashHost:
        workdir = tmp_path_factory.mktemp("wash-host")
        http_addr = "127.0.0.1:%d" % free_port() if http else None
        host = WashHost(wash_host_args(v2_nats.url, http_addr=http_addr, cache_dir=str(workdir / "oci"), **flags),
                        workdir)
        host.http_addr = http_addr  # type: ignore[attr-defined]
        started.append(host)
        return host.start()

    yield make
    for host in started:
        host.stop()


@pytest.fixture(scope="session")
def wash_host(host_factory: Callable[..., WashHost]) -> WashHost:
    """One real host for the session (HTTP ingress on); tests use their own workload ids on it."""
    return host_factory(host_group="blue", environment="test")


@pytest.fixture(scope="session")
def second_host(host_factory: Callable[..., WashHost]) -> WashHost:
    return host_factory(http=False, host_group="green")


@pytest.fixture
def workload_id() -> str:
    return "w-%s" % uuid.uuid4().hex[:10]
