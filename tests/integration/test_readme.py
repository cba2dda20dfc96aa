"""Every code block of README.md and of the role READMEs, run as written (or classified, with the reason).

Bash blocks run in a user's fresh shell (no ANSIBLE_*, PYTHONPATH or lattice settings; HOME a temporary directory
where the block installs things). YAML blocks run as what they are: plays and task lists as playbooks, the
inventory file through ansible-inventory, the spec as the file the role reads, the execution-environment
definition through ansible-builder. The connection is supplied the way the README says (module_defaults,
inventory, environment). The only substitutions are the reader's NATS URL and registry: the server, sandbox
hosts and loopback registry started here stand in for them.

A block that is neither run (RUN_BY) nor classified illustrative (ILLUSTRATIVE) fails
test_every_code_block_is_run_or_classified, as does a command in a table that is not run or excused.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from ansible_run import BIN, ansible_env
from readme_blocks import READER_NATS_URLS, READMES, ROOT, block, code_blocks, fresh_env, run_bash
from sandbox import NatsServer, SandboxLattice, SandboxLatticeV1

README = (ROOT / "README.md").read_text()
ZONES = [{"zone": "a"}, {"zone": "a"}, {"zone": "b"}]

# Block (README: first line) -> the test that runs it as written.
RUN_BY = {
    "README.md: python3 -m venv ~/wasmcloud-venv && . ~/wasmcloud-venv/bin/activate":
        "test_installed_from_the_tarball_then_the_sandbox_and_the_fqcn_playbooks",
    "README.md: COLLECTION=~/.ansible/collections/ansible_collections/wasmcloud/lattice":
        "test_installed_from_the_tarball_then_the_sandbox_and_the_fqcn_playbooks",
    "README.md: make build   # writes .build/dist/wasmcloud-lattice-0.1.0.tar.gz":
        "test_packaging.py::test_make_build_* (in a copy of the checkout, which it writes into)",
    "README.md: make setup": "test_setup_then_ansible_doc_from_the_checkout",
    "README.md: # execution-environment.yml":
        "test_packaging.py::test_the_readme_execution_environment_gets_the_collections_requirements",
    "README.md: pip install ansible-builder":
        "test_packaging.py::test_the_readme_execution_environment_gets_the_collections_requirements",
    "README.md: - hosts: localhost": "test_the_module_defaults_play",
    "README.md: - wasmcloud.lattice.wasmcloud_application:": "test_the_whole_application_task",
    "README.md: WASMCLOUD_NATS_URL=nats://127.0.0.1:4222 ansible localhost -m wasmcloud.lattice.wasmcloud_lattice_info":
        "test_the_ad_hoc_example_and_the_playbooks_against_the_readme_sandbox",
    "README.md: - wasmcloud.lattice.wasmcloud_config:": "test_the_1x_tasks",
    "README.md: - hosts: wasmcloud_v2        # from plugin: wasmcloud.lattice.hosts with protocol: 2.x":
        "test_the_v2_play_over_the_inventory",
    "README.md: # prod.wasmcloud.yml": "test_the_inventory_file",
    "README.md: - hosts: localhost                        # the deployment places the replicas itself":
        "test_the_v2_deployment_play",
    "README.md: .venv/bin/python -m sandbox up --hosts 3 --labels-per-host 'zone=a;zone=a;zone=b'   # prints NATS_URL=...":
        "readme_sandbox (the fixture of the tests against the README's sandbox)",
    "roles/application/README.md: - hosts: localhost": "test_the_application_role_play_spec_and_status",
    "roles/application/README.md: providers:": "test_the_application_role_play_spec_and_status",
    "roles/application/README.md: wasmcloud_application_status:": "test_the_application_role_play_spec_and_status",
    "roles/application/README.md: . .venv/bin/activate": "test_molecule.py",
    "roles/host/README.md: - hosts: localhost": "test_the_host_role_unit_entry_point",
}
ILLUSTRATIVE = {
    "README.md: make demo   # sandbox lattice: deploys examples/demo-app.yml twice; then a real wasmCloud v2 host serves a request":
        "make test is this suite; make demo writes lattice-report/ into the checkout (its steps run in this file "
        "and test_examples.py)",
    "README.md: plugins/module_utils/  model/ (types, intents, events, errors, capabilities: the generation table)":
        "a directory listing",
    "roles/host/README.md: - hosts: wasm_machines":
        "needs machines with systemd and root; its parts run in test_the_host_role_unit_entry_point and "
        "tests/v2/test_v2_host_role.py",
}
# Commands in tables and prose (`ansible-playbook ...`) that are not run here, and why.
EXCUSED_COMMANDS = {
    "ansible-playbook -i lattice.wasmcloud.yml playbooks/rolling_update.yml -e actor_id=M... -e image_ref=<new>":
        "placeholders; test_playbooks runs the rolling update",
    "ansible-playbook playbooks/drain_host.yml -e drain_host_id=N...": "placeholder; test_playbooks runs the drain",
    "ansible-playbook wasmcloud.lattice.deploy": "test_examples runs it from the checkout (examples/demo-app.yml)",
    "ansible-playbook wasmcloud.lattice.deploy -e spec_file=shop.yml -e app=shop":
        "the Install block runs it (test_installed_from_the_tarball_then_the_sandbox_and_the_fqcn_playbooks)",
}


def run_by(fragment: str) -> Any:
    """The one block in RUN_BY whose key contains ``fragment``."""
    (key,) = [k for k in RUN_BY if fragment in k]
    return block(key)


def all_blocks() -> List[Any]:
    return [b for readme in READMES for b in code_blocks(readme)]


def playbook_commands() -> List[str]:
    return [c for readme in READMES for c in re.findall(r"`(ansible-playbook [^`]+)`", (ROOT / readme).read_text())]


def as_play(tasks: str) -> str:
    """A task list from the README as the play it belongs in: localhost, tasks as written."""
    return "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n" + textwrap.indent(tasks, "    ")


def reader_url(text: str, url: str) -> str:
    # one pass, whole URLs only: the test server's own URL may begin like one of the reader's (port 42221)
    pattern = "|".join(re.escape(reader) for reader in READER_NATS_URLS)
    return re.sub(r"(?:%s)(?![0-9])" % pattern, lambda _match: url, text)


def ansible(args: List[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A real ansible-* command with the test run's collection path and the task_results callback."""
    done = subprocess.run([str(BIN / args[0])] + args[1:], cwd=cwd, env=ansible_env(env), capture_output=True,
                          text=True, timeout=180, check=False)
    assert "Traceback (most recent call last)" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def results(done: subprocess.CompletedProcess) -> List[Dict[str, Any]]:
    import json

    data = json.loads(done.stdout[done.stdout.index("{"):])
    return [task["hosts"][host] for play in data["plays"] for task in play["tasks"] for host in task["hosts"]]


