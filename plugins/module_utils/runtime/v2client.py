# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""A client for wasmCloud v2 hosts (``wash host``) and the collection's record of what it started.

Private to this collection; may change without notice.

v2 hosts answer four requests and publish heartbeats (protocol/v2.py). They can neither list their
workloads nor return a workload's spec, so the collection keeps its own record of every workload it
started in a JetStream key-value bucket on the same NATS (see docs/v2.md): the workload's spec digest,
the spec without secrets, and the host it runs on. Without JetStream there is no record, and a module
falls back to what the host says (status only) and says so.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.blocking import BlockingClient, blocking
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    LatticeError,
    MalformedReplyError,
    NoResponseError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import NatsTransport
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

DEFAULT_RECORD_BUCKET = "wasmcloud_lattice_workloads"
# A JetStream stream that keeps the latest heartbeat of every host, so discovery reads it at once instead of
# listening for a whole heartbeat period. Memory storage: it is a cache that any discovery refills.
DEFAULT_HEARTBEAT_STREAM = "WASMCLOUD_LATTICE_HEARTBEATS"
HEARTBEAT_PERIOD = 15.0  # seconds between a host's heartbeats (wash 2.x)
_HEARTBEAT_KEEP = 300.0  # seconds a recorded heartbeat is kept; older ones say nothing about now


class HostSilentError(NoResponseError):
    """A v2 host did not reply; the message says whether it is gone or refused the request."""


def record_key(host_id: str, workload_id: str) -> str:
    """KV keys allow only [-/_=.a-zA-Z0-9]: the workload id (free text) goes in base64url."""
    encoded = base64.urlsafe_b64encode(workload_id.encode("utf-8")).decode("ascii").rstrip("=")
    return "%s.%s" % (host_id, encoded)


def spec_digest(wire: Mapping[str, Any]) -> str:
    """SHA-256 of the workload as sent (canonical JSON): equal digests mean an identical start request."""
    return "sha256:" + hashlib.sha256(v2.dumps(wire)).hexdigest()


