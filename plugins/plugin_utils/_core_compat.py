# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Every use of ansible-core internals by the in-controller execution path, each behind a run-time check.

Private to this collection; may change without notice.

Running a module inside the controller's worker (plugin_utils/_controller.py) must hand the module its
arguments and hand Ansible its result exactly as a module process would. Part of that has no documented
API: the module (de)serialization profiles (ansible-core 2.19+), how ``ActionBase`` parses a module's
output (its return type changed in 2.21), the no_log values and aliases that argument validation found,
and whether tracebacks are wanted. They live here and nowhere else (tests/unit/test_core_compat.py greps
for that). ``controller_unsupported`` checks all of them before a task starts; when one is missing or has
changed shape, the action plugin runs the task as an ordinary module process instead, and says why once
per run at ``-v``. Nothing here can break a task: a failed check only costs the faster path.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Set, Tuple

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator

try:  # documented module_utils, but only from ansible-core 2.19 on
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder

    HAS_PROFILES = True
except ImportError:
    HAS_PROFILES = False

# How the collection's modules take their arguments and give their results (they declare no other profile).
PROFILE = "legacy"

_support: Dict[str, Optional[str]] = {}  # the checks' verdict, once per worker process


def controller_unsupported(action: Any) -> Optional[str]:
    """Why this ansible-core cannot run a module in the controller exactly as a module process (None: it can)."""
    if "verdict" not in _support:
        _support["verdict"] = _check(action)
    return _support["verdict"]


def _check(action: Any) -> Optional[str]:
    prefix = "ansible-core %s " % ANSIBLE_CORE_VERSION
    if not HAS_PROFILES:
        return prefix + "has no module serialization profiles (ansible-core 2.19 added them)"
    for method in ("_update_module_args", "_compute_environment_string", "_parse_returned_data"):
        if not callable(getattr(action, method, None)):
            return prefix + "has no ActionBase.%s" % method
    try:  # a module result that says nothing, parsed as _execute_module parses one: no side effect
        parsed = action._parse_returned_data({"stdout": "{}", "stderr": "", "rc": 0}, PROFILE)
        _cleaned(parsed)
    except Exception as exc:  # noqa: BLE001 - any change of shape means: use the module process
        return prefix + "parses module results differently (%s: %s)" % (type(exc).__name__, exc)
    validation = ModuleArgumentSpecValidator({"x": {"type": "str", "no_log": True}}).validate({"x": "v"})
    if getattr(validation, "_no_log_values", None) != {"v"} or not isinstance(getattr(validation, "_aliases", None), dict):
        return prefix + "reports argument validation differently (no_log values, aliases)"
    return None


def module_arguments(args: Dict[str, Any]) -> Dict[str, Any]:
    """``args`` as a module process decodes them: through the JSON its arguments travel as."""
    text = json.dumps(args, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE))
    return json.loads(text, cls=get_module_decoder(PROFILE, Direction.CONTROLLER_TO_MODULE))


def task_result(action: Any, result: Dict[str, Any]) -> Dict[str, Any]:
    """A module's result dict as ``ActionBase._execute_module`` returns a module process's output."""
    text = json.dumps(result, cls=get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER))
    parsed = action._parse_returned_data({"stdout": text, "stderr": "", "rc": 1 if result.get("failed") else 0},
                                         PROFILE)
    return _cleaned(parsed)


def _cleaned(parsed: Any) -> Dict[str, Any]:
    if isinstance(parsed, dict):  # ansible-core 2.19, 2.20: a dict; drop what only Ansible may set
        data = {key: value for key, value in parsed.items()
                if not key.startswith("_ansible_") or key == "_ansible_parsed"}
        for key in ("warnings", "deprecations"):
            if key in data and not data[key]:
                del data[key]
        return data
    # ansible-core 2.21: a task result object that cleans itself
    parsed.remove_internal_keys()
    data = parsed.as_result_dict(for_round_trip=True)
    if not isinstance(data, dict):
        raise TypeError("a parsed module result is %s, not a dict" % type(data).__name__)
    return data


def validation_extras(validation: Any) -> Tuple[Set[Any], Dict[str, str]]:
    """The no_log values and the aliases used, from a ``ModuleArgumentSpecValidator`` result."""
    return set(validation._no_log_values), dict(validation._aliases)


def tracebacks_enabled() -> bool:
    """Whether a failing module's traceback goes into its result (ansible-core's ``_traceback``, 2.19+)."""
    try:
        from ansible.module_utils._internal import _traceback

        return bool(_traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR))
    except (ImportError, AttributeError):  # without it, no tracebacks: the default everywhere
        return False
