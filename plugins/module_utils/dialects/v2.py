# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The wasmCloud v2 host API (``wash host``): subjects and protobuf-JSON messages, both ways.

Private to this collection; may change without notice.

v2 has no lattice control interface. A host publishes ``HostHeartbeat`` on
``runtime.operator.heartbeat.{host_id}`` at start-up and every 15 s, and answers four requests
on ``runtime.host.{host_id}.{command}`` (see docs/v2.md). Messages use the protobuf JSON mapping:

* written in lowerCamelCase; read in either lowerCamelCase or the proto's snake_case;
* 64-bit integers are JSON strings on output (either form accepted on input);
* fields at their default are omitted, so every missing field reads as its default;
* enums are written by name and read by name or number;
* the host rejects any field it does not know, silently: the request then gets no reply.

So the encoder is driven by the message schemas below and refuses unknown keys before sending, and
the decoders are tolerant: unknown fields are ignored, missing ones defaulted, anything of the wrong
shape raises MalformedReplyError naming the field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Mapping, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, MalformedReplyError

HEARTBEAT_SUBJECT_PREFIX = "runtime.operator.heartbeat"
HEARTBEAT_DISCOVERY_SUBJECT = HEARTBEAT_SUBJECT_PREFIX + ".*"
COMMANDS = ("heartbeat", "workload.start", "workload.status", "workload.stop")

# A real heartbeat is 2.4 KB published and 3.9 KB requested; anything far larger is not a host's.
MAX_HEARTBEAT_BYTES = 64 * 1024

# The host's own timeouts for these requests are the operator's: heartbeat 5 s, start 60 s, stop 30 s.
DEFAULT_START_TIMEOUT = 60.0

WORKLOAD_STATES = ("WORKLOAD_STATE_UNSPECIFIED", "WORKLOAD_STATE_STARTING", "WORKLOAD_STATE_RUNNING",
                   "WORKLOAD_STATE_COMPLETED", "WORKLOAD_STATE_STOPPING", "WORKLOAD_STATE_ERROR",
                   "WORKLOAD_STATE_NOT_FOUND")
IMAGE_PULL_POLICIES = ("IMAGE_PULL_POLICY_UNSPECIFIED", "IMAGE_PULL_POLICY_ALWAYS",
                       "IMAGE_PULL_POLICY_IF_NOT_PRESENT", "IMAGE_PULL_POLICY_NEVER")

_INT32 = (-(2 ** 31), 2 ** 31 - 1)
_UINT32 = (0, 2 ** 32 - 1)
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
_UINT64 = (0, 2 ** 64 - 1)

# A field is (snake_case name, kind, detail). Kinds: str, bool, float, int32, uint32, uint64 (detail: range),
# enum (detail: names), map (string -> string), strings (repeated string), msg / msgs (detail: schema).
Field = Tuple[str, str, Any]

WIT_INTERFACE: List[Field] = [
    ("namespace", "str", None), ("package", "str", None), ("version", "str", None),
    ("interfaces", "strings", None), ("config", "map", None), ("name", "str", None),
]
VOLUME_MOUNT: List[Field] = [("name", "str", None), ("mount_path", "str", None), ("read_only", "bool", None)]
LOCAL_RESOURCES: List[Field] = [
    ("memory_limit_mb", "int", _INT32), ("cpu_limit", "int", _INT32), ("config", "map", None),
    ("environment", "map", None), ("volume_mounts", "msgs", VOLUME_MOUNT), ("allowed_hosts", "strings", None),
    ("allowed_ip_name_lookups", "strings", None), ("allowed_host_loopback_ports", "strings", None),
]
IMAGE_PULL_SECRET: List[Field] = [("username", "str", None), ("password", "str", None)]
COMPONENT: List[Field] = [
    ("name", "str", None), ("image", "str", None), ("local_resources", "msg", LOCAL_RESOURCES),
    ("pool_size", "int", _INT32), ("max_invocations", "int", _INT32), ("max_concurrency", "int", _INT32),
    ("image_pull_secret", "msg", IMAGE_PULL_SECRET), ("image_pull_policy", "enum", IMAGE_PULL_POLICIES),
]
SERVICE: List[Field] = [
    ("image", "str", None), ("local_resources", "msg", LOCAL_RESOURCES), ("max_restarts", "int64", _UINT64),
    ("image_pull_secret", "msg", IMAGE_PULL_SECRET), ("image_pull_policy", "enum", IMAGE_PULL_POLICIES),
]
HOST_PATH: List[Field] = [("local_path", "str", None)]
EMPTY_DIR: List[Field] = []
VOLUME: List[Field] = [("name", "str", None), ("host_path", "msg", HOST_PATH), ("empty_dir", "msg", EMPTY_DIR)]
WIT_WORLD: List[Field] = [("components", "msgs", COMPONENT), ("host_interfaces", "msgs", WIT_INTERFACE)]
WORKLOAD: List[Field] = [
    ("namespace", "str", None), ("name", "str", None), ("annotations", "map", None),
    ("service", "msg", SERVICE), ("wit_world", "msg", WIT_WORLD), ("volumes", "msgs", VOLUME),
]
WORKLOAD_START_REQUEST: List[Field] = [("workload_id", "str", None), ("workload", "msg", WORKLOAD)]
WORKLOAD_ID_REQUEST: List[Field] = [("workload_id", "str", None)]
WORKLOAD_STATUS: List[Field] = [("workload_id", "str", None), ("workload_state", "enum", WORKLOAD_STATES),
                                ("message", "str", None)]
