"""Both execution paths of every module: in the controller's worker (the action plugin) and as a module process.

The same playbook runs once through each path against twin lattices; every task's result must be the
same dict, apart from what differs between two lattices anyway (host keys, event ids and times).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._core_compat import HAS_PROFILES
from ansible_run import BIN, ansible_env, assert_no_traceback, playbook

# Older cores run every task as a module process (tests/integration/test_core_lines.py shows that).
needs_controller_path = pytest.mark.skipif(not HAS_PROFILES, reason="no controller path on this ansible-core")

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
SECRET = "s3cr3t-Pa55"

# check mode, diff, a real converge and its idempotent rerun, an auction, no_log options and a
# no_log value echoed elsewhere, input refused by the module, by the argument spec (unknown option,
# bad choice, wrong type), an alias, a warning, an environment fallback through `environment:`.
PARITY_TASKS = """
- name: plan in check mode with diff
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: "{{ ids[0] }}", count: 2}
  check_mode: true
  diff: true
- name: converge
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: "{{ ids[0] }}", count: 2}
- name: converged
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: "{{ ids[0] }}", count: 2}
  diff: true
- name: auction in check mode
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, constraints: {zone: a}, count: 3}
  check_mode: true
- name: no_log options, and a secret echoed in another option
  wasmcloud.lattice.wasmcloud_lattice_info:
    user: someone
    password: "{{ secret }}"
    lattice_prefix: "{{ lattice_name }}"
  register: info
- name: secret in annotations is masked in the result
  wasmcloud.lattice.wasmcloud_actor:
    image_ref: %(echo)s
    host_id: "{{ ids[1] }}"
    annotations: {note: "{{ secret }}"}
    token: "{{ secret }}"
  check_mode: true
- name: refused by the module
  wasmcloud.lattice.wasmcloud_actor: {image_ref: "not a ref!", host_id: "{{ ids[0] }}"}
  ignore_errors: true
- name: unknown option
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, colour: blue}
  ignore_errors: true
- name: bad choice
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, state: sideways}
  ignore_errors: true
- name: wrong type
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, count: many}
  ignore_errors: true
- name: a warning
  wasmcloud.lattice.wasmcloud_lattice_info: {tls_verify: false, timeout: 2}
  ignore_errors: true
- name: NATS URL from the task's environment
  wasmcloud.lattice.wasmcloud_auction:
    kind: actor
    image_ref: %(echo)s
    constraints: {zone: b}
    nats_url: "{{ omit }}"
  environment:
    WASMCLOUD_NATS_URL: "{{ url }}"
