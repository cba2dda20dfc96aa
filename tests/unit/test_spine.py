"""The spine's rules, read from the code: only the dialects and the capability table know generations."""

from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest
import yaml

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import EVERY_DIALECT
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.base import Dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import (
    MODULES,
    OPERATIONS,
    OPTIONS,
    works_with,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.blocking import BlockingClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
# Where generation names may be written: the wire dialects and the capability table.
ALLOWED = ("module_utils/dialects/", "module_utils/model/capabilities.py")
GENERATION = re.compile(r"^v?[0-9]\.x$")


def _code_files():
    # every plugin: modules, module_utils (planner, runner, runtime), the inventory, lookups, actions
    for path in sorted(PLUGINS.rglob("*.py")):
        relative = path.relative_to(PLUGINS).as_posix()
        if not relative.startswith(ALLOWED):
            yield relative, path


@pytest.mark.parametrize("relative, path", list(_code_files()), ids=str)
def test_no_code_outside_dialects_and_the_table_names_a_generation(relative, path):
    literals = [node.value for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and GENERATION.match(node.value)]
    assert literals == [], "%s names generations %s: ask the capability table or a dialect" % (relative, literals)


@pytest.mark.parametrize("name", sorted(EVERY_DIALECT))
def test_the_table_and_each_dialect_agree_on_its_operations(name):
    dialect = EVERY_DIALECT[name]("default", "wasmbus.ctl")
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


DOC_STRINGS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}
MAX_MODULE_CODE_LINES = 40


def code_lines(source):
    """Lines of code of a module file: neither blank nor a comment, nor inside its doc strings."""
    docs = set()
    for node in ast.parse(source).body:
        documented = isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in DOC_STRINGS for target in node.targets)
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
            isinstance(node.value.value, str)
        if documented or docstring:
            docs.update(range(node.lineno, node.end_lineno + 1))
    return [line for number, line in enumerate(source.splitlines(), 1)
            if number not in docs and line.strip() and not line.strip().startswith("#")]


def test_code_lines_counts_code_only():
    source = '#!/usr/bin/python\n# c\n"""doc"""\nDOCUMENTATION = r"""\na: b\n"""\n\nimport os\nX = {\n    "a": 1,\n}\n'
    assert code_lines(source) == ["import os", "X = {", '    "a": 1,', "}"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_is_its_declaration_and_one_call(module):
    """A module file is its docs, its argument spec and one call into the runner: logic lives in module_utils."""
    lines = code_lines((PLUGINS / "modules" / ("%s.py" % module)).read_text())
    assert len(lines) <= MAX_MODULE_CODE_LINES, "%s has %d lines of code:\n%s" % (module, len(lines), "\n".join(lines))
    calls = [line.strip() for line in lines if line.strip().startswith(("run(", "gather("))]
    assert len(calls) == 1, calls


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_documents_what_the_capability_table_says_it_works_with(module):
    documentation = yaml.safe_load(importlib.import_module(
        "ansible_collections.wasmcloud.lattice.plugins.modules.%s" % module).DOCUMENTATION)
    assert works_with(module) in " ".join(documentation["description"])


def test_one_application_model_fed_by_both_parsers_and_planned_through_the_step_the_table_names():
    """The 0.x spec and the wadm manifest parse into the one Application; each generation's planning step is
    named by the capability table and registered in planning/applications.py (v2's included)."""
    from wadm_examples import HELLO_WORLD

    from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import Application
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import APPLICATION_PLANNING
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import applications, v2mapping
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import parse_spec
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import parse_manifest

    spec = parse_spec("shop", {"actors": [{"name": "echo", "image_ref": "wasmcloud.azurecr.io/echo:0.3.4"}]})
    manifest = parse_manifest(HELLO_WORLD)
    on_v2, _unmappable = v2mapping.application_of(HELLO_WORLD)
    assert type(spec) is type(manifest) is type(on_v2) is Application
    assert set(APPLICATION_PLANNING.values()) == set(applications.STEPS)
    # no other application type is left in the planner
    planning = PLUGINS / "module_utils" / "planning"
    classes = {node.name for path in planning.glob("*.py") for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ClassDef)}
    assert not classes & {"AppSpec", "Manifest", "ManifestWorkload", "Scaler"}, classes
