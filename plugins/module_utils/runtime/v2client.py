# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The client of a connection to wasmCloud v2 hosts (``wash host``): their requests, heartbeat discovery, and
the collection's record of what it started.

Private to this collection; may change without notice.

v2 hosts answer four requests and publish heartbeats. Every request is an intent encoded by the v2
dialect (dialects/v2.ProtocolV2), and the host's reply, which comes once a start or stop is over, is
what confirms it. Hosts can neither list their workloads nor return a workload's spec, so the
collection keeps its own record of every workload it started (runtime/record.py).
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.blocking import BlockingClient, blocking
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    ConnectionFailedError,
    LatticeError,
    MalformedReplyError,
    NoResponseError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.record import DEFAULT_RECORD_BUCKET, WorkloadRecord
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import NatsTransport
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.common import Request
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import Expectation
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent

# A JetStream stream that keeps the latest heartbeat of every host, so discovery reads it at once instead of
# listening for a whole heartbeat period. Memory storage: it is a cache that any discovery refills.
DEFAULT_HEARTBEAT_STREAM = "WASMCLOUD_LATTICE_HEARTBEATS"
HEARTBEAT_PERIOD = 15.0  # seconds between a host's heartbeats (wash 2.x)
_HEARTBEAT_KEEP = 300.0  # seconds a recorded heartbeat is kept; older ones say nothing about now
# Distinct host ids one discovery takes in. More is a flood of fake heartbeats (or a NATS server shared far
# beyond this collection's reach): discovery then fails instead of listing some hosts, or none.
MAX_HOSTS = 4096
# The heartbeat stream's limits (docs/v2.md): one message per host, at most MAX_HOSTS hosts, each message at
# most a heartbeat's bound, kept _HEARTBEAT_KEEP seconds, in the server's memory.
HEARTBEAT_STREAM_LIMITS: Dict[str, Any] = {
    "max_msgs_per_subject": 1, "max_msgs": MAX_HOSTS, "max_bytes": 16 * 1024 * 1024,
    "max_msg_size": v2.MAX_HEARTBEAT_BYTES, "max_age": _HEARTBEAT_KEEP, "storage": "memory", "discard": "old",
}
_STREAM_MARK = "(wasmcloud.lattice)"  # in the description of the streams this collection creates
_IN_FLIGHT = 256  # heartbeat requests (or stream reads) in flight at once
_SAMPLES = 3  # bad heartbeats named in a warning; the others are only counted
# What nats-py may buffer for the heartbeat subscription before dropping (then discovery fails).
_PENDING = {"pending_msgs_limit": 4 * MAX_HOSTS, "pending_bytes_limit": 32 * 1024 * 1024}


class HostSilentError(NoResponseError):
    """A v2 host did not reply; the message says whether it is gone or refused the request."""


class DiscoveryOverloadError(LatticeError):
    """More heartbeats than discovery can take in: the listing would be incomplete, so there is none."""