WORKLOAD_RESPONSE: List[Field] = [("workload_status", "msg", WORKLOAD_STATUS)]
HOST_HEARTBEAT: List[Field] = [
    ("id", "str", None), ("hostname", "str", None), ("friendly_name", "str", None), ("version", "str", None),
    ("labels", "map", None), ("started_at", "str", None), ("os_arch", "str", None), ("os_name", "str", None),
    ("os_kernel", "str", None), ("system_cpu_usage", "float", None), ("system_memory_total", "int64", _UINT64),
    ("system_memory_free", "int64", _UINT64), ("component_count", "int64", _UINT64),
    ("workload_count", "int64", _UINT64), ("imports", "msgs", WIT_INTERFACE), ("exports", "msgs", WIT_INTERFACE),
    ("http_port", "int", _UINT32), ("environment", "str", None),
]


# A replacement starts the new version beside the old one, under the workload's second id on the host
# (its workload_id plus this suffix), and the two alternate; so the suffix is refused in workload ids.
SECOND_ID_SUFFIX = "~b"
# JetStream names (the record's key-value bucket, the heartbeat stream): what the server and nats-py accept.
_JETSTREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def host_id(value: Any, what: str = "host_id") -> str:
    """A v2 host id: it becomes one token of the host's subjects (runtime.host.{id}.…)."""
    try:
        return check.nats_token(value, what)
    except InputError as exc:
        raise InputError("%s (v2 host ids are UUIDs such as 01a20bff-2fd1-7a63-b2fb-ee7adb220956)" % exc)


def workload_id(value: Any, what: str = "workload_id") -> str:
    """A workload id chosen by the caller. The host takes any text, but it is also the workload's default
    name, which the host puts into its messaging queue groups: so one subject token, and without the
    suffix of the second id."""
    check.nats_token(value, what)
    if "~" in value:
        raise InputError("%s %r must not contain '~': %s is the id of its replacement while both run"
                         % (what, value, value + SECOND_ID_SUFFIX))
    return value


def workload_ids(workload: str) -> Tuple[str, str]:
    """The two ids a workload can have on the host: its own, and the one its replacement starts under."""
    return workload, workload + SECOND_ID_SUFFIX


def jetstream_name(value: Any, what: str) -> str:
    """A key-value bucket or stream name: letters, digits, '-' and '_' (anything else fails on the server)."""
    if not isinstance(value, str) or not _JETSTREAM_NAME.fullmatch(value):
        raise InputError("%s %r must be 1 to 200 letters, digits, '-' or '_'" % (what, value))
    return value


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def subject(host: str, command: str) -> str:
    if command not in COMMANDS:
        raise ValueError("unknown v2 host command %r" % command)
    return "runtime.host.%s.%s" % (host_id(host), command)


def host_id_from_heartbeat_subject(name: str) -> str:
    prefix = HEARTBEAT_SUBJECT_PREFIX + "."
    return name[len(prefix):] if name.startswith(prefix) else ""


# -- encoding (what we send) -------------------------------------------------------------------------


