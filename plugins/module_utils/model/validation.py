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

# One NATS subject token: no separators, wildcards, whitespace or control characters (a NUL or DEL
# would reach the server inside the subject). Every pattern here is applied with fullmatch: "$" alone
# also matches before a final newline.
_TOKEN = re.compile(r"^[^.*>\s\x00-\x1f\x7f]+$")

# OCI reference: [registry[:port]/]repository[:tag][@digest]
_OCI_REF = re.compile(
    r"^(?:(?P<registry>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?)/)?"
    r"(?P<repository>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
# OCI distribution clients refuse a name (registry and repository) longer than this; a whole reference is
# refused earlier, before any pattern runs on it, when it is longer than any valid one can be.
MAX_REFERENCE_NAME = 255
_MAX_REFERENCE = 1024
_DIGEST_LENGTH = {"sha256": 64, "sha512": 128}  # registered algorithms: lower-case hex of exactly this length
# Host label keys: what `--label k=v`, WASMCLOUD_LABEL_k and `wash label HOST k=v` can carry, and what
# constraints can name (hostcore.os, example.com/zone): no spaces, wildcards, '=' or ','.
_LABEL_KEY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._:/-]*[A-Za-z0-9])?$")
_BINDLE_REF = re.compile(r"^bindle://[^\s/]+(?:/[^\s/]+)+$")
_CONTRACT_ID = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")


def shown_number(value: Any) -> str:
    """A number for a message: a huge integer (1e308 from YAML becomes a 309-digit one) in exponent form."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 15:
        try:
            return "%.6g" % value
        except OverflowError:  # beyond any float: its size is what matters
            return "a number of about %d digits" % int(value.bit_length() * 0.30103 + 1)
    return repr(value)


def _shown(value: Any) -> str:
    """``repr`` of a value for a message, shortened when it is huge."""
    if isinstance(value, (int, float)):
        return shown_number(value)
    text = repr(value)
    return text if len(text) <= 80 else "%s… (%d characters)" % (text[:60], len(value) if isinstance(value, str) else len(text))


def nats_token(value: Any, what: str) -> str:
    """A name that the protocol inserts as one NATS subject token (lattice, link name, ...)."""
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
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
    if not isinstance(value, str) or not value or not all(_TOKEN.fullmatch(part) for part in value.split(".")):
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
    if len(value) > _MAX_REFERENCE:
        raise InputError("%s %s is too long for an image reference" % (what, _shown(value)))
    if _BINDLE_REF.fullmatch(value) or _OCI_REF.fullmatch(value):
        return value
    raise InputError(
        "%s %r is not a valid OCI reference (expected registry/repository:tag, "
        "e.g. 'wasmcloud.azurecr.io/echo:0.3.4', or bindle://host/name/version)" % (what, value)
    )


def oci_reference(value: Any, what: str) -> str:
    """An OCI reference only (registry/repository[:tag][@digest]): lower-case repository, a name of at most
    MAX_REFERENCE_NAME characters, a registered digest of the right length."""
    example = "e.g. 'registry.example.com/team/app:1.0'"
    if not isinstance(value, str) or not value:
        raise InputError("%s must be an OCI reference, %s, got %s" % (what, example, _shown(value)))
    if len(value) > _MAX_REFERENCE:
        raise InputError("%s %s is too long for an OCI reference" % (what, _shown(value)))
    match = _OCI_REF.fullmatch(value)
    if not match:
        raise InputError("%s %s is not an OCI reference (registry/repository:tag or @digest, repository in lower "
                         "case, no scheme such as docker://), %s" % (what, _shown(value), example))
    name = "%s/%s" % (match.group("registry"), match.group("repository")) if match.group("registry") \
        else match.group("repository")
    if len(name) > MAX_REFERENCE_NAME:
        raise InputError("%s %s: registry and repository are %d characters, at most %d are allowed"
                         % (what, _shown(value), len(name), MAX_REFERENCE_NAME))
    digest = match.group("digest")
    if digest:
        algorithm, hex_part = digest.split(":", 1)
        wanted = _DIGEST_LENGTH.get(algorithm)
        if wanted is not None and (len(hex_part) != wanted or hex_part != hex_part.lower()):
            raise InputError("%s %s: a %s digest is %d lower-case hex digits" % (what, _shown(value), algorithm, wanted))
    return value


def label_key(value: Any, what: str = "label key") -> str:
    """A host label key: letters, digits and '-', '_', '.', ':', '/', starting and ending with a letter or digit."""
    if not isinstance(value, str) or len(value) > MAX_TOKEN_LENGTH or not _LABEL_KEY.fullmatch(value):
        raise InputError("%s %s must be 1 to %d letters, digits, '-', '_', '.', ':' or '/', starting and ending with "
                         "a letter or digit (e.g. 'zone', 'example.com/tier')" % (what, _shown(value), MAX_TOKEN_LENGTH))
    return value


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
    if not isinstance(value, str) or not _CONTRACT_ID.fullmatch(value):
        raise InputError("%s %r must look like 'namespace:name', e.g. 'wasmcloud:httpserver'" % (what, value))
    return value


def count(value: Any, what: str = "count") -> int:
    """A non-negative instance count that fits the wire's u16."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("%s must be an integer, got %s" % (what, _shown(value)))
    if value < 0 or value > MAX_COUNT:
        raise InputError("%s must be between 0 and %d, got %s" % (what, MAX_COUNT, shown_number(value)))
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
        raise InputError("%s must be a positive number of seconds (finite), got %s" % (what, _shown(value)))
    if value > MAX_SECONDS:
        raise InputError("%s must be at most %g seconds (one day), got %s" % (what, MAX_SECONDS, _shown(value)))
    return float(value)
