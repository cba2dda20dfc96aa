# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Run a wasmcloud.lattice module inside the controller's worker process instead of a module process.

Private to this collection; may change without notice.

A converged wasmCloud task is a NATS connect and a ~1 ms request; nearly all of what it costs as a
module is Ansible starting a Python process for it. When the task would execute on the controller
anyway (a local connection, without become or async, with the controller's own Python), the one action
plugin of every module (LatticeAction; plugins/action/wasmcloud_actor.py, the other names link to it)
imports the module and runs its ``main()`` right here. The module body is the same code: LatticeModule
builds its ``module`` through ``ansible_module.module.module_backend`` (module_utils), and here that is
a ControllerModule, which parses the arguments the way AnsibleModule does (same argument spec, fallbacks,
aliases, choices, no_log), logs the invocation to syslog as AnsibleModule does, and turns exit_json and fail_json into the
result dict the module would have printed. It runs in the directory a module process would start in
(the task's base directory, so relative paths resolve alike) with the task's ``environment:``.
Everything else falls back to ordinary module execution, as does an ansible-core whose internals the
path needs have changed (plugin_utils/_core_compat.py holds every such use and checks it first).

Both paths take the connection options the task does not set from the targeted host's
``wasmcloud_connection`` (plugin_utils/_host_connection.py).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import traceback
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import heuristic_log_sanitize
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.parameters import PASS_BOOLS, PASS_VARS, remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils import _core_compat as core
from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._host_connection import HOST_VARIABLE, options_from_host

try:
    import syslog

    HAS_SYSLOG = True
except ImportError:  # pragma: no cover - every POSIX Python has it
    HAS_SYSLOG = False

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import secrets_before_validation

display = Display()

# Where the modules live.
COLLECTION = "wasmcloud.lattice"
MODULE_PACKAGE = "ansible_collections.wasmcloud.lattice.plugins.modules"

# auto: in the controller whenever possible; module: always a module process;
# controller: in the controller, and an error where that is impossible (for tests and the cautious).
EXECUTION_ENV = "WASMCLOUD_LATTICE_EXECUTION"
EXECUTION_VAR = "wasmcloud_lattice_execution"
EXECUTION_MODES = ("auto", "module", "controller")

# Interpreter settings that mean "discover one" rather than naming a Python.
_DISCOVERY = ("", "auto", "auto_legacy", "auto_silent", "auto_legacy_silent")


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
        no_log_values, aliases = core.validation_extras(validation)
        self.no_log_values.update(no_log_values)
        self.aliases.update(aliases)
        try:
            error = validation.errors[0]
        except IndexError:
            error = None
        if isinstance(error, UnsupportedError) and getattr(self, "_ignore_unknown_opts", False):  # 2.18+
            error = None
        if error:
            msg = validation.errors.msg
            if isinstance(error, UnsupportedError):
                msg = "Unsupported parameters for ({name}) {kind}: {msg}".format(name=self._name, kind="module", msg=msg)
            self.fail_json(msg=msg)
        if self.check_mode and not self.supports_check_mode:
            self.exit_json(skipped=True, msg="remote module (%s) does not support check mode" % self._name)
        if not self.no_log:
            self._log_invocation()

    def _internal_properties(self) -> None:
        # What AnsibleModule._set_internal_properties does with the _ansible_* arguments.
        for key, (attribute, default) in PASS_VARS.items():
            param = "_ansible_%s" % key
            if param in self.params:
                value = self.params.pop(param)
                setattr(self, attribute, boolean(value) if key in PASS_BOOLS else value)
            elif not hasattr(self, attribute):
                setattr(self, attribute, default)

    def _log_invocation(self) -> None:
        """"Invoked with ..." to syslog, as AnsibleModule logs every run on the machine that runs it.

        Options marked no_log show as NOT_LOGGING_PARAMETER, and no_log values nowhere; nothing is logged
        for a task with ``no_log`` (or with ``no_target_syslog`` configured, which Ansible passes the same way).
        """
        logged = {}
        for name, value in self.params.items():
            spec = self.argument_spec.get(self.aliases.get(name, name), {})
            if spec.get("no_log"):
                logged[name] = "NOT_LOGGING_PARAMETER"
            else:
                logged[name] = heuristic_log_sanitize(value if isinstance(value, str) else str(value),
                                                      self.no_log_values)
        message = "Invoked with %s" % " ".join("%s=%s" % item for item in logged.items()) if logged else "Invoked"
        if getattr(self, "_target_log_info", None):
            message = "%s %s" % (self._target_log_info, message)
        message = remove_values(message, self.no_log_values)
        if HAS_SYSLOG:
            # imported late: module.py pulls in nats-py, which only the controller path needs
            from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import syslog_safe

            try:
                syslog.openlog("ansible-%s" % self._name, 0, getattr(syslog, str(self._syslog_facility), syslog.LOG_USER))
                syslog.syslog(syslog.LOG_INFO, syslog_safe(message))
            except (TypeError, ValueError) as exc:
                self.fail_json(msg="Failed to log to syslog (%s). To proceed anyway, disable syslog logging by "
                                   "setting no_target_syslog to True in your Ansible config." % exc)

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
        if core.tracebacks_enabled():
            if isinstance(exception, str):
                kwargs["exception"] = exception
            elif isinstance(exception, BaseException):
                kwargs["exception"] = "".join(traceback.format_exception(exception))
        self._finish(kwargs)

    def _finish(self, kwargs: Dict[str, Any]) -> None:
        # What AnsibleModule._return_formatted does before printing the result. From ansible-core 2.21 on
        # the invocation is in it only when asked for (INJECT_INVOCATION, passed as _ansible_inject_invocation).
        if "inject_invocation" not in PASS_VARS or self._inject_invocation:
            kwargs.setdefault("invocation", {"module_args": self.params})
        else:
            kwargs.pop("invocation", None)
        if self._warnings:
            kwargs["warnings"] = list(self._warnings)
        if self._deprecations:
            kwargs["deprecations"] = list(self._deprecations)
        preserved = {key: value for key, value in kwargs.items() if value is None or isinstance(value, bool)}
        kwargs = remove_values(kwargs, self.no_log_values)
        kwargs.update(preserved)
        raise ModuleExit(kwargs)


@contextmanager
def _as_module_process(environment: Dict[str, Any], cwd: Optional[str]) -> Iterator[None]:
    """The task's ``environment:`` and working directory as the module process would have them, meanwhile."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update({name: str(value) for name, value in environment.items()})
    previous = os.getcwd() if cwd else None
    try:
        if cwd:
            os.chdir(cwd)
        yield
    finally:
        if previous:
            os.chdir(previous)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_in_controller(module_name: str, raw_params: Dict[str, Any], environment: Optional[Dict[str, Any]] = None,
                      cwd: Optional[str] = None) -> Dict[str, Any]:
    """Run plugins/modules/<module_name>.py's main() here; the result dict its module process would print."""
    # Imported late: the module_utils pull in nats-py, which only this path needs.
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import module_backend

    module = importlib.import_module("%s.%s" % (MODULE_PACKAGE, module_name))
    try:
        with _as_module_process(environment or {}, cwd), module_backend(functools.partial(ControllerModule, raw_params)):
            module.main()
    except ModuleExit as exit_:
        return exit_.result
    except Exception as exc:  # a bug: report it as a module process would, not as a crash of the worker
        return {"failed": True, "msg": "MODULE FAILURE: %s: %s" % (type(exc).__name__, exc),
                "exception": traceback.format_exc()}
    return {"failed": True, "msg": "MODULE FAILURE: %s ended without a result" % module_name}


def preload(plugin_module: str) -> None:
    """Import the module (and with it nats-py and the module_utils) when its action plugin is loaded.

    ``plugin_module`` is the action plugin's ``__name__`` (…plugins.action.<module>): Ansible loads the one
    action file once under each module's name. Its linear and free strategies load a task's action plugin
    in the main process before they fork the task's worker, so what is imported here is inherited by every
    worker instead of being imported again for each task (about 70 ms a task). Best effort: whatever fails
    here fails again, and is reported, when the task runs.
    """
    if not core.HAS_PROFILES:
        return
    try:
        importlib.import_module("%s.%s" % (MODULE_PACKAGE, plugin_module.rsplit(".", 1)[-1]))
    except Exception:  # noqa: BLE001 - reported by the task itself
        pass


def nats_available() -> bool:
    try:
        from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import HAS_NATS
    except ImportError:
        return False
    return HAS_NATS


def same_python(interpreter: str, executable: str = sys.executable) -> bool:
    """Whether ``interpreter`` is the Python running here: the same binary in the same environment (a venv's
    ``bin/python`` and the base Python it links to are different environments)."""
    found = interpreter if os.path.isabs(interpreter) else (_which(interpreter) or interpreter)
    return (os.path.realpath(found) == os.path.realpath(executable) and
            os.path.realpath(os.path.dirname(found)) == os.path.realpath(os.path.dirname(executable)))


def _which(name: str) -> Optional[str]:
    import shutil

    return shutil.which(name)


class LatticeAction(ActionBase):
    """The action plugin of every wasmcloud.lattice module: in the controller when possible, else the module."""

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        self._supports_check_mode = True
        self._supports_async = True
        task_vars = task_vars if task_vars is not None else {}
        name = self._module_name()
        args = self._arguments(task_vars)
        environment: Dict[str, Any] = {}
        self._compute_environment_string(environment)
        mode, source = self._execution_mode(task_vars, environment)
        reason = self._module_process_reason(mode, source, task_vars)
        if reason is not None and mode == "controller":
            raise AnsibleActionFail("%s cannot run in the controller (%s): %s" % (self._task.action, source, reason))

        result = super().run(tmp, task_vars)  # async and check-mode checks, as for any action
        if reason is not None:
            display.vvv("%s runs as a module process: %s" % (self._task.action, reason))
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        display.vvv("%s runs in the controller's worker process, no module process (%s)" % (self._task.action, source))
        result.update(self._execute_in_controller(name, args, task_vars, environment))
        return result

    def _module_name(self) -> str:
        resolved = getattr(self._task, "resolved_action", None) or self._task.action
        collection, _sep, name = str(resolved).rpartition(".")
        if collection not in (COLLECTION, "") or not name.startswith("wasmcloud_"):
            raise AnsibleActionFail("%s is not a module of %s" % (resolved, COLLECTION))
        return name

    def _target_vars(self, task_vars: Dict[str, Any]) -> Any:
        """The variables of the host the task runs for: the delegate's with delegate_to."""
        if self._task.delegate_to:
            return (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to) or {}
        return task_vars

    def _arguments(self, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """The task's arguments (module_defaults merged in already), completed from the host's wasmcloud_connection."""
        args = dict(self._task.args)
        connection = self._target_vars(task_vars).get(HOST_VARIABLE)
        if connection is None:
            return args
        from_host = options_from_host(self._templar.template(connection), args)
        if from_host:
            display.vvv("%s takes %s from the variable %s of %s" % (
                self._task.action, ", ".join(sorted(from_host)), HOST_VARIABLE,
                self._task.delegate_to or task_vars.get("inventory_hostname")))
            args.update(from_host)
        return args

    def _execution_mode(self, task_vars: Dict[str, Any], environment: Dict[str, Any]) -> Tuple[str, str]:
        """(mode, where it was set): the variable, the task's environment, the controller's environment, or auto."""
        for value, source in ((task_vars.get(EXECUTION_VAR), "the variable %s" % EXECUTION_VAR),
                              (environment.get(EXECUTION_ENV), "%s in the task's environment" % EXECUTION_ENV),
                              (os.environ.get(EXECUTION_ENV), "%s in the controller's environment" % EXECUTION_ENV)):
            if value is None or value == "":
                continue
            mode = str(self._templar.template(value)).strip().lower()
            if mode not in EXECUTION_MODES:
                raise AnsibleActionFail("%s must be one of %s, got %r" % (source, ", ".join(EXECUTION_MODES), mode))
            return mode, "%s=%s from %s" % (EXECUTION_ENV, mode, source)
        return "auto", "%s=auto by default" % EXECUTION_ENV

    def _module_process_reason(self, mode: str, source: str, task_vars: Dict[str, Any]) -> Optional[str]:
        """Why this task must run as a module process; None when the controller can run it."""
        if mode == "module":
            return source
        transport = getattr(self._connection, "transport", None)
        if transport != "local":
            return "it executes on %s over the %s connection" % (self._play_context.remote_addr, transport)
        if self._task.become or self._play_context.become:
            return "become is set"
        if self._task.async_val:
            return "it runs asynchronously (async)"
        unsupported = core.controller_unsupported(self)
        if unsupported is not None:
            self._note_once("core", "%s, so wasmcloud.lattice tasks run as module processes" % unsupported)
            return unsupported
        if not nats_available():
            self._note_once("no-nats", "the controller's Python lacks nats-py, so wasmcloud.lattice tasks run as module "
                                       "processes (slower); pip install nats-py nkeys into the Python that runs Ansible "
                                       "to run them in the controller")
            return "the controller's Python lacks nats-py"
        return self._interpreter_reason(task_vars)

    def _interpreter_reason(self, task_vars: Dict[str, Any]) -> Optional[str]:
        """A host whose ansible_python_interpreter names another Python than the controller's gets a module
        process in that Python, as the variable asks; interpreter discovery (the default) runs in the controller."""
        target = self._target_vars(task_vars)
        try:
            configured = C.config.get_config_value("INTERPRETER_PYTHON", variables=target)
        except Exception:  # noqa: BLE001 - an unreadable setting is Ansible's to report, on the module path
            return "ansible_python_interpreter could not be read"
        interpreter = str(self._templar.template(configured) or "").strip()
        if interpreter in _DISCOVERY or same_python(interpreter):
            return None
        return "ansible_python_interpreter is %s, not the controller's Python (%s)" % (interpreter, sys.executable)

    @staticmethod
    def _note_once(key: str, message: str) -> None:
        # Each task runs in its own worker process; the run's local temporary directory is shared
        # by all of them and removed at the end, so a marker file there says it once per run.
        try:
            fd = os.open(os.path.join(C.DEFAULT_LOCAL_TMP, "wasmcloud-lattice-note-" + key),
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError:
            return
        os.close(fd)
        display.v(message)

    def _execute_in_controller(self, name: str, args: Dict[str, Any], task_vars: Dict[str, Any],
                               environment: Dict[str, Any]) -> Dict[str, Any]:
        # The arguments exactly as _execute_module would send them, through the same JSON encoding the
        # module process decodes; then the result back the way _execute_module reads a module's output.
        self._update_module_args(self._task.action, args, task_vars)
        result = run_in_controller(name, core.module_arguments(args), environment, cwd=self._loader.get_basedir())
        return core.task_result(self, result)