class _BadPeers:
    """Heartbeats that were skipped: counted, the first few kept for the warning (bounded memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.samples: List[str] = []

    def add(self, reason: str) -> None:
        self.count += 1
        if len(self.samples) < _SAMPLES:
            self.samples.append(reason[:300])

    def warning(self, what: str) -> Optional[str]:
        if not self.count:
            return None
        return "%s: skipped %d heartbeat(s) that are not a v2 host's (first: %s)" % (
            what, self.count, "; ".join(self.samples))


class AsyncV2Client:
    """The four host requests, heartbeat discovery and the workload record over one NATS connection."""

    def __init__(self, settings: ConnectionSettings, record_bucket: Optional[str] = DEFAULT_RECORD_BUCKET) -> None:
        self.settings = settings
        self.dialect = v2.ProtocolV2()
        self.generation = self.dialect.name
        self.transport = NatsTransport(settings)
        self.record_bucket = record_bucket
        self.warnings: List[str] = []
        self.record = WorkloadRecord(self.transport, settings, record_bucket, self.warnings)
        self.sent: List[Dict[str, Any]] = []  # every mutating request sent, for results and tests
        self.left_out: List[str] = []  # hosts the last discovery heard of but that no longer answer

    async def connect(self) -> "AsyncV2Client":
        await self.transport.connect()
        return self

    async def close(self) -> None:
        await self.transport.close()

    # -- requests ------------------------------------------------------------------------------------

    async def execute(self, intent: Intent, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Send one intent to its host; the reply (the workload's status, or the host's heartbeat) confirms it.
        ``timeout`` bounds a start (start_timeout)."""
        if intent.operation == "workload.start":
            return await self.start(intent.host_id, intent.params["workload_id"], intent.params.get("workload") or {},
                                    timeout or v2.DEFAULT_START_TIMEOUT)
        if intent.operation == "workload.stop":
            return await self.stop(intent.host_id, intent.params["workload_id"])
        if intent.operation == "workload.status":
            return await self.status(intent.host_id, intent.params["workload_id"])
        return await self.heartbeat(intent.host_id)

    def confirmation(self, intent: Intent, observed: Optional[Mapping[str, Any]] = None) -> Optional[Expectation]:
        """What proves ``intent`` done: for v2, its reply (so nothing more to wait for)."""
        return self.dialect.confirmation(intent, observed)

    async def _send(self, request: Request, timeout: float, idempotent: bool) -> bytes:
        """One request the dialect encoded; the reply's payload."""
        return await self._ask(request.host_id, request.operation, request.body, timeout, idempotent)

    async def _ask(self, host_id: str, command: str, body: bytes, timeout: float, idempotent: bool) -> bytes:
        what = "%s on v2 host %s" % (command, host_id)
        try:
            return await self.transport.request(v2.subject(host_id, command), body, timeout, what,
                                                idempotent=idempotent)
        except NoResponseError:
            raise await self._silence(host_id, command, timeout)

    async def _silence(self, host_id: str, command: str, timeout: float) -> HostSilentError:
        """Why a host did not answer: it is gone, or it is there and refused to decode the request."""
        alive = command != "heartbeat"
        if alive:
            beat = self.dialect.encode(Intent("heartbeat", host_id))
            try:
                await self.transport.request(beat.subject, beat.body, min(self.settings.timeout, 5.0), "heartbeat",
                                             idempotent=True)
            except NoResponseError:
                alive = False
        if not alive:
            return HostSilentError(
                "v2 host %s does not answer (no reply to %s within %gs): it is stopped, or it restarted and so "
                "has a new id; list the hosts again (inventory wasmcloud.lattice.hosts or wasmcloud_host_info)"
                % (host_id, command, timeout), subject=v2.subject(host_id, command))
        return HostSilentError(
            "v2 host %s answers its heartbeat but sent no reply to %s within %gs: %s"
            % (host_id, command, timeout, v2.silence_reasons(command)), subject=v2.subject(host_id, command))

    async def heartbeat(self, host_id: str) -> Dict[str, Any]:
        request = self.dialect.encode(Intent("heartbeat", host_id))
        payload = await self._send(request, self.settings.timeout, idempotent=True)
        beat = self.dialect.decode_reply("heartbeat", payload, "heartbeat of v2 host %s" % host_id)
        if beat["id"] != host_id:  # whoever answered for this host is not it
            raise MalformedReplyError("heartbeat of v2 host %s: the reply names another host id, %s"
                                      % (host_id, v2.preview(beat["id"])))
        return beat

    async def heartbeats(self, host_ids: Iterable[str]) -> Dict[str, Any]:
        """host id -> its heartbeat, or the NoResponseError / MalformedReplyError it failed with (that host is
        gone or is no v2 host); asked concurrently. A lost connection or a refused permission fails the call."""
        ids = list(dict.fromkeys(host_ids))
        gate = asyncio.Semaphore(_IN_FLIGHT)

        async def ask(host_id: str) -> Dict[str, Any]:
            async with gate:
                return await self.heartbeat(host_id)

        results = await asyncio.gather(*(ask(host_id) for host_id in ids), return_exceptions=True)
        out: Dict[str, Any] = {}
        for host_id, result in zip(ids, results):
            if isinstance(result, BaseException) and not isinstance(result, (NoResponseError, MalformedReplyError)):
                raise result
            out[host_id] = result
        self.transport.check_alive("asking v2 hosts for their heartbeat")
        return out

    async def listen(self, window: float, until: Optional[Iterable[str]] = None,
                     ids_only: bool = False) -> Dict[str, Dict[str, Any]]:
        """Heartbeats published during ``window`` seconds, the latest per host; ends early once every host
        in ``until`` has beaten. With ``ids_only`` each value is an empty dict: discovery asks every host for a
        fresh heartbeat anyway, so it keeps only the ids (memory stays small under a flood). Heartbeats that
        are not a host's are skipped with one warning. Fails when the connection is lost, or when more hosts
        beat than discovery takes (MAX_HOSTS) or messages were dropped: a partial listing would read as
        "these are all the hosts"."""
        what = "listening for v2 host heartbeats on %s" % v2.HEARTBEAT_DISCOVERY_SUBJECT
        bad = _BadPeers()
        epoch = self.transport.disconnects
        beats = await self._listen_once(window, until, what, bad, ids_only)
        await self.transport.ensure_connected(what)
        if self.transport.disconnects != epoch:
            # The connection moved to another server meanwhile: heartbeats sent during the gap are lost.
            epoch = self.transport.disconnects
            beats.update(await self._listen_once(window, until, what, bad, ids_only))
            await self.transport.ensure_connected(what)
            if self.transport.disconnects != epoch:
                raise ConnectionFailedError("%s: the connection to NATS was lost twice within heartbeat_window, so "
                                            "the hosts heard may not be all of them" % what,
                                            urls=self.settings.server_list)
        warning = bad.warning(what)
        if warning:
            self.warnings.append(warning)
        return beats

    async def _listen_once(self, window: float, until: Optional[Iterable[str]], what: str,
                           bad: _BadPeers, ids_only: bool) -> Dict[str, Dict[str, Any]]:
        beats: Dict[str, Dict[str, Any]] = {}
        wanted = set(until or ())
        done = asyncio.Event()
        beyond: List[int] = [0]  # new host ids past MAX_HOSTS

        async def on_beat(msg: Any) -> None:
            try:
                beat = v2.decode_published_heartbeat(msg.subject, msg.data)
            except MalformedReplyError as exc:
                bad.add(str(exc))
                return
            if beat["id"] not in beats and len(beats) >= MAX_HOSTS:
                beyond[0] += 1
                done.set()
                return
            beats[beat["id"]] = {} if ids_only else beat
            if wanted and wanted <= set(beats):
                done.set()

        forget = self.transport.when_lost(done.set)
        sub = await self.transport.subscribe(v2.HEARTBEAT_DISCOVERY_SUBJECT, on_beat, what, **_PENDING)
        try:
            await asyncio.wait_for(done.wait(), window)
        except asyncio.TimeoutError:
            pass
        finally:
            forget()
            try:
                await sub.unsubscribe()
            except Exception:  # the outcome is decided below; a failing unsubscribe changes nothing
                pass
        self.transport.check_alive(what)
        dropped = self.transport.dropped(sub)
        if beyond[0] or dropped:
            raise DiscoveryOverloadError(
                "%s: %s, so the hosts heard would be an incomplete list; none is returned. A flood of fake "
                "heartbeats, or a NATS server shared by more v2 hosts than this collection lists (at most %d); "
                "find who publishes on %s" % (
                    what, ("more than %d distinct host ids sent heartbeats" % MAX_HOSTS) if beyond[0] else
                    ("heartbeats came faster than they could be read and %d were dropped" % dropped),
                    MAX_HOSTS, v2.HEARTBEAT_DISCOVERY_SUBJECT))
        return beats

    async def recorded(self, window: float, stream: str,
                       ids_only: bool = False) -> Optional[Dict[str, Dict[str, Any]]]:
        """The latest heartbeat of every host in ``stream`` (None when there is no such stream); ``ids_only`` as
        for listen(). The stream keeps
        only recent beats, and discovery confirms each host anyway. A stream younger than a heartbeat period may
        lack hosts that started before it: those are listened for, up to ``window`` seconds."""
        what = "reading v2 host heartbeats from stream %r" % stream
        jsm = self.transport.nc.jsm(timeout=min(self.settings.timeout, 5.0))
        try:
            info = await jsm.stream_info(stream)
        except Exception:  # no JetStream, no stream, not permitted: discovery listens (a lost connection fails there)
            return None
        await self._bound_stream(jsm, info)
        if info.state.messages >= MAX_HOSTS:
            raise DiscoveryOverloadError(
                "%s: it holds %d heartbeats, as many as it may (%d): older ones were pushed out, so the hosts in it "
                "would be an incomplete list; none is returned. A flood of fake heartbeats, or more v2 hosts on "
                "this NATS server than this collection lists; find who publishes on %s"
                % (what, info.state.messages, MAX_HOSTS, v2.HEARTBEAT_DISCOVERY_SUBJECT))
        try:
            info = await jsm.stream_info(stream, subjects_filter=">")
        except Exception as exc:
            self.transport.check_alive(what)
            raise ConnectionFailedError("%s failed (%s: %s)" % (what, type(exc).__name__, exc or "no detail"),
                                        urls=self.settings.server_list)
        gate = asyncio.Semaphore(_IN_FLIGHT)

        async def last(name: str) -> Any:
            async with gate:
                return await jsm.get_last_msg(stream, name)

        subjects = list((info.state.subjects or {}).keys())[:MAX_HOSTS]
        messages = await asyncio.gather(*(last(name) for name in subjects), return_exceptions=True)
        self.transport.check_alive(what)
        beats: Dict[str, Dict[str, Any]] = {}
        bad = _BadPeers()
        for msg in messages:
            if isinstance(msg, BaseException):
                continue  # expired between the listing and the read
            try:
                beat = v2.decode_published_heartbeat(msg.subject or "", msg.data or b"")
            except MalformedReplyError as exc:
                bad.add(str(exc))
                continue
            beats[beat["id"]] = {} if ids_only else beat
        warning = bad.warning(what)
        if warning:
            self.warnings.append(warning)
        created = getattr(info, "created", None)
        now = datetime.datetime.now(datetime.timezone.utc)
        age = (now - created).total_seconds() if isinstance(created, datetime.datetime) else HEARTBEAT_PERIOD
        missing = min(window, HEARTBEAT_PERIOD - age)
        if missing > 0:
            beats.update(await self.listen(missing, ids_only=ids_only))
        return beats

    async def _bound_stream(self, jsm: Any, info: Any) -> None:
        """Give a heartbeat stream this collection created without limits (before they existed) its limits."""
        config = info.config
        if _STREAM_MARK not in (config.description or "") or (config.max_msgs or -1) > 0:
            return
        try:
            await jsm.update_stream(config.evolve(max_msgs=MAX_HOSTS, max_bytes=HEARTBEAT_STREAM_LIMITS["max_bytes"],
                                                  max_msg_size=HEARTBEAT_STREAM_LIMITS["max_msg_size"]))
        except Exception as exc:  # not permitted: it works as before, and the user hears why it is unbounded
            self.warnings.append("heartbeat stream %r has no limits and could not be given them (%s: %s); see "
                                 "docs/v2.md for the limits to set" % (config.name, type(exc).__name__, exc))

    async def ensure_heartbeat_stream(self, stream: str) -> bool:
        """Create the heartbeat stream when JetStream allows it; False (and a warning) when it cannot be had."""
        v2.jetstream_name(stream, "heartbeat_stream")
        jsm = self.transport.nc.jsm(timeout=min(self.settings.timeout, 5.0))
        try:
            await jsm.add_stream(name=stream, subjects=[v2.HEARTBEAT_DISCOVERY_SUBJECT],
                                 description="latest heartbeat of every wasmCloud v2 host %s" % _STREAM_MARK,
                                 **HEARTBEAT_STREAM_LIMITS)
        except Exception as exc:  # no JetStream or not permitted: discovery keeps listening
            self.transport.check_alive("creating heartbeat stream %r" % stream)
            self.warnings.append("heartbeat stream %r could not be created (%s: %s), so v2 host discovery listens "
                                 "for the whole heartbeat_window" % (stream, type(exc).__name__, exc or "no detail"))
            return False
        return True

    async def discover(self, window: float, known: Iterable[str] = (),
                       stream: Optional[str] = DEFAULT_HEARTBEAT_STREAM) -> Dict[str, Dict[str, Any]]:
        """Hosts alive now: those whose heartbeat is in ``stream`` (when it exists) or heard while listening for
        ``window`` seconds (the stream is then created for next time), plus ``known`` ids, each confirmed and
        refreshed by a heartbeat request. A host that beat but no longer answers is left out with a warning; a
        lost connection or an overload fails (DiscoveryOverloadError), never an incomplete or empty success."""
        if stream:
            v2.jetstream_name(stream, "heartbeat_stream")
        heard = await self.recorded(window, stream, ids_only=True) if stream else None
        if heard is None:
            if stream:
                await self.ensure_heartbeat_stream(stream)
            heard = await self.listen(window, ids_only=True)
        answers = await self.heartbeats(list(heard) + list(known))
        hosts: Dict[str, Dict[str, Any]] = {}
        silent, bad = _BadPeers(), _BadPeers()
        self.left_out = []
        for host_id, answer in answers.items():
            if isinstance(answer, MalformedReplyError):
                bad.add(str(answer))
            elif isinstance(answer, LatticeError):
                if host_id in heard:
                    silent.add(host_id)
                    self.left_out.append(host_id)
            else:
                hosts[host_id] = answer
        if silent.count:
            self.warnings.append("%d v2 host(s) sent a heartbeat lately but no longer answer (stopped, or restarted "
                                 "with a new id): left out (%s%s)" % (silent.count, ", ".join(silent.samples),
                                                                      ", ..." if silent.count > _SAMPLES else ""))
        warning = bad.warning("asking v2 hosts for their heartbeat")
        if warning:
            self.warnings.append(warning)
        return hosts

    async def status(self, host_id: str, workload_id: str) -> Dict[str, Any]:
        request = self.dialect.encode(Intent("workload.status", host_id, {"workload_id": workload_id}))
        payload = await self._send(request, self.settings.timeout, idempotent=True)
        return self.dialect.decode_reply(request.operation, payload, "workload.status reply of v2 host %s" % host_id)

    async def stop(self, host_id: str, workload_id: str) -> Dict[str, Any]:
        request = self.dialect.encode(Intent("workload.stop", host_id, {"workload_id": workload_id}))
        self.sent.append({"operation": "workload.stop", "host_id": host_id, "workload_id": workload_id})
        payload = await self._send(request, max(self.settings.timeout, 30.0), idempotent=True)
        return self.dialect.decode_reply(request.operation, payload, "workload.stop reply of v2 host %s" % host_id)

    async def start(self, host_id: str, workload_id: str, workload: Mapping[str, Any],
                    timeout: float) -> Dict[str, Any]:
        """Send ``workload.start``; the reply comes when the start is over (RUNNING or ERROR + message). Without
        a reply within ``timeout`` the host's status of the id tells what happened (see _unanswered_start)."""
        request = self.dialect.encode(Intent("workload.start", host_id, {"workload_id": workload_id,
                                                                         "workload": workload}))
        what = "workload.start on v2 host %s" % host_id
        self.sent.append({"operation": "workload.start", "host_id": host_id, "workload_id": workload_id})
        try:
            payload = await self.transport.request(request.subject, request.body, timeout, what)
        except NoResponseError:
            return await self._unanswered_start(host_id, workload_id, timeout)
        return self.dialect.decode_reply(request.operation, payload, "workload.start reply of v2 host %s" % host_id)

    async def _unanswered_start(self, host_id: str, workload_id: str, timeout: float) -> Dict[str, Any]:
        """No reply to a start within ``timeout``. A host reserves the id as soon as it takes a start (also while
        the start waits for a free slot), so its status of the id says why: STARTING is a slow pull or compile,
        RUNNING a start that finished late (returned as the outcome), ERROR or STOPPING what became of it
        (returned too), and NOT_FOUND a start the host never took: it could not decode the request."""
        subject = v2.subject(host_id, "workload.start")
        try:
            status = await self.status(host_id, workload_id)
        except NoResponseError:
            raise await self._silence(host_id, "workload.start", timeout)
        state = status["workload_state"]
        if state == "WORKLOAD_STATE_STARTING":
            raise HostSilentError(
                "v2 host %s is still starting workload %r after start_timeout (%gs): it is pulling or compiling its "
                "images, or waiting for a free start slot (wash host --max-concurrent-starts); raise start_timeout, "
                "or make the registry answer faster" % (host_id, workload_id, timeout),
                subject=subject, workload_state=state)
        if state == "WORKLOAD_STATE_RUNNING":
            return dict(status, message="Workload started (the host's reply did not come within start_timeout, %gs; "
                                        "its status says RUNNING)" % timeout)
        if state in ("WORKLOAD_STATE_ERROR", "WORKLOAD_STATE_STOPPING"):
            return status
        raise HostSilentError(
            "v2 host %s answers, but sent no reply to workload.start within %gs and does not have workload %r: %s"
            % (host_id, timeout, workload_id, v2.silence_reasons("workload.start")), subject=subject,
            workload_state=state)

    # -- the record of started workloads (runtime/record.py) -------------------------------------------

    @property
    def record_unavailable(self) -> Optional[str]:
        """Why there is no record (None when the bucket is reachable or not tried yet)."""
        return self.record.unavailable

    async def record_get(self, host_id: str, workload_id: str) -> Optional[Dict[str, Any]]:
        return await self.record.get(host_id, workload_id)

    async def record_put(self, host_id: str, workload_id: str, record: Mapping[str, Any]) -> bool:
        return await self.record.put(host_id, workload_id, record)

    async def records(self, limit: int = 1000) -> List[Dict[str, Any]]:
        """Every workload's record (see WorkloadRecord.all)."""
        return await self.record.all(limit)

    async def record_delete(self, host_id: str, workload_id: str) -> None:
        await self.record.delete(host_id, workload_id)

    async def deployment_get(self, namespace: str, name: str) -> Optional[Dict[str, Any]]:
        """The record of a deployment (its replicas, their hosts and templates), None when there is none."""
        return await self.record.get_deployment(namespace, name)

    async def deployment_put(self, namespace: str, name: str, record: Mapping[str, Any]) -> bool:
        return await self.record.put_deployment(namespace, name, record)

    async def deployment_delete(self, namespace: str, name: str) -> None:
        await self.record.delete_deployment(namespace, name)

    async def deployment_claim(self, namespace: str, name: str, seen: Optional[Mapping[str, Any]],
                               until: float) -> Optional[str]:
        """This run's lease on a deployment before it changes it (see WorkloadRecord.claim_deployment)."""
        return await self.record.claim_deployment(namespace, name, seen, until)

    async def deployment_release(self, namespace: str, name: str) -> None:
        await self.record.release_deployment(namespace, name)

    async def deployments(self, limit: int = 1000) -> List[Dict[str, Any]]:
        """The records of every deployment in the bucket (see WorkloadRecord.deployments)."""
        return await self.record.deployments(limit)

    async def statuses(self, pairs: Iterable[Any]) -> Dict[Any, Any]:
        """(host_id, workload_id) -> its status, or the LatticeError it failed with; asked concurrently."""
        wanted = list(dict.fromkeys(pairs))
        gate = asyncio.Semaphore(_IN_FLIGHT)

        async def ask(pair: Any) -> Dict[str, Any]:
            async with gate:
                return await self.status(*pair)

        results = await asyncio.gather(*(ask(pair) for pair in wanted), return_exceptions=True)
        out: Dict[Any, Any] = {}
        for pair, result in zip(wanted, results):
            if isinstance(result, BaseException) and not isinstance(result, LatticeError):
                raise result
            out[pair] = result
        self.transport.check_alive("asking v2 hosts for workload status")
        return out


