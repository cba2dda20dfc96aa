"""One emulated wasmCloud 1.x host speaking the ``wasmbus.ctl.v1`` control interface over NATS.

Behaviour follows wasmCloud 1.x hosts (v1.0–v1.9) as sandbox/README.md summarises it: every request
but a declined auction gets a ``CtlResponse {success, message, response}``; starts are acked first
and reported by events; links, claims and configs live in the lattice's JetStream KV buckets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Awaitable, Callable, Optional

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from ..hooks import DEFAULT_START_DELAY
from ..host import BUILTIN_LABELS, LatticeConfig, Outcome, _decode
from ..images import PROVIDER, Image, ImageResolutionError
from ..lifecycle import HostLifecycle
from ..records import Record, RequestLog
from . import artifacts
from .artifacts import COMPONENT
from .events import encode_event, event_subject, uptime_human
from .requests import BadRequest, Body
from .state import LatticeState, LinkConflict, merge_link

LOG = logging.getLogger("sandbox.v1.host")

DEFAULT_HOST_VERSION = "1.7.0"
STOP_HOST_GRACE = 0.1
FIRST_HEALTH_CHECK = 5.0  # seconds after a provider starts (later checks every health_check_interval)
_NO_RESPONSE = object()

# Texts of the 1.x host's replies and failure events.
UNSUPPORTED_SUBJECT = "unsupported subject"
PROVIDER_RUNNING = "provider with that ID is already running"
PROVIDER_NOT_RUNNING = "provider with that ID is not running"
LINK_CONFLICT = ("link already exists with different target, consider deleting the existing link "
                 "or using a different link name")
CONFIG_NOT_MAP = "config data should be a map of string -> string"
HOSTCORE_LABEL = "hostcore.* labels cannot be set dynamically"


def version_tuple(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a semver host version such as ``1.7.0`` or ``v1.9.2-rc.1``."""
    core = version.lstrip("v").split("-", 1)[0].split("+", 1)[0].split(".")
    try:
        numbers = [int(part) for part in core]
    except ValueError:
        raise ValueError("host version %r is not semver (e.g. 1.7.0)" % version) from None
    if len(numbers) != 3 or numbers[0] != 1:
        raise ValueError("a 1.x host version looks like 1.MINOR.PATCH, got %r" % version)
    return numbers[0], numbers[1], numbers[2]


@dataclass(frozen=True)
class LatticeConfigV1(LatticeConfig):
    """What every 1.x host of one lattice agrees on (``cluster_issuer`` is unused by 1.x)."""

    nats_url: str = "nats://127.0.0.1:4222"
    component_auction: bool = True
    provider_auction: bool = True
    allow_file_load: bool = False
    builtin_providers: bool = False
    signed_artifacts: bool = True
    health_check_interval: float = 30.0
    js_domain: Optional[str] = None

    @property
    def ctl_prefix(self) -> str:
        return "%s.v1.%s" % (self.topic_prefix, self.lattice)


@dataclass
class RunningComponent:
    image: Image  # image.ref is the reference exactly as requested
    max_instances: int
    annotations: dict[str, str]
    config: list[str]
    limits: Optional[dict[str, str]] = None


@dataclass
class RunningProvider:
    image: Image
    annotations: dict[str, str]
    config: list[str]


def ok(message: str = "", response: Any = _NO_RESPONSE) -> dict[str, Any]:
    reply: dict[str, Any] = {"success": True, "message": message}
    if response is not _NO_RESPONSE:
        reply["response"] = response
    return reply


def fail(message: str) -> Outcome:
    return Outcome({"success": False, "message": message})


def _claimed(image: Image) -> dict[str, Any]:
    """Inventory fields that come from embedded claims: ``name`` (omitted if unsigned) and ``revision``."""
    if not image.signed:
        return {"revision": 0}
    return {"name": image.name, "revision": image.revision}


def _component_claims(image: Image, dates: str) -> dict[str, Any]:
    return {
        "call_alias": image.call_alias,
        "issuer": image.issuer,
        "tags": list(image.tags),
        "name": image.name,
        "version": image.version,
        "revision": image.revision,
        "not_before_human": dates,
        "expires_human": dates,
    }