# -- classification ------------------------------------------------------------------------------------------------
def test_every_code_block_is_run_or_classified():
    keys = [b.key for b in all_blocks()]
    assert len(keys) == len(set(keys)), "two blocks start with the same line: %s" % keys
    assert [k for k in keys if k not in RUN_BY and k not in ILLUSTRATIVE] == []
    assert [k for k in list(RUN_BY) + list(ILLUSTRATIVE) if k not in keys] == [], "stale entries"


def test_every_playbook_command_in_the_text_is_run_or_excused():
    run_here = ("ansible-playbook playbooks/deploy.yml -e spec_file=examples/demo-app.yml -e app=demo",
                "ansible-playbook playbooks/report.yml")
    unknown = [c for c in playbook_commands() if c not in EXCUSED_COMMANDS and not c.startswith(run_here)]
    assert unknown == []


def test_the_tarball_named_in_the_readme_is_what_make_build_writes():
    version = re.search(r"^version:\s*(\S+)", (ROOT / "galaxy.yml").read_text(), re.M).group(1)
    tarball = "wasmcloud-lattice-%s.tar.gz" % version
    assert ".build/dist/" + tarball in block("README.md: make build   # writes .build/dist/wasmcloud-lattice-0.1.0.tar.gz").text
    assert "ansible-galaxy collection install %s" % tarball in README
    assert block("README.md: # execution-environment.yml").text.count(tarball) == 2


