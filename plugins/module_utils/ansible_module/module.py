# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The Ansible side of every module: shared options, one client, errors as clean failures.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, TypeVar

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import capabilities
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import generation_refusal
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import Progress, apply_actions
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import (
    CONNECTION_OPTION_NAMES,
    ConnectionSettings,
    connection_argspec,
    secrets_before_validation,
    url_secrets,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    LatticeError,
    MissingDependencyError,
    ProtocolMismatchError,
    UnsupportedOperationError,
    UnsupportedProtocol,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import HAS_NATS, NATS_IMPORT_ERROR
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory

T = TypeVar("T")

# The options of doc fragment wasmcloud.lattice.converge, for the modules that start and stop things
# (discovery_stall is a connection option: every module takes it).
CONVERGE_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 60.0},
}


class _ModuleProcess(AnsibleModule):
    """AnsibleModule that masks the secrets inside nats_url from the start.

    Why: AnsibleModule masks only no_log options before it checks the arguments, and a refusal (of an
    argument, or later of the module's own checks) echoes them all in ``invocation.module_args``.
    """

    def _load_params(self) -> None:
        super()._load_params()
        self.no_log_values.update(secrets_before_validation(self.params))

    def _log_to_syslog(self, msg: str) -> None:
        super()._log_to_syslog(syslog_safe(msg))


def syslog_safe(message: str) -> str:
    """``message`` with NUL written as \\x00. Why: syslog refuses NUL, and AnsibleModule then fails the task with
    "Failed to log to syslog" before the module can refuse the argument that carries it in its own words."""
    return message.replace("\x00", "\\x00")


# What stands behind LatticeModule.module. In a module process it is an AnsibleModule; the collection's
# action plugins (plugins/plugin_utils/_controller.py) run the same module body inside the controller's
# worker and put in its place an object with the same face: params, check_mode, _diff, warn, fail_json
# and exit_json (which end the run by raising instead of printing and exiting).
_backend: Callable[..., Any] = _ModuleProcess


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

    def __init__(self, argument_spec: Dict[str, Any], supports_check_mode: bool = True, **kwargs: Any) -> None:
        spec = connection_argspec()
        # A module option named like a connection option would take its place (a registry password read as the
        # NATS password): a module may only restate one as it is.
        clash = sorted(name for name in frozenset(argument_spec) & frozenset(spec) if argument_spec[name] != spec[name])
        if clash:
            raise ValueError("module options %s would shadow the connection options of that name" % ", ".join(clash))
        spec.update(argument_spec)
        self.module = _backend(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params: Dict[str, Any] = self.module.params
        self.result: Dict[str, Any] = {"changed": False}
        self.progress = Progress()  # what apply() sent, across calls
        self.name = str(self.module._name).rsplit(".", 1)[-1]
        # the capability table says which generations this module serves, narrowed by the options given
        self.generations = capabilities.serves(self.name, self.params)
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

    def warn(self, message: str) -> None:
        self.module.warn(message)

    def settings(self) -> ConnectionSettings:
        options = {name: self.params.get(name) for name in CONNECTION_OPTION_NAMES}
        # A password inside nats_url is as secret as the password option: masked in the invocation.
        self.module.no_log_values.update(url_secrets(options.get("nats_url") or []))
        try:
            settings = ConnectionSettings.from_options(options)
        except LatticeError as exc:
            self.fail(exc)
        if not settings.tls_verify:
            self.module.warn("tls_verify is false: the NATS server's certificate is not checked, which is insecure")
        return settings

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
            if len({str(error) for error in errors}) == 1:  # options read alike in every generation
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
            generation = next((g for g in capabilities.CONTROL_INTERFACE if g in outcomes and
                               not isinstance(outcomes[g], LatticeError)), None) or next(iter(outcomes))
        outcome = outcomes.get(generation)
        if outcome is None:
            raise UnsupportedOperationError("lattice speaks wasmCloud %s, which this task was not set up for"
                                            % generation)
        if isinstance(outcome, LatticeError):
            raise outcome
        return outcome

    def apply(self, client: ControlClient, actions: List[Intent], inventories: Mapping[str, HostInventory],
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
