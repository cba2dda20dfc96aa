# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Reading an application spec file: clear messages, and no value silently changed by YAML 1.1.

Private to this collection; may change without notice.

PyYAML resolves plain scalars by YAML 1.1 rules: ``010`` is 8, ``no`` is false, ``1.10`` is the
number 1.1 (so the string "1.1" in a label or link value) and ``12:30:00`` is 45000. A spec's values
must mean what the user wrote, so a plain scalar that YAML would turn into something that does not
read back as the same text is refused, naming where it is, with the advice to quote it.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

_TAG = "tag:yaml.org,2002:"
_PLAIN_BOOLEANS = ("true", "false", "True", "False", "TRUE", "FALSE")


def _written_differently(node: Any) -> Optional[str]:
    """What YAML makes of a plain scalar when that is not what its text says, else None."""
    if not isinstance(node, yaml.ScalarNode) or node.style is not None:  # quoted or block scalars stay strings
        return None
    text, tag = node.value, node.tag
    if tag == _TAG + "bool":
        return None if text in _PLAIN_BOOLEANS else "a boolean"
    if tag == _TAG + "timestamp":
        return "a date"
    if tag in (_TAG + "int", _TAG + "float"):
        constructor = yaml.constructor.SafeConstructor()
        value = constructor.construct_yaml_int(node) if tag.endswith("int") else constructor.construct_yaml_float(node)
        return None if str(value) == text else "the number %s" % value
    return None


def _ambiguous(node: Any, where: str) -> List[Tuple[str, str, str]]:
    """(path, text, reading) of every plain scalar under ``node`` that YAML reads differently."""
    found: List[Tuple[str, str, str]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            reading = _written_differently(key)
            if reading:
                found.append(("%s key" % where, key.value, reading))
            found.extend(_ambiguous(value, "%s.%s" % (where, name) if where else name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_ambiguous(item, "%s[%d]" % (where, index)))
    else:
        reading = _written_differently(node)
        if reading:
            found.append((where, node.value, reading))
    return found


def load_spec_text(text: str, source: str, root: str = "spec") -> Any:
    """The spec in ``text`` (from ``source``, for messages); ambiguous plain scalars are refused, named by their
    path from ``root`` ("" for a document whose keys are named from the top, like a wadm manifest)."""
    if not HAS_YAML:
        raise InputError("reading %s needs PyYAML where the module runs" % source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InputError("%s is not valid YAML: %s" % (source, exc))
    if node is None:
        return None
    found = _ambiguous(node, root)
    if found:
        problems = ["%s is written %s, which YAML reads as %s" % problem for problem in found[:5]]
        raise InputError("%s: %s; quote such values (for example '010' or \"no\") so they are kept as written"
                         % (source, "; ".join(problems)))
    return yaml.safe_load(text)


def read_spec_file(path: str, option: str = "spec_file", root: str = "spec") -> Any:
    """The spec held by the YAML file at ``path`` (on the machine running the module), given as ``option``."""
    source = "%s %s" % (option, path)
    if os.path.isdir(path):
        raise InputError("%s is a directory, not a YAML file" % source)
    if not os.path.exists(path):
        raise InputError("%s does not exist" % source)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InputError("%s cannot be read: %s" % (source, exc.strerror or exc))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("%s is not UTF-8 text (byte 0x%02x at offset %d): save it as UTF-8"
                         % (source, raw[exc.start], exc.start))
    return load_spec_text(text, source, root)
