"""Every control-client operation against the sandbox lattice over real NATS."""

from __future__ import annotations

import time

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    CommandRejectedError,
    ConnectionFailedError,
    InputError,
    MalformedReplyError,
    NoResponseError,
    OperationFailedError,
    WaitTimeoutError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import CountEvents

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
ECHO_NEXT = "wasmcloud.azurecr.io/echo:0.3.5"
ECHO_OLDER = "wasmcloud.azurecr.io/echo:0.3.3"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"
KV = "wasmcloud.azurecr.io/kvredis:0.16.3"


def connect(lattice, **options) -> ControlClient:
    values = {"nats_url": [lattice.nats_url], "lattice": lattice.lattice, "auction_timeout": 0.5, "timeout": 2}
    values.update(options)
    return ControlClient(ConnectionSettings.from_options(values)).connect()


def started(host, ref, count=1):
    return CountEvents("actor_started", count,
                       lambda e: e.kind == "actor_started" and e.source == host and e.value("image_ref") == ref,
                       lambda e: e.kind == "actor_start_failed" and e.source == host)


@pytest.fixture
def trio(sandbox_lattice):
    return sandbox_lattice(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])


def test_get_hosts_with_the_window_as_stall_collects_for_the_whole_window(trio):
    # reference semantics: the full auction window. A host that answers 1.5 s late is still in a 3 s window
    # whose stall is the window itself (the early finish would have ended after the first quiet moment).
    late = trio.hosts[2]
    trio.hooks(late).delay("ping", 1.5)
    with connect(trio, auction_timeout=3, discovery_stall=3) as client:
        hosts = client.get_hosts()
    assert sorted(h.id for h in hosts) == sorted(trio.hosts)
    zones = sorted(h.labels["zone"] for h in hosts)
    assert zones == ["a", "a", "b"] and all(h.friendly_name and h.version for h in hosts)
    assert all(h.labels["hostcore.os"] for h in hosts)


def test_early_finish_stops_once_replies_stall(trio):
    # the window is an hour: that the call returns at all shows the stall ended it (no clock is read)
    with connect(trio, auction_timeout=3600) as client:
        hosts = client.get_hosts(stall=0.2)
    assert len(hosts) == 3


def test_default_discovery_finds_late_hosts_and_ends_long_before_the_window(sandbox_lattice):
    lattice = sandbox_lattice(hosts=24)
    late = {host: 0.05 + 0.25 * index / 5 for index, host in enumerate(lattice.hosts[::4])}  # 50 ms to 300 ms
    for host, delay in late.items():
        lattice.hooks(host).delay("ping", delay)
    # an hour-long window: that discovery and the auction return at all shows the rule ended them (no clock is read)
    with connect(lattice, auction_timeout=3600) as client:
        hosts = client.get_hosts()
        bidders = client.perform_actor_auction(ECHO, {})
    assert sorted(h.id for h in hosts) == sorted(lattice.hosts)
    assert len(bidders) == 24


def test_inventory_claims_and_the_start_event_flow(trio):
    host = trio.hosts[0]
    with connect(trio) as client:
        assert client.get_host_inventory(host).actors == []
        with client.events() as stream:
            ack = client.start_actor(host, ECHO, count=2, annotations={"app": "echo"})
            assert ack.accepted
            stream.wait(started(host, ECHO, 2), 5)  # raises WaitTimeoutError when the events do not come
        inventory = client.get_host_inventory(host)
        actor = inventory.actors[0]
        assert actor.image_ref == ECHO and len(actor.instances) == 2
        assert all(i.annotations == {"app": "echo"} for i in actor.instances)
        claims = client.get_claims()
        assert any(c["sub"] == actor.id for c in claims)
        inventories = client.get_inventories(trio.hosts)
        assert set(inventories) == set(trio.hosts) and inventories[host].actors[0].id == actor.id


def test_stop_and_update_actor(trio):
    host = trio.hosts[0]
    with connect(trio) as client:
        with client.events() as stream:
            client.start_actor(host, ECHO, count=1)
            stream.wait(started(host, ECHO), 5)
        actor_id = client.get_host_inventory(host).actors[0].id
        with client.events() as stream:
            client.start_actor(host, ECHO, count=2)
            stream.wait(started(host, ECHO, 2), 5)
        assert len(client.get_host_inventory(host).actors[0].instances) == 3
        client.update_actor(host, actor_id, ECHO_NEXT)
        assert client.get_host_inventory(host).actors[0].image_ref == ECHO_NEXT
        with pytest.raises(CommandRejectedError, match="Unable to perform live update"):
            client.update_actor(host, actor_id, ECHO_OLDER)  # revision must increase
        with client.events() as stream:
            client.stop_actor(host, actor_id, count=0)
            stream.wait(CountEvents("stopped", 3, lambda e: e.kind == "actor_stopped" and e.public_key == actor_id), 5)
        assert client.get_host_inventory(host).actors == []


