"""A 1.x lattice's persistent state in the real JetStream KV buckets, as wasmCloud 1.x hosts keep it.

``LATTICEDATA_{lattice}`` holds ``COMPONENT_{id}`` specifications (``{"url", "links"}``, for components
and providers alike; the outgoing links of that source live in its spec) and ``CLAIMS_{subject}``
entries; ``CONFIGDATA_{lattice}`` holds named configs as raw JSON maps. Every read goes to the
server, so hosts (and real hosts or wadm sharing the server) always see the same state.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, TypeVar

from nats.aio.client import Client as NatsClient
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..images import Image

T = TypeVar("T")

SPEC_PREFIX = "COMPONENT_"
CLAIMS_PREFIX = "CLAIMS_"
LINK_FIELDS = ("source_id", "target", "name", "wit_namespace", "wit_package", "interfaces",
               "source_config", "target_config")
CAS_ATTEMPTS = 50


def latticedata_bucket(lattice: str) -> str:
    return "LATTICEDATA_%s" % lattice


def configdata_bucket(lattice: str) -> str:
    return "CONFIGDATA_%s" % lattice


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


async def open_or_create(nc: NatsClient, bucket: str, js_domain: Optional[str] = None) -> KeyValue:
    """The bucket, created with the hosts' defaults (1 replica, history 1) when missing."""
    js = nc.jetstream(domain=js_domain)
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        return await js.create_key_value(bucket=bucket, history=1)


class LatticeState:
    def __init__(self, latticedata: KeyValue, configdata: KeyValue) -> None:
        self.latticedata = latticedata
        self.configdata = configdata

    @classmethod
    async def open(cls, nc: NatsClient, lattice: str, js_domain: Optional[str] = None) -> "LatticeState":
        return cls(await open_or_create(nc, latticedata_bucket(lattice), js_domain),
                   await open_or_create(nc, configdata_bucket(lattice), js_domain))

    # Whole-bucket reads ------------------------------------------------------------------
    @staticmethod
    async def entries(kv: KeyValue, prefix: str = "") -> dict[str, bytes]:
        """Current value of every key starting with ``prefix`` (deleted and purged keys left out).

        Why not ``kv.watchall()``: nats-py can put its "initial values done" marker ahead of values
        already on their way (it checks the consumer's pending count before its callback has run), so
        a bucket with entries could read as empty. The stream's subjects and each one's last message
        are plain requests with nothing to race.
        """
        stream, head = kv._stream, kv._pre  # pylint: disable=protected-access  # nats-py keeps no public names
        info = await kv._js.stream_info(stream, subjects_filter=head + ">")  # pylint: disable=protected-access
        found: dict[str, bytes] = {}
        for subject in sorted(info.state.subjects or {}):
            key = subject[len(head):]
            if not key.startswith(prefix):
                continue
            try:
                entry = await kv.get(key)
            except KeyNotFoundError:  # deleted or purged: the subject keeps its marker
                continue
            found[key] = entry.value or b""
        return found

    async def latticedata_entries(self) -> dict[str, Any]:
        return {key: _loads(value) for key, value in (await self.entries(self.latticedata)).items()}

    async def configdata_entries(self) -> dict[str, Any]:
        return {key: _loads(value) for key, value in (await self.entries(self.configdata)).items()}

    # Component specifications and their links --------------------------------------------
    async def spec(self, entity_id: str) -> Optional[dict[str, Any]]:
        try:
            entry = await self.latticedata.get(SPEC_PREFIX + entity_id)
        except KeyNotFoundError:
            return None
        return _loads(entry.value)

    async def create_spec(self, entity_id: str, url: str) -> None:
        """Write ``{"url": url, "links": []}`` unless a spec exists already (links may precede the start)."""
        try:
            await self.latticedata.create(SPEC_PREFIX + entity_id, _dump({"url": url, "links": []}))
        except KeyWrongLastSequenceError:
            pass

    async def change_spec(self, entity_id: str, change: Callable[[dict[str, Any]], T],
                          create: bool = True) -> tuple[Optional[T], bool]:
        """Apply ``change`` to the spec (compare-and-swap, retried) and store the result.

        Returns (change's result, whether a spec existed). ``change`` may raise to abort
        without writing. A missing spec starts as ``{"url": "", "links": []}`` when ``create``,
        else nothing is written and (None, False) is returned.
        """
        key = SPEC_PREFIX + entity_id
        for _attempt in range(CAS_ATTEMPTS):
            try:
                entry = await self.latticedata.get(key)
                spec, revision, existed = _loads(entry.value), entry.revision, True
            except KeyNotFoundError:
                if not create:
                    return None, False
                spec, revision, existed = {"url": "", "links": []}, 0, False
            if not isinstance(spec, dict):
                spec = {"url": "", "links": []}
            if not isinstance(spec.get("links"), list):
                spec["links"] = []
            result = change(spec)
            try:
                if revision:
                    await self.latticedata.update(key, _dump(spec), last=revision)
                else:
                    await self.latticedata.create(key, _dump(spec))
                return result, existed
            except KeyWrongLastSequenceError:
                continue  # another host wrote it meanwhile: read again
        raise RuntimeError("failed to store %s: too many concurrent writers" % key)

    async def put_link(self, link: dict[str, Any]) -> None:
        """Store a link in its source's spec as a link.put would, without any check or event."""
        await self.change_spec(link["source_id"], lambda spec: merge_link(link, spec, refuse_conflicts=False))

    async def links(self) -> list[dict[str, Any]]:
        links: list[dict[str, Any]] = []
        for value in (await self.entries(self.latticedata, SPEC_PREFIX)).values():
            spec = _loads(value)
            if isinstance(spec, dict) and isinstance(spec.get("links"), list):
                links.extend(link for link in spec["links"] if isinstance(link, dict))
        return links

    # Claims ------------------------------------------------------------------------------
    async def put_claims(self, image: Image, component: bool) -> None:
        """Record a signed artifact's claims (unsigned artifacts have none to record)."""
        if not image.signed:
            return
        if component:
            claims: dict[str, Any] = {
                "call_alias": image.call_alias,
                "issuer": image.issuer,
                "name": image.name,
                "revision": str(image.revision),
                "subject": image.public_key,
                "tags": list(image.tags),
                "version": image.version,
            }
        else:
            claims = {"issuer": image.issuer, "name": image.name, "revision": str(image.revision),
                      "subject": image.public_key, "version": image.version}
        await self.latticedata.put(CLAIMS_PREFIX + image.public_key, _dump(claims))

    async def claims(self) -> list[dict[str, str]]:
        """claims.get's flat string maps, long and legacy short key names side by side."""
        flat = []
        for value in (await self.entries(self.latticedata, CLAIMS_PREFIX)).values():
            stored = _loads(value)
            if isinstance(stored, dict):
                flat.append(flatten_claims(stored))
        return flat

    # Named configs -----------------------------------------------------------------------
    async def put_config(self, name: str, raw: bytes) -> None:
        await self.configdata.put(name, raw)

    async def config(self, name: str) -> Optional[Any]:
        try:
            entry = await self.configdata.get(name)
        except KeyNotFoundError:
            return None
        return _loads(entry.value)

    async def delete_config(self, name: str) -> None:
        await self.configdata.purge(name)

    async def missing_configs(self, names: list[str]) -> list[str]:
        missing = []
        for name in names:
            try:
                await self.configdata.get(name)
            except KeyNotFoundError:
                missing.append(name)
        return missing


