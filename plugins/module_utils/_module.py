# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The Ansible side of every module: shared options, one client, errors as clean failures.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.wasmcloud.lattice.plugins.module_utils import _validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils._apply import Progress, apply_actions
from ansible_collections.wasmcloud.lattice.plugins.module_utils._client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils._connection import (
    CONNECTION_OPTION_NAMES,
    ConnectionSettings,
    connection_argspec,
    url_secrets,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import (
    LatticeError,
    MissingDependencyError,
    ProtocolMismatchError,
    UnsupportedOperationError,
    UnsupportedProtocol,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils._planner import Action
from ansible_collections.wasmcloud.lattice.plugins.module_utils._transport import HAS_NATS, NATS_IMPORT_ERROR
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import HostInventory

T = TypeVar("T")

# Generations a module can serve (LatticeModule's ``generations``). The lattice control interface
# (0.x, 1.x) and the v2 host API share nothing but NATS; within the control interface, 0.x actors and
# 1.x components differ too. A module asked for a generation it does not serve fails before sending.
CONTROL_INTERFACE = ("0.x", "1.x")
ONLY_0X = ("0.x",)
ONLY_1X = ("1.x",)
V2 = ("2.x",)

# What to use instead, for the modules of the lattice control interface on a v2 host.
_V2_INSTEAD = {
    "wasmcloud_link": "v2 has no links; components in one workload are linked by their WIT imports and "
                      "exports, and capabilities are chosen with host_interfaces of wasmcloud.lattice.wasmcloud_workload",
    "wasmcloud_lattice_info": "v2 has no lattice control interface; use wasmcloud.lattice.wasmcloud_host_info",
    "wasmcloud_host": "v2 hosts cannot be stopped over NATS; stop the wash host process (for example the "
                      "service of the wasmcloud.lattice.host role) and read hosts with wasmcloud.lattice.wasmcloud_host_info",
}
_V2_DEFAULT_INSTEAD = ("v2 has no actors, providers, auctions, events or applications on the bus; deploy with "
                       "wasmcloud.lattice.wasmcloud_workload (one workload on a host, placed by your play)")

# What to use instead, between the two generations of the lattice control interface.
_INSTEAD: Dict[Tuple[str, str], str] = {
    ("wasmcloud_actor", "1.x"): "1.x runs components, named by IDs you choose, instead of actors: use "
                                "wasmcloud.lattice.wasmcloud_component",
    ("wasmcloud_component", "0.x"): "0.x runs actors instead of components: use wasmcloud.lattice.wasmcloud_actor",
    ("wasmcloud_config", "0.x"): "0.x has no named configs: give values to wasmcloud.lattice.wasmcloud_link (values) "
                                 "or wasmcloud.lattice.wasmcloud_provider (configuration)",
    ("wasmcloud_label", "0.x"): "this collection changes labels of 1.x hosts only; give 0.x hosts their labels when "
                                "they start (HOST_* environment variables)",
    ("wasmcloud_application", "1.x"): "its spec describes 0.x applications (actors); on 1.x give a wadm manifest "
                                      "(manifest or manifest_file), or use wasmcloud.lattice.wasmcloud_component, "
                                      "wasmcloud_provider, wasmcloud_link and wasmcloud_config",
    ("wasmcloud_application", "0.x"): "a wadm manifest describes a 1.x application; on 0.x give spec (actors, "
                                      "providers, links)",
}


def generation_refusal(module_name: str, protocol: str, generations: Sequence[str]) -> Optional[str]:
    """Why ``module_name`` cannot serve ``protocol`` (None when it can); "auto" decides later, on detection
    (control-interface modules) or means the module's own family (v2 modules)."""
    if protocol == "auto" or protocol in generations:
        return None
    if protocol in V2:
        return "%s does not work with protocol 2.x: %s" % (
            module_name, _V2_INSTEAD.get(module_name, _V2_DEFAULT_INSTEAD))
    if tuple(generations) == V2:
        return ("%s speaks to wasmCloud v2 hosts only (protocol 2.x, the default for it), not to the lattice "
                "control interface of %s" % (module_name, protocol))
    instead = _INSTEAD.get((module_name, protocol)) or "it serves %s" % " and ".join(generations)
    return "%s does not work with wasmCloud %s lattices: %s" % (module_name, protocol, instead)


# The options of doc fragment wasmcloud.lattice.converge, for the modules that start and stop things
# (discovery_stall is a connection option: every module takes it).
CONVERGE_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 60.0},
}