def test_start_failure_arrives_as_an_event(trio):
    host = trio.hosts[1]
    with connect(trio) as client:
        with client.events() as stream:
            client.start_actor(host, "wasmcloud.azurecr.io/missing:1.0.0")
            with pytest.raises(OperationFailedError, match="manifest unknown"):
                stream.wait(started(host, "wasmcloud.azurecr.io/missing:1.0.0"), 5)


def test_wait_timeout_carries_the_partial_result(trio):
    host = trio.hosts[0]
    with connect(trio) as client:
        with client.events() as stream:
            client.start_actor(host, ECHO, count=1)
            with pytest.raises(WaitTimeoutError) as err:
                stream.wait(started(host, ECHO, 2), 1)
    assert err.value.partial["reached"] == 1 and err.value.partial["wanted"] == 2


def by_zone(lattice, zone):
    return sorted(h for h in lattice.hosts if lattice.host(h).labels.get("zone") == zone)


def test_auctions_follow_labels_and_running_providers(trio):
    (a1, a2), (b1,) = by_zone(trio, "a"), by_zone(trio, "b")
    with connect(trio) as client:
        bids = client.perform_actor_auction(ECHO, {"zone": "a"})
        assert sorted(b.host_id for b in bids) == sorted([a1, a2])
        assert client.perform_actor_auction(ECHO, {"zone": "nowhere"}) == []
        with client.events() as stream:
            client.start_provider(a1, HTTP, "default")
            stream.wait(CountEvents("p", 1, lambda e: e.kind == "provider_started" and e.source == a1), 5)
        bidders = {b.host_id for b in client.perform_provider_auction(HTTP, "default", {"zone": "a"})}
        assert bidders == {a2}  # a1 already runs it
        assert {b.host_id for b in client.perform_provider_auction(HTTP, "other", {})} == {a1, a2, b1}


def test_providers_start_duplicate_and_stop(trio):
    host = trio.hosts[2]
    with connect(trio) as client:
        with client.events() as stream:
            client.start_provider(host, KV, "redis", configuration={"URL": "redis://127.0.0.1:6379"},
                                  annotations={"tier": "cache"})
            stream.wait(CountEvents("p", 1, lambda e: e.kind == "provider_started" and e.source == host), 5)
        provider = client.get_host_inventory(host).providers[0]
        assert provider.link_name == "redis" and provider.image_ref == KV and provider.annotations == {"tier": "cache"}
        with pytest.raises(CommandRejectedError, match="already running"):
            client.start_provider(host, KV, "redis")
        with client.events() as stream:
            client.stop_provider(host, provider.id, "redis", provider.contract_id or "wasmcloud:keyvalue")
            stream.wait(CountEvents("s", 1, lambda e: e.kind == "provider_stopped" and e.public_key == provider.id), 5)
        assert client.get_host_inventory(host).providers == []


def test_links_put_query_replace_and_delete(trio):
    host = trio.hosts[0]
    with connect(trio) as client:
        with client.events() as stream:
            client.start_actor(host, ECHO)
            client.start_provider(host, HTTP)
            stream.wait(started(host, ECHO), 5)
            # the provider starts asynchronously too: wait for it before reading its id
            stream.wait(CountEvents("provider_started", 1,
                                    lambda e: e.kind == "provider_started" and e.source == host), 5)
        inventory = client.get_host_inventory(host)
        actor_id = inventory.actors[0].id
        provider_id = inventory.providers[0].id
        client.advertise_link(actor_id, provider_id, "wasmcloud:httpserver", values={"PORT": 8080})
        links = client.query_links()
        assert [(l.actor_id, l.values) for l in links] == [(actor_id, {"PORT": "8080"})]
        client.advertise_link(actor_id, provider_id, "wasmcloud:httpserver", values={"PORT": "9090"})
        assert [l.values for l in client.query_links()] == [{"PORT": "9090"}]  # same identity replaces
        client.remove_link(actor_id, "wasmcloud:httpserver")
        client.remove_link(actor_id, "wasmcloud:httpserver")  # removing an absent link is accepted
        assert client.query_links() == []


