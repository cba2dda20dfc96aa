# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Checks run on user input before anything is sent to the lattice.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.nkeys import (
    InvalidKeyError,
    validate_public_key,
)

MAX_COUNT = 65535  # counts travel as u16 on the wire
# Longest wait any seconds option may ask for (one day). Longer values are mistakes, and past about
# 1e9 seconds asyncio's timers overflow ("timestamp too large") instead of waiting.
MAX_SECONDS = 86400.0
# Longest name inserted as one subject token (lattice, link name), and longest dotted prefix. A NATS
# subject shares the server's 4 KB control line with the reply inbox; a longer one makes the server
# drop the connection ("connection closed") instead of answering.
MAX_TOKEN_LENGTH = 255

# One NATS subject token: no separators, wildcards or whitespace.
_TOKEN = re.compile(r"^[^.*>\s]+$")

# OCI reference: [registry[:port]/]repository[:tag][@digest]
_OCI_REF = re.compile(
    r"^(?:(?P<registry>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?)/)?"
    r"(?P<repository>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
_BINDLE_REF = re.compile(r"^bindle://[^\s/]+(?:/[^\s/]+)+$")
_CONTRACT_ID = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")


def _shown(value: Any) -> str:
    """``repr`` of a value for a message, shortened when it is huge."""
    text = repr(value)
    return text if len(text) <= 80 else "%s… (%d characters)" % (text[:60], len(value) if isinstance(value, str) else len(text))


def nats_token(value: Any, what: str) -> str:
    """A name that the protocol inserts as one NATS subject token (lattice, link name, ...)."""
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise InputError("%s %s must be a single NATS subject token: non-empty, without '.', '*', '>' or spaces"
                         % (what, _shown(value)))
    if len(value) > MAX_TOKEN_LENGTH:
        raise InputError("%s %s is too long: at most %d characters" % (what, _shown(value), MAX_TOKEN_LENGTH))
    return value


def link_name(value: Any, what: str = "link_name") -> str:
    """A link name: hosts put it into provider subjects, so it is one NATS subject token."""
    return nats_token(value, what)


def subject_prefix(value: Any, what: str) -> str:
    """A dotted subject prefix (ctl_topic_prefix): tokens joined by '.', no wildcards."""
    if not isinstance(value, str) or not value or not all(_TOKEN.match(part) for part in value.split(".")):
        raise InputError("%s %s must be dot-separated NATS tokens without wildcards or spaces, e.g. 'wasmbus.ctl'"
                         % (what, _shown(value)))
    if len(value) > MAX_TOKEN_LENGTH:
        raise InputError("%s %s is too long: at most %d characters" % (what, _shown(value), MAX_TOKEN_LENGTH))
    return value


def public_key(value: Any, kind: str, what: str) -> str:
    """An nkey public key of ``kind`` (host, actor, provider), checksum included."""
    try:
        return validate_public_key(value, kind, what)
    except InvalidKeyError as exc:
        raise InputError(str(exc))


def image_ref(value: Any, what: str) -> str:
    """An OCI reference (registry/repo:tag or @digest) or a bindle:// reference."""
    if not isinstance(value, str) or not value:
        raise InputError("%s must be an OCI reference such as 'wasmcloud.azurecr.io/echo:0.3.4'" % what)
    if _BINDLE_REF.match(value) or _OCI_REF.match(value):
        return value
    raise InputError(
        "%s %r is not a valid OCI reference (expected registry/repository:tag, "
        "e.g. 'wasmcloud.azurecr.io/echo:0.3.4', or bindle://host/name/version)" % (what, value)
    )


def oci_repository(ref: str) -> str:
    """The reference without its tag or digest: every version of one actor shares it."""
    name = ref.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def provider_ref(value: Any, what: str) -> str:
    """A provider reference: an OCI/bindle reference, or a provider (V) public key."""
    if isinstance(value, str) and len(value) == 56 and value[:1] == "V":
        return public_key(value, "provider", what)
    return image_ref(value, what)


def contract_id(value: Any, what: str = "contract_id") -> str:
    """A capability contract id, ``namespace:name`` (e.g. wasmcloud:httpserver)."""
    if not isinstance(value, str) or not _CONTRACT_ID.match(value):
        raise InputError("%s %r must look like 'namespace:name', e.g. 'wasmcloud:httpserver'" % (what, value))
    return value


def count(value: Any, what: str = "count") -> int:
    """A non-negative instance count that fits the wire's u16."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("%s must be an integer, got %r" % (what, value))
    if value < 0 or value > MAX_COUNT:
        raise InputError("%s must be between 0 and %d, got %d" % (what, MAX_COUNT, value))
    return value


def string_map(value: Optional[Mapping[Any, Any]], what: str) -> Dict[str, str]:
    """Labels, constraints, annotations and link values: a flat map of strings.

    Numbers and booleans from YAML are turned into strings the way a person
    wrote them (true -> "true"); nested structures are refused.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError("%s must be a mapping of strings, got %s" % (what, type(value).__name__))
    result: Dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InputError("%s keys must be non-empty strings, got %r" % (what, key))
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, (int, float)):
            item = str(item)
        elif item is None:
            item = ""
        if not isinstance(item, str):
            raise InputError("%s[%r] must be a string, got %s" % (what, key, type(item).__name__))
        result[key] = item
    return result


def positive_seconds(value: Any, what: str) -> float:
    """A timeout in seconds: finite, strictly positive, at most MAX_SECONDS."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError("%s must be a positive number of seconds (finite), got %r" % (what, value))
    if value > MAX_SECONDS:
        raise InputError("%s must be at most %g seconds (one day), got %r" % (what, MAX_SECONDS, value))
    return float(value)
