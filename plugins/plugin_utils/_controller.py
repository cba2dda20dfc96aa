# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Run a wasmcloud.lattice module inside the controller's worker process instead of a module process.

Private to this collection; may change without notice.

A converged wasmCloud task is a NATS connect and a ~1 ms request; nearly all of what it costs as a
module is Ansible starting a Python process for it. When the task would execute on the controller
anyway (a local connection, without become or async), the action plugin of each module
(plugins/action/<module>.py, a subclass of LatticeAction) imports the module and runs its ``main()``
right here. The module body is the same code: LatticeModule builds its ``module`` through
``ansible.module.module_backend`` (module_utils), and here that is a ControllerModule, which parses the arguments the way
AnsibleModule does (same argument spec, fallbacks, aliases, choices, no_log) and turns exit_json and
fail_json into the result dict the module would have printed. Everything else falls back to
ordinary module execution.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import traceback
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.parameters import PASS_BOOLS, PASS_VARS, remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import secrets_before_validation

display = Display()

try:  # the module (de)serialization profiles arrived in ansible-core 2.19; older cores use the module path
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder

    HAS_PROFILES = True
except ImportError:
    HAS_PROFILES = False

# Where the modules live, and how their arguments and results travel (they declare no other profile).
MODULE_PACKAGE = "ansible_collections.wasmcloud.lattice.plugins.modules"
_PROFILE = "legacy"

# auto: in the controller whenever possible; module: always a module process;
# controller: in the controller, and an error where that is impossible (for tests and the cautious).
EXECUTION_ENV = "WASMCLOUD_LATTICE_EXECUTION"
EXECUTION_VAR = "wasmcloud_lattice_execution"
EXECUTION_MODES = ("auto", "module", "controller")

_NO_NATS_NOTE = "wasmcloud-lattice-no-nats"


class ModuleExit(BaseException):
    """exit_json/fail_json of a module run in the controller; carries the result the module would print.

    A BaseException, like the SystemExit that AnsibleModule raises, so the module's own
    ``except Exception`` blocks behave the same in both execution paths.
    """

    def __init__(self, result: Dict[str, Any]) -> None:
        super().__init__("module exited")
        self.result = result


