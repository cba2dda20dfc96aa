# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The collection's record of the v2 workloads and deployments it started: one JetStream key-value bucket on
the same NATS.

Private to this collection; may change without notice.

v2 hosts can neither list their workloads nor return a workload's spec, so what this collection
started is recorded here (see docs/v2.md): per host and workload ID, the spec digest, the spec
without secrets and the ID that serves; per deployment (wasmcloud_deployment, under keys of their
own), its replicas, their hosts and templates, and while a run changes it, that run's lease (``claim_deployment``:
two runs never roll out one deployment at once). Without JetStream there is no record: every read says
"none", ``unavailable`` says why, and modules fall back to what the host says (status only).
This is the only code that reads or writes the bucket.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings

DEFAULT_RECORD_BUCKET = "wasmcloud_lattice_workloads"


def record_key(host_id: str, workload_id: str) -> str:
    """KV keys allow only [-/_=.a-zA-Z0-9]: the workload id (free text) goes in base64url."""
    encoded = base64.urlsafe_b64encode(workload_id.encode("utf-8")).decode("ascii").rstrip("=")
    return "%s.%s" % (host_id, encoded)


# Deployments (wasmcloud_deployment) are recorded in the same bucket, under keys of their own.
DEPLOYMENT_KEY_PREFIX = "deployment"


def deployment_key(namespace: str, name: str) -> str:
    encoded = base64.urlsafe_b64encode(("%s/%s" % (namespace, name)).encode("utf-8")).decode("ascii").rstrip("=")
    return "%s.%s" % (DEPLOYMENT_KEY_PREFIX, encoded)


LEASE = "lease"  # in a deployment's record while a run changes it: {"holder": ..., "until": epoch seconds}
_BOOKKEEPING = ("recorded_at", LEASE)  # what a record carries besides what it says of the deployment


def run_holder() -> str:
    """Who this run is, as another run's refusal names it: the controller, its process, a unique part."""
    return "%s pid %d run %s" % (socket.gethostname()[:64], os.getpid(), uuid.uuid4().hex[:12])