""" % {"echo": ECHO}

VOLATILE = {"id", "time", "instance_id", "elapsed", "uptime_seconds", "uptime_human", "start_time",
            "deprecations", "friendly_name", "cluster_issuers", "issuer", "seconds"}


def parity_playbook(tmp_path, lattice, name: str):
    play_vars = {"ids": list(lattice.hosts), "secret": SECRET, "url": lattice.nats_url,
                 "lattice_name": lattice.lattice}
    lines = ["- hosts: localhost", "  gather_facts: false", "  vars: %s" % json.dumps(play_vars),
             "  module_defaults:", "    group/wasmcloud.lattice.wasmcloud:",
             "      nats_url: %s" % json.dumps(lattice.nats_url), "      lattice: %s" % lattice.lattice,
             "      auction_timeout: 1.0", "  tasks:"]  # hosts on a loaded machine can take 0.4 s to answer
    lines += ["    " + line for line in PARITY_TASKS.strip("\n").splitlines()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def normalized(results: List[Dict[str, Any]], lattice) -> List[Any]:
    text = json.dumps(results, sort_keys=True)
    for index, host in enumerate(lattice.hosts):
        text = text.replace(host, "HOST%d" % index)
    text = text.replace(lattice.lattice, "LATTICE")
    text = re.sub(r"_INBOX\.[A-Za-z0-9.]+", "_INBOX", text)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key not in VOLATILE}
        if isinstance(value, list):
            if all(isinstance(item, dict) and "id" in item for item in value):
                value = sorted(value, key=lambda item: str(item["id"]))  # host lists come in reply order
            return [strip(item) for item in value]
        return value

    return strip(json.loads(text))


def run_both(tmp_path, sandbox_lattice):
    labels = [{"zone": "a"}, {"zone": "a"}, {"zone": "b"}]
    runs = {}
    for mode in ("controller", "module"):
        lattice = sandbox_lattice(hosts=3, labels=labels)
        book = parity_playbook(tmp_path, lattice, "%s.yml" % mode)
        run = playbook(book, env=ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode}))
        assert run.returncode == 0, run.output
        assert_no_traceback(run)
        runs[mode] = (run, lattice)
    return runs


@needs_controller_path
def test_both_paths_give_the_same_results(tmp_path, sandbox_lattice):
    runs = run_both(tmp_path, sandbox_lattice)
    controller = normalized(runs["controller"][0].results(), runs["controller"][1])
    module = normalized(runs["module"][0].results(), runs["module"][1])
    assert len(controller) == len(module) == PARITY_TASKS.count("- name:")
    for index, (ours, theirs) in enumerate(zip(controller, module)):
        assert ours == theirs, "task %d differs" % index

    # and the dicts say what they should, so the equality above is not between two wrong results
    (plan, converge, converged, auction, info, masked, refused, unknown, choice, wrong_type, tls,
     from_env) = controller
    assert plan["changed"] and plan["diff"]["after"]["HOST0"]["count"] == 2 and plan["diff"]["before"] == {}
    assert converge["changed"] and [e["kind"] for e in converge["events"]] == ["actor_started"] * 2
    assert not converged["changed"] and converged["actions"] == [] and "diff" in converged
    assert auction["changed"] and auction["actor"]["count"] == 3
    assert info["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert info["invocation"]["module_args"]["lattice"] == "LATTICE"  # the alias resolved
    assert masked["invocation"]["module_args"]["annotations"] == {"note": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert refused["failed"] and "image_ref" in refused["msg"]
    assert unknown["failed"] and "Unsupported parameters" in unknown["msg"] and "colour" in unknown["msg"]
    assert choice["failed"] and "sideways" in choice["msg"]
    assert wrong_type["failed"] and "count" in wrong_type["msg"]
    assert any("tls_verify is false" in str(warning) for warning in tls["warnings"])
    assert len(from_env["hosts"]) == 1, from_env
    for run, _lattice in runs.values():
        assert SECRET not in run.output


@pytest.mark.parametrize("mode, marker, absent", [
    pytest.param("auto", "runs in the controller's worker process", "Using module file", marks=needs_controller_path),
    ("module", "Using module file", "runs in the controller's worker process"),
])
def test_the_path_taken_shows_at_vvv(tmp_path, sandbox_lattice, mode, marker, absent):
    lattice = sandbox_lattice(hosts=1)
    book = tmp_path / "one.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s, auction_timeout: 0.3}
""" % (json.dumps(lattice.nats_url), lattice.lattice))
    run = playbook(book, "-vvv", env=ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode}, callback="default"))
    assert run.returncode == 0, run.output
    assert marker in run.stdout and absent not in run.stdout


def test_delegated_elsewhere_runs_as_a_module_and_controller_mode_refuses(tmp_path, sandbox_lattice):
    lattice = sandbox_lattice(hosts=1)
    book = tmp_path / "delegated.yml"
    # `elsewhere` is reached with the ssh connection in name only: the paramiko/ssh plugin is never
    # contacted because the controller-only mode refuses first, and auto mode must fall back.
    book.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s, auction_timeout: 0.3}
      delegate_to: elsewhere
      vars: {ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1}
""" % (json.dumps(lattice.nats_url), lattice.lattice))
    forced = playbook(book, "-vvv", env=ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "controller"}, callback="default"))
    assert forced.returncode != 0
    assert "cannot run in the controller" in forced.stdout and "ssh connection" in forced.stdout
    auto = playbook(book, "-vvv", env=ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "auto"}, callback="default"))
    assert auto.returncode != 0  # nothing listens on port 1: the module path was taken and failed to connect
    assert "runs as a module process: it executes on" in auto.stdout
    assert "UNREACHABLE" in auto.stdout


def test_an_unknown_execution_mode_is_refused(tmp_path, sandbox_lattice):
    lattice = sandbox_lattice(hosts=1)
    book = tmp_path / "bad.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  vars: {wasmcloud_lattice_execution: sideways}
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s}
""" % (json.dumps(lattice.nats_url), lattice.lattice))
    run = playbook(book)
    assert run.returncode != 0
    assert "must be one of auto, module, controller" in run.output


def controller_without_nats(tmp_path) -> str:
    """A Python for ansible-playbook that has this venv's packages except nats-py (the modules' Python keeps it)."""
    venv = tmp_path / "no-nats"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = Path(sysconfig.get_paths()["purelib"])
    target = next((venv / "lib").glob("python*/site-packages"))
    (target / "project.pth").write_text(str(site) + "\n")
    (target / "hide_nats.py").write_text(
        "import importlib.abc, sys\n"
        "class HideNats(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'nats' or name.startswith('nats.'):\n"
        "            raise ImportError('nats-py is hidden from this Python')\n"
        "        return None\n"
        "sys.meta_path.insert(0, HideNats())\n")
    (target / "zz_hide_nats.pth").write_text("import hide_nats\n")
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import nats"], capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and "hidden" in probe.stderr
    return python


