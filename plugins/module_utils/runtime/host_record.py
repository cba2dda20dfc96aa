# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The record of the hosts recently seen in a lattice: how many a discovery should expect.

Private to this collection; may change without notice.

Nothing on the wire says how many hosts will answer a discovery. The record remembers, per lattice
(NATS servers without credentials, control topic prefix, lattice name), which hosts answered lately,
so that a discovery can end as soon as all of them have answered (``runtime/discovery.Listening``) and can
name those that did not. It holds host IDs, their generation and when they were last seen: nothing
secret. A host is forgotten when it did not answer a discovery that listened for the whole window,
or once it has not been seen for ``RECORD_TTL`` seconds.

Where it is kept: a file per lattice under the user's cache directory (``$XDG_CACHE_HOME`` or
``~/.cache``, then ``wasmcloud.lattice/hosts``), mode 0600 in a 0700 directory; the environment
variable ``WASMCLOUD_LATTICE_HOST_RECORD`` names another directory, or ``off`` for none. The
inventory plugin keeps it in its inventory cache when one is configured (``MemoryRecordStore``
filled from and written back to it). A record that cannot be read or written is no record: the
discovery then ends by the early-finish rule, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import DIALECTS
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings, redact_url
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.discovery import STALL

RECORD_TTL = 900.0  # seconds a host stays expected after it was last seen
RECORD_FORMAT = 1
STALE_FILE_AGE = 7 * 86400.0  # a lattice's file not written for this long is deleted when another is created
MAX_HOSTS = 100000  # a larger record is not one this collection wrote
MAX_BYTES = 16 * 1024 * 1024
ENVIRONMENT = "WASMCLOUD_LATTICE_HOST_RECORD"
_DISABLED = ("off", "none", "false", "no", "0")
_HOST_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_KEY_PREFIX = "wasmcloud_lattice_hosts_"