def encode(schema: List[Field], value: Mapping[str, Any], where: str = "") -> Dict[str, Any]:
    """snake_case ``value`` -> the protobuf-JSON dict the host accepts; unknown keys are refused here."""
    if not isinstance(value, Mapping):
        raise InputError("%s must be a dictionary, got %r" % (where or "value", value))
    known = {name for name, _kind, _detail in schema}
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        raise InputError("%s has unknown key(s) %s (known: %s); the host would drop the whole request"
                         % (where or "the request", ", ".join(unknown), ", ".join(sorted(known))))
    out: Dict[str, Any] = {}
    for name, kind, detail in schema:
        item = value.get(name)
        path = "%s.%s" % (where, name) if where else name
        if item is None:
            continue
        encoded = _encode_field(kind, detail, item, path)
        if kind != "msg" and encoded in ("", 0, False, [], {}):
            continue  # defaults are omitted, as the host itself writes them; a message's presence is kept
        out[camel(name)] = encoded
    return out


def _encode_field(kind: str, detail: Any, item: Any, path: str) -> Any:
    if kind == "str":
        if not isinstance(item, str):
            raise InputError("%s must be a string, got %r" % (path, item))
        return item
    if kind == "bool":
        if not isinstance(item, bool):
            raise InputError("%s must be true or false, got %r" % (path, item))
        return item
    if kind in ("int", "int64"):
        number = _integer(item, detail, path, InputError)
        return str(number) if kind == "int64" and number else number
    if kind == "float":
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise InputError("%s must be a finite number, got %r" % (path, item))
        return item
    if kind == "enum":
        if item not in detail:
            raise InputError("%s must be one of %s, got %r" % (path, ", ".join(detail), item))
        return item
    if kind == "map":
        if not isinstance(item, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in item.items()):
            raise InputError("%s must map strings to strings (quote numbers and booleans), got %r" % (path, item))
        return dict(item)
    if kind == "strings":
        if isinstance(item, str) or not isinstance(item, (list, tuple)) or not all(isinstance(v, str) for v in item):
            raise InputError("%s must be a list of strings, got %r" % (path, item))
        return list(item)
    if kind == "msg":
        return encode(detail, item, path)
    if kind == "msgs":
        if isinstance(item, (str, Mapping)) or not isinstance(item, (list, tuple)):
            raise InputError("%s must be a list, got %r" % (path, item))
        return [encode(detail, entry, "%s[%d]" % (path, index)) for index, entry in enumerate(item)]
    raise AssertionError("unknown field kind %r" % kind)


def _integer(item: Any, bounds: Tuple[int, int], path: str, error: Any) -> int:
    if isinstance(item, bool):
        raise error("%s must be an integer, got %r" % (path, item))
    if isinstance(item, str):
        try:
            item = int(item.strip())
        except ValueError:
            raise error("%s must be an integer, got %r" % (path, item))
    elif isinstance(item, float):
        if not math.isfinite(item) or item != int(item):
            raise error("%s must be an integer, got %r" % (path, item))
        item = int(item)
    elif not isinstance(item, int):
        raise error("%s must be an integer, got %r" % (path, item))
    low, high = bounds
    if not low <= item <= high:
        raise error("%s must be between %d and %d, got %d" % (path, low, high, item))
    return item