def host_view(beat: Mapping[str, Any]) -> Dict[str, Any]:
    """A decoded heartbeat as modules return it and the inventory's hostvars carry it."""
    labels = dict(beat.get("labels") or {})
    return {
        "id": beat["id"], "hostname": beat["hostname"], "friendly_name": beat["friendly_name"],
        "version": beat["version"], "labels": labels, "host_group": labels.get("hostgroup", ""),
        "environment": beat["environment"], "http_port": beat["http_port"] or None,
        "workload_count": beat["workload_count"], "component_count": beat["component_count"],
        "os": {"name": beat["os_name"], "arch": beat["os_arch"], "kernel": beat["os_kernel"]},
        "memory": {"total": beat["system_memory_total"], "free": beat["system_memory_free"]},
        "cpu_usage": beat["system_cpu_usage"], "started_at": beat["started_at"],
        "imports": [_interface(entry) for entry in beat["imports"]],
        "exports": [_interface(entry) for entry in beat["exports"]],
    }


def _interface(entry: Mapping[str, Any]) -> str:
    """wasi:keyvalue/{atomics,batch,store}@0.2.0-draft (names sorted: hosts list them in any order)."""
    names = sorted(entry.get("interfaces") or [])
    text = "%s:%s/{%s}" % (entry.get("namespace"), entry.get("package"), ",".join(names))
    return text + ("@%s" % entry["version"] if entry.get("version") else "")