def record_key(settings: ConnectionSettings) -> str:
    """The record's name for one lattice: a digest of where it is, never of any credential."""
    scope = json.dumps({"servers": sorted(redact_url(url) for url in settings.servers),
                        "prefix": settings.ctl_topic_prefix, "lattice": settings.lattice}, sort_keys=True)
    return _KEY_PREFIX + hashlib.sha256(scope.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class HostRecord:
    """Host ID -> (when last seen, epoch seconds; its generation, a dialect's name)."""

    hosts: Mapping[str, Tuple[float, str]] = field(default_factory=dict)

    def expected(self, generation: Optional[str] = None) -> FrozenSet[str]:
        """The hosts a discovery should hear from (of ``generation`` only, when given)."""
        return frozenset(host for host, (_seen, gen) in self.hosts.items() if generation in (None, gen))

    def after(self, answered: Mapping[str, str], heard_whole_window: bool, now: float,
              asked: Optional[str] = None) -> "HostRecord":
        """The record once a discovery is over: ``answered`` (host ID -> generation) are seen now.

        An expected host that did not answer is forgotten only when the discovery listened for the
        whole window (or was told nobody listens), and only when it is of the generation ``asked``
        (None: any): a discovery cut short says nothing about it. When fewer than half of the expected
        hosts answered the whole window, the silence says more about the lattice (overloaded, a network
        split) or this controller's reach than about the hosts: they stay expected until ``RECORD_TTL``.
        """
        judged = self.expected(asked)
        heard_enough = 2 * len(judged & set(answered)) >= len(judged)
        hosts: Dict[str, Tuple[float, str]] = {}
        for host, (seen, gen) in self.hosts.items():
            if heard_whole_window and heard_enough and host in judged:
                continue
            hosts[host] = (seen, gen)
        for host, gen in answered.items():
            hosts[host] = (now, gen)
        return HostRecord(hosts)

    def without(self, host_ids: Iterable[str]) -> "HostRecord":
        gone = set(host_ids)
        return HostRecord({host: entry for host, entry in self.hosts.items() if host not in gone})

    def to_data(self) -> Dict[str, Any]:
        return {"format": RECORD_FORMAT,
                "hosts": {host: [round(seen, 3), gen] for host, (seen, gen) in sorted(self.hosts.items())}}


def parse_record(data: Any, now: float, ttl: float = RECORD_TTL) -> HostRecord:
    """A record from stored data; anything malformed, too old or from the future is left out."""
    if not isinstance(data, Mapping) or data.get("format") != RECORD_FORMAT:
        return HostRecord()
    hosts = data.get("hosts")
    if not isinstance(hosts, Mapping) or len(hosts) > MAX_HOSTS:
        return HostRecord()
    kept: Dict[str, Tuple[float, str]] = {}
    for host, entry in hosts.items():
        if not isinstance(host, str) or not _HOST_ID.match(host):
            continue
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            continue
        seen, gen = entry
        if isinstance(seen, bool) or not isinstance(seen, (int, float)) or gen not in DIALECTS:
            continue
        if not now - ttl <= seen <= now + 60:  # a minute of clock skew between processes is fine
            continue
        kept[host] = (float(seen), gen)
    return HostRecord(kept)


def shortfall_warning(lattice: str, expected: int, missing: Iterable[str], ended: str, window: float,
                      stall: Optional[float]) -> Optional[str]:
    """What to say when hosts seen lately did not answer a discovery (None: every one did)."""
    names = sorted(missing)
    if not names:
        return None
    shown = ", ".join(names[:5]) + (" and %d more" % (len(names) - 5) if len(names) > 5 else "")
    answered = expected - len(names)
    if ended == STALL:
        return ("lattice %r: discovery ended once replies paused for %gs (discovery_stall) with %d of the %d hosts seen "
                "there lately answering, so the listing may be short; not heard from: %s"
                % (lattice, stall or 0.0, answered, expected, shown))
    return ("lattice %r: %d of the %d hosts seen there lately answered discovery within %gs (auction_timeout); "
            "not answering, and left out: %s" % (lattice, answered, expected, window, shown))


# -- where the record is kept ---------------------------------------------------------------------------------


class MemoryRecordStore:
    """Records kept in a dict (the inventory plugin fills it from its cache and writes it back)."""

    def __init__(self, data: Optional[Mapping[str, Any]] = None) -> None:
        self.data: Dict[str, Any] = dict(data or {})

    def load(self, key: str) -> Any:
        return self.data.get(key)

    def save(self, key: str, data: Mapping[str, Any]) -> None:
        self.data[key] = data


class FileRecordStore:
    """One JSON file per lattice in a directory of the user's own (0700), each file 0600.

    A file not owned by this user, or writable by others, is not read: whoever can write it could
    make every discovery wait. Failing to read or write is never an error, only no record.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key + ".json")

    def load(self, key: str) -> Any:
        try:
            fd = os.open(self._path(key), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid()
                    or info.st_mode & 0o022 or info.st_size > MAX_BYTES):
                return None
            with os.fdopen(fd, "rb") as handle:
                fd = -1
                return json.loads(handle.read(MAX_BYTES + 1).decode("utf-8"))
        except (OSError, ValueError):
            return None
        finally:
            if fd >= 0:
                os.close(fd)

    def save(self, key: str, data: Mapping[str, Any]) -> None:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.lstat(self.directory)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
                return  # not a directory of this user's alone: keep nothing there
            if not os.path.exists(self._path(key)):
                self._sweep()
            fd, scratch = tempfile.mkstemp(prefix=".%s." % key, suffix=".tmp", dir=self.directory)  # 0600
            try:
                with os.fdopen(fd, "w") as handle:
                    json.dump(data, handle, separators=(",", ":"))
                os.replace(scratch, self._path(key))  # readers see the old file or the new one, never half
            except BaseException:
                os.unlink(scratch)
                raise
        except OSError:
            return

    def _sweep(self) -> None:
        """Delete the files of lattices not discovered for a week (lattice names come and go)."""
        limit = time.time() - STALE_FILE_AGE
        with os.scandir(self.directory) as entries:
            for index, entry in enumerate(entries):
                if index >= 10000:
                    return
                if entry.name.startswith((_KEY_PREFIX, "." + _KEY_PREFIX)) and entry.is_file(follow_symlinks=False):
                    try:
                        if entry.stat(follow_symlinks=False).st_mtime < limit:
                            os.unlink(entry.path)
                    except OSError:
                        pass


RecordStore = Any  # MemoryRecordStore, FileRecordStore or anything with load(key) and save(key, data)


def default_store(environ: Optional[Mapping[str, str]] = None) -> Optional[FileRecordStore]:
    """The per-user record directory, or None when ``WASMCLOUD_LATTICE_HOST_RECORD`` is ``off``."""
    env = os.environ if environ is None else environ
    chosen = (env.get(ENVIRONMENT) or "").strip()
    if chosen.lower() in _DISABLED:
        return None
    if chosen:
        return FileRecordStore(os.path.expanduser(chosen))
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return FileRecordStore(os.path.join(base, "wasmcloud.lattice", "hosts"))


def load_record(store: Optional[RecordStore], key: str, now: Optional[float] = None) -> HostRecord:
    if store is None:
        return HostRecord()
    return parse_record(store.load(key), time.time() if now is None else now)


def save_record(store: Optional[RecordStore], key: str, record: HostRecord) -> None:
    if store is not None:
        store.save(key, record.to_data())
