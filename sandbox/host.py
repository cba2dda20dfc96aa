"""One emulated wasmCloud OTP 0.5x host speaking the lattice control interface over NATS.

Behaviour follows the 0.x protocol as docs/protocol-0x.md describes it: requests are acked fast, starts happen asynchronously and are reported as
CloudEvents, scatter-gather subjects get a reply only from eligible hosts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import sys
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Awaitable, Callable, NamedTuple, Optional

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from . import images
from .cloudevents import cloud_event, event_subject, uptime_human
from .hooks import DEFAULT_START_DELAY
from .images import ACTOR, PROVIDER, Image, ImageResolutionError
from .lifecycle import HostLifecycle
from .records import Record, RequestLog
from .store import LatticeStore

LOG = logging.getLogger("sandbox.host")

DEFAULT_HOST_VERSION = "0.59.0"
STOP_HOST_GRACE = 0.1  # OTP waits ~100 ms after acking a stop before tearing down

INCORRECT_HOST = "Command received by incorrect host and could not be processed"
DUPLICATE_PROVIDER = "Provider with that link name is already running on this host"
LIVE_UPDATE_FAILED = "Unable to perform live update: "


def _rust_arch() -> str:
    # Real hosts report Rust's std::env::consts::ARCH names.
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


BUILTIN_LABELS = {
    "hostcore.os": {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform),
    "hostcore.osfamily": "windows" if sys.platform == "win32" else "unix",
    "hostcore.arch": _rust_arch(),
}


@dataclass(frozen=True)
class LatticeConfig:
    """What every host of one lattice agrees on."""

    cluster_issuer: str
    lattice: str = "default"
    topic_prefix: str = "wasmbus.ctl"
    heartbeat_interval: float = 30.0
    allow_latest: bool = False
    ctl_host: str = "127.0.0.1"

    @property
    def ctl_prefix(self) -> str:
        return "%s.%s" % (self.topic_prefix, self.lattice)


@dataclass
class ActorInstance:
    instance_id: str
    revision: int
    annotations: dict[str, str]


@dataclass
class RunningActor:
    image: Image  # image.ref is the reference exactly as requested (wash matches on it)
    instances: list[ActorInstance] = field(default_factory=list)


@dataclass
class RunningProvider:
    image: Image
    link_name: str
    instance_id: str
    annotations: dict[str, str]
    configuration: str


class Outcome(NamedTuple):
    """A handler's reply (None: stay silent) and the work to do after replying."""

    reply: Optional[dict[str, Any]]
    then: Optional[Callable[[], Awaitable[None]]] = None


ACK_OK: dict[str, Any] = {"accepted": True, "error": ""}


def ack_failure(error: str) -> Outcome:
    return Outcome({"accepted": False, "error": error})