def dumps(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode("utf-8")


def start_request(workload_id: str, workload: Mapping[str, Any]) -> bytes:
    return dumps(encode(WORKLOAD_START_REQUEST, {"workload_id": workload_id, "workload": workload}))


def workload_id_request(workload_id: str) -> bytes:
    return dumps(encode(WORKLOAD_ID_REQUEST, {"workload_id": workload_id}))


# -- decoding (what hosts send) ----------------------------------------------------------------------


def decode(schema: List[Field], data: Any, where: str) -> Dict[str, Any]:
    """A protobuf-JSON object -> snake_case dict with every field present (defaults filled in)."""
    if not isinstance(data, Mapping):
        raise MalformedReplyError("%s is not a JSON object: %s" % (where, _preview(data)))
    out: Dict[str, Any] = {}
    for name, kind, detail in schema:
        value = data.get(camel(name), data.get(name))
        out[name] = _decode_field(kind, detail, value, "%s.%s" % (where, camel(name)))
    return out


def _decode_field(kind: str, detail: Any, value: Any, path: str) -> Any:
    if value is None:
        return {"str": "", "bool": False, "float": 0.0, "int": 0, "int64": 0, "enum": detail[0] if detail else "",
                "map": {}, "strings": [], "msg": None, "msgs": []}[kind]
    if kind == "str":
        if not isinstance(value, str):
            raise MalformedReplyError("%s is not a string: %s" % (path, _preview(value)))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise MalformedReplyError("%s is not a boolean: %s" % (path, _preview(value)))
        return value
    if kind in ("int", "int64"):
        return _integer(value, detail, path, MalformedReplyError)
    if kind == "float":
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MalformedReplyError("%s is not a number: %s" % (path, _preview(value)))
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            return 0.0
        return number if math.isfinite(number) else 0.0
    if kind == "enum":
        if isinstance(value, str) and value in detail:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(detail):
            return detail[value]
        raise MalformedReplyError("%s is not one of %s: %s" % (path, ", ".join(detail), _preview(value)))
    if kind == "map":
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise MalformedReplyError("%s is not a map of strings: %s" % (path, _preview(value)))
        return {str(k): v for k, v in value.items()}
    if kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MalformedReplyError("%s is not a list of strings: %s" % (path, _preview(value)))
        return list(value)
    if kind == "msg":
        return decode(detail, value, path)
    if kind == "msgs":
        if not isinstance(value, list):
            raise MalformedReplyError("%s is not a list: %s" % (path, _preview(value)))
        return [decode(detail, entry, "%s[%d]" % (path, index)) for index, entry in enumerate(value)]
    raise AssertionError("unknown field kind %r" % kind)


def preview(value: Any) -> str:
    """A value for a message, cut to 80 characters (peers may send anything)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_preview = preview


def _json(payload: bytes, what: str) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedReplyError("%s is not JSON (%s): %s" % (what, exc, _preview(payload[:80])))


def decode_heartbeat(payload: bytes) -> Dict[str, Any]:
    """A ``HostHeartbeat`` (published or requested). Its id becomes a subject token of every request to
    the host, so one that is missing, too long or not a token makes the heartbeat malformed."""
    if len(payload) > MAX_HEARTBEAT_BYTES:
        raise MalformedReplyError("a host heartbeat of %d bytes (real ones are a few KB; at most %d are read)"
                                  % (len(payload), MAX_HEARTBEAT_BYTES))
    beat = decode(HOST_HEARTBEAT, _json(payload, "a host heartbeat"), "heartbeat")
    if not beat["id"]:
        raise MalformedReplyError("a host heartbeat without an id")
    try:
        check.nats_token(beat["id"], "host id")
    except InputError as exc:
        raise MalformedReplyError("a host heartbeat whose id cannot address the host: %s" % exc)
    return beat


def decode_published_heartbeat(subject_name: str, payload: bytes) -> Dict[str, Any]:
    """A heartbeat as published on ``runtime.operator.heartbeat.{id}``: the id inside must be the sender's."""
    beat = decode_heartbeat(payload)
    sender = host_id_from_heartbeat_subject(subject_name)
    if beat["id"] != sender:
        raise MalformedReplyError("a heartbeat published on %s names another host id, %s"
                                  % (_preview(subject_name), _preview(beat["id"])))
    return beat


def decode_workload_status(payload: bytes, what: str = "workload reply") -> Dict[str, Any]:
    """A ``Workload{Start,Status,Stop}Response`` -> its ``WorkloadStatus`` (state, message, workload_id)."""
    reply = decode(WORKLOAD_RESPONSE, _json(payload, "the %s" % what), what)
    status = reply["workload_status"]
    if status is None:
        raise MalformedReplyError("the %s has no workloadStatus: %s" % (what, _preview(payload[:80])))
    return status


def state_name(state: str) -> str:
    """WORKLOAD_STATE_RUNNING -> RUNNING (what results show)."""
    return state[len("WORKLOAD_STATE_"):] if state.startswith("WORKLOAD_STATE_") else state


# -- the host's silence -------------------------------------------------------------------------------


def silence_reasons(command: str) -> str:
    """What a host that stays silent on ``command`` most likely refused to decode (it never says why)."""
    if command == "workload.start":  # said only when the host does not have the workload (it never took it)
        return ("it never took the request, so it most likely could not decode it: a field this host version does "
                "not know (hosts reject unknown fields instead of ignoring them), or a missing workload or empty "
                "workload_id; its log shows 'error handling command'")
    if command in ("workload.status", "workload.stop"):
        return "it most likely could not decode the request (an unknown field or an empty body)"
    return "the command may not exist on this host version"
