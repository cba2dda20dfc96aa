# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Credentials written into nats_url: parsed whole, used, and never shown.

A real nats-server that requires a user and a password holding ``/``, ``@``, ``:`` and ``,``, emulated
hosts logged in the same way, and real ``ansible-playbook`` / ``ansible-inventory`` runs: the password
reaches the server intact, and no piece of it appears in results, errors, host variables, the inventory
cache or ``-vvv`` output, also when a module refuses its input before connecting (both execution paths).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterator, List

import pytest

from ansible_run import BIN, ansible_env, assert_no_traceback, run
from sandbox import NatsServer, SandboxLattice
from sandbox.nats_server import free_port

USER = "ops"
# The characters URL parsers take for delimiters inside the user information, and random parts long enough
# to be unique. (A comma too would be taken by Ansible for a list separator; it is written as %2C.)
PASSWORD = "head%s/mid%s@tail%s:end%s" % tuple(os.urandom(4).hex() for part in range(4))
PIECES = re.split(r"[/@:]", PASSWORD)
PATHS = ("auto", "module")  # auto: in the controller's worker where the ansible-core allows it


def assert_no_password(text: str) -> None:
    for piece in PIECES:
        assert piece not in text, "a piece of the password (%r) is in the output:\n%s" % (piece, text[-3000:])


@pytest.fixture(scope="module")
def guarded() -> Iterator[NatsServer]:
    with NatsServer('authorization {\n  user: %s\n  password: "%s"\n}' % (USER, PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
def lattice(guarded: NatsServer) -> Iterator[SandboxLattice]:
    sandbox = SandboxLattice(guarded.url, lattice="urlsecrets",
                             connect_options={"user": USER, "password": PASSWORD})
    sandbox.start(2, {"zone": "a"})
    yield sandbox
    sandbox.stop()


def url_with_password(server: NatsServer, password: str = PASSWORD) -> str:
    return server.url.replace("nats://", "nats://%s:%s@" % (USER, password))


def env_for(path: str, **extra: str) -> dict:
    return ansible_env(dict(extra, WASMCLOUD_LATTICE_EXECUTION=path))


def play(tmp_path: Path, tasks: str, **defaults: object) -> Path:
    """A playbook on localhost whose tasks get ``defaults`` through the group's module_defaults."""
    path = tmp_path / "play.yml"
    path.write_text("- hosts: localhost\n  gather_facts: false\n  module_defaults:\n"
                    "    group/wasmcloud.lattice.wasmcloud: %s\n  tasks:\n%s"
                    % (json.dumps(defaults), "".join("    %s\n" % line for line in tasks.strip("\n").splitlines())))
    return path


def results_of(book: Path, path: str, **environment: str) -> List[dict]:
    """Every task's result of a -vvv run through ``path``; no piece of the password anywhere in the output."""
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book), "-vvv"],
                 env=env_for(path, **environment))
    assert_no_traceback(result)
    assert_no_password(result.output)
    data = json.loads(result.stdout[result.stdout.index("{\n"):])
    return [task["hosts"]["localhost"] for play in data["plays"] for task in play["tasks"]]


def test_a_password_with_url_delimiters_reaches_the_server(lattice: SandboxLattice, guarded: NatsServer,
                                                           tmp_path: Path) -> None:
    # As written, and percent-encoded (both are what a URL may hold), in the task and from the environment
    # (of ansible-playbook: at -vvv Ansible itself shows a task's `environment:` in the command it runs).
    encoded = re.sub(r"[/@:%]", lambda m: "%%%02X" % ord(m.group()), PASSWORD)
    book = play(tmp_path, """
- wasmcloud.lattice.wasmcloud_lattice_info:
    nats_url: %s
- wasmcloud.lattice.wasmcloud_lattice_info:
    nats_url: %s
- wasmcloud.lattice.wasmcloud_lattice_info:
    nats_url: %s
- wasmcloud.lattice.wasmcloud_lattice_info: {}
""" % (json.dumps(url_with_password(guarded)), json.dumps(url_with_password(guarded, encoded)),
       json.dumps("nats://127.0.0.1:%d,%s" % (free_port(), url_with_password(guarded)))),
        lattice=lattice.lattice, auction_timeout=0.5)
    for path in PATHS:
        results = results_of(book, path, WASMCLOUD_NATS_URL=url_with_password(guarded))
        assert [len(r.get("hosts", [])) for r in results] == [2, 2, 2, 2], (path, results)