class ControllerModule:
    """The part of AnsibleModule's face the collection's modules use, built from the task's arguments.

    ``raw_params`` are the module arguments as the module process would decode them, including
    Ansible's internal ``_ansible_*`` keys (check mode, diff, verbosity, module name).
    """

    def __init__(self, raw_params: Dict[str, Any], argument_spec: Dict[str, Any], bypass_checks: bool = False,
                 no_log: bool = False, mutually_exclusive: Optional[List[Any]] = None,
                 required_together: Optional[List[Any]] = None, required_one_of: Optional[List[Any]] = None,
                 add_file_common_args: bool = False, supports_check_mode: bool = False,
                 required_if: Optional[List[Any]] = None, required_by: Optional[Dict[str, Any]] = None) -> None:
        if add_file_common_args or bypass_checks:
            raise NotImplementedError("add_file_common_args and bypass_checks are not supported in the controller")
        self.argument_spec = argument_spec
        self.supports_check_mode = supports_check_mode
        self.no_log = no_log
        self.params: Dict[str, Any] = dict(raw_params)
        # Like _module._ModuleProcess: the secrets inside nats_url are masked before any check can fail.
        self.no_log_values: set = set(secrets_before_validation(self.params))
        self.aliases: Dict[str, str] = {}
        self._warnings: List[str] = []
        self._deprecations: List[Dict[str, Any]] = []
        self._name = "basic.py"  # AnsibleModule's name until _ansible_module_name says otherwise
        self._internal_properties()

        # The same validation AnsibleModule runs (it warns and deprecates through ansible's own
        # functions, which in the controller display at once and join the task's warnings).
        validator = ModuleArgumentSpecValidator(argument_spec, mutually_exclusive, required_together,
                                                required_one_of, required_if, required_by)
        validation = validator.validate(self.params)
        self.params.update(validation.validated_parameters)
        self.no_log_values.update(validation._no_log_values)
        self.aliases.update(validation._aliases)
        try:
            error = validation.errors[0]
        except IndexError:
            error = None
        if isinstance(error, UnsupportedError) and self._ignore_unknown_opts:
            error = None
        if error:
            msg = validation.errors.msg
            if isinstance(error, UnsupportedError):
                msg = "Unsupported parameters for ({name}) {kind}: {msg}".format(name=self._name, kind="module", msg=msg)
            self.fail_json(msg=msg)
        if self.check_mode and not self.supports_check_mode:
            self.exit_json(skipped=True, msg="remote module (%s) does not support check mode" % self._name)

    def _internal_properties(self) -> None:
        # What AnsibleModule._set_internal_properties does with the _ansible_* arguments.
        for key, (attribute, default) in PASS_VARS.items():
            param = "_ansible_%s" % key
            if param in self.params:
                value = self.params.pop(param)
                setattr(self, attribute, boolean(value) if key in PASS_BOOLS else value)
            elif not hasattr(self, attribute):
                setattr(self, attribute, default)

    def warn(self, warning: str, *, help_text: Optional[str] = None) -> None:
        self._warnings.append(warning if not help_text else "%s %s" % (warning, help_text))

    def deprecate(self, msg: str, version: Optional[str] = None, date: Optional[str] = None,
                  collection_name: Optional[str] = None, **_ignored: Any) -> None:
        entry: Dict[str, Any] = {"msg": msg, "version": version, "date": date}
        if collection_name:
            entry["collection_name"] = collection_name
        self._deprecations.append(entry)

    def exit_json(self, **kwargs: Any) -> None:
        self._finish(kwargs)

    def fail_json(self, msg: str, *, exception: Any = None, **kwargs: Any) -> None:
        kwargs.update(failed=True, msg=str(msg))
        if _tracebacks_enabled():
            if isinstance(exception, str):
                kwargs["exception"] = exception
            elif isinstance(exception, BaseException):
                kwargs["exception"] = "".join(traceback.format_exception(exception))
        self._finish(kwargs)

    def _finish(self, kwargs: Dict[str, Any]) -> None:
        # What AnsibleModule._return_formatted does before printing the result.
        kwargs.setdefault("invocation", {"module_args": self.params})
        if self._warnings:
            kwargs["warnings"] = list(self._warnings)
        if self._deprecations:
            kwargs["deprecations"] = list(self._deprecations)
        preserved = {key: value for key, value in kwargs.items() if value is None or isinstance(value, bool)}
        kwargs = remove_values(kwargs, self.no_log_values)
        kwargs.update(preserved)
        raise ModuleExit(kwargs)


def _tracebacks_enabled() -> bool:
    try:
        from ansible.module_utils._internal import _traceback

        return _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR)
    except (ImportError, AttributeError):  # a private API: without it, no tracebacks (the default)
        return False


@contextmanager
def _environment(values: Dict[str, Any]) -> Iterator[None]:
    """The task's ``environment:`` as the module process would have it, for the length of the run."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update({name: str(value) for name, value in values.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_in_controller(module_name: str, raw_params: Dict[str, Any],
                      environment: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Run plugins/modules/<module_name>.py's main() here; the result dict its module process would print."""
    # Imported late: the module_utils pull in nats-py, which only this path needs.
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import module_backend

    module = importlib.import_module("%s.%s" % (MODULE_PACKAGE, module_name))
    try:
        with _environment(environment or {}), module_backend(functools.partial(ControllerModule, raw_params)):
            module.main()
    except ModuleExit as exit_:
        return exit_.result
    except Exception as exc:  # a bug: report it as a module process would, not as a crash of the worker
        return {"failed": True, "msg": "MODULE FAILURE: %s: %s" % (type(exc).__name__, exc),
                "exception": traceback.format_exc()}
    return {"failed": True, "msg": "MODULE FAILURE: %s ended without a result" % module_name}