def _decode(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _count(value: Any) -> Optional[int]:
    """A u16 count, or None when the field is not one."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        return None
    return value


def _is_provider_key(ref: str) -> bool:
    return len(ref) == 56 and ref.startswith("V")


def _is_actor_key(ref: str) -> bool:
    return len(ref) == 56 and ref.startswith("M")


def _actor_claims(image: Image) -> dict[str, Any]:
    return {
        "call_alias": image.call_alias or None,
        "caps": list(image.caps) or None,
        "issuer": image.issuer,
        "tags": list(image.tags) or None,
        "name": image.name,
        "version": image.version,
        "revision": image.revision,
        "not_before_human": "immediately",
        "expires_human": "never",
    }


def _provider_claims(image: Image) -> dict[str, Any]:
    return {
        "issuer": image.issuer,
        "tags": list(image.tags) or None,
        "name": image.name,
        "version": image.version,
        "not_before_human": "immediately",
        "expires_human": "never",
    }


class EmulatedHost(HostLifecycle):
    """A host's identity, state and control-interface handlers.

    All methods run on the lattice's event loop; ``hooks`` may be changed from any thread.
    """

    def __init__(
        self,
        config: LatticeConfig,
        store: LatticeStore,
        log: RequestLog,
        *,
        seed: bytes | str | None = None,
        labels: Optional[dict[str, str]] = None,
        friendly_name: Optional[str] = None,
        version: str = DEFAULT_HOST_VERSION,
        start_delay: float = DEFAULT_START_DELAY,
        on_stopped: Optional[Callable[["EmulatedHost"], None]] = None,
    ) -> None:
        self.config = config
        self.store = store
        self.log = log
        self._begin(seed, {**BUILTIN_LABELS, **(labels or {})}, friendly_name, version, start_delay, on_stopped)
        self._actors: dict[str, RunningActor] = {}
        self._providers: dict[tuple[str, str], RunningProvider] = {}
        self._handlers: dict[str, Callable[[Any], Awaitable[Outcome]]] = {
            "ping": self._on_ping,
            "inv": self._on_inventory,
            "get.claims": self._on_get_claims,
            "get.links": self._on_get_links,
            "auction.actor": self._on_actor_auction,
            "auction.provider": self._on_provider_auction,
            "registries.put": self._on_put_registries,
            "linkdefs.put": self._on_put_link,
            "linkdefs.del": self._on_delete_link,
            "la": self._on_start_actor,
            "scale": self._on_scale_actor,
            "sa": self._on_stop_actor,
            "upd": self._on_update_actor,
            "lp": self._on_start_provider,
            "sp": self._on_stop_provider,
            "stop": self._on_stop_host,
        }

    def __repr__(self) -> str:
        return "<EmulatedHost %s %s>" % (self.friendly_name, self.id)

    # Lifecycle ---------------------------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, str]]:
        """(subject, queue group) pairs; "" means a plain subscription."""
        prefix = self.config.ctl_prefix
        queue = prefix  # one host of the lattice answers linkdefs.* and get.claims/links
        return [
            ("%s.ping.hosts" % prefix, ""),
            ("%s.auction.>" % prefix, ""),
            ("%s.registries.put" % prefix, ""),
            ("%s.get.claims" % prefix, queue),
            ("%s.get.links" % prefix, queue),
            ("%s.linkdefs.put" % prefix, queue),
            ("%s.linkdefs.del" % prefix, queue),
            ("%s.cmd.%s.*" % (prefix, self.id), ""),
            ("%s.get.%s.inv" % (prefix, self.id), ""),
        ]

    async def start(self, nc: NatsClient, *, owns_connection: bool = True) -> None:
        """Join the lattice on ``nc``; ``owns_connection`` = close it when leaving (else it is shared)."""
        self.nc, self._owns_connection = nc, owns_connection
        self._started_at = time.monotonic()
        self.running = True
        for subject, queue in self.subscriptions():
            self._subs.append(await self.nc.subscribe(subject, queue=queue, cb=self._on_message))
        # The server must know our interest before anyone hears we exist.
        await self.nc.flush()
        await self._emit("host_started", {"labels": dict(self.labels), "friendly_name": self.friendly_name})
        await self._emit_heartbeat()
        self._spawn(self._heartbeat_loop())

    async def stop(self) -> None:
        """Graceful stop: stop everything with events, announce host_stopped, leave the lattice."""
        if not self.running:
            return
        self.running = False
        await self._cancel_tasks()
        for key, actor in list(self._actors.items()):
            await self._emit_actor_stopped(key, actor.instances)
        for provider in list(self._providers.values()):
            await self._emit("provider_stopped", self._provider_stopped_data(provider))
        await self._emit("host_stopped", {"labels": dict(self.labels)})
        await self._leave()

    def _forget(self) -> None:
        self._actors.clear()
        self._providers.clear()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_interval)
            await self._emit_heartbeat()

    # Views -------------------------------------------------------------------------------
    @property
    def uptime_seconds(self) -> int:
        return int(time.monotonic() - self._started_at)

    def description(self) -> dict[str, Any]:
        """The ping.hosts reply (Host)."""
        uptime = self.uptime_seconds
        nats_host = self.config.ctl_host
        return {
            "id": self.id,
            "issuer": self.config.cluster_issuer,
            "friendly_name": self.friendly_name,
            "labels": dict(self.labels),
            "uptime_seconds": uptime,
            "uptime_human": uptime_human(uptime),
            "version": self.version,
            "cluster_issuers": self.config.cluster_issuer,
            "js_domain": None,
            "ctl_host": nats_host,
            "prov_rpc_host": nats_host,
            "rpc_host": nats_host,
            "lattice_prefix": self.config.lattice,
        }

    def inventory(self) -> dict[str, Any]:
        """The get.{host}.inv reply (HostInventory): one entry per actor key."""
        return {
            "host_id": self.id,
            "issuer": self.config.cluster_issuer,
            "friendly_name": self.friendly_name,
            "labels": dict(self.labels),
            "actors": [
                {
                    "id": key,
                    "image_ref": actor.image.ref,
                    "name": actor.image.name or "N/A",
                    "instances": [
                        {"instance_id": i.instance_id, "revision": i.revision, "annotations": dict(i.annotations)}
                        for i in actor.instances
                    ],
                }
                for key, actor in self._actors.items()
            ],
            "providers": [
                {
                    "id": provider.image.public_key,
                    "link_name": provider.link_name,
                    "image_ref": provider.image.ref,
                    "name": provider.image.name,
                    "revision": provider.image.revision,
                    "instance_id": provider.instance_id,
                    "annotations": dict(provider.annotations),
                    "contract_id": provider.image.contract_id,
                }
                for provider in self._providers.values()
            ],
        }

    def provider_configuration(self, provider_key: str, link_name: str = "default") -> Optional[str]:
        """The configuration string a running provider was started with (None if not running)."""
        provider = self._providers.get((provider_key, link_name))
        return provider.configuration if provider else None

    def heartbeat(self) -> dict[str, Any]:
        """host_heartbeat data in the OTP 0.55–0.59 shape (one actor entry per instance)."""
        uptime = self.uptime_seconds
        return {
            "actors": [
                {"public_key": key, "instance_id": i.instance_id}
                for key, actor in self._actors.items()
                for i in actor.instances
            ],
            "providers": [
                {
                    "public_key": p.image.public_key,
                    "link_name": p.link_name,
                    "contract_id": p.image.contract_id,
                    "instance_id": p.instance_id,
                }
                for p in self._providers.values()
            ],
            "labels": dict(self.labels),
            "friendly_name": self.friendly_name,
            "version": self.version,
            "uptime_seconds": uptime,
            "uptime_human": uptime_human(uptime),
        }

    # Transport ---------------------------------------------------------------------------
    def _operation_of(self, subject: str) -> str:
        rest = subject[len(self.config.ctl_prefix) + 1:]
        if rest == "ping.hosts":
            return "ping"
        tokens = rest.split(".")
        if len(tokens) == 3 and tokens[0] == "cmd":
            return tokens[2]
        if len(tokens) == 3 and tokens[0] == "get" and tokens[2] == "inv":
            return "inv"
        return rest

    async def _on_message(self, msg: Msg) -> None:
        if not self.running:
            return
        operation = self._operation_of(msg.subject)
        body = _decode(msg.data)
        self.log.append(Record(self.id, msg.subject, operation, body, msg.data, msg.reply or None, time.time()))
        handler = self._handlers.get(operation)
        if handler is None or self.hooks.is_silenced(operation):
            return  # OTP logs unknown subjects and does not answer
        # A task per request, as OTP runs one process per message: a slow reply must not hold up others.
        self._spawn(self._serve(operation, handler, body, msg.reply))

    async def _serve(self, operation: str, handler: Callable[[Any], Awaitable[Outcome]], body: Any,
                     reply_to: str) -> None:
        delay = self.hooks.delay_for(operation)
        if delay > 0:
            await asyncio.sleep(delay)
        rejection = self.hooks.rejection_for(operation)
        outcome = ack_failure(rejection) if rejection is not None else await handler(body)
        if outcome.reply is not None and reply_to:
            await self._publish(reply_to, json.dumps(outcome.reply, separators=(",", ":")).encode("utf-8"))
        if outcome.then is not None:
            await outcome.then()

    async def _publish(self, subject: str, payload: bytes) -> None:
        assert self.nc is not None
        try:
            await self.nc.publish(subject, payload)
        except NatsError as exc:
            LOG.debug("%s: publish to %s failed: %s", self.id, subject, exc)

    async def _emit(self, name: str, data: dict[str, Any]) -> None:
        await self._publish(event_subject(self.config.lattice), cloud_event(name, self.id, data))

    async def _emit_heartbeat(self) -> None:
        await self._emit("host_heartbeat", self.heartbeat())

    # Queries -----------------------------------------------------------------------------
    async def _on_ping(self, body: Any) -> Outcome:
        return Outcome(self.description(), then=self._emit_heartbeat)

    async def _on_inventory(self, body: Any) -> Outcome:
        return Outcome(self.inventory())

    async def _on_get_claims(self, body: Any) -> Outcome:
        return Outcome({"claims": self.store.claims()})

    async def _on_get_links(self, body: Any) -> Outcome:
        return Outcome({"links": self.store.links()})

    # Auctions (scatter-gather: reply only when bidding, never with an error) --------------
    def _satisfies(self, constraints: Any) -> bool:
        if not isinstance(constraints, dict):
            return False
        return all(self.labels.get(k) == v for k, v in constraints.items())

    async def _on_actor_auction(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("actor_ref"), str):
            return Outcome(None)
        constraints = body.get("constraints") or {}
        if not self._satisfies(constraints):
            return Outcome(None)
        return Outcome({"actor_ref": body["actor_ref"], "constraints": constraints, "host_id": self.id})

    async def _on_provider_auction(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("provider_ref"), str):
            return Outcome(None)
        ref = body["provider_ref"]
        link_name = body.get("link_name") or "default"
        constraints = body.get("constraints") or {}
        if not isinstance(link_name, str) or not self._satisfies(constraints):
            return Outcome(None)
        key = self._known_provider_key(ref)
        if key is not None and (key, link_name) in self._providers:
            return Outcome(None)
        return Outcome(
            {"provider_ref": ref, "link_name": link_name, "constraints": constraints, "host_id": self.id}
        )

    def _known_provider_key(self, ref: str) -> Optional[str]:
        """A V key as-is, else what the lattice ref map learned; unknown refs are "not running"."""
        return ref if _is_provider_key(ref) else self.store.key_for_ref(ref)

    # Registries --------------------------------------------------------------------------
    async def _on_put_registries(self, body: Any) -> Outcome:
        if isinstance(body, dict):
            for url, credentials in body.items():
                # OTP drops entries without a registry type or without any credential.
                if (
                    isinstance(credentials, dict)
                    and credentials.get("registryType") in ("oci", "bindle")
                    and any(credentials.get(k) for k in ("token", "username", "password"))
                ):
                    self.registries[url] = dict(credentials)
        return Outcome(None)

    # Links -------------------------------------------------------------------------------
    async def _on_put_link(self, body: Any) -> Outcome:
        ids = ("actor_id", "provider_id", "contract_id", "link_name")
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ids):
            return ack_failure("Invalid link definition JSON request")
        link = self.store.put_link(
            body["actor_id"], body["provider_id"], body["contract_id"], body["link_name"],
            _string_map(body.get("values")),
        )
        return Outcome(ACK_OK, then=partial(self._emit, "linkdef_set", link))

    async def _on_delete_link(self, body: Any) -> Outcome:
        ids = ("actor_id", "contract_id", "link_name")
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ids):
            return ack_failure("Invalid link definition JSON request")
        removed = self.store.delete_link(body["actor_id"], body["contract_id"], body["link_name"])
        if removed is None:
            return Outcome(ACK_OK)  # unknown link: OTP only logs it
        return Outcome(ACK_OK, then=partial(self._emit, "linkdef_deleted", removed))

    # Actors ------------------------------------------------------------------------------
    async def _on_start_actor(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("actor_ref"), str) or not body["actor_ref"]:
            return ack_failure("Invalid launch actor JSON request")
        count = _count(body.get("count", 1))
        if count is None:
            return ack_failure("Invalid launch actor JSON request")
        start = partial(self._start_actor, body["actor_ref"], max(count, 1), _string_map(body.get("annotations")))
        return Outcome(ACK_OK, then=start)

    async def _start_actor(self, ref: str, count: int, annotations: dict[str, str],
                           expected_key: Optional[str] = None) -> None:
        await asyncio.sleep(self.hooks.start_delay)  # "downloading"
        try:
            image = self._fetch(ref, ACTOR, self.hooks.take_start_failure(ref))
            running = self._actors.get(image.public_key)
            if expected_key is not None and image.public_key != expected_key:
                raise ImageResolutionError("%s is actor %s, not %s" % (ref, image.public_key, expected_key))
            if running is not None and running.image.ref != ref:
                raise ImageResolutionError(
                    "Actor %s is already running on this host from %s; use a live update to change its image"
                    % (image.public_key, running.image.ref)
                )
        except ImageResolutionError as exc:
            await self._emit("actor_start_failed", {"actor_ref": ref, "error": str(exc)})
            return
        actor = self._actors.setdefault(image.public_key, RunningActor(image))
        self.store.put_claims(image.claims_entry())
        for _instance in range(count):
            instance = ActorInstance(str(uuid.uuid4()), image.revision, dict(annotations))
            actor.instances.append(instance)
            await self._emit("actor_started", {
                "public_key": image.public_key,
                "image_ref": ref,
                "api_version": 0,
                "instance_id": instance.instance_id,
                "annotations": dict(annotations),
                "claims": _actor_claims(image),
            })

    def _fetch(self, ref: str, kind: str, forced_error: Optional[str] = None) -> Image:
        """Resolve an image as a host download would, teaching the lattice ref map its key."""
        if forced_error is not None:
            raise ImageResolutionError(forced_error)
        if kind == PROVIDER and _is_provider_key(ref):
            known_ref = self.store.ref_for_key(ref)
            if known_ref is None:
                raise ImageResolutionError('{:error, "no image reference is known for provider %s"}' % ref)
            ref = known_ref
        image = images.resolve(ref, kind, allow_latest=self.config.allow_latest)
        self.store.learn_ref(ref, image.public_key)
        return image

    async def _on_scale_actor(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("actor_id"), str) or not body["actor_id"]:
            return ack_failure("Invalid scale actor JSON request")
        count = _count(body.get("count"))
        if count is None:
            return ack_failure("Invalid scale actor JSON request")
        if body.get("host_id") not in (None, "", self.id):
            return ack_failure(INCORRECT_HOST)
        actor_ref = body.get("actor_ref") if isinstance(body.get("actor_ref"), str) else ""
        return Outcome(ACK_OK, then=partial(self._scale_actor, body["actor_id"], actor_ref, count))

    async def _scale_actor(self, actor_id: str, actor_ref: str, target: int) -> None:
        actor = self._actors.get(actor_id)
        current = len(actor.instances) if actor else 0
        if target < current:
            await self._stop_instances(actor_id, current - target, {})
        elif target > current:
            ref = actor_ref or (actor.image.ref if actor else "")
            if not ref:
                LOG.warning("%s: cannot scale %s up: no image reference given or running", self.id, actor_id)
                return
            # OTP 0.5x ignores annotations on scale, so new instances get none.
            await self._start_actor(ref, target - current, {}, expected_key=actor_id)

    async def _on_stop_actor(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("actor_ref"), str):
            return ack_failure("Invalid stop actor JSON request")
        count = _count(body.get("count"))
        if count is None:
            return ack_failure("Invalid stop actor JSON request")
        ref = body["actor_ref"]
        key = ref if _is_actor_key(ref) else (self.store.key_for_ref(ref) or ref)
        # Stop now so the ack reflects the new state; the events follow the ack.
        stopped = self._remove_instances(key, count, _string_map(body.get("annotations")))
        return Outcome(ACK_OK, then=partial(self._emit_actor_stopped, key, stopped))

    def _remove_instances(self, key: str, count: int, annotations: dict[str, str]) -> list[ActorInstance]:
        """Remove ``count`` instances (0 = all) whose annotations include every given pair."""
        actor = self._actors.get(key)
        if actor is None:
            return []
        matching = [i for i in actor.instances if annotations.items() <= i.annotations.items()]
        doomed = matching if count == 0 else matching[len(matching) - min(count, len(matching)):]
        actor.instances = [i for i in actor.instances if i not in doomed]
        if not actor.instances:
            del self._actors[key]
        return doomed

    async def _stop_instances(self, key: str, count: int, annotations: dict[str, str]) -> None:
        await self._emit_actor_stopped(key, self._remove_instances(key, count, annotations))

    async def _emit_actor_stopped(self, key: str, instances: list[ActorInstance]) -> None:
        for instance in instances:
            await self._emit("actor_stopped", {"public_key": key, "instance_id": instance.instance_id})

    async def _on_update_actor(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("new_actor_ref"), str) or not body["new_actor_ref"]:
            return ack_failure("Invalid update actor JSON request")
        ref = body["new_actor_ref"]
        # Live update downloads before replying (a slow registry can outlast the client's timeout).
        try:
            image = self._fetch(ref, ACTOR, self.hooks.failure_for_ref(ref))
        except ImageResolutionError as exc:
            return ack_failure(LIVE_UPDATE_FAILED + str(exc))
        actor = self._actors.get(image.public_key)
        if actor is None:
            return ack_failure(LIVE_UPDATE_FAILED + "actor %s is not running on this host" % image.public_key)
        if image.revision <= actor.image.revision:
            return ack_failure(
                LIVE_UPDATE_FAILED + "new revision %d is not greater than the running revision %d"
                % (image.revision, actor.image.revision)
            )
        actor.image = image
        for instance in actor.instances:
            instance.revision = image.revision
        self.store.put_claims(image.claims_entry())
        return Outcome(ACK_OK, then=partial(self._emit_actor_updated, image.public_key, list(actor.instances)))

    async def _emit_actor_updated(self, key: str, instances: list[ActorInstance]) -> None:
        for instance in instances:
            await self._emit("actor_updated", {
                "public_key": key, "revision": instance.revision, "instance_id": instance.instance_id,
            })

    # Providers ---------------------------------------------------------------------------
    async def _on_start_provider(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("provider_ref"), str) or not body["provider_ref"]:
            return ack_failure("Invalid launch provider JSON request")
        ref = body["provider_ref"]
        link_name = body.get("link_name") or "default"
        configuration = body.get("configuration") or ""
        if not isinstance(link_name, str) or not isinstance(configuration, str):
            return ack_failure("Invalid launch provider JSON request")
        key = self._known_provider_key(ref)
        if key is not None and (key, link_name) in self._providers:
            return ack_failure(DUPLICATE_PROVIDER)  # OTP ≥ 0.57.4
        start = partial(self._start_provider, ref, link_name, _string_map(body.get("annotations")), configuration)
        return Outcome(ACK_OK, then=start)

    async def _start_provider(self, ref: str, link_name: str, annotations: dict[str, str],
                              configuration: str) -> None:
        await asyncio.sleep(self.hooks.start_delay)  # "downloading"
        try:
            image = self._fetch(ref, PROVIDER, self.hooks.take_start_failure(ref))
            # A twin start may have finished while this one was downloading.
            if (image.public_key, link_name) in self._providers:
                raise ImageResolutionError(DUPLICATE_PROVIDER)
        except ImageResolutionError as exc:
            await self._emit("provider_start_failed", {"provider_ref": ref, "link_name": link_name, "error": str(exc)})
            return
        provider = RunningProvider(image, link_name, str(uuid.uuid4()), dict(annotations), configuration)
        self._providers[(image.public_key, link_name)] = provider
        self.store.put_claims(image.claims_entry())
        await self._emit("provider_started", {
            "public_key": image.public_key,
            "image_ref": image.ref,
            "link_name": link_name,
            "contract_id": image.contract_id,
            "instance_id": provider.instance_id,
            "annotations": dict(annotations),
            "claims": _provider_claims(image),
        })

    async def _on_stop_provider(self, body: Any) -> Outcome:
        if not isinstance(body, dict) or not isinstance(body.get("provider_ref"), str):
            return ack_failure("Invalid stop provider JSON request")
        link_name = body.get("link_name") or "default"
        key = self._known_provider_key(body["provider_ref"])
        provider = self._providers.pop((key, link_name), None) if key else None
        if provider is None:
            return Outcome(ACK_OK)  # OTP acks a stop of something not running
        return Outcome(ACK_OK, then=partial(self._emit, "provider_stopped", self._provider_stopped_data(provider)))

    @staticmethod
    def _provider_stopped_data(provider: RunningProvider) -> dict[str, Any]:
        return {
            "public_key": provider.image.public_key,
            "link_name": provider.link_name,
            "contract_id": provider.image.contract_id,
            "instance_id": provider.instance_id,
            "reason": "normal",
        }

    # Host --------------------------------------------------------------------------------
    async def _on_stop_host(self, body: Any) -> Outcome:
        if isinstance(body, dict) and body.get("host_id") not in (None, "", self.id):
            return ack_failure(INCORRECT_HOST)
        return Outcome(ACK_OK, then=self._stop_after_grace)

    async def _stop_after_grace(self) -> None:
        await asyncio.sleep(STOP_HOST_GRACE)
        await self.stop()
