# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Reading an application spec file: clear messages, bounded work, and no value silently changed by YAML 1.1.

Private to this collection; may change without notice.

PyYAML resolves plain scalars by YAML 1.1 rules: ``010`` is 8, ``no`` is false, ``1.10`` is the
number 1.1 (so the string "1.1" in a label or link value) and ``12:30:00`` is 45000. A spec's values
must mean what the user wrote, so a plain scalar that YAML would turn into something that does not
read back as the same text is refused, naming where it is, with the advice to quote it.

A spec file is input like any other, so reading it is bounded: only regular files (a FIFO or a device
would block or never end), at most ``MAX_FILE_BYTES``, at most ``MAX_DEPTH`` levels of nesting (the
composer recurses), at most ``MAX_ALIASES`` aliases and ``MAX_NODES`` values once aliases are expanded
(a few hundred bytes of nested aliases stand for billions of values), and no key twice in one mapping
(YAML would keep the last one silently). The module and the lookup both read through ``read_spec_file``.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Dict, List, Optional, Set, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

_TAG = "tag:yaml.org,2002:"
_PLAIN_BOOLEANS = ("true", "false", "True", "False", "TRUE", "FALSE")

MAX_FILE_BYTES = 1024 * 1024  # a large manifest is a few kilobytes
MAX_DEPTH = 64  # levels of nested mappings and lists; a manifest needs about 10
MAX_ALIASES = 32  # *alias references in one document
MAX_NODES = 100_000  # values in the document once every alias is expanded


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


def _child(where: str, key: Any) -> str:
    name = key.value if isinstance(key, yaml.ScalarNode) else "?"
    return "%s.%s" % (where, name) if where else name


def _ambiguous(node: Any, where: str) -> List[Tuple[str, str, str]]:
    """(path, text, reading) of every plain scalar under ``node`` that YAML reads differently."""
    found: List[Tuple[str, str, str]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            reading = _written_differently(key)
            if reading:
                found.append(("%s key" % where, key.value, reading))
            found.extend(_ambiguous(value, _child(where, key)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_ambiguous(item, "%s[%d]" % (where, index)))
    else:
        reading = _written_differently(node)
        if reading:
            found.append((where, node.value, reading))
    return found


def _line(node: Any) -> int:
    return node.start_mark.line + 1


if HAS_YAML:
    class _BoundedLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """SafeLoader whose composer refuses deep nesting and many aliases before building anything."""

        def __init__(self, stream: str, source: str) -> None:
            super().__init__(stream)
            self.source = source
            self.depth = 0
            self.aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise InputError("%s uses more than %d YAML aliases (*name, line %d): write the values out"
                                     % (self.source, MAX_ALIASES, self.peek_event().start_mark.line + 1))
                return super().compose_node(parent, index)
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise InputError("%s nests mappings and lists more than %d levels deep (line %d)"
                                     % (self.source, MAX_DEPTH, self.peek_event().start_mark.line + 1))
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1


class _Measure:
    """One walk over the composed nodes (each shared node once): its size with aliases expanded, a node that
    contains itself, and a key written twice in one mapping."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sizes: Dict[int, int] = {}
        self.open: Set[int] = set()

    def size(self, node: Any, where: str) -> int:
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in self.open:
            raise InputError("%s: %s refers to itself through a YAML alias (line %d)"
                             % (self.source, where or "the document", _line(node)))
        self.open.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            self._refuse_repeated_keys(node, where)
            for key, value in node.value:
                total += self.size(key, where) + self.size(value, _child(where, key))
                self._bound(total, where)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                total += self.size(item, "%s[%d]" % (where, index))
                self._bound(total, where)
        self.open.discard(id(node))
        self.sizes[id(node)] = total
        return total

    def _bound(self, total: int, where: str) -> None:
        if total > MAX_NODES:
            raise InputError("%s: %s stands for more than %d values once its YAML aliases are expanded: write it "
                             "without nested aliases" % (self.source, where or "the document", MAX_NODES))

    def _refuse_repeated_keys(self, node: Any, where: str) -> None:
        first: Dict[Tuple[str, str], Any] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _TAG + "merge":
                continue
            seen = first.setdefault((key.tag, key.value), key)
            if seen is not key:
                raise InputError("%s: %s has the key %r twice (lines %d and %d); YAML would keep only the last one "
                                 "silently: remove one" % (self.source, where or "the document", key.value,
                                                           _line(seen), _line(key)))


def load_spec_text(text: str, source: str, root: str = "spec") -> Any:
    """The spec in ``text`` (from ``source``, for messages); ambiguous plain scalars are refused, named by their
    path from ``root`` ("" for a document whose keys are named from the top, like a wadm manifest)."""
    if not HAS_YAML:
        raise InputError("reading %s needs PyYAML where the module runs" % source)
    loader = _BoundedLoader(text, source)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise InputError("%s is not valid YAML: %s" % (source, exc))
        if node is None:
            return None
        _Measure(source).size(node, root)
        found = _ambiguous(node, root)
        if found:
            problems = ["%s is written %s, which YAML reads as %s" % problem for problem in found[:5]]
            raise InputError("%s: %s; quote such values (for example '010' or \"no\") so they are kept as written"
                             % (source, "; ".join(problems)))
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise InputError("%s is not valid YAML: %s" % (source, exc))
    finally:
        loader.dispose()


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> Optional[str]:
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _read_bounded(path: str, source: str) -> bytes:
    """The file's bytes: a regular file of at most MAX_FILE_BYTES, opened without blocking."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError("%s does not exist" % source)
    except OSError as exc:
        raise InputError("%s cannot be read: %s" % (source, exc.strerror or exc))
    if stat.S_ISDIR(info.st_mode):
        raise InputError("%s is a directory, not a YAML file" % source)
    kind = _not_regular(info.st_mode)
    if kind:
        raise InputError("%s is %s, not a regular file: give the path of a YAML file" % (source, kind))
    too_large = "%s is larger than %d bytes (%d KiB), the limit for a spec or manifest file" % (
        source, MAX_FILE_BYTES, MAX_FILE_BYTES // 1024)
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(too_large)
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError("%s cannot be read: %s" % (source, exc.strerror or exc))
    try:
        kind = _not_regular(os.fstat(handle).st_mode)  # replaced between stat and open
        if kind:
            raise InputError("%s is %s, not a regular file: give the path of a YAML file" % (source, kind))
        chunks: List[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(handle, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError("%s cannot be read: %s" % (source, exc.strerror or exc))
    finally:
        os.close(handle)
    if size > MAX_FILE_BYTES:  # grew after the stat
        raise InputError(too_large)
    return b"".join(chunks)


def read_spec_file(path: str, option: str = "spec_file", root: str = "spec") -> Any:
    """The spec held by the YAML file at ``path`` (on the machine running the module), given as ``option``."""
    source = "%s %s" % (option, path)
    raw = _read_bounded(path, source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("%s is not UTF-8 text (byte 0x%02x at offset %d): save it as UTF-8"
                         % (source, raw[exc.start], exc.start))
    return load_spec_text(text, source, root)