class EmulatedHostV1(HostLifecycle):
    """A 1.x host's identity, state and control-interface handlers.

    All methods run on the lattice's event loop; ``hooks`` may be changed from any thread.
    Operation names (records, hooks) are ``noun.verb``: ``host.ping``, ``component.scale``, …
    """

    def __init__(
        self,
        config: LatticeConfigV1,
        state: LatticeState,
        log: RequestLog,
        *,
        seed: bytes | str | None = None,
        labels: Optional[dict[str, str]] = None,
        friendly_name: Optional[str] = None,
        version: str = DEFAULT_HOST_VERSION,
        start_delay: float = DEFAULT_START_DELAY,
        on_stopped: Optional[Callable[["EmulatedHostV1"], None]] = None,
    ) -> None:
        self.config = config
        self.state = state
        self.log = log
        self._begin(seed, {**BUILTIN_LABELS, **(labels or {})}, friendly_name, version, start_delay, on_stopped)
        self.version_info = version_tuple(version)
        self._components: dict[str, RunningComponent] = {}
        self._providers: dict[str, RunningProvider] = {}
        self._starting_components: set[str] = set()
        self._starting_providers: set[str] = set()
        self._component_locks: dict[str, asyncio.Lock] = {}
        # operation -> (handler, what the subject's last token must be: None, "host" or "name")
        self._handlers: dict[str, tuple[Callable[..., Awaitable[Outcome]], Optional[str]]] = {
            "host.ping": (self._on_ping, None),
            "host.get": (self._on_inventory, "host"),
            "host.stop": (self._on_stop_host, "host"),
            "component.auction": (self._on_component_auction, None),
            "provider.auction": (self._on_provider_auction, None),
            "component.scale": (self._on_scale_component, "host"),
            "component.update": (self._on_update_component, "host"),
            "provider.start": (self._on_start_provider, "host"),
            "provider.stop": (self._on_stop_provider, "host"),
            "link.put": (self._on_put_link, None),
            "link.del": (self._on_delete_link, None),
            "link.get": (self._on_get_links, None),
            "config.put": (self._on_put_config, "name"),
            "config.get": (self._on_get_config, "name"),
            "config.del": (self._on_delete_config, "name"),
            "label.put": (self._on_put_label, "host"),
            "label.del": (self._on_delete_label, "host"),
            "claims.get": (self._on_get_claims, None),
            "registry.put": (self._on_put_registries, None),
        }

    def __repr__(self) -> str:
        return "<EmulatedHostV1 %s %s %s>" % (self.version, self.friendly_name, self.id)

    def at_least(self, minor: int) -> bool:
        return self.version_info >= (1, minor, 0)

    def _claim_dates(self) -> str:
        # Sandbox artifacts never expire; 1.0 hosts had not implemented these fields yet.
        return "never" if self.at_least(1) else "TODO"

    # Lifecycle ---------------------------------------------------------------------------
    def subscriptions(self) -> list[tuple[str, str]]:
        """(subject, queue group) pairs; "" means a plain subscription."""
        p = self.config.ctl_prefix
        subs = [
            ("%s.registry.put" % p, ""),
            ("%s.host.ping" % p, ""),
            ("%s.link.*" % p, "%s.link" % p),
            ("%s.claims.get" % p, "%s.claims" % p),
            ("%s.component.*.%s" % (p, self.id), ""),
            ("%s.provider.*.%s" % (p, self.id), ""),
            ("%s.label.*.%s" % (p, self.id), ""),
            ("%s.host.*.%s" % (p, self.id), ""),
            ("%s.config.>" % p, "%s.config" % p),
        ]
        if not self.at_least(6):
            subs.append(("%s.*.auction" % p, ""))  # before 1.6: one subscription, always on
        else:
            if self.config.component_auction:
                subs.append(("%s.component.auction" % p, ""))
            if self.config.provider_auction:
                subs.append(("%s.provider.auction" % p, ""))
        return subs

    async def start(self, nc: NatsClient, *, owns_connection: bool = True) -> None:
        """Join the lattice on ``nc``; ``owns_connection`` = close it when leaving (else it is shared)."""
        self.nc, self._owns_connection = nc, owns_connection
        self._started_at = time.monotonic()
        self.running = True
        for subject, queue in self.subscriptions():
            self._subs.append(await self.nc.subscribe(subject, queue=queue, cb=self._on_message))
        await self.nc.flush()  # the server knows our interest before anyone hears we exist
        await self._emit("host_started", {
            "friendly_name": self.friendly_name, "labels": self.sorted_labels(),
            "uptime_seconds": 0, "version": self.version,
        })
        self._spawn(self._heartbeat_loop())

    async def stop(self) -> None:
        """Graceful stop: 1.x hosts announce only host_stopped (no per-workload stop events)."""
        if not self.running:
            return
        self.running = False
        await self._cancel_tasks()
        await self._emit("host_stopped", {"labels": self.sorted_labels()})
        await self._leave()

    def _forget(self) -> None:
        self._components.clear()
        self._providers.clear()

    async def _heartbeat_loop(self) -> None:
        while True:  # the first heartbeat comes one interval after boot, as on a real host
            await asyncio.sleep(self.config.heartbeat_interval)
            await self._emit("host_heartbeat", self.inventory())

    # Views -------------------------------------------------------------------------------
    @property
    def uptime_seconds(self) -> int:
        return int(time.monotonic() - self._started_at)

    def sorted_labels(self) -> dict[str, str]:
        return dict(sorted(self.labels.items()))

    def description(self) -> dict[str, Any]:
        """The host.ping response (Host); js_domain only when the hosts use one."""
        uptime = self.uptime_seconds
        return {
            "id": self.id,
            "friendly_name": self.friendly_name,
            "labels": self.sorted_labels(),
            "lattice": self.config.lattice,
            "version": self.version,
            "uptime_seconds": uptime,
            "uptime_human": uptime_human(uptime),
            "ctl_host": self.config.nats_url,
            "rpc_host": self.config.nats_url,
            **({"js_domain": self.config.js_domain} if self.config.js_domain else {}),
        }

    def inventory(self) -> dict[str, Any]:
        """The host.get response (HostInventory), also the host_heartbeat data."""
        uptime = self.uptime_seconds
        components = []
        for component_id, component in self._components.items():
            entry: dict[str, Any] = {"id": component_id, "image_ref": component.image.ref}
            entry.update(_claimed(component.image))
            entry.update(annotations=dict(component.annotations), max_instances=component.max_instances)
            if self.at_least(9):
                entry["limits"] = dict(component.limits) if component.limits else None
            components.append(entry)
        return {
            "components": components,
            "providers": [
                dict({"id": provider_id, "image_ref": artifacts.displayed_ref(provider.image.ref)},
                     **_claimed(provider.image), annotations=dict(provider.annotations))
                for provider_id, provider in self._providers.items()
            ],
            "host_id": self.id,
            "friendly_name": self.friendly_name,
            "labels": self.sorted_labels(),
            "version": self.version,
            "uptime_human": uptime_human(uptime),
            "uptime_seconds": uptime,
        }

    # Transport ---------------------------------------------------------------------------
    def _route(self, subject: str) -> tuple[str, Optional[str], int]:
        """(operation ``noun.verb``, last token or None, token count) of a control subject."""
        tokens = subject[len(self.config.ctl_prefix) + 1:].split(".")
        operation = ".".join(tokens[:2])
        return operation, (tokens[2] if len(tokens) >= 3 else None), len(tokens)

    def _handler_for(self, operation: str, arg: Optional[str], count: int) -> Optional[Callable[..., Any]]:
        known = self._handlers.get(operation)
        if known is None:
            return None
        handler, wants = known
        if wants is None:
            return handler if count == 2 else None
        if count != 3 or not arg or (wants == "host" and arg != self.id):
            return None
        return partial(handler, arg) if wants == "name" else handler

    async def _on_message(self, msg: Msg) -> None:
        if not self.running:
            return
        operation, arg, count = self._route(msg.subject)
        body = _decode(msg.data)
        self.log.append(Record(self.id, msg.subject, operation, body, msg.data, msg.reply or None, time.time()))
        if self.hooks.is_silenced(operation):
            return
        handler = self._handler_for(operation, arg, count)
        if handler is None:
            if msg.reply:
                await self._reply(msg.reply, {"success": False, "message": UNSUPPORTED_SUBJECT})
            return
        # A task per request: a slow reply must not hold up the host's other work.
        self._spawn(self._serve(operation, handler, body, msg.data, msg.reply))

    async def _serve(self, operation: str, handler: Callable[..., Awaitable[Outcome]], body: Any,
                     payload: bytes, reply_to: str) -> None:
        delay = self.hooks.delay_for(operation)
        if delay > 0:
            await asyncio.sleep(delay)
        rejection = self.hooks.rejection_for(operation)
        if rejection is not None:
            outcome = fail(rejection)
        else:
            try:
                outcome = await handler(body, payload)
            except BadRequest as exc:
                outcome = fail(str(exc))
            except Exception as exc:  # a KV failure and the like: the host answers with the error
                LOG.debug("%s: %s failed: %r", self.id, operation, exc)
                outcome = fail("%s failed: %s" % (operation, exc or type(exc).__name__))
        if outcome.reply is not None and reply_to:
            await self._reply(reply_to, outcome.reply)
        if outcome.then is not None:
            await outcome.then()

    async def _reply(self, subject: str, reply: dict[str, Any]) -> None:
        await self._publish(subject, json.dumps(reply, separators=(",", ":")).encode("utf-8"))

    async def _publish(self, subject: str, payload: bytes) -> None:
        assert self.nc is not None
        try:
            await self.nc.publish(subject, payload)
        except NatsError as exc:
            LOG.debug("%s: publish to %s failed: %s", self.id, subject, exc)

    async def _emit(self, name: str, data: dict[str, Any]) -> None:
        await self._publish(event_subject(self.config.lattice, name), encode_event(name, self.id, data))

    # Host --------------------------------------------------------------------------------
    async def _on_ping(self, body: Any, payload: bytes) -> Outcome:
        return Outcome(ok(response=self.description()))

    async def _on_inventory(self, body: Any, payload: bytes) -> Outcome:
        return Outcome(ok(response=self.inventory()))

    async def _on_stop_host(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "stop host command", empty_ok=self.at_least(1) and not payload.strip())
        host_id = request.string("host_id")
        if host_id and host_id != self.id:
            return fail("invalid host_id [%s]" % host_id)
        message = "successfully handled stop host" if self.at_least(1) else ""
        return Outcome(ok(message), then=self._stop_after_grace)

    async def _stop_after_grace(self) -> None:
        await asyncio.sleep(STOP_HOST_GRACE)
        await self.stop()

    # Auctions: a host that does not bid stays silent --------------------------------------
    def _satisfies(self, constraints: dict[str, str]) -> bool:
        return all(self.labels.get(key) == value for key, value in constraints.items())

    async def _on_component_auction(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "component auction request")
        component_id = request.string("component_id", required=True)
        constraints = request.string_map("constraints", required=True) or {}
        busy = component_id in self._components or component_id in self._starting_components
        if busy or not self._satisfies(constraints):
            return Outcome(None)
        return Outcome(ok(response={
            "component_ref": request.string("component_ref"), "component_id": component_id,
            "host_id": self.id, "constraints": constraints,
        }))

    async def _on_provider_auction(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "provider auction request")
        provider_id = request.string("provider_id", required=True)
        constraints = request.string_map("constraints", required=True) or {}
        busy = provider_id in self._providers or provider_id in self._starting_providers
        if busy or not self._satisfies(constraints):
            return Outcome(None)
        return Outcome(ok(response={
            "host_id": self.id, "provider_ref": request.string("provider_ref"),
            "provider_id": provider_id, "constraints": constraints,
        }))

    # Placing workloads directly (test and benchmark set-up: no request, no record, no event) --
    async def place_component(self, component_id: str, ref: str, max_instances: int = 1,
                              annotations: Optional[dict[str, str]] = None,
                              config: Optional[list[str]] = None) -> None:
        """Run a component as if an earlier scale had started it (spec and claims written to KV)."""
        image = self._fetch(ref, COMPONENT)
        await self.state.create_spec(component_id, ref)
        await self.state.put_claims(image, component=True)
        self._components[component_id] = RunningComponent(image, max_instances, dict(annotations or {}),
                                                          list(config or []))

    async def place_provider(self, provider_id: str, ref: str, annotations: Optional[dict[str, str]] = None,
                             config: Optional[list[str]] = None) -> None:
        """Run a provider as if an earlier start had launched it (health checks included)."""
        image = self._fetch(ref, PROVIDER)
        await self.state.create_spec(provider_id, ref)
        await self.state.put_claims(image, component=False)
        provider = RunningProvider(image, dict(annotations or {}), list(config or []))
        self._providers[provider_id] = provider
        self._spawn(self._health_checks(provider_id, provider))

    # Components --------------------------------------------------------------------------
    def _fetch(self, ref: str, kind: str, forced_error: Optional[str] = None) -> Image:
        return artifacts.fetch(ref, kind, allow_latest=self.config.allow_latest,
                               allow_file_load=self.config.allow_file_load, forced_error=forced_error,
                               signed=self.config.signed_artifacts)

    def _component_event(self, component_id: str, image: Image, ref: str, max_instances: int,
                         annotations: dict[str, str], host_id: Optional[str] = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "annotations": dict(annotations),
            "host_id": self.id if host_id is None else host_id,
            "image_ref": ref,
            "max_instances": max_instances,
            "component_id": component_id,
        }
        if image.signed:
            data.update(public_key=image.public_key, claims=_component_claims(image, self._claim_dates()))
        return data

    async def _on_scale_component(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "component scale command")
        command = {
            "component_id": request.string("component_id", required=True),
            "component_ref": request.string("component_ref"),
            "count": request.u32("count"),
            "host_id": request.string("host_id"),
            "annotations": request.string_map("annotations") or {},
            "config": request.strings("config"),
            "allow_update": request.boolean("allow_update") and self.at_least(1),
            "limits": request.string_map("component_limits"),
        }
        component_id, ref = command["component_id"], command["component_ref"]
        running = self._components.get(component_id)
        message = ""
        if running is not None and ref and ref != running.image.ref:
            message = ("Requested to scale existing component to a different image reference: %s != %s. "
                       % (running.image.ref, ref))
            message += ("The component will be scaled, then updated to the new reference."
                        if command["allow_update"] else
                        "The component will be scaled but keeps its image; use an update to change it.")
        if running is None and command["count"] > 0:
            self._starting_components.add(component_id)  # no bids for it while it starts
        return Outcome(ok(message), then=partial(self._scale_component, command))

    async def _scale_component(self, command: dict[str, Any]) -> None:
        component_id = command["component_id"]
        lock = self._component_locks.setdefault(component_id, asyncio.Lock())
        try:
            async with lock:
                await asyncio.sleep(self.hooks.start_delay)  # "fetching"
                running = self._components.get(component_id)
                if running is None:
                    await self._scale_stopped_component(command)
                else:
                    await self._scale_running_component(command, running)
        finally:
            self._starting_components.discard(component_id)

    async def _scale_stopped_component(self, command: dict[str, Any]) -> None:
        component_id, ref, count = command["component_id"], command["component_ref"], command["count"]
        annotations = command["annotations"]
        image: Optional[Image] = None
        try:
            image = self._fetch(ref, COMPONENT, self.hooks.take_start_failure(ref) if count else None)
        except ImageResolutionError as exc:
            if count == 0:  # nothing to start: a fetch error does not matter
                await self._emit("component_scaled", {
                    "annotations": dict(annotations), "host_id": self.id, "image_ref": ref,
                    "max_instances": 0, "component_id": component_id,
                })
                return
            await self._component_failed(component_id, ref, count, annotations, str(exc), image)
            return
        if count == 0:
            await self._emit("component_scaled", self._component_event(component_id, image, ref, 0, annotations))
            return
        missing = await self.state.missing_configs(command["config"])
        if missing:
            await self._component_failed(component_id, ref, count, annotations,
                                         "Config %s does not exist" % missing[0], image)
            return
        await self.state.create_spec(component_id, ref)
        await self.state.put_claims(image, component=True)
        self._components[component_id] = RunningComponent(image, count, dict(annotations), list(command["config"]),
                                                          command["limits"])
        # A fresh start is reported twice: once with our id, once with the request's host_id.
        for host_id in (self.id, command["host_id"]):
            await self._emit("component_scaled",
                             self._component_event(component_id, image, ref, count, annotations, host_id))

    async def _scale_running_component(self, command: dict[str, Any], running: RunningComponent) -> None:
        component_id, count = command["component_id"], command["count"]
        if count == 0:
            del self._components[component_id]
            await self._emit("component_scaled", self._component_event(
                component_id, running.image, running.image.ref, 0, running.annotations))
            return
        if command["config"] != running.config:
            missing = await self.state.missing_configs(command["config"])
            if missing:
                await self._component_failed(component_id, running.image.ref, count, running.annotations,
                                             "Config %s does not exist" % missing[0], running.image)
                return
        running.max_instances, running.config = count, list(command["config"])
        if command["limits"] is not None:
            running.limits = command["limits"]
        await self._emit("component_scaled", self._component_event(
            component_id, running.image, running.image.ref, count, running.annotations))
        ref = command["component_ref"]
        if command["allow_update"] and ref and ref != running.image.ref:
            await self._update_component(component_id, ref, command["annotations"], wait=False)

    async def _component_failed(self, component_id: str, ref: str, count: int, annotations: dict[str, str],
                                error: str, image: Optional[Image]) -> None:
        data: dict[str, Any] = {
            "annotations": dict(annotations), "component_id": component_id, "host_id": self.id,
            "image_ref": ref, "max_instances": count, "error": error,
        }
        if image is not None and image.signed:
            data["public_key"] = image.public_key
        await self._emit("component_scale_failed", data)

    async def _on_update_component(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "component update command")
        component_id = request.string("component_id")
        new_ref = request.string("new_component_ref")
        annotations = request.string_map("annotations") or {}
        running = self._components.get(component_id)
        if running is None:
            return fail("component %s not found" % component_id)
        if running.image.ref == new_ref:
            return Outcome(ok("component %s already updated to %s" % (component_id, new_ref)))
        message = "component %s updating from %s to %s" % (component_id, running.image.ref, new_ref)
        return Outcome(ok(message), then=partial(self._update_component, component_id, new_ref, annotations))

    async def _update_component(self, component_id: str, new_ref: str, annotations: dict[str, str],
                                wait: bool = True) -> None:
        if wait:
            await asyncio.sleep(self.hooks.start_delay)  # "fetching" the new artifact
        running = self._components.get(component_id)
        if running is None:
            return
        try:
            image = self._fetch(new_ref, COMPONENT, self.hooks.take_start_failure(new_ref))
        except ImageResolutionError as exc:
            LOG.info("%s: update of %s to %s failed: %s", self.id, component_id, new_ref, exc)
            return  # 1.x has no failure event for updates; the old component keeps running
        updated = RunningComponent(image, running.max_instances, dict(annotations), list(running.config),
                                   running.limits)
        self._components[component_id] = updated
        await self.state.put_claims(image, component=True)
        await self._emit("component_scaled", self._component_event(
            component_id, image, new_ref, updated.max_instances, updated.annotations))
        # The old instance's stop is reported from the new instance (a quirk of 1.7–1.9 hosts).
        await self._emit("component_scaled", self._component_event(
            component_id, image, new_ref, 0, updated.annotations))

    # Providers ---------------------------------------------------------------------------
    async def _on_start_provider(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "provider start command")
        provider_id = request.string("provider_id", required=True)
        ref = request.string("provider_ref")
        config = request.strings("config")
        annotations = request.string_map("annotations") or {}
        if artifacts.is_builtin(ref) and not self.config.builtin_providers and self.at_least(8):
            return Outcome(None)  # 1.8+ hosts ignore disabled builtin providers without a word
        if provider_id in self._providers or provider_id in self._starting_providers:
            return fail(PROVIDER_RUNNING)
        self._starting_providers.add(provider_id)
        start = partial(self._start_provider, provider_id, ref, config, annotations)
        return Outcome(ok("successfully started provider"), then=start)

    async def _start_provider(self, provider_id: str, ref: str, config: list[str],
                              annotations: dict[str, str]) -> None:
        try:
            await asyncio.sleep(self.hooks.start_delay)  # "fetching"
            try:
                if artifacts.is_builtin(ref) and not self.config.builtin_providers:
                    raise ImageResolutionError("failed to fetch provider: builtin providers are not enabled")
                image = self._fetch(ref, PROVIDER, self.hooks.take_start_failure(ref))
                missing = await self.state.missing_configs(config)
                if missing:
                    raise ImageResolutionError("Config %s does not exist" % missing[0])
            except ImageResolutionError as exc:
                data = {"provider_ref": ref, "provider_id": provider_id, "error": str(exc), "link_name": "default"}
                if self.at_least(6):
                    data["host_id"] = self.id
                await self._emit("provider_start_failed", data)
                return
            await self.state.create_spec(provider_id, ref)
            await self.state.put_claims(image, component=False)
            provider = RunningProvider(image, dict(annotations), list(config))
            self._providers[provider_id] = provider
        finally:
            self._starting_providers.discard(provider_id)
        data: dict[str, Any] = {"host_id": self.id, "image_ref": ref, "provider_id": provider_id,
                                "annotations": dict(annotations)}
        if image.signed:
            dates = self._claim_dates()
            data["claims"] = {"issuer": image.issuer, "tags": None, "name": image.name, "version": image.version,
                              "not_before_human": dates, "expires_human": dates}
        data.update(instance_id=provider_id, public_key=provider_id, link_name="default")
        await self._emit("provider_started", data)
        self._spawn(self._health_checks(provider_id, provider))

    async def _health_checks(self, provider_id: str, provider: RunningProvider) -> None:
        """Report the provider's health like a 1.x host polling it: transitions, else the unchanged status."""
        interval = self.config.health_check_interval
        await asyncio.sleep(min(FIRST_HEALTH_CHECK, interval))
        healthy_before = False
        while self._providers.get(provider_id) is provider:
            healthy = provider_id not in self.hooks.unhealthy_providers
            if healthy and not healthy_before:
                name = "health_check_passed"
            elif healthy_before and not healthy:
                name = "health_check_failed"
            else:
                name = "health_check_status"
            await self._emit(name, {"host_id": self.id, "provider_id": provider_id})
            healthy_before = healthy
            await asyncio.sleep(interval)

    async def _on_stop_provider(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "provider stop command")
        provider_id = request.string("provider_id") or request.string("provider_ref")
        provider = self._providers.pop(provider_id, None)
        if provider is None:
            return fail(PROVIDER_NOT_RUNNING)
        # Synchronous: the event goes out before the reply.
        await self._emit("provider_stopped", {
            "host_id": self.id, "provider_id": provider_id, "annotations": dict(provider.annotations),
            "reason": "stop", "instance_id": provider_id, "public_key": provider_id, "link_name": "default",
        })
        return Outcome(ok("successfully stopped provider"))

    # Links (queue group: one host of the lattice answers) ---------------------------------
    async def _on_put_link(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "link definition")
        link = {
            "source_id": request.string("source_id", required=True),
            "target": request.string("target", required=True),
            "name": request.string("name", default="default") or "default",
            "wit_namespace": request.string("wit_namespace", required=True),
            "wit_package": request.string("wit_package", required=True),
            "interfaces": request.strings("interfaces", required=True),
            "source_config": request.strings("source_config"),
            "target_config": request.strings("target_config"),
        }
        error = None
        if self.at_least(1):
            missing = await self.state.missing_configs(link["source_config"] + link["target_config"])
            if missing:
                error = ("Failed to validate configuration and secrets. "
                         "Configuration %s not found in config store. " % missing[0])
        if error is None:
            try:
                await self.state.change_spec(link["source_id"],
                                             partial(merge_link, link, refuse_conflicts=self.at_least(3)))
            except LinkConflict:
                error = LINK_CONFLICT
        if error is not None:
            if self.at_least(2):
                await self._emit("linkdef_set_failed", dict(link, error=error))
            return fail(error)
        await self._emit("linkdef_set", link)
        return Outcome(ok("successfully set link" if self.at_least(1) else ""))

    async def _on_delete_link(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "link delete request")
        key = {
            "source_id": request.string("source_id", required=True),
            "name": request.string("name", default="default") or "default",
            "wit_namespace": request.string("wit_namespace", required=True),
            "wit_package": request.string("wit_package", required=True),
        }

        def remove(spec: dict[str, Any]) -> Optional[dict[str, Any]]:
            for index, link in enumerate(spec["links"]):
                if all(link.get(k) == v for k, v in key.items()):
                    return spec["links"].pop(index)
            return None

        removed, existed = await self.state.change_spec(key["source_id"], remove, create=False)
        if not existed:
            return Outcome(ok("successfully deleted link (spec doesn't exist)"))
        event = dict(key)
        if removed is not None and self.at_least(3):
            event.update(target=removed.get("target"), interfaces=removed.get("interfaces"))
        await self._emit("linkdef_deleted", event)
        return Outcome(ok("successfully deleted link"))

    async def _on_get_links(self, body: Any, payload: bytes) -> Outcome:
        return Outcome(ok(response=await self.state.links()))

    # Config (queue group) ----------------------------------------------------------------
    async def _on_put_config(self, name: str, body: Any, payload: bytes) -> Outcome:
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            return fail(CONFIG_NOT_MAP)
        await self.state.put_config(name, payload)  # stored verbatim, as the host does
        await self._emit("config_set", {"config_name": name})
        return Outcome(ok("successfully put config"))

    async def _on_get_config(self, name: str, body: Any, payload: bytes) -> Outcome:
        values = await self.state.config(name)
        if values is None:
            return Outcome(ok("Configuration not found"))
        return Outcome(ok(response=values))

    async def _on_delete_config(self, name: str, body: Any, payload: bytes) -> Outcome:
        await self.state.delete_config(name)
        await self._emit("config_deleted", {"config_name": name})
        return Outcome(ok("successfully deleted config"))

    # Labels ------------------------------------------------------------------------------
    async def _on_put_label(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "put label request")
        key = request.string("key", required=True)
        value = request.string("value", required=True)
        if self.at_least(8) and key.lower().startswith("hostcore."):
            return fail(HOSTCORE_LABEL)
        self.labels[key] = value
        await self._emit("labels_changed", {"host_id": self.id, "labels": self.sorted_labels()})
        return Outcome(ok("successfully put label"))

    async def _on_delete_label(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "delete label request")
        key = request.string("key", required=True)
        if key not in self.labels:
            return Outcome(ok("successfully deleted label (no such label)"))
        del self.labels[key]
        await self._emit("labels_changed", {"host_id": self.id, "labels": self.sorted_labels()})
        return Outcome(ok("successfully deleted label"))

    # Claims and registries ---------------------------------------------------------------
    async def _on_get_claims(self, body: Any, payload: bytes) -> Outcome:
        return Outcome(ok(response=await self.state.claims()))

    async def _on_put_registries(self, body: Any, payload: bytes) -> Outcome:
        request = Body(body, "registry credential map").fields
        for registry, credential in request.items():
            if isinstance(credential, dict):
                self.registries[registry] = dict(credential, registryType=credential.get("registryType") or "oci")
        return Outcome(ok("successfully put registries"))
