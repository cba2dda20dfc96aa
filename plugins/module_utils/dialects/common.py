# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What every dialect shares: the request it builds, and tolerant readers of JSON replies.

Private to this collection; may change without notice.

Decoding is tolerant (unknown fields ignored, optional ones defaulted) and bounded (a reply nested
deeper than the interpreter can walk is malformed, not a crash); anything else is MalformedReplyError
naming the field.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.nkeys import is_public_key
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.validation import shown_number


@dataclass(frozen=True)
class Request:
    """What to send: the operation's name, the subject, the body, and the host it is for."""

    operation: str
    subject: str
    body: bytes
    host_id: str = ""


def compact_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


# --- tolerant readers ----------------------------------------------------------------------


def read_json(payload: bytes, what: str) -> Any:
    if not payload:
        raise MalformedReplyError("%s: empty reply" % what)
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        preview = payload[:120].decode("utf-8", "replace")
        raise MalformedReplyError("%s: reply is not JSON (%s): %r" % (what, exc, preview))
    except RecursionError:  # Why: json recurses per nesting level; a hostile reply can nest 10^6 deep
        raise MalformedReplyError("%s: reply is nested too deeply to be a control-interface reply" % what)


_Decoded = TypeVar("_Decoded")


def bounded(decode: Callable[..., _Decoded]) -> Callable[..., _Decoded]:
    """Turn a RecursionError anywhere in a decoder into MalformedReplyError.

    Why: a reply that json.loads still accepts (nesting just under the interpreter's limit) can
    exceed it again when a reader walks, prints or re-encodes the nested value.
    """

    @functools.wraps(decode)
    def guarded(*args: Any, **kwargs: Any) -> _Decoded:
        try:
            return decode(*args, **kwargs)
        except RecursionError:
            raise MalformedReplyError("%s reply is nested too deeply to be a control-interface reply"
                                      % decode.__name__.replace("decode_", "").replace("_", " "))

    return guarded


def as_object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedReplyError("%s: expected a JSON object, got %s" % (what, type(value).__name__))
    return value


def field_text(obj: Mapping[str, Any], key: str, what: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise MalformedReplyError("%s: field %r should be a string, got %s" % (what, key, type(value).__name__))
    return str(value)


def required_text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = field_text(obj, key, what)
    if not value:
        raise MalformedReplyError("%s: required field %r is missing or empty" % (what, key))
    return value


def optional_text(obj: Mapping[str, Any], key: str, what: str) -> Optional[str]:
    return field_text(obj, key, what) if obj.get(key) is not None else None


def field_int(obj: Mapping[str, Any], key: str, what: str, default: int = 0) -> int:
    value = obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool):
        raise MalformedReplyError("%s: field %r should be a number, got a boolean" % (what, key))
    number: Optional[int] = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value):  # json accepts NaN, Infinity and 1e999
        number = int(value)
    elif isinstance(value, str) and len(value) <= 40:  # OTP <= 0.52.0 sent some counts as strings
        try:
            number = int(value)
        except ValueError:
            pass
    # Hosts count in 64 bits: anything larger (1e308 would become a 309-digit integer) is no count.
    if number is None or abs(number) >= _MAX_COUNT:
        shown = _short(value) if isinstance(value, str) else shown_number(value)
        raise MalformedReplyError("%s: field %r should be a number below 2^64, got %s" % (what, key, shown))
    return number


_MAX_COUNT = 2 ** 64


def _short(value: str) -> str:
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def host_id_field(obj: Mapping[str, Any], key: str, what: str) -> str:
    """A host's ID: the nkey every 0.x and 1.x host has. Anything else comes from a peer that is no host (or a
    broken one); refused like any malformed reply, so that peer is left out with a warning, never fatal."""
    value = required_text(obj, key, what)
    if not is_public_key(value, "host"):
        shown = value[:60] + ("…" if len(value) > 60 else "")
        raise MalformedReplyError("%s: field %r is %r, not a host ID (an nkey starting with N)" % (what, key, shown))
    return value


def field_map(obj: Mapping[str, Any], key: str, what: str) -> Dict[str, str]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedReplyError("%s: field %r should be a map, got %s" % (what, key, type(value).__name__))
    return {str(k): "" if v is None else (v if isinstance(v, str) else json.dumps(v)) for k, v in value.items()}


def field_list(obj: Mapping[str, Any], key: str, what: str) -> List[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedReplyError("%s: field %r should be a list, got %s" % (what, key, type(value).__name__))
    return value