def test_registries_and_stop_host(trio):
    victim = trio.hosts[2]
    with connect(trio) as client:
        client.put_registries({"ghcr.io": {"username": "bot", "password": "s3cret"}})
        assert client.sent[-1]["body"] == {"ghcr.io": ["password", "username"]}  # secrets never kept
        with client.events() as stream:
            client.stop_host(victim, 2000)
            stream.wait(CountEvents("gone", 1, lambda e: e.kind == "host_stopped" and e.source == victim), 5)
        deadline = time.monotonic() + 5
        while victim in {h.id for h in client.get_hosts()} and time.monotonic() < deadline:
            pass
        assert victim not in {h.id for h in client.get_hosts()}
        with pytest.raises(NoResponseError, match=victim):
            client.get_host_inventory(victim)
    registries = [r for r in trio.records if r.operation == "registries.put"]
    assert len(registries) == 3 and registries[0].body["ghcr.io"]["registryType"] == "oci"


def test_a_rejected_command_names_the_host_and_reason(trio):
    host = trio.hosts[0]
    trio.hooks(host).reject("la", "policy says no")
    with connect(trio) as client:
        with pytest.raises(CommandRejectedError) as err:
            client.start_actor(host, ECHO)
    assert host in str(err.value) and "policy says no" in str(err.value)


def test_a_silent_host_times_out_with_subject_and_host(trio):
    host = trio.hosts[1]
    trio.hooks(host).silence("inv")
    with connect(trio, timeout=0.5) as client:
        with pytest.raises(NoResponseError) as err:
            client.get_host_inventory(host)
    assert "get.%s.inv" % host in str(err.value) and "within 0.5s" in str(err.value)


def test_input_is_refused_before_anything_is_sent(trio):
    host = trio.hosts[0]
    trio.clear_records()
    with connect(trio) as client:
        bad_host = host[:-1] + ("A" if host[-1] != "A" else "B")
        for call in (lambda: client.start_actor(bad_host, ECHO),
                     lambda: client.start_actor(host, "not a ref"),
                     lambda: client.start_actor(host, ECHO, count=-1),
                     lambda: client.stop_provider(host, "V" * 56, "default", "wasmcloud:x"),
                     lambda: client.remove_link("M" * 56, "nope")):
            with pytest.raises(InputError):
                call()
    assert trio.records == []


def test_unreachable_nats_names_the_urls():
    settings = ConnectionSettings.from_options({"nats_url": ["nats://127.0.0.1:9", "nats://127.0.0.1:10"]})
    with pytest.raises(ConnectionFailedError) as err:
        ControlClient(settings).connect()
    assert "nats://127.0.0.1:9" in str(err.value) and "nats://127.0.0.1:10" in str(err.value)
    # Ended by the refusals, not by the bound the client puts on a connect attempt that hangs.
    assert "no connection within" not in str(err.value) and "Connect call failed" in str(err.value), err.value


def test_a_malformed_reply_is_a_clear_error(nats_server):
    import asyncio
    import threading
    import uuid

    import nats

    lattice = "impostor%s" % uuid.uuid4().hex[:8]

    async def impostor(ready, done):
        # Answers this lattice's claims query with something that is not JSON.
        nc = await nats.connect(nats_server.url)

        async def reply(msg):
            await msg.respond(b"<html>not json</html>")

        await nc.subscribe("wasmbus.ctl.%s.get.claims" % lattice, cb=reply)
        await nc.flush()
        ready.set()
        await done.wait()
        await nc.close()

    ready = threading.Event()
    loop = asyncio.new_event_loop()
    done = loop.run_until_complete(_make_event())
    thread = threading.Thread(target=loop.run_until_complete, args=(impostor(ready, done),), daemon=True)
    thread.start()
    assert ready.wait(5)
    try:
        settings = ConnectionSettings.from_options({"nats_url": [nats_server.url], "lattice": lattice})
        with ControlClient(settings).connect() as client:
            with pytest.raises(MalformedReplyError, match="get_claims .*not JSON"):
                client.get_claims()
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(5)
        loop.close()


async def _make_event():
    import asyncio

    return asyncio.Event()


def test_discover_inventories_reads_each_host_as_soon_as_it_answers(sandbox_lattice):
    lattice = sandbox_lattice(hosts=12)
    late = lattice.hosts[::4]
    for index, host in enumerate(late):
        lattice.hooks(host).delay("ping", 0.1 + 0.1 * index)  # the last one answers 300 ms late
    lattice.clear_records()
    with connect(lattice, auction_timeout=30) as client:
        inventories = client.discover_inventories()
        again = client.get_inventories(sorted(inventories))
    assert sorted(inventories) == sorted(lattice.hosts)
    assert {host: inv.host_id for host, inv in inventories.items()} == {host: host for host in lattice.hosts}
    assert inventories == again
    records = lattice.records
    last_ping = max(r.time for r in records if r.operation == "ping" and r.host_id == late[-1])
    first_inventory = min(r.time for r in records if r.operation == "inv")
    # the quick hosts were asked for their inventories while the last late host had not answered yet
    assert first_inventory < last_ping + 0.3