def _preload(module_name: str) -> None:
    """Import the module (and with it nats-py and the module_utils) when its action plugin is loaded.

    Ansible's linear and free strategies load a task's action plugin class in the main process
    before they fork the task's worker, so what is imported here is inherited by every worker
    instead of being imported again for each task (about 70 ms a task). Best effort: whatever
    fails here fails again, and is reported, when the task runs.
    """
    if not HAS_PROFILES:
        return
    try:
        importlib.import_module("%s.%s" % (MODULE_PACKAGE, module_name))
    except Exception:  # noqa: BLE001 - reported by the task itself
        pass


def nats_available() -> bool:
    try:
        from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import HAS_NATS
    except ImportError:
        return False
    return HAS_NATS


class LatticeAction(NormalAction):
    """The action plugin of every wasmcloud.lattice module: in the controller when possible, else the module.

    Subclasses (plugins/action/<module>.py) only name their module in ``module_name``.
    """

    module_name = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _preload(cls.module_name)

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars if task_vars is not None else {}
        mode = self._execution_mode(task_vars)
        reason = self._module_process_reason(mode)
        if reason is not None:
            if mode == "controller":
                raise AnsibleActionFail("%s cannot run in the controller (%s=controller): %s"
                                        % (self._task.action, EXECUTION_ENV, reason))
            display.vvv("%s runs as a module process: %s" % (self._task.action, reason))
            return super().run(tmp, task_vars)

        result = ActionBase.run(self, tmp, task_vars)  # async and check-mode checks, as for any action
        display.vvv("%s runs in the controller's worker process (no module process)" % self._task.action)
        result.update(self._execute_in_controller(task_vars))
        return result

    def _execution_mode(self, task_vars: Dict[str, Any]) -> str:
        mode = task_vars.get(EXECUTION_VAR)
        if mode is not None:
            mode = self._templar.template(mode)
        mode = str(mode or os.environ.get(EXECUTION_ENV) or "auto").strip().lower()
        if mode not in EXECUTION_MODES:
            raise AnsibleActionFail("%s (or the variable %s) must be one of %s, got %r"
                                    % (EXECUTION_ENV, EXECUTION_VAR, ", ".join(EXECUTION_MODES), mode))
        return mode

    def _module_process_reason(self, mode: str) -> Optional[str]:
        """Why this task must run as a module process; None when the controller can run it."""
        if mode == "module":
            return "%s=module" % EXECUTION_ENV
        transport = getattr(self._connection, "transport", None)
        if transport != "local":
            return "it executes on %s over the %s connection" % (self._play_context.remote_addr, transport)
        if self._task.become or self._play_context.become:
            return "become is set"
        if self._task.async_val:
            return "it runs asynchronously (async)"
        if not HAS_PROFILES:
            return "ansible-core is older than 2.19"
        if not nats_available():
            self._note_once("the controller's Python lacks nats-py, so wasmcloud.lattice tasks run as module "
                            "processes (slower); pip install nats-py nkeys into the Python that runs Ansible to "
                            "run them in the controller")
            return "the controller's Python lacks nats-py"
        return None

    @staticmethod
    def _note_once(message: str) -> None:
        # Each task runs in its own worker process; the run's local temporary directory is shared
        # by all of them and removed at the end, so a marker file there says it once per run.
        try:
            fd = os.open(os.path.join(C.DEFAULT_LOCAL_TMP, _NO_NATS_NOTE), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError:
            return
        os.close(fd)
        display.v(message)

    def _execute_in_controller(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        # The arguments exactly as _execute_module would send them (module_defaults are already merged
        # into the task's args), through the same JSON encoding the module process decodes.
        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        raw_params = json.loads(json.dumps(module_args, cls=get_module_encoder(_PROFILE, Direction.CONTROLLER_TO_MODULE)),
                                cls=get_module_decoder(_PROFILE, Direction.CONTROLLER_TO_MODULE))
        environment: Dict[str, Any] = {}
        self._compute_environment_string(environment)

        result = run_in_controller(self.module_name, raw_params, environment)

        # And the result back the way _execute_module reads a module's output.
        text = json.dumps(result, cls=get_module_encoder(_PROFILE, Direction.MODULE_TO_CONTROLLER))
        data = self._parse_returned_data({"stdout": text, "stderr": "", "rc": 1 if result.get("failed") else 0},
                                         _PROFILE)
        remove_internal_keys(data)
        return data
