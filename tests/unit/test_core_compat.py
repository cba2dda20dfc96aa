"""Nothing private from ansible-core outside plugins/plugin_utils/_core_compat.py, and every plugin imports.

Runs on every line of tests/matrix.txt (`make matrix`); tests/integration/test_core_lines.py runs tasks there.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from ansible.module_utils.ansible_release import __version__ as CORE

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils import _core_compat

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
SHIM = PLUGINS / "plugin_utils" / "_core_compat.py"
PRIVATE = ("ansible.vars", "ansible.executor", "ansible._internal", "ansible.parsing.yaml.objects",
           "ansible.template", "ansible.module_utils._internal")


def imported_names(path: Path) -> Iterator[Tuple[int, str]]:
    """Every module name a file imports, also inside functions, and names given to importlib as strings."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, "%s.%s" % (node.module, alias.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("ansible."):
            yield node.lineno, node.value


def is_private(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in PRIVATE)


def test_no_private_ansible_import_outside_the_shim():
    found = ["%s:%d %s" % (path.relative_to(ROOT), line, name)
             for path in sorted(PLUGINS.rglob("*.py")) if path != SHIM
             for line, name in imported_names(path) if is_private(name)]
    assert found == []


def test_the_shim_is_where_the_private_uses_are():
    # so the test above is not vacuous: the one file that may use them does, and is recognised
    assert any(is_private(name) for _line, name in imported_names(SHIM))


def plugin_modules() -> Iterator[str]:
    for path in sorted(PLUGINS.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield "ansible_collections.wasmcloud.lattice." + ".".join(parts)


@pytest.mark.parametrize("name", list(plugin_modules()))
def test_every_plugin_imports(name):
    # action plugins (the symbolic links included), inventory, lookup, doc fragments, modules and their utils
    assert importlib.import_module(name)


def test_the_controller_path_needs_what_this_core_has():
    """2.19+ has the module serialization profiles; older lines run every task as a module process."""
    major_minor = tuple(int(part) for part in CORE.split(".")[:2])
    assert _core_compat.HAS_PROFILES == (major_minor >= (2, 19)), CORE
