# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Client-side measurements, run in a process of their own (``python -m benchmarks.probe COMMAND``).

The sandbox hosts run on a thread of the benchmark runner; timing the client in that same process
would make the two share one interpreter lock. The parameters come as JSON on stdin and the
result goes as JSON to stdout.

Commands:
  op_latency  the blocking client's ``start_actor`` against a raw nats-py request with the same
              subject and body, interleaved (which goes first alternates), over one connection each
  listing     ``get_hosts`` (with or without an early finish), repeated
  spread      when each reply to one raw host listing arrives (first, last, largest gap)
  listings    ``get_hosts`` at default options, each on a new connection (as each task or listing has),
              with the record of recently seen hosts in ``record_dir`` (none without it)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, Dict, List

from benchmarks.common import bootstrap

bootstrap()

import nats  # noqa: E402  (after bootstrap, like the collection below)

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient  # noqa: E402
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings  # noqa: E402
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.host_record import FileRecordStore  # noqa: E402


def _settings(params: Dict[str, Any]) -> ConnectionSettings:
    return ConnectionSettings.from_options({"nats_url": params["nats_url"], "lattice": params["lattice"],
                                            "auction_timeout": params.get("auction_timeout", 2.0),
                                            "discovery_stall": params.get("stall"),
                                            "timeout": params.get("timeout", 5.0),
                                            "protocol": params.get("protocol")})


def op_latency(params: Dict[str, Any]) -> Dict[str, Any]:
    host, ref = params["host_id"], params["actor_ref"]
    client_times: List[float] = []
    raw_times: List[float] = []
    with ControlClient(_settings(params)) as client:
        loop = client._loop  # the raw connection lives on the client's loop, driven the same way
        raw = loop.run_until_complete(nats.connect(params["nats_url"], name="bench-raw"))
        try:
            # Exactly what the client puts on the wire for this command.
            request = client.aio.dialect.start_actor(host, ref, 1, {})

            def with_client() -> float:
                started = time.perf_counter()
                client.start_actor(host, ref, 1)
                return time.perf_counter() - started

            def with_raw() -> float:
                started = time.perf_counter()
                reply = loop.run_until_complete(raw.request(request.subject, request.body, timeout=5))
                took = time.perf_counter() - started
                if not json.loads(reply.data).get("accepted"):
                    raise RuntimeError("the host refused the raw start: %r" % reply.data)
                return took

            for index in range(params["warmup"] + params["iterations"]):
                # The order rotates every iteration, so neither side always runs right after the other.
                if index % 2:
                    raw_took, client_took = with_raw(), with_client()
                else:
                    client_took, raw_took = with_client(), with_raw()
                if index >= params["warmup"]:
                    client_times.append(client_took)
                    raw_times.append(raw_took)
        finally:
            loop.run_until_complete(raw.close())
    return {"client": client_times, "raw": raw_times, "subject": request.subject}


def listing(params: Dict[str, Any]) -> Dict[str, Any]:
    runs = []
    if params.get("fresh"):  # a new connection per listing: with protocol auto, each one detects the generation
        for _index in range(params["reps"]):
            with ControlClient(_settings(params)) as client:
                started = time.perf_counter()
                hosts = client.get_hosts(stall=params.get("stall"))
                runs.append({"seconds": time.perf_counter() - started, "found": len({host.id for host in hosts}),
                             "protocol": client.generation})
        return {"runs": runs}
    with ControlClient(_settings(params)) as client:
        for index in range(params["reps"]):
            if index:
                client.sleep(params.get("pause", 0.2))  # let the heartbeats that follow a listing pass
            started = time.perf_counter()
            hosts = client.get_hosts(stall=params.get("stall"))
            runs.append({"seconds": time.perf_counter() - started, "found": len({host.id for host in hosts})})
    return {"runs": runs}


def listings(params: Dict[str, Any]) -> Dict[str, Any]:
    runs = []
    store = FileRecordStore(params["record_dir"]) if params.get("record_dir") else None
    for index in range(params["reps"]):
        if index:
            time.sleep(params.get("pause", 0.5))  # the heartbeats that follow a listing pass
        with ControlClient(_settings(params), store) as client:
            started = time.perf_counter()
            hosts = client.get_hosts()
            seconds = time.perf_counter() - started
            report = client.discovery.to_result() if client.discovery else {}
            runs.append({"seconds": seconds, "found": len({host.id for host in hosts}), "expected": report.get("expected"),
                         "ended": report.get("ended"), "warnings": list(client.warnings)})
    return {"runs": runs}


async def _spread(params: Dict[str, Any]) -> Dict[str, Any]:
    connection = await nats.connect(params["nats_url"], name="bench-spread")
    try:
        arrivals: List[float] = []
        inbox = connection.new_inbox()

        async def arrived(msg: Any) -> None:
            if msg.data:
                arrivals.append(time.perf_counter())

        subscription = await connection.subscribe(inbox, cb=arrived)
        await connection.flush()
        subject = "%s.%s.ping.hosts" % (params.get("ctl_topic_prefix", "wasmbus.ctl"), params["lattice"])
        started = time.perf_counter()
        await connection.publish(subject, b"", reply=inbox)
        await asyncio.sleep(params["window"])
        await subscription.unsubscribe()
    finally:
        await connection.close()
    offsets = [0.0] + [moment - started for moment in arrivals]
    gaps = [later - earlier for earlier, later in zip(offsets, offsets[1:])]
    return {"replies": len(arrivals), "first": offsets[1] if arrivals else None,
            "last": offsets[-1] if arrivals else None, "max_gap": max(gaps) if gaps else None}


def spread(params: Dict[str, Any]) -> Dict[str, Any]:
    return asyncio.run(_spread(params))


COMMANDS = {"op_latency": op_latency, "listing": listing, "spread": spread, "listings": listings}


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write("usage: python -m benchmarks.probe {%s} < params.json\n" % ",".join(sorted(COMMANDS)))
        return 2
    params = json.loads(sys.stdin.read() or "{}")
    sys.stdout.write(json.dumps(COMMANDS[sys.argv[1]](params)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