def _blocking(name: str) -> Any:
    return blocking(AsyncV2Client, name)


class V2Client(BlockingClient):
    """Blocking face of AsyncV2Client."""

    def __init__(self, settings: ConnectionSettings, record_bucket: Optional[str] = DEFAULT_RECORD_BUCKET) -> None:
        super().__init__(settings, AsyncV2Client, record_bucket)

    @property
    def generation(self) -> str:
        return self.aio.generation  # type: ignore[attr-defined,no-any-return]

    @property
    def record_unavailable(self) -> Optional[str]:
        return self.aio.record_unavailable  # type: ignore[attr-defined,no-any-return]

    @property
    def left_out(self) -> List[str]:
        return self.aio.left_out  # type: ignore[attr-defined,no-any-return]

    def confirmation(self, intent: Intent, observed: Optional[Mapping[str, Any]] = None) -> Optional[Expectation]:
        return self.aio.confirmation(intent, observed)  # type: ignore[attr-defined,no-any-return]

    execute = _blocking("execute")
    heartbeat = _blocking("heartbeat")
    heartbeats = _blocking("heartbeats")
    listen = _blocking("listen")
    discover = _blocking("discover")
    recorded = _blocking("recorded")
    ensure_heartbeat_stream = _blocking("ensure_heartbeat_stream")
    status = _blocking("status")
    stop = _blocking("stop")
    start = _blocking("start")
    record_get = _blocking("record_get")
    record_put = _blocking("record_put")
    record_delete = _blocking("record_delete")
    records = _blocking("records")
    deployment_get = _blocking("deployment_get")
    deployment_put = _blocking("deployment_put")
    deployment_delete = _blocking("deployment_delete")
    deployment_claim = _blocking("deployment_claim")
    deployment_release = _blocking("deployment_release")
    statuses = _blocking("statuses")
    deployments = _blocking("deployments")