# -- from a checkout --------------------------------------------------------------------------------------------------
def test_setup_then_ansible_doc_from_the_checkout(tmp_path):
    """`make setup` finds everything installed already (the stamp), so it installs nothing here."""
    if subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True, check=False).returncode != 0:
        pytest.skip("make setup would install into .venv now (a requirements file is newer than its stamp); "
                    "make test runs make setup first")
    done = run_bash(block("README.md: make setup").text, ROOT, fresh_env(tmp_path), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wasmcloud_actor" in done.stdout and "image_ref" in done.stdout


@pytest.fixture(scope="module")
def readme_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, object]]:
    """The README's sandbox command, in the background; stopped by its PID."""
    command = run_by("-m sandbox up --hosts").text.strip()
    home = tmp_path_factory.mktemp("home")
    proc = subprocess.Popen(["bash", "-c", "exec " + command], cwd=ROOT, env=fresh_env(home), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        url, hosts = "", []
        for line in proc.stdout:
            if line.startswith("NATS_URL="):
                url = line.strip().split("=", 1)[1]
            elif line.startswith("HOST="):
                hosts.append(line.split("=", 1)[1].split()[0])
            elif line.strip() == "READY":
                break
        assert url and len(hosts) == 3, "the README's sandbox command did not come up"
        yield {"url": url, "hosts": hosts, "home": home}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_the_ad_hoc_example_and_the_playbooks_against_the_readme_sandbox(readme_sandbox, tmp_path):
    env = fresh_env(Path(str(readme_sandbox["home"])))
    ad_hoc = run_by("ansible localhost -m").text
    answered = run_bash(". .venv/bin/activate\n" + ad_hoc, ROOT, env,
                        substitute={"nats://127.0.0.1:4222": str(readme_sandbox["url"])})
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "SUCCESS" in answered.stdout and all(host in answered.stdout for host in readme_sandbox["hosts"])

    deploy = next(c for c in playbook_commands() if c.startswith("ansible-playbook playbooks/deploy.yml"))
    deploy = re.sub(r"\s*\[[^\]]*\]", "", deploy)  # the optional parts
    env["WASMCLOUD_NATS_URL"] = str(readme_sandbox["url"])
    deployed = run_bash(". .venv/bin/activate\n" + deploy, ROOT, env)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr
    assert "failed=0" in deployed.stdout

    report = next(c for c in playbook_commands() if c.startswith("ansible-playbook playbooks/report.yml"))
    reported = run_bash(". .venv/bin/activate\n" + report.replace("report_dir=DIR", "report_dir=%s" % tmp_path), ROOT, env)
    assert reported.returncode == 0, reported.stdout[-3000:] + reported.stderr
    assert (tmp_path / "lattice.md").is_file() and (tmp_path / "lattice.html").is_file()


# -- installed like users install -------------------------------------------------------------------------------------
@pytest.mark.timeout(420)
def test_installed_from_the_tarball_then_the_sandbox_and_the_fqcn_playbooks(tmp_path):
    """Both Install blocks, as written, in one fresh shell whose HOME is tmp_path: a new venv with ansible-core
    from PyPI (or pip's cache), the tarball installed into ~/.ansible/collections, the sandbox started from the
    installed collection, the FQCN playbooks run from a directory of the user's, the sandbox stopped."""
    work = tmp_path / "work"
    work.mkdir()
    built = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)],
                           env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    install = block("README.md: python3 -m venv ~/wasmcloud-venv && . ~/wasmcloud-venv/bin/activate").text
    try_it = block("README.md: COLLECTION=~/.ansible/collections/ansible_collections/wasmcloud/lattice").text
    state = tmp_path / "sandbox.json"
    try:
        done = run_bash(install + try_it, work, fresh_env(tmp_path), timeout=400)
    finally:
        if state.exists():  # the block's last line did not run: stop the sandbox by its recorded PIDs
            subprocess.run([sys.executable, "-m", "sandbox", "down", "--state-file", str(state)], cwd=ROOT,
                           capture_output=True, timeout=30, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    assert "Traceback" not in output
    installed = tmp_path / ".ansible/collections/ansible_collections/wasmcloud/lattice"
    assert (installed / "playbooks/deploy.yml").is_file() and not (installed / "Makefile").exists()
    assert (tmp_path / "wasmcloud-venv/bin/ansible-playbook").is_file()  # the venv's Ansible ran the playbooks
    assert "4 actor instance(s), 1 provider(s), 1 link(s)" in output
    assert (work / "shop-report" / "lattice.html").is_file()
    assert "stopped" in done.stdout.splitlines()[-1] and not state.exists()


# -- YAML blocks against sandbox lattices ------------------------------------------------------------------------------
@pytest.fixture
def nats() -> Iterator[NatsServer]:
    """A server of this test's own, so the README's lattice names (default, prod) are free."""
    with NatsServer() as server:
        yield server


@pytest.fixture
def prod(nats) -> Iterator[SandboxLattice]:
    """0.x lattice `prod`: two hosts in zone a, one in zone b."""
    lattice = SandboxLattice(nats.url, lattice="prod").start(3, ZONES)
    yield lattice
    lattice.stop()


def zone_a_instances(lattice: SandboxLattice, owner: str = "") -> int:
    return sum(len([i for i in actor["instances"]
                    if not owner or i["annotations"].get("wasmcloud.lattice/application") == owner])
               for host in lattice.hosts if lattice.inventory(host)["labels"].get("zone") == "a"
               for actor in lattice.inventory(host)["actors"])


def test_the_module_defaults_play(prod, nats, tmp_path):
    """Its connection is the play's module_defaults: the reader's URL becomes the sandbox's, lattice prod stays."""
    play = tmp_path / "play.yml"
    play.write_text(reader_url(block("README.md: - hosts: localhost").text, nats.url))
    done = ansible(["ansible-playbook", str(play)], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert zone_a_instances(prod) == 4
    assert [(link["contract_id"], link["values"]) for link in prod.links] == [("wasmcloud:httpserver", {"PORT": "8080"})]


def test_the_whole_application_task(nats, tmp_path):
    """A task list: its connection comes from the environment (WASMCLOUD_NATS_URL), lattice default."""
    lattice = SandboxLattice(nats.url, lattice="default").start(3, ZONES)
    try:
        play = tmp_path / "play.yml"
        play.write_text(as_play(block("README.md: - wasmcloud.lattice.wasmcloud_application:").text))
        done = ansible(["ansible-playbook", str(play)], tmp_path, WASMCLOUD_NATS_URL=nats.url)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr
        assert zone_a_instances(lattice, owner="shop") == 4 and len(lattice.links) == 1
    finally:
        lattice.stop()


def test_the_1x_tasks(nats, tmp_path):
    lattice = SandboxLatticeV1(nats.url, lattice="default").start(3, ZONES)
    try:
        play = tmp_path / "play.yml"
        play.write_text(as_play(block("README.md: - wasmcloud.lattice.wasmcloud_config:").text))
        done = ansible(["ansible-playbook", str(play)], tmp_path, WASMCLOUD_NATS_URL=nats.url)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr
        inventories = [lattice.inventory(h) for h in lattice.hosts]
        assert sorted(i["labels"]["zone"] for i in inventories for c in i["components"] if c["id"] == "hello") == ["a", "a"]
        assert lattice.config("listen-8080") == {"address": "0.0.0.0:8080"}
        assert [(link["source_id"], link["target"]) for link in lattice.links] == [("http-server", "hello")]
    finally:
        lattice.stop()


def test_the_inventory_file(prod, nats, tmp_path):
    """Written as the file it names, then the README's `ansible-inventory -i prod.wasmcloud.yml --graph`."""
    command = re.search(r"`(ansible-inventory -i prod\.wasmcloud\.yml --graph)`", README).group(1)
    (tmp_path / "prod.wasmcloud.yml").write_text(reader_url(block("README.md: # prod.wasmcloud.yml").text, nats.url))
    done = ansible(command.split(), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    names = {prod.inventory(h)["labels"]["zone"]: [] for h in prod.hosts}
    for host in prod.hosts:
        names[prod.inventory(host)["labels"]["zone"]].append(host)  # hosts are named by their IDs
    graph = done.stdout
    assert "@wasmcloud_prod:" in graph
    for zone, hosts in names.items():
        section = graph.split("@zone_%s:" % zone, 1)[1].split("@", 1)[0]
        assert sorted(re.findall(r"--([\w-]+)\n", section)) == sorted(hosts)


@pytest.mark.timeout(240)
def test_the_v2_play_over_the_inventory(nats, tmp_path):
    """The play as written over the v2 inventory (nats_url in the inventory file, the reader's way to name
    their NATS); the component image is the loopback registry's."""
    sys.path.insert(0, str(ROOT / "tests" / "v2"))
    from oci_registry import OciRegistry
    from v2env import WashHost, build_component, http_get, v2_client, wash_host_args

    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import DEFAULT_HEARTBEAT_STREAM
    from sandbox.nats_server import free_port

    with v2_client(nats.url) as client:
        assert client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM), client.warnings
    http_addr = "127.0.0.1:%d" % free_port()
    text = run_by("hosts: wasmcloud_v2").text
    config = re.search(r"config: \{host: ([\w.-]+)\}", text).group(1)
    with OciRegistry() as registry:
        image = registry.publish("demo/hello", "0.1.0", build_component("hello", tmp_path))
        with WashHost(wash_host_args(nats.url, http_addr=http_addr, cache_dir=str(tmp_path / "oci")), tmp_path):
            (tmp_path / "v2.wasmcloud.yml").write_text(
                "plugin: wasmcloud.lattice.hosts\nprotocol: 2.x\nnats_url: %s\n" % nats.url)
            (tmp_path / "play.yml").write_text(text.replace("registry.example.com/demo/hello:0.1.0", image))
            done = ansible(["ansible-playbook", "-i", "v2.wasmcloud.yml", "play.yml"], tmp_path)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr
            assert http_get(http_addr, config)["status"] == 200


def test_the_v2_deployment_play(nats, tmp_path):
    """The deployment play as written (the NATS URL from the environment, the reader's other way to name it) over
    three hosts of group edge in environment prod and one of another group: three replicas on the three."""
    sys.path.insert(0, str(ROOT / "tests" / "v2"))
    from oci_registry import OciRegistry
    from v2env import WashHost, build_component, http_get, v2_client, wash_host_args

    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import DEFAULT_HEARTBEAT_STREAM
    from sandbox.nats_server import free_port

    with v2_client(nats.url) as client:
        assert client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM), client.warnings
    text = run_by("the deployment places the replicas itself").text
    config = re.search(r"config: \{host: ([\w.-]+)\}", text).group(1)
    with OciRegistry() as registry:
        image = registry.publish("shop/frontend", "1.4.0", build_component("hello", tmp_path))
        hosts = []
        try:
            for index, group in enumerate(["edge", "edge", "edge", "core"]):
                workdir = tmp_path / ("host-%d" % index)
                workdir.mkdir()
                hosts.append(WashHost(wash_host_args(nats.url, http_addr="127.0.0.1:%d" % free_port(), host_group=group,
                                                     environment="prod", cache_dir=str(workdir / "oci")), workdir))
                hosts[-1].http_addr = hosts[-1].args[hosts[-1].args.index("--http-addr") + 1]
                hosts[-1].start()
            (tmp_path / "play.yml").write_text(text.replace("registry.example.com/shop/frontend:1.4.0", image))
            done = ansible(["ansible-playbook", "play.yml"], tmp_path, WASMCLOUD_NATS_URL=nats.url)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr
            assert sorted(r["host_id"] for r in results(done)[0]["replicas"]) == sorted(h.host_id for h in hosts[:3])
            assert all(http_get(host.http_addr, config)["status"] == 200 for host in hosts[:3])
            assert http_get(hosts[3].http_addr, config)["status"] == 404
        finally:
            for host in hosts:
                host.stop()


# -- the role READMEs -------------------------------------------------------------------------------------------------
def test_the_application_role_play_spec_and_status(prod, nats, tmp_path):
    """The role's play, with its spec file apps/shop.yml holding the README's spec, in a directory of the user's;
    the fact it leaves has the shape the README shows."""
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "shop.yml").write_text(block("roles/application/README.md: providers:").text)
    (tmp_path / "play.yml").write_text(reader_url(block("roles/application/README.md: - hosts: localhost").text,
                                                  nats.url))
    done = ansible(["ansible-playbook", "play.yml"], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert zone_a_instances(prod, owner="shop") == 4
    (status,) = [r["ansible_facts"]["wasmcloud_application_status"] for r in results(done)
                 if "wasmcloud_application_status" in r.get("ansible_facts", {})]
    shown = yaml.safe_load(block("roles/application/README.md: wasmcloud_application_status:").text)
    shown = shown["wasmcloud_application_status"]
    assert set(status) == set(shown)
    assert set(status["actors"]["echo"]) == set(shown["actors"]["echo"])
    assert set(status["providers"]["http"]) == set(shown["providers"]["http"])
    assert set(shown["links"][0]) - {"..."} <= set(status["links"][0])
    assert status["verified"] and status["problems"] == [] and status["actors"]["echo"]["running"] == 4


def test_the_host_role_unit_entry_point(tmp_path):
    """`tasks_from: unit` as written writes the unit next to the playbook and touches no systemd (none runs here)."""
    (tmp_path / "unit.yml").write_text(block("roles/host/README.md: - hosts: localhost").text)
    done = ansible(["ansible-playbook", "unit.yml"], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    unit = (tmp_path / "unit-preview" / "wasmcloud-host.service").read_text()
    assert "ExecStart=/usr/local/bin/wash host --non-interactive --scheduler-nats-url nats://nats.internal:4222" in unit
    assert "--host-group edge" in unit
    assert not any("systemd" in str(r.get("invocation", "")) for r in results(done))
    again = ansible(["ansible-playbook", "unit.yml"], tmp_path)
    assert again.returncode == 0 and not any(r.get("changed") for r in results(again)), again.stdout[-3000:]
