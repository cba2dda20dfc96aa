# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_registry over a NATS server that requires a login: the registry's credentials have options of
their own (registry_username, registry_password, registry_token), so the NATS user/password and token (in the
task or in module_defaults of the group) reach NATS, and every host gets the registry's credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from ansible_run import BIN, ansible_env, run
from sandbox import NatsServer, SandboxLattice

NATS_PASSWORD = "nats-pw-%s" % os.urandom(8).hex()
NATS_TOKEN = "nats-token-%s" % os.urandom(8).hex()
REGISTRY_PASSWORD = "registry-pw-%s" % os.urandom(8).hex()
REGISTRY_TOKEN = "registry-token-%s" % os.urandom(8).hex()


@pytest.fixture(scope="module", params=["password", "token"])
def guarded(request) -> Iterator[tuple]:
    """(how NATS is logged into, the module options for it, a lattice of two hosts logged in the same way)."""
    if request.param == "password":
        config, login, options = ('authorization {\n  user: ops\n  password: "%s"\n}' % NATS_PASSWORD,
                                  {"user": "ops", "password": NATS_PASSWORD}, {"user": "ops", "password": NATS_PASSWORD})
    else:
        config, login, options = ('authorization {\n  token: "%s"\n}' % NATS_TOKEN, {"token": NATS_TOKEN},
                                  {"token": NATS_TOKEN})
    with NatsServer(config) as server:
        lattice = SandboxLattice(server.url, lattice="registry", connect_options=login).start(2)
        try:
            yield request.param, server, options, lattice
        finally:
            lattice.stop()


def play(tmp_path: Path, defaults: dict, task: dict) -> Path:
    book = tmp_path / "registry.yml"
    book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                 "module_defaults": {"group/wasmcloud.lattice.wasmcloud": defaults},
                                 "tasks": [{"wasmcloud.lattice.wasmcloud_registry": task}]}]))
    return book


@pytest.mark.parametrize("where", ["task", "module_defaults"])
def test_registry_credentials_travel_over_a_nats_login(guarded: tuple, tmp_path: Path, where: str) -> None:
    method, server, nats_options, lattice = guarded
    defaults = {"nats_url": server.url, "lattice": lattice.lattice, "auction_timeout": 0.5}
    task: dict = {"registry": "registry.local:5000"}
    if method == "password":
        task.update(registry_username="bot", registry_password=REGISTRY_PASSWORD)
    else:
        task.update(registry_token=REGISTRY_TOKEN)
    (task if where == "task" else defaults).update(nats_options)
    for path in ("auto", "module"):
        result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play(tmp_path, defaults, task)),
                      "-vvv"], env=ansible_env({"WASMCLOUD_LATTICE_EXECUTION": path}))
        assert result.returncode == 0, result.output[-3000:]
        data = json.loads(result.stdout[result.stdout.index("{\n"):])
        [outcome] = [task["hosts"]["localhost"] for play_ in data["plays"] for task in play_["tasks"]]
        assert outcome["hosts"] == 2 and outcome["changed"], outcome
        for secret in (NATS_PASSWORD, NATS_TOKEN, REGISTRY_PASSWORD, REGISTRY_TOKEN):
            assert secret not in result.output
        for host in lattice.hosts:
            sent = lattice.host(host).registries["registry.local:5000"]
            if method == "password":
                assert (sent["username"], sent["password"]) == ("bot", REGISTRY_PASSWORD)
            else:
                assert sent["token"] == REGISTRY_TOKEN


def test_the_old_option_names_are_not_registry_credentials(tmp_path: Path) -> None:
    # password and token are the NATS server's: the registry's credentials are asked for by their names
    book = play(tmp_path, {"nats_url": "nats://127.0.0.1:1"},
                {"registry": "ghcr.io", "username": "bot", "password": "pw-for-nats"})
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
                 env=ansible_env())
    assert result.returncode != 0
    data = json.loads(result.stdout[result.stdout.index("{\n"):])
    [outcome] = [task["hosts"]["localhost"] for play_ in data["plays"] for task in play_["tasks"]]
    assert "registry_username needs registry_password (the option password is the NATS server's" in outcome["msg"]
    assert "username" in json.dumps(outcome.get("deprecations", [])), outcome  # the alias, deprecated