class AsyncV2Client:
    """The four host requests, heartbeat discovery and the workload record over one NATS connection."""

    def __init__(self, settings: ConnectionSettings, record_bucket: Optional[str] = DEFAULT_RECORD_BUCKET) -> None:
        self.settings = settings
        self.transport = NatsTransport(settings)
        self.record_bucket = record_bucket
        self.warnings: List[str] = []
        self.sent: List[Dict[str, Any]] = []  # every mutating request sent, for results and tests
        self._kv: Any = None
        self._kv_unavailable: Optional[str] = None if record_bucket else "record_bucket is not set"

    async def connect(self) -> "AsyncV2Client":
        await self.transport.connect()
        return self

    async def close(self) -> None:
        await self.transport.close()

    # -- requests ------------------------------------------------------------------------------------

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
            try:
                await self.transport.request(v2.subject(host_id, "heartbeat"), b"{}",
                                             min(self.settings.timeout, 5.0), "heartbeat", idempotent=True)
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
        payload = await self._ask(host_id, "heartbeat", b"{}", self.settings.timeout, idempotent=True)
        return _decoded(v2.decode_heartbeat, payload, "heartbeat of v2 host %s" % host_id)

    async def heartbeats(self, host_ids: Iterable[str]) -> Dict[str, Any]:
        """host id -> its heartbeat, or the LatticeError it failed with; asked concurrently."""
        ids = list(dict.fromkeys(host_ids))
        results = await asyncio.gather(*(self.heartbeat(host_id) for host_id in ids), return_exceptions=True)
        out: Dict[str, Any] = {}
        for host_id, result in zip(ids, results):
            if isinstance(result, BaseException) and not isinstance(result, LatticeError):
                raise result
            out[host_id] = result
        return out

    async def listen(self, window: float, until: Optional[Iterable[str]] = None) -> Dict[str, Dict[str, Any]]:
        """Heartbeats published during ``window`` seconds, the latest per host; ends early once every host
        in ``until`` has beaten. Undecodable heartbeats are counted in a warning, not fatal."""
        beats: Dict[str, Dict[str, Any]] = {}
        wanted = set(until or ())
        done = asyncio.Event()
        bad: List[str] = []

        async def on_beat(msg: Any) -> None:
            try:
                beat = v2.decode_heartbeat(msg.data)
            except MalformedReplyError as exc:
                bad.append("%s: %s" % (msg.subject, exc))
                return
            beats[beat["id"]] = beat
            if wanted and wanted <= set(beats):
                done.set()

        sub = await self.transport.subscribe(v2.HEARTBEAT_DISCOVERY_SUBJECT, on_beat, "listen to v2 heartbeats")
        try:
            await asyncio.wait_for(done.wait(), window)
        except asyncio.TimeoutError:
            pass
        finally:
            try:
                await sub.unsubscribe()
            except Exception:  # the result is what was heard; a failing unsubscribe changes nothing
                pass
        if bad:
            self.warnings.append("ignored %d undecodable heartbeat(s), first: %s" % (len(bad), bad[0]))
        return beats

    async def recorded(self, window: float, stream: str) -> Optional[Dict[str, Dict[str, Any]]]:
        """The latest heartbeat of every host in ``stream`` (None when there is no such stream). The stream keeps
        only recent beats, and discovery confirms each host anyway. A stream younger than a heartbeat period may
        lack hosts that started before it: those are listened for, up to ``window`` seconds."""
        jsm = self.transport.nc.jsm(timeout=min(self.settings.timeout, 5.0))
        try:
            info = await jsm.stream_info(stream, subjects_filter=">")
        except Exception:  # no JetStream, no stream, not permitted: discovery listens instead
            return None
        subjects = list((info.state.subjects or {}).keys())
        messages = await asyncio.gather(*(jsm.get_last_msg(stream, name) for name in subjects), return_exceptions=True)
        beats: Dict[str, Dict[str, Any]] = {}
        for msg in messages:
            if isinstance(msg, BaseException):
                continue
            try:
                beat = v2.decode_heartbeat(msg.data or b"")
            except MalformedReplyError:
                continue
            beats[beat["id"]] = beat
        created = getattr(info, "created", None)
        now = datetime.datetime.now(datetime.timezone.utc)
        age = (now - created).total_seconds() if isinstance(created, datetime.datetime) else HEARTBEAT_PERIOD
        missing = min(window, HEARTBEAT_PERIOD - age)
        if missing > 0:
            beats.update(await self.listen(missing))
        return beats

    async def ensure_heartbeat_stream(self, stream: str) -> bool:
        """Create the heartbeat stream when JetStream allows it; False (and a warning) when it cannot be had."""
        jsm = self.transport.nc.jsm(timeout=min(self.settings.timeout, 5.0))
        try:
            await jsm.add_stream(name=stream, subjects=[v2.HEARTBEAT_DISCOVERY_SUBJECT], max_msgs_per_subject=1,
                                 max_age=_HEARTBEAT_KEEP, storage="memory", discard="old",
                                 description="latest heartbeat of every wasmCloud v2 host (wasmcloud.lattice)")
        except Exception as exc:  # no JetStream or not permitted: discovery keeps listening
            self.warnings.append("heartbeat stream %r could not be created (%s: %s), so v2 host discovery listens "
                                 "for the whole heartbeat_window" % (stream, type(exc).__name__, exc or "no detail"))
            return False
        return True

    async def discover(self, window: float, known: Iterable[str] = (),
                       stream: Optional[str] = DEFAULT_HEARTBEAT_STREAM) -> Dict[str, Dict[str, Any]]:
        """Hosts alive now: those whose heartbeat is in ``stream`` (when it exists) or heard while listening for
        ``window`` seconds (the stream is then created for next time), plus ``known`` ids, each confirmed and
        refreshed by a heartbeat request; a host that beat but no longer answers is left out with a warning."""
        heard = await self.recorded(window, stream) if stream else None
        if heard is None:
            if stream:
                await self.ensure_heartbeat_stream(stream)
            heard = await self.listen(window)
        answers = await self.heartbeats(list(heard) + list(known))
        hosts: Dict[str, Dict[str, Any]] = {}
        for host_id, answer in answers.items():
            if isinstance(answer, LatticeError):
                if host_id in heard:
                    self.warnings.append("v2 host %s sent a heartbeat lately but no longer answers: left out"
                                         % host_id)
                continue
            hosts[host_id] = answer
        return hosts

    async def status(self, host_id: str, workload_id: str) -> Dict[str, Any]:
        payload = await self._ask(host_id, "workload.status", v2.workload_id_request(workload_id),
                                  self.settings.timeout, idempotent=True)
        return _decoded(v2.decode_workload_status, payload, "workload.status reply of v2 host %s" % host_id)

    async def stop(self, host_id: str, workload_id: str) -> Dict[str, Any]:
        self.sent.append({"operation": "workload.stop", "host_id": host_id, "workload_id": workload_id})
        payload = await self._ask(host_id, "workload.stop", v2.workload_id_request(workload_id),
                                  max(self.settings.timeout, 30.0), idempotent=True)
        return _decoded(v2.decode_workload_status, payload, "workload.stop reply of v2 host %s" % host_id)

    async def start(self, host_id: str, workload_id: str, workload: Mapping[str, Any],
                    timeout: float) -> Dict[str, Any]:
        """Send ``workload.start``; the reply comes when the start is over (RUNNING or ERROR + message)."""
        body = v2.start_request(workload_id, workload)
        self.sent.append({"operation": "workload.start", "host_id": host_id, "workload_id": workload_id})
        payload = await self._ask(host_id, "workload.start", body, timeout, idempotent=False)
        return _decoded(v2.decode_workload_status, payload, "workload.start reply of v2 host %s" % host_id)

    # -- the record of started workloads -------------------------------------------------------------

    @property
    def record_unavailable(self) -> Optional[str]:
        """Why there is no record (None when the bucket is reachable or not tried yet)."""
        return self._kv_unavailable

    async def _bucket(self, create: bool) -> Any:
        if self._kv is not None or self._kv_unavailable:
            return self._kv
        from nats.js import errors as js_errors

        js = self.transport.nc.jetstream(timeout=min(self.settings.timeout, 5.0))
        try:
            try:
                self._kv = await js.key_value(self.record_bucket)
            except js_errors.BucketNotFoundError:
                if not create:
                    return None
                self._kv = await js.create_key_value(bucket=self.record_bucket, history=1,
                                                     description="workloads started by wasmcloud.lattice")
        except Exception as exc:  # no JetStream, not permitted, timeout: all mean "no record"
            self._kv_unavailable = "JetStream key-value bucket %r is not usable (%s: %s)" % (
                self.record_bucket, type(exc).__name__, exc or "no detail")
        return self._kv

    async def record_get(self, host_id: str, workload_id: str) -> Optional[Dict[str, Any]]:
        from nats.js import errors as js_errors

        kv = await self._bucket(create=False)
        if kv is None:
            return None
        try:
            entry = await kv.get(record_key(host_id, workload_id))
        except (js_errors.KeyNotFoundError, js_errors.KeyDeletedError):
            return None
        except Exception as exc:  # timeout, permission: as good as no record, and said so
            self._kv_unavailable = "reading bucket %r failed (%s: %s)" % (self.record_bucket, type(exc).__name__, exc)
            return None
        try:
            record = json.loads(entry.value or b"null")
        except ValueError:
            record = None
        return record if isinstance(record, dict) else None

    async def record_put(self, host_id: str, workload_id: str, record: Mapping[str, Any]) -> bool:
        kv = await self._bucket(create=True)
        if kv is None:
            return False
        value = dict(record, host_id=host_id, workload_id=workload_id, recorded_at=time.time())
        try:
            await kv.put(record_key(host_id, workload_id), json.dumps(value, sort_keys=True).encode("utf-8"))
        except Exception as exc:  # the workload runs all the same; the next run replaces it, and says why
            self.warnings.append("workload %r runs on host %s but could not be recorded in bucket %r (%s: %s), so "
                                 "the next run replaces it" % (workload_id, host_id, self.record_bucket,
                                                               type(exc).__name__, exc))
            return False
        return True

    async def record_delete(self, host_id: str, workload_id: str) -> None:
        kv = await self._bucket(create=False)
        if kv is None:
            return
        try:
            await kv.purge(record_key(host_id, workload_id))
        except Exception as exc:  # a stale record only makes a later run replace instead of keep
            self.warnings.append("the record of workload %r on host %s could not be deleted from bucket %r (%s: %s)"
                                 % (workload_id, host_id, self.record_bucket, type(exc).__name__, exc))


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


def _decoded(decode: Any, payload: bytes, what: str) -> Dict[str, Any]:
    try:
        return decode(payload)
    except MalformedReplyError as exc:
        raise MalformedReplyError("%s: %s" % (what, exc))


def _blocking(name: str) -> Any:
    return blocking(AsyncV2Client, name)


class V2Client(BlockingClient):
    """Blocking face of AsyncV2Client."""

    def __init__(self, settings: ConnectionSettings, record_bucket: Optional[str] = DEFAULT_RECORD_BUCKET) -> None:
        super().__init__(settings, AsyncV2Client, record_bucket)

    @property
    def record_unavailable(self) -> Optional[str]:
        return self.aio.record_unavailable  # type: ignore[attr-defined,no-any-return]

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