class LinkConflict(ValueError):
    """A link with the same source, namespace, package and name, overlapping interfaces, another target."""


def normalized_link(link: dict[str, Any]) -> dict[str, Any]:
    """The 8 Link fields in wire order, with the defaults of the optional ones."""
    defaults: dict[str, Any] = {"name": "default", "source_config": [], "target_config": []}
    return {key: link.get(key, defaults.get(key)) for key in LINK_FIELDS}


def merge_link(link: dict[str, Any], spec: dict[str, Any], refuse_conflicts: bool) -> None:
    """Put ``link`` into its source's spec: replace the identical link, else append (1.3+ refuse conflicts)."""
    link = normalized_link(link)
    links: list[dict[str, Any]] = spec["links"]
    if refuse_conflicts:
        named = ("source_id", "wit_namespace", "wit_package", "name")
        for existing in links:
            overlap = set(existing.get("interfaces") or ()) & set(link["interfaces"])
            if all(existing.get(k) == link[k] for k in named) and overlap and existing.get("target") != link["target"]:
                raise LinkConflict(link["source_id"])
    identity = ("source_id", "target", "wit_namespace", "wit_package", "name")
    for index, existing in enumerate(links):
        if all(existing.get(k) == link[k] for k in identity):
            links[index] = link
            return
    links.append(link)


def flatten_claims(stored: dict[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return str(value)

    flat = {
        "iss": text(stored.get("issuer")), "issuer": text(stored.get("issuer")),
        "name": text(stored.get("name")),
        "rev": text(stored.get("revision")), "revision": text(stored.get("revision")),
        "sub": text(stored.get("subject")), "subject": text(stored.get("subject")),
        "version": text(stored.get("version")),
    }
    if "call_alias" in stored:  # components only
        flat["call_alias"] = text(stored.get("call_alias"))
        flat["tags"] = text(stored.get("tags"))
    else:
        flat["config_schema"] = text(stored.get("config_schema"))
    return flat


def _loads(value: Optional[bytes]) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
