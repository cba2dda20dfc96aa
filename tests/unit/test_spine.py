"""The spine's rules, read from the code: only the dialects and the capability table know generations."""

from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import DIALECTS
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.base import Dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import MODULES, OPERATIONS, OPTIONS
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.blocking import BlockingClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
# Where generation names may be written: the wire dialects and the capability table.
ALLOWED = ("module_utils/dialects/", "module_utils/model/capabilities.py")
GENERATION = re.compile(r"^v?[0-9]\.x$")


def _code_files():
    for path in sorted((PLUGINS / "modules").glob("*.py")) + sorted((PLUGINS / "module_utils").rglob("*.py")):
        relative = path.relative_to(PLUGINS).as_posix()
        if not relative.startswith(ALLOWED):
            yield relative, path


@pytest.mark.parametrize("relative, path", list(_code_files()), ids=str)
def test_no_code_outside_dialects_and_the_table_names_a_generation(relative, path):
    literals = [node.value for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and GENERATION.match(node.value)]
    assert literals == [], "%s names generations %s: ask the capability table or a dialect" % (relative, literals)


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_the_table_and_each_dialect_agree_on_its_operations(name):
    dialect = DIALECTS[name]("default", "wasmbus.ctl")
    assert isinstance(dialect, Dialect)
    assert set(dialect.intents) == {op for op, generations in OPERATIONS.items() if name in generations}


def test_the_table_names_every_module_and_only_options_they_have():
    modules = {path.stem for path in (PLUGINS / "modules").glob("wasmcloud_*.py")}
    assert set(MODULES) == modules
    for module, option in OPTIONS:
        spec = importlib.import_module("ansible_collections.wasmcloud.lattice.plugins.modules.%s" % module).ARGSPEC
        assert option in spec, (module, option)


def test_every_client_is_one_blocking_client_that_builds_its_own_connection():
    for client in (ControlClient, V2Client):
        assert issubclass(client, BlockingClient) and "__init__" in vars(client)
    assert not issubclass(V2Client, ControlClient)
