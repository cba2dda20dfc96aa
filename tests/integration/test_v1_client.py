"""Generation detection and the 1.x operations of the control client, against 0.x and 1.x sandbox hosts."""

from __future__ import annotations

import uuid

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    CommandRejectedError,
    InputError,
    ProtocolMismatchError,
    UnsupportedOperationError,
)

HELLO = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"


def client_for(lattice, **options):
    values = {"nats_url": lattice.nats_url, "lattice": lattice.lattice, "auction_timeout": 0.5}
    values.update(options)
    return ControlClient(ConnectionSettings.from_options(values))


def test_auto_learns_each_generation_from_discovery(sandbox_lattice, sandbox_lattice_v1):
    new, old = sandbox_lattice_v1(hosts=2), sandbox_lattice(hosts=2)
    with client_for(new) as client:
        assert client.generation is None
        assert sorted(host.id for host in client.get_hosts()) == sorted(new.hosts)
        assert client.generation == "1.x"
    with client_for(old) as client:
        assert len(client.get_hosts()) == 2 and client.generation == "0.x"
    with client_for(new) as client:  # a read by host id before any discovery goes out in both dialects
        inventory = client.get_host_inventory(new.hosts[0])
        assert inventory.protocol == "1.x" and client.generation == "1.x"


def test_an_explicit_protocol_that_does_not_match_names_the_lattices_generation(sandbox_lattice_v1, sandbox_lattice):
    new, old = sandbox_lattice_v1(hosts=1), sandbox_lattice(hosts=1)
    with client_for(new, protocol="0.x") as client:
        with pytest.raises(ProtocolMismatchError, match=r"speaks wasmCloud 1.x \(1 host\(s\) answered"):
            client.get_hosts()
    with client_for(old, protocol="1.x") as client:
        with pytest.raises(ProtocolMismatchError, match="speaks wasmCloud 0.x"):
            client.get_host_inventory(old.hosts[0])  # silence in 1.x, then a look at 0.x
    assert new.commands() == [] and old.commands() == []


def test_a_lattice_with_both_generations_asks_for_a_protocol(nats_server, sandbox_lattice, sandbox_lattice_v1):
    name = "mixed%s" % uuid.uuid4().hex[:8]
    old, new = sandbox_lattice(hosts=1, lattice=name), sandbox_lattice_v1(hosts=2, lattice=name)
    with client_for(old) as client:
        with pytest.raises(ProtocolMismatchError, match="several wasmCloud generations"):
            client.get_hosts()
    with client_for(new, protocol="1.x") as client:
        assert len(client.get_hosts()) == 2
        assert any("answered the 0.x host ping too" in warning for warning in client.warnings)


def test_1x_operations_and_their_refusals(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(hosts=1)
    host = lattice.hosts[0]
    with client_for(lattice) as client:
        client.get_hosts()
        with pytest.raises(UnsupportedOperationError, match="exists only in wasmCloud 0.x lattices"):
            client.start_actor(host, "wasmcloud.azurecr.io/echo:0.3.4")
        with pytest.raises(InputError, match="single NATS subject token"):
            client.scale_component(host, "bad.id", HELLO, 1)
        assert client.get_config("nope") is None
        client.put_config("cfg", {"port": 8080})
        assert client.get_config("cfg") == {"port": "8080"}
        ack = client.scale_component(host, "hello", HELLO, 2, config=["cfg"])
        assert ack.accepted
        with pytest.raises(CommandRejectedError, match="not running"):
            client.stop_provider(host, "never-started")
        bids = client.perform_component_auction(HELLO, "other")
        assert [bid.host_id for bid in bids] == [host]
    sent = [r.operation for r in lattice.commands()]
    assert sent == ["config.put", "component.scale", "provider.stop"]