# What stands behind LatticeModule.module. In a module process it is an AnsibleModule; the collection's
# action plugins (plugins/plugin_utils/_controller.py) run the same module body inside the controller's
# worker and put in its place an object with the same face: params, check_mode, _diff, warn, fail_json
# and exit_json (which end the run by raising instead of printing and exiting).
_backend: Callable[..., Any] = AnsibleModule


@contextmanager
def module_backend(factory: Callable[..., Any]) -> Iterator[None]:
    """Build every LatticeModule's ``module`` with ``factory`` (AnsibleModule's signature) meanwhile."""
    global _backend
    previous, _backend = _backend, factory
    try:
        yield
    finally:
        _backend = previous


class LatticeModule:
    """An AnsibleModule with the connection options, a client, and failures without tracebacks."""

    def __init__(self, argument_spec: Dict[str, Any], supports_check_mode: bool = True,
                 generations: Sequence[str] = CONTROL_INTERFACE, **kwargs: Any) -> None:
        spec = connection_argspec()
        # A module option named like a connection option (wasmcloud_registry's password, token) is the
        # module's own: never read it as a NATS credential.
        self._own_options = frozenset(argument_spec) & frozenset(spec)
        spec.update(argument_spec)
        self.module = _backend(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params: Dict[str, Any] = self.module.params
        self.result: Dict[str, Any] = {"changed": False}
        self.progress = Progress()  # what apply() sent, across calls
        self.name = str(self.module._name).rsplit(".", 1)[-1]
        self.generations = tuple(generations)
        # An explicit protocol this module cannot serve fails before connecting; "auto" is gated on detection.
        refusal = generation_refusal(self.name, self.params.get("protocol") or "auto", self.generations)
        if refusal:
            self.module.fail_json(msg=refusal, error_type="UnsupportedProtocol", **self.result)
        if not HAS_NATS:
            self.module.fail_json(msg=missing_required_lib("nats-py"), exception=str(NATS_IMPORT_ERROR))
        if self.params.get("discovery_stall") is not None:
            try:
                check.positive_seconds(self.params["discovery_stall"], "discovery_stall")
            except LatticeError as exc:
                self.fail(exc)

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    @property
    def diff_mode(self) -> bool:
        return bool(self.module._diff)

    def settings(self) -> ConnectionSettings:
        options = {name: self.params.get(name) for name in CONNECTION_OPTION_NAMES if name not in self._own_options}
        # A password inside nats_url is as secret as the password option: masked in the invocation.
        self.module.no_log_values.update(url_secrets(options.get("nats_url") or []))
        try:
            settings = ConnectionSettings.from_options(options)
        except LatticeError as exc:
            self.fail(exc)
        if not settings.tls_verify:
            self.module.warn("tls_verify is false: the NATS server's certificate is not checked, which is insecure")
        return settings

    def serve(self, generations: Sequence[str]) -> None:
        """Narrow the generations once the options say which (an explicit protocol outside them fails now)."""
        self.generations = tuple(generations)
        refusal = generation_refusal(self.name, self.params.get("protocol") or "auto", self.generations)
        if refusal:
            self.module.fail_json(msg=refusal, error_type="UnsupportedProtocol", **self.result)

    def checked(self, build: Callable[[Dict[str, Any]], T]) -> T:
        """The desired state built from the params; invalid input fails here, before anything is sent."""
        try:
            return self.checked_quietly(build)
        except LatticeError as exc:
            self.fail(exc)
            raise  # fail() exits; this only tells type checkers so

    def checked_by_generation(self, build: Callable[[str, Dict[str, Any]], T]) -> Dict[str, Any]:
        """``build(generation, params)`` for each generation the task may meet, before anything is sent.

        Options differ between generations (0.x keys and link names, 1.x IDs and named configs), and with
        protocol auto the lattice's generation is known only after the first read. Input that no
        generation accepts fails here; ``for_generation`` picks the right one (or its error) later.
        """
        protocol = self.params.get("protocol") or "auto"
        generations = [protocol] if protocol != "auto" else list(self.generations)
        outcomes: Dict[str, Any] = {}
        for generation in generations:
            try:
                outcomes[generation] = self.checked_quietly(lambda params: build(generation, params))
            except LatticeError as exc:
                outcomes[generation] = exc
        errors = [outcome for outcome in outcomes.values() if isinstance(outcome, LatticeError)]
        if len(errors) == len(outcomes):
            if len(errors) == 1:
                self.fail(errors[0])
            self.fail(type(errors[0])("; ".join("for wasmCloud %s lattices: %s" % (generation, error)
                                                for generation, error in outcomes.items())))
        return outcomes

    def checked_quietly(self, build: Callable[[Dict[str, Any]], T]) -> T:
        if self.params.get("wait_timeout") is not None:  # checked even without wait: NaN is never meant
            check.positive_seconds(self.params["wait_timeout"], "wait_timeout")
        return build(self.params)

    @staticmethod
    def for_generation(outcomes: Mapping[str, Any], generation: Optional[str]) -> Any:
        """What ``checked_by_generation`` built for ``generation`` (or raises its refusal); 0.x first when
        nothing answered, so an empty lattice reads as before."""
        if generation is None:
            generation = next((g for g in ("0.x", "1.x") if g in outcomes and
                               not isinstance(outcomes[g], LatticeError)), None) or next(iter(outcomes))
        outcome = outcomes.get(generation)
        if outcome is None:
            raise UnsupportedOperationError("lattice speaks wasmCloud %s, which this task was not set up for"
                                            % generation)
        if isinstance(outcome, LatticeError):
            raise outcome
        return outcome

    def apply(self, client: ControlClient, actions: List[Action], inventories: Mapping[str, HostInventory],
              wait: Optional[bool] = None) -> None:
        """Send the actions, waiting for their events when ``wait`` is on; the events go into the result,
        and so do ``sent``, ``confirmed`` and ``not_sent``, also when a host refuses a command half-way."""
        progress = self.progress
        done = Progress()
        try:
            events = apply_actions(client, actions, inventories,
                                   self.params.get("wait", False) if wait is None else wait,
                                   self.params.get("wait_timeout") or 0, done)
        finally:
            progress.add(done)
            self.result.update(progress.to_result())
        if events:
            self.result["events"] = [event.to_dict() for event in events]

    def _gate(self, generation: str) -> None:
        """Called by the client as soon as it knows the lattice's generation, before any command."""
        self.result["protocol"] = generation
        refusal = generation_refusal(self.name, generation, self.generations)
        if refusal:
            raise UnsupportedProtocol("lattice %r speaks wasmCloud %s, and %s"
                                      % (self.params.get("lattice"), generation, refusal), detected=generation)

    def fail(self, exc: LatticeError, **extra: Any) -> None:
        result = dict(self.result)
        result.update(extra)
        result.update({key: value for key, value in exc.details.items() if key in ("partial", "elapsed")})
        result["error_type"] = type(exc).__name__
        message = str(exc)
        detected = exc.details.get("detected")
        refusal = generation_refusal(self.name, detected, self.generations) if detected else None
        if isinstance(exc, ProtocolMismatchError) and refusal:
            message = "%s. Also, %s" % (message, refusal)  # so the user fixes both at once
        self.module.fail_json(msg=message, **result)

    def run(self, body: Callable[[Any], None], client_class: Callable[[ConnectionSettings], Any] = ControlClient) -> None:
        """Connect, run ``body`` (which fills ``self.result``), exit; every LatticeError becomes fail_json.
        ``client_class`` is ControlClient, or the v2 client for the modules of protocol 2.x."""
        settings = self.settings()
        client: Optional[ControlClient] = None
        try:
            client = client_class(settings)
            if hasattr(client, "aio") and hasattr(client.aio, "on_generation"):
                client.aio.on_generation = self._gate  # the control interface learns its generation late
            client.connect()
            body(client)
        except MissingDependencyError as exc:
            self.module.fail_json(msg=str(exc))
        except LatticeError as exc:
            self._collect(client)
            if client is not None:
                client.close()
                client = None
            self.fail(exc)
        finally:
            if client is not None:
                self._collect(client)
                client.close()
        self.module.exit_json(**self.result)

    def _collect(self, client: Optional[ControlClient]) -> None:
        if client is None:
            return
        for warning in client.warnings:
            self.module.warn(warning)
        del client.warnings[:]
        report = getattr(client, "discovery", None)
        if report is not None:  # how many hosts answered the last discovery, of how many expected
            self.result["discovery"] = report.to_result()

    def report_plan(self, plan: Any) -> bool:
        """Put a plan's changes into the result; True when its actions are to be sent now."""
        self.result["changed"] = plan.changed
        self.result["actions"] = [action.to_dict() for action in plan.actions]
        if self.diff_mode:
            self.result["diff"] = {"before": plan.before, "after": plan.after}
        return bool(plan.actions) and not self.check_mode