def test_errors_show_no_piece_of_the_password(guarded: NatsServer, tmp_path: Path) -> None:
    book = play(tmp_path, """
- wasmcloud.lattice.wasmcloud_lattice_info:
    nats_url: %s
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_lattice_info:
    nats_url: %s
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_lattice_info:
    nats_url: %s
  ignore_errors: true
""" % (json.dumps("nats://%s:%s@127.0.0.1:%d" % (USER, PASSWORD, free_port())),
       json.dumps(url_with_password(guarded, PASSWORD[::-1])),
       json.dumps("nats://%s:%s@127.0.0.1:99999" % (USER, PASSWORD))), lattice="nowhere")
    for path in PATHS:
        msgs = [r["msg"] for r in results_of(book, path)]
        assert "cannot connect to NATS at nats://127.0.0.1:" in msgs[0], msgs
        assert "refused authentication with user 'ops' and password from nats_url" in msgs[1], msgs
        assert "port from 1 to 65535" in msgs[2], msgs


def test_inventory_vars_cache_and_errors_hold_no_piece_of_the_password(
        lattice: SandboxLattice, guarded: NatsServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = tmp_path / "auth.wasmcloud.yml"
    config.write_text(json.dumps({"plugin": "wasmcloud.lattice.hosts", "nats_url": url_with_password(guarded),
                                  "lattice": lattice.lattice, "auction_timeout": 0.5, "cache": True,
                                  "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache)}))
    env = ansible_env({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"})
    listed = run([str(BIN / "ansible-inventory"), "-i", str(config), "--list", "-vvv"], env=env)
    assert listed.returncode == 0, listed.output[-3000:]
    hostvars = json.loads(listed.stdout[listed.stdout.index("{\n"):])["_meta"]["hostvars"]
    assert len(hostvars) == 2
    for variables in hostvars.values():
        assert json.dumps(variables["wasmcloud_nats_url"]).count(guarded.url) == 1
    assert_no_password(listed.output)
    entries = list(cache.iterdir())  # the listing, and the record of the hosts seen (docs/discovery.md)
    assert len(entries) == 2, entries
    for entry in entries:
        assert_no_password(entry.read_text())

    config.write_text(json.dumps({"plugin": "wasmcloud.lattice.hosts", "lattice": "nowhere",
                                  "nats_url": "nats://%s:%s@127.0.0.1:%d" % (USER, PASSWORD, free_port())}))
    failed = run([str(BIN / "ansible-inventory"), "-i", str(config), "--list", "-vvv"], env=env)
    assert failed.returncode != 0 and "cannot connect to NATS" in failed.output, failed.output[-3000:]
    assert_no_password(failed.output)


# Input each module refuses itself, before connecting; the last one is refused by the argument spec.
REFUSED: List[str] = [
    "wasmcloud.lattice.wasmcloud_actor: {image_ref: 'not a reference', count: 1}",
    "wasmcloud.lattice.wasmcloud_component: {component_id: 'two words', image_ref: 'ghcr.io/a/b:1'}",
    "wasmcloud.lattice.wasmcloud_config: {name: 'two words', values: {a: b}}",
    "wasmcloud.lattice.wasmcloud_workload: {host_id: 'h', workload_id: 'w', start_timeout: -1}",
    "wasmcloud.lattice.wasmcloud_events: {duration: -1}",
    "wasmcloud.lattice.wasmcloud_lattice_info: {no_such_option: 1}",
]


@pytest.mark.parametrize("path", PATHS)
def test_modules_refusing_their_input_at_vvv_show_no_url_password(tmp_path: Path, path: str) -> None:
    port = free_port()
    book = play(tmp_path, "".join("- %s\n  ignore_errors: true\n" % task for task in REFUSED),
                nats_url="nats://%s:%s@127.0.0.1:%d" % (USER, PASSWORD, port), lattice="refusals")
    results = results_of(book, path)
    assert len(results) == len(REFUSED) and all(r.get("failed") for r in results), results
    for outcome in results:
        assert "cannot connect" not in outcome["msg"], outcome  # refused before connecting
        assert_no_password(json.dumps(outcome))
        [shown] = outcome["invocation"]["module_args"]["nats_url"]  # masked (how depends on the ansible-core)
        assert shown.startswith("nats://") and shown.endswith("127.0.0.1:%d" % port) and "********" in shown, outcome


@pytest.mark.parametrize("path", PATHS)
def test_a_short_token_in_the_url_masks_no_other_text(guarded: NatsServer, tmp_path: Path, path: str) -> None:
    # A one-letter token, masked wherever it occurred, cut words apart ("tls_req********ired"); it is masked
    # with the "@" that follows it in the URL, and the URL is shown without it.
    book = play(tmp_path, "- wasmcloud.lattice.wasmcloud_lattice_info:\n  ignore_errors: true\n",
                nats_url=guarded.url.replace("nats://", "tls://u@"), lattice="short", user="u")
    [outcome] = results_of(book, path)
    assert "its INFO has neither tls_required nor tls_available" in outcome["msg"], outcome
    assert outcome["invocation"]["module_args"]["nats_url"] == [guarded.url.replace("nats://", "tls://********")]
    assert outcome["invocation"]["module_args"]["user"] == "u"