def _substance(record: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    return None if record is None else {k: v for k, v in record.items() if k not in _BOOKKEEPING}


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


class WorkloadRecord:
    """The bucket ``bucket`` (None: no record) over the connection of ``transport``."""

    def __init__(self, transport: Any, settings: ConnectionSettings, bucket: Optional[str],
                 warnings: List[str]) -> None:
        if bucket:
            v2.jetstream_name(bucket, "record_bucket")
        self.transport = transport
        self.settings = settings
        self.bucket = bucket
        self.warnings = warnings
        self._kv: Any = None
        self._unavailable: Optional[str] = None if bucket else "record_bucket is not set"
        self.holder = run_holder()
        self._leases: Dict[str, float] = {}  # deployment key -> until when this run holds it

    @property
    def unavailable(self) -> Optional[str]:
        """Why there is no record (None when the bucket is reachable or not tried yet)."""
        return self._unavailable

    async def _open(self, create: bool) -> Any:
        if self._kv is not None or self._unavailable:
            return self._kv
        from nats.js import errors as js_errors

        js = self.transport.nc.jetstream(timeout=min(self.settings.timeout, 5.0))
        try:
            try:
                self._kv = await js.key_value(self.bucket)
            except js_errors.BucketNotFoundError:
                if not create:
                    return None
                self._kv = await js.create_key_value(bucket=self.bucket, history=1,
                                                     description="workloads started by wasmcloud.lattice")
        except Exception as exc:  # no JetStream, not permitted, timeout: all mean "no record"
            self._unavailable = "JetStream key-value bucket %r is not usable (%s: %s)" % (
                self.bucket, type(exc).__name__, exc or "no detail")
        return self._kv

    async def _entry(self, kv: Any, key: str) -> Tuple[Optional[Dict[str, Any]], Optional[int]]:
        """(record, revision) of a key; (None, None) when there is none. A value that is not this collection's
        JSON object reads as no record (with its revision)."""
        from nats.js import errors as js_errors

        try:
            entry = await kv.get(key)
        except (js_errors.KeyNotFoundError, js_errors.KeyDeletedError):
            return None, None
        try:
            record = json.loads(entry.value or b"null")
        except ValueError:
            record = None
        return (record if isinstance(record, dict) else None), entry.revision

    async def _read(self, key: str) -> Optional[Dict[str, Any]]:
        kv = await self._open(create=False)
        if kv is None:
            return None
        try:
            return (await self._entry(kv, key))[0]
        except Exception as exc:  # timeout, permission: as good as no record, and said so (a deployment refuses)
            self._unavailable = "reading bucket %r failed (%s: %s)" % (self.bucket, type(exc).__name__, exc)
            return None

    async def get(self, host_id: str, workload_id: str) -> Optional[Dict[str, Any]]:
        return await self._read(record_key(host_id, workload_id))

    async def put(self, host_id: str, workload_id: str, record: Mapping[str, Any]) -> bool:
        kv = await self._open(create=True)
        if kv is None:
            return False
        value = dict(record, host_id=host_id, workload_id=workload_id, recorded_at=time.time())
        try:
            await kv.put(record_key(host_id, workload_id), json.dumps(value, sort_keys=True).encode("utf-8"))
        except Exception as exc:  # the workload runs all the same; the next run replaces it, and says why
            self.warnings.append("workload %r runs on host %s but could not be recorded in bucket %r (%s: %s), so "
                                 "the next run replaces it" % (workload_id, host_id, self.bucket,
                                                               type(exc).__name__, exc))
            return False
        return True

    async def _keys(self, kind: str, deployments: bool, limit: int) -> Tuple[Any, List[str]]:
        """The bucket and the first ``limit`` keys of one kind (deployments' or workloads'), the rest left out
        with a warning; (None, []) without a bucket or when it cannot be listed (then said so)."""
        from nats.js import errors as js_errors

        kv = await self._open(create=False)
        if kv is None:
            return None, []
        try:
            keys = [key for key in await kv.keys()
                    if key.startswith(DEPLOYMENT_KEY_PREFIX + ".") == deployments]
        except js_errors.NoKeysError:
            return kv, []
        except Exception as exc:  # timeout, permission: as good as no record, and said so
            self._unavailable = "listing bucket %r failed (%s: %s)" % (self.bucket, type(exc).__name__, exc)
            return None, []
        if len(keys) > limit:
            self.warnings.append("bucket %r holds %d %s records; only the first %d were read"
                                 % (self.bucket, len(keys), kind, limit))
        return kv, keys[:limit]

    async def all(self, limit: int = 1000) -> List[Dict[str, Any]]:
        """The records of every workload (at most ``limit``, the rest left out with a warning); [] without a
        bucket. Each has the ``host_id`` and ``workload_id`` it was recorded under."""
        _kv, keys = await self._keys("workload", False, limit)
        found: List[Dict[str, Any]] = []
        for key in keys:
            host_id, _dot, encoded = key.partition(".")
            try:
                workload_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                continue  # not a key this collection wrote
            record = await self.get(host_id, workload_id)
            if record is not None:
                found.append(dict(record, host_id=host_id, workload_id=workload_id))
        return found

    async def delete(self, host_id: str, workload_id: str) -> None:
        kv = await self._open(create=False)
        if kv is None:
            return
        try:
            await kv.purge(record_key(host_id, workload_id))
        except Exception as exc:  # a stale record only makes a later run replace instead of keep
            self.warnings.append("the record of workload %r on host %s could not be deleted from bucket %r (%s: %s)"
                                 % (workload_id, host_id, self.bucket, type(exc).__name__, exc))

    # -- deployments -----------------------------------------------------------------------------------

    async def get_deployment(self, namespace: str, name: str) -> Optional[Dict[str, Any]]:
        """The record of a deployment (its replicas, their hosts and templates), None when there is none."""
        return await self._read(deployment_key(namespace, name))

    async def claim_deployment(self, namespace: str, name: str, seen: Optional[Mapping[str, Any]],
                               until: float) -> Optional[str]:
        """Take the deployment for this run until ``until`` (epoch seconds), before its first change: None when taken
        (or when there is no record to hold it in: nothing to coordinate with), else why not. Refused while another
        run's lease is current, or when the record is no longer what this run planned from (``seen``). Written as a
        compare-and-set on the key's revision, so of two runs claiming at once exactly one gets it."""
        kv = await self._open(create=True)
        if kv is None:
            return None
        key = deployment_key(namespace, name)
        try:
            current, revision = await self._entry(kv, key)
        except Exception as exc:  # timeout, permission: not knowing who else is at work, do not start
            return "its record in bucket %r could not be read (%s: %s)" % (self.bucket, type(exc).__name__, exc)
        lease = (current or {}).get(LEASE)
        if isinstance(lease, Mapping) and lease.get("holder") != self.holder:
            try:
                held_until = float(lease.get("until") or 0)
            except (TypeError, ValueError):
                held_until = 0.0
            if held_until > time.time():
                holder = str(lease.get("holder"))[:120]
                return "another run is changing it (%s, lease until %s)" % (holder, _utc(held_until))
            self.warnings.append("deployment %r: took it over from a run whose lease ended at %s (%s): that run may "
                                 "have stopped halfway; this run plans from what the hosts run now"
                                 % (name, _utc(held_until), str(lease.get("holder"))[:120]))
        if _substance(current) != _substance(seen):
            return "its record changed since this run read it (another run changed the deployment meanwhile)"
        value = dict(current or {"namespace": namespace, "name": name}, lease={"holder": self.holder, "until": until})
        payload = json.dumps(value, sort_keys=True).encode("utf-8")
        try:
            if revision is None:
                await kv.create(key, payload)
            else:
                await kv.update(key, payload, last=revision)
        except Exception as exc:  # a wrong last sequence: another run wrote first
            return "another run changed its record at the same moment (%s)" % type(exc).__name__
        self._leases[key] = until
        return None

    async def release_deployment(self, namespace: str, name: str) -> None:
        """End this run's lease (the record stays as the last step wrote it)."""
        key = deployment_key(namespace, name)
        if self._leases.pop(key, None) is None or self._kv is None:
            return
        try:
            current, revision = await self._entry(self._kv, key)
            if current is None or (current.get(LEASE) or {}).get("holder") != self.holder:
                return  # deleted (removed), or no longer ours
            current.pop(LEASE, None)
            await self._kv.update(key, json.dumps(current, sort_keys=True).encode("utf-8"), last=revision)
        except Exception as exc:  # the lease ends by itself at its time
            self.warnings.append("deployment %r: this run's lease could not be ended (%s: %s); other runs wait for "
                                 "it to expire" % (name, type(exc).__name__, exc))

    async def put_deployment(self, namespace: str, name: str, record: Mapping[str, Any]) -> bool:
        kv = await self._open(create=True)
        if kv is None:
            return False
        value = dict(record, namespace=namespace, name=name, recorded_at=time.time())
        until = self._leases.get(deployment_key(namespace, name))
        if until is not None:  # still this run's until the end of its rollout
            value[LEASE] = {"holder": self.holder, "until": until}
        try:
            await kv.put(deployment_key(namespace, name), json.dumps(value, sort_keys=True).encode("utf-8"))
        except Exception as exc:
            self.warnings.append("deployment %r could not be recorded in bucket %r (%s: %s): the next run cannot "
                                 "see its replicas" % (name, self.bucket, type(exc).__name__, exc))
            return False
        return True

    async def delete_deployment(self, namespace: str, name: str) -> None:
        kv = await self._open(create=False)
        if kv is None:
            return
        try:
            await kv.purge(deployment_key(namespace, name))
        except Exception as exc:
            self.warnings.append("the record of deployment %r could not be deleted from bucket %r (%s: %s)"
                                 % (name, self.bucket, type(exc).__name__, exc))

    async def deployments(self, limit: int = 1000) -> List[Dict[str, Any]]:
        """The records of every deployment in the bucket (at most ``limit``, the rest left out with a warning)."""
        kv, keys = await self._keys("deployment", True, limit)
        found = []
        for key in keys:
            try:
                record = (await self._entry(kv, key))[0]
            except Exception:  # timeout meanwhile: left out like a record deleted meanwhile
                continue
            if record is not None and record.get("name"):
                found.append(record)
        return found