@needs_controller_path
def test_a_controller_without_nats_falls_back_and_says_so_once(tmp_path, sandbox_lattice):
    lattice = sandbox_lattice(hosts=1)
    python = controller_without_nats(tmp_path)
    book = tmp_path / "three.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/wasmcloud.lattice.wasmcloud: {nats_url: %s, lattice: %s, auction_timeout: 0.3}
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info:
    - wasmcloud.lattice.wasmcloud_auction: {image_ref: %s}
    - wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
""" % (json.dumps(lattice.nats_url), lattice.lattice, ECHO))
    # its ANSIBLE_PYTHON_INTERPRETER (the modules' Python) has nats-py
    env = ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "auto"}, callback="default")
    run = subprocess.run([python, str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c",
                          "local", str(book), "-v"], capture_output=True, text=True, env=env, timeout=180, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok=3" in run.stdout
    assert (run.stdout + run.stderr).count("the controller's Python lacks nats-py") == 1


# --- Ansible semantics the controller path keeps (issue: relative paths, interpreter, environment, syslog) ---

def ansible_playbook(args: List[str], env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", *args], cwd=str(cwd),
                          env=env, capture_output=True, text=True, timeout=180, check=False)


def results_of(run: subprocess.CompletedProcess) -> List[Dict[str, Any]]:
    data = json.loads(run.stdout[run.stdout.index("{"):])
    return [task["hosts"][host] for play in data["plays"] for task in play["tasks"] for host in task["hosts"]]


@needs_controller_path
def test_relative_files_resolve_against_the_playbook_directory_in_both_paths(tmp_path, sandbox_lattice):
    """A module process starts in the task's base directory (the playbook's), not the shell's; so does the
    controller path. Each directory holds an app.yml with another count: the playbook's must win."""
    lattice = sandbox_lattice(hosts=1)
    books, shell = tmp_path / "books", tmp_path / "shell"
    books.mkdir()
    shell.mkdir()
    spec = "actors:\n  - {name: echo, image_ref: %s, count: %d, host_id: %s}\n"
    (books / "app.yml").write_text(spec % (ECHO, 2, lattice.hosts[0]))
    (shell / "app.yml").write_text(spec % (ECHO, 5, lattice.hosts[0]))
    (books / "play.yml").write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - wasmcloud.lattice.wasmcloud_application:
        {name: shop, spec_file: app.yml, nats_url: %s, lattice: %s}
      check_mode: true
""" % (json.dumps(lattice.nats_url), lattice.lattice))
    outcomes = {}
    for mode in ("controller", "module"):
        run = ansible_playbook([str(books / "play.yml")], ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode}), shell)
        assert run.returncode == 0, run.stdout + run.stderr
        [outcomes[mode]] = results_of(run)
    assert outcomes["controller"]["actions"] == outcomes["module"]["actions"]
    assert [action["count"] for action in outcomes["module"]["actions"]] == [2]  # the playbook's app.yml


@needs_controller_path
def test_another_ansible_python_interpreter_gets_a_module_process_in_it(tmp_path, sandbox_lattice):
    """ansible_python_interpreter names the Python that runs a host's modules: a different one than the
    controller's is honoured (a module process in it), in auto mode as in module mode; controller mode
    refuses. That Python lacks nats-py here, and the module says so."""
    lattice = sandbox_lattice(hosts=1)
    other = tmp_path / "other-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True, timeout=120)
    interpreter = str(other / "bin" / "python")
    book = tmp_path / "interp.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  vars: {ansible_python_interpreter: %s}
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s}
      ignore_errors: true
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s}
      vars: {ansible_python_interpreter: "{{ ansible_playbook_python }}"}
""" % (json.dumps(interpreter), json.dumps(lattice.nats_url), lattice.lattice,
       json.dumps(lattice.nats_url), lattice.lattice))
    runs = {mode: ansible_playbook([str(book), "-vvv"], ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode},
                                                                    callback="default"), tmp_path)
            for mode in ("auto", "module")}
    auto_text = runs["auto"].stdout
    assert "runs as a module process: ansible_python_interpreter is %s" % interpreter in auto_text, auto_text
    assert auto_text.count("runs in the controller's worker process") == 1  # the task with the controller's own
    for run in runs.values():
        assert "nats-py" in run.stdout and interpreter in run.stdout and "ok=2" in run.stdout, run.stdout
    forced = ansible_playbook([str(book)], ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "controller"},
                                                       callback="default"), tmp_path)
    assert "cannot run in the controller" in forced.stdout and "ansible_python_interpreter" in forced.stdout


@needs_controller_path
def test_the_execution_mode_in_the_task_environment_wins_and_vvv_names_it(tmp_path, sandbox_lattice):
    lattice = sandbox_lattice(hosts=1)
    book = tmp_path / "env.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %(url)s, lattice: %(lattice)s}
      environment: {WASMCLOUD_LATTICE_EXECUTION: module}
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %(url)s, lattice: %(lattice)s}
      environment: {WASMCLOUD_LATTICE_EXECUTION: auto}
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %(url)s, lattice: %(lattice)s}
      vars: {wasmcloud_lattice_execution: module}
      environment: {WASMCLOUD_LATTICE_EXECUTION: auto}
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %(url)s, lattice: %(lattice)s}
""" % {"url": json.dumps(lattice.nats_url), "lattice": lattice.lattice})
    run = ansible_playbook([str(book), "-vvv"], ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "controller"},
                                                            callback="default"), tmp_path)
    assert run.returncode == 0 and "ok=4" in run.stdout, run.stdout + run.stderr
    said = [line for line in run.stdout.splitlines()
            if "runs as a module process" in line or "runs in the controller's worker process" in line]
    assert said == [
        "wasmcloud.lattice.wasmcloud_lattice_info runs as a module process: WASMCLOUD_LATTICE_EXECUTION=module "
        "from WASMCLOUD_LATTICE_EXECUTION in the task's environment",
        "wasmcloud.lattice.wasmcloud_lattice_info runs in the controller's worker process, no module process "
        "(WASMCLOUD_LATTICE_EXECUTION=auto from WASMCLOUD_LATTICE_EXECUTION in the task's environment)",
        "wasmcloud.lattice.wasmcloud_lattice_info runs as a module process: WASMCLOUD_LATTICE_EXECUTION=module "
        "from the variable wasmcloud_lattice_execution",
        "wasmcloud.lattice.wasmcloud_lattice_info runs in the controller's worker process, no module process "
        "(WASMCLOUD_LATTICE_EXECUTION=controller from WASMCLOUD_LATTICE_EXECUTION in the controller's environment)",
    ], run.stdout


# No syslog daemon runs here (there is no /dev/log), so a stand-in `syslog` module, first on PYTHONPATH for
# ansible-playbook and for the module processes it starts, records what each path would send to syslog.
FAKE_SYSLOG = '''"""Records openlog/syslog calls as JSON lines in $FAKE_SYSLOG_FILE (test stand-in for the syslog module)."""
import json
import os

LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = range(8)
LOG_KERN, LOG_USER, LOG_MAIL, LOG_DAEMON, LOG_AUTH, LOG_SYSLOG = 0, 8, 16, 24, 32, 40
LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7 = range(128, 192, 8)
LOG_PID, LOG_CONS, LOG_NDELAY, LOG_NOWAIT, LOG_PERROR = 1, 2, 8, 16, 32
_opened = {}


def openlog(ident="python", logoption=0, facility=LOG_USER):
    _opened.update(ident=ident, facility=facility)


def syslog(priority, message=None):
    if message is None:
        priority, message = LOG_INFO, priority
    with open(os.environ["FAKE_SYSLOG_FILE"], "a") as log:
        log.write(json.dumps(dict(_opened, priority=priority, message=message)) + "\\n")


def closelog():
    _opened.clear()


def setlogmask(mask):
    return 0
'''


@needs_controller_path
def test_both_paths_log_the_invocation_to_syslog_alike(tmp_path, sandbox_lattice):
    lattice = sandbox_lattice(hosts=1)
    fake = tmp_path / "fake-syslog"
    fake.mkdir()
    (fake / "syslog.py").write_text(FAKE_SYSLOG)
    book = tmp_path / "logged.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info:
        {nats_url: %(url)s, lattice: %(lattice)s, user: someone, password: %(secret)s, gather: [hosts]}
    - wasmcloud.lattice.wasmcloud_auction: {nats_url: %(url)s, lattice: %(lattice)s, image_ref: %(echo)s}
    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %(url)s, lattice: %(lattice)s, gather: [hosts]}
      no_log: true
""" % {"url": json.dumps(lattice.nats_url), "lattice": lattice.lattice, "secret": SECRET, "echo": ECHO})
    logged = {}
    for mode in ("controller", "module"):
        log = tmp_path / ("%s.log" % mode)
        env = ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode, "FAKE_SYSLOG_FILE": str(log), "PYTHONPATH": str(fake)})
        run = ansible_playbook([str(book)], env, tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        logged[mode] = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert logged["controller"] == logged["module"]
    entries = logged["module"]
    assert [entry["ident"] for entry in entries] == ["ansible-wasmcloud.lattice.wasmcloud_lattice_info",
                                                     "ansible-wasmcloud.lattice.wasmcloud_auction"]  # not the no_log one
    assert all(entry["message"].startswith("Invoked with ") for entry in entries)
    assert "password=NOT_LOGGING_PARAMETER" in entries[0]["message"] and SECRET not in json.dumps(entries)
