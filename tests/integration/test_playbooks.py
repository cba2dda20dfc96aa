"""The operations playbooks (playbooks/) and the application role, through real ansible-playbook against the sandbox.

deploy.yml, drain_host.yml and report.yml take the lattice from WASMCLOUD_* environment variables; rolling_update.yml
runs over the hosts of a ``*.wasmcloud.yml`` inventory of the wasmcloud.lattice.hosts plugin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from ansible_run import BIN, Run, ansible_env, assert_no_traceback, run, write_playbook

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
DEMO_SPEC = "examples/demo-app.yml"  # relative to ROOT, as in the playbook's usage line
OWNER = "wasmcloud.lattice/application"

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
ECHO_NEXT = "wasmcloud.azurecr.io/echo:0.3.5"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def trio(sandbox_lattice):
    return sandbox_lattice(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])


def lattice_env(lattice) -> Dict[str, str]:
    """The connection as the playbooks' users give it: environment variables."""
    return ansible_env({"WASMCLOUD_NATS_URL": lattice.nats_url, "WASMCLOUD_LATTICE_PREFIX": lattice.lattice,
                        "WASMCLOUD_AUCTION_TIMEOUT": "0.4"})


def inventory_config(tmp_path: Path, lattice) -> Path:
    """A configuration file of the wasmcloud.lattice.hosts inventory plugin for ``lattice``."""
    path = tmp_path / "lattice.wasmcloud.yml"
    path.write_text(json.dumps({"plugin": "wasmcloud.lattice.hosts", "nats_url": lattice.nats_url,
                                "lattice": lattice.lattice, "auction_timeout": 0.4,
                                "hostname": "friendly_name"}) + "\n")  # rolling order: sorted by friendly name
    return path


def play(name: str, *args: str, env: Dict[str, str], inventory: Optional[Path] = None, cwd: Path = ROOT) -> Run:
    """ansible-playbook playbooks/<name> run from ``cwd`` (relative paths in extra vars are relative to it)."""
    command = [str(BIN / "ansible-playbook"), str(PLAYBOOKS / name)]
    command += ["-i", str(inventory)] if inventory else ["-i", "localhost,", "-c", "local"]
    proc = subprocess.run(command + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def extra(**values: Any) -> Tuple[str, str]:
    return "-e", json.dumps(values)


def setup(tmp_path: Path, lattice, tasks: str) -> None:
    """Put things on the lattice with the modules (not with the playbooks under test)."""
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                  str(write_playbook(tmp_path, lattice, tasks, name="setup.yml"))])
    assert result.returncode == 0, result.output


def commands(lattice) -> List[Tuple[str, str]]:
    return [(r.operation, r.host_id) for r in lattice.commands()]


def zone_hosts(lattice, zone: str) -> List[str]:
    return sorted(h for h in lattice.hosts if lattice.host(h).labels.get("zone") == zone)


def instances(lattice, host: str, actor_ref: Optional[str] = None) -> List[Dict[str, Any]]:
    return [dict(i, image_ref=a["image_ref"]) for a in lattice.inventory(host)["actors"]
            for i in a["instances"] if actor_ref is None or a["image_ref"] == actor_ref]


def fact(result: Run, name: str) -> Any:
    found = [r["ansible_facts"][name] for r in result.results() if name in r.get("ansible_facts", {})]
    assert found, "no task set %s" % name
    return found[-1]


def by_friendly_name(lattice, hosts: List[str]) -> List[str]:
    return sorted(hosts, key=lambda h: lattice.host(h).friendly_name)


# -- deploy.yml and the application role -----------------------------------------------------------


def test_deploy_applies_the_spec_then_a_second_run_sends_nothing(trio, tmp_path):
    env = lattice_env(trio)
    args = extra(spec_file=DEMO_SPEC, app="demo")
    first = play("deploy.yml", *args, env=env)
    assert first.returncode == 0, first.output
    status = fact(first, "wasmcloud_application_status")
    assert status["verified"] and status["problems"] == [] and status["changed"]
    assert status["actors"]["echo"]["running"] == status["actors"]["echo"]["wanted"] == 4
    zone_a = zone_hosts(trio, "a")
    names = {trio.host(h).friendly_name for h in zone_a}
    assert set(status["actors"]["echo"]["hosts"]) <= names and len(status["providers"]["http"]["hosts"]) == 1
    assert status["providers"]["http"]["hosts"][0] in names
    assert [link["present"] for link in status["links"]] == [True]
    # the lattice agrees: four echo instances of the application in zone a, the provider there, the link
    echo = [i for h in zone_a for i in instances(trio, h, ECHO)]
    assert len(echo) == 4 and {i["annotations"][OWNER] for i in echo} == {"demo"}
    assert instances(trio, zone_hosts(trio, "b")[0]) == []
    assert sum(len(trio.inventory(h)["providers"]) for h in zone_a) == 1
    assert [(link["contract_id"], link["values"]) for link in trio.links] == [("wasmcloud:httpserver", {"PORT": "8080"})]
    summary = [r["msg"] for r in first.results() if isinstance(r.get("msg"), list)][-1]
    assert any(line.startswith("actor echo (M") and "4/4 in scope" in line for line in summary), summary

    trio.clear_records()
    second = play("deploy.yml", *args, env=env)
    assert second.returncode == 0, second.output
    assert [r for r in second.results() if r.get("changed")] == []
    assert commands(trio) == []
    assert fact(second, "wasmcloud_application_status")["problems"] == []

    checked = play("deploy.yml", *args, "-e", "state=absent", "--check", env=env)
    assert checked.returncode == 0, checked.output
    plan = fact(checked, "wasmcloud_application_status")
    assert plan["changed"] and not plan["verified"] and plan["actions"]
    assert commands(trio) == [] and len([i for h in zone_a for i in instances(trio, h)]) == 4


@pytest.mark.parametrize("args,message", [
    (["-e", "app=demo"], "Usage: ansible-playbook playbooks/deploy.yml"),
    (["-e", "app=demo", "-e", "state=sideways"], "wasmcloud_application_state must be one of: present, absent"),
    # ansible-core's own wording: "is of type str" from 2.17 on, "is of type <class 'str'>" before
    (["-e", "app=demo", "-e", "wasmcloud_auction_timeout=soon"],
     re.compile(r"argument 'wasmcloud_auction_timeout' is of type (str|<class 'str'>)")),
])
def test_deploy_refuses_bad_variables_before_sending_anything(trio, args, message):
    if not (isinstance(message, str) and "Usage" in message):
        args = args + ["-e", "spec_file=" + DEMO_SPEC]
    trio.clear_records()
    result = play("deploy.yml", *args, env=lattice_env(trio))
    assert result.returncode == 2, result.output
    assert (message.search(result.output) if isinstance(message, re.Pattern) else message in result.output), \
        result.output
    assert trio.records == []
    assert_no_traceback(result)


def test_role_fails_when_the_lattice_does_not_run_the_spec(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=2, labels=[{"zone": "a"}])
    lattice.hooks().fail_ref(ECHO)  # starts are acknowledged, then never run: the lattice never matches the spec
    book = tmp_path / "role.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  roles:
    - role: wasmcloud.lattice.application
      vars:
        wasmcloud_application_name: slow
        wasmcloud_application_wait: false
        wasmcloud_application_spec:
          actors:
            - {name: echo, image_ref: %s, count: 2, constraints: {zone: a}}
""" % ECHO)
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)], env=lattice_env(lattice))
    assert result.returncode == 2, result.output
    failure = [r for r in result.results() if r.get("failed")][-1]
    assert "actor echo: 0 of 2 instances run on the hosts in its scope" in failure["msg"]
    assert_no_traceback(result)


def test_role_refuses_a_malformed_inline_spec_before_sending_anything(trio, tmp_path):
    book = tmp_path / "role.yml"
    book.write_text("""
- hosts: localhost
  gather_facts: false
  roles:
    - role: wasmcloud.lattice.application
      vars:
        wasmcloud_application_name: broken
        wasmcloud_application_spec:
          actors:
            - {name: echo, count: many}
""")
    trio.clear_records()
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)], env=lattice_env(trio))
    assert result.returncode == 2, result.output
    message = [r for r in result.results() if r.get("failed")][-1]["msg"]
    assert "Validation of arguments failed" in message and "image_ref" in message and "count" in message, message
    assert trio.records == []


def test_role_refuses_a_spec_file_that_yaml_1_1_would_misread(trio, tmp_path):
    spec = tmp_path / "app.yml"
    # from_yaml would read link_name: no as False and count: 010 as 8, and apply that
    spec.write_text("providers:\n  - {name: http, provider_ref: %s, link_name: no}\nactors:\n"
                    "  - {name: echo, image_ref: %s, count: 010}\n" % (HTTP, ECHO))
    trio.clear_records()
    result = play("deploy.yml", *extra(spec_file=str(spec), app="demo"), env=lattice_env(trio))
    assert result.returncode == 2, result.output
    message = [r for r in result.results() if r.get("failed")][-1]["msg"]
    assert "spec.providers[0].link_name is written no" in message and str(spec) in message, message
    assert "spec.actors[0].count is written 010" in message, message
    assert trio.records == []
    assert_no_traceback(result)

    spec.write_text(spec.read_text().replace("link_name: no", "link_name: 'no'").replace("count: 010", "count: 2"))
    checked = play("deploy.yml", *extra(spec_file=str(spec), app="demo"), "--check", env=lattice_env(trio))
    assert checked.returncode == 0, checked.output
    plan = fact(checked, "wasmcloud_application_status")
    assert plan["providers"]["http"]["link_name"] == "no" and plan["actors"]["echo"]["wanted"] == 2, plan
    assert commands(trio) == []


# -- rolling_update.yml ----------------------------------------------------------------------------


def test_rolling_update_goes_host_by_host_and_skips_hosts_without_the_actor(trio, tmp_path):
    setup(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, constraints: {zone: a}, count: 4}
  register: echo
- ansible.builtin.copy: {content: "{{ echo.actor.actor_id }}", dest: "%s/actor_id"}
""" % (ECHO, tmp_path))
    actor_id = (tmp_path / "actor_id").read_text()
    zone_a, zone_b = zone_hosts(trio, "a"), zone_hosts(trio, "b")[0]
    before = {h: len(instances(trio, h)) for h in zone_a}
    trio.clear_records()
    result = play("rolling_update.yml", *extra(actor_id=actor_id, image_ref=ECHO_NEXT),
                  env=ansible_env(), inventory=inventory_config(tmp_path, trio))
    assert result.returncode == 0, result.output
    # one update per host running the actor, in the order of the inventory names; none for the zone b host
    assert commands(trio) == [("upd", h) for h in by_friendly_name(trio, zone_a)]
    for host in zone_a:
        assert {i["image_ref"] for i in instances(trio, host)} == {ECHO_NEXT}
        assert len(instances(trio, host)) == before[host] == 2
    assert instances(trio, zone_b) == []
    checks = [r for r in result.results() if isinstance(r.get("msg"), str) and r["msg"].endswith("run %s" % ECHO_NEXT)]
    assert len(checks) == 2


def test_rolling_update_stops_at_the_first_host_that_fails(trio, tmp_path):
    setup(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, count: 6}
  register: echo
- ansible.builtin.copy: {content: "{{ echo.actor.actor_id }}", dest: "%s/actor_id"}
""" % (ECHO, tmp_path))
    actor_id = (tmp_path / "actor_id").read_text()
    first, bad, later = by_friendly_name(trio, trio.hosts)
    assert all(len(instances(trio, h)) == 2 for h in trio.hosts)
    trio.hooks(bad).reject("upd", "disk quota exceeded")
    trio.clear_records()
    result = play("rolling_update.yml", *extra(actor_id=actor_id, image_ref=ECHO_NEXT),
                  env=ansible_env(), inventory=inventory_config(tmp_path, trio))
    assert result.returncode == 2, result.output
    assert "disk quota exceeded" in result.output
    assert {i["image_ref"] for i in instances(trio, first)} == {ECHO_NEXT}
    assert {i["image_ref"] for i in instances(trio, bad)} == {ECHO}
    assert {i["image_ref"] for i in instances(trio, later)} == {ECHO}
    assert commands(trio) == [("upd", first), ("upd", bad)]
    assert [r for r in trio.records if r.host_id == later and r.operation == "inv"] == []  # never even looked at
    assert_no_traceback(result)


# -- drain_host.yml --------------------------------------------------------------------------------


def test_drain_moves_everything_then_stops_the_host(trio, tmp_path):
    drained = zone_hosts(trio, "a")[0]
    other_a = zone_hosts(trio, "a")[1]
    setup(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_provider: {provider_ref: %(http)s, contract_id: "wasmcloud:httpserver", host_id: %(host)s}
  register: http
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: %(host)s, count: 2, annotations: {team: web}}
  register: echo
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: %(other)s, count: 1}
- wasmcloud.lattice.wasmcloud_link:
    actor_id: "{{ echo.actor.actor_id }}"
    provider_id: "{{ http.provider.provider_id }}"
    contract_id: "wasmcloud:httpserver"
    values: {PORT: "8080"}
""" % {"http": HTTP, "echo": ECHO, "host": drained, "other": other_a})
    links = trio.links
    trio.clear_records()
    result = play("drain_host.yml", *extra(drain_host_id=drained, actor_constraints={ECHO: {"zone": "a"}}),
                  env=lattice_env(trio))
    assert result.returncode == 0, result.output
    sent = commands(trio)
    stop = sent.index(("stop", drained))
    starts = [(op, h) for op, h in sent if op in ("la", "lp", "scale")]
    assert starts and all(h != drained for _op, h in starts)
    assert all(sent.index(start) < stop for start in starts) and stop == len(sent) - 1
    # the lattice was read again (inventories) between the last start and the stop
    ordered = [(r.operation, r.host_id) for r in trio.records]
    last_start = max(i for i, rec in enumerate(ordered) if rec in starts)
    assert any(op == "inv" for op, _h in ordered[last_start:ordered.index(("stop", drained))])
    assert drained not in trio.hosts
    # the actors kept their annotations and went where their constraints allow; the provider went somewhere else
    moved = [i for i in instances(trio, other_a) if i["annotations"].get("team") == "web"]
    assert len(moved) == 2 and len(instances(trio, other_a)) == 3
    assert [p["link_name"] for h in trio.hosts for p in trio.inventory(h)["providers"]] == ["default"]
    assert trio.links == links


def test_drain_starts_nothing_when_nothing_can_take_the_actors(trio, tmp_path):
    drained = zone_hosts(trio, "b")[0]
    setup(tmp_path, trio, "- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s}\n" % (ECHO, drained))
    trio.clear_records()
    result = play("drain_host.yml", *extra(drain_host_id=drained, actor_constraints={ECHO: {"zone": "b"}}),
                  env=lattice_env(trio))
    assert result.returncode == 2, result.output
    assert "No other host bid for actor echo" in result.output
    assert commands(trio) == [] and drained in trio.hosts
    assert_no_traceback(result)


# -- report.yml ------------------------------------------------------------------------------------


def test_report_writes_markdown_and_html_with_every_host_and_link(trio, tmp_path):
    odd = trio.add_host({"zone": "c", "note": "{{ 7 * 7 }}"}, friendly_name="<b>odd</b>-host")
    env = lattice_env(trio)
    deployed = play("deploy.yml", *extra(spec_file=DEMO_SPEC, app="demo"), env=env)
    assert deployed.returncode == 0, deployed.output
    report_dir = tmp_path / "lattice-report"  # the default report_dir, relative to where ansible-playbook runs
    args = ["-e", "report_screenshot=true"] if os.access(CHROMIUM, os.X_OK) else []  # optional local check, not in CI
    result = play("report.yml", *args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.output
    markdown = (report_dir / "lattice.md").read_text()
    html = (report_dir / "lattice.html").read_text()
    for host in trio.hosts:
        if host != odd:
            name = trio.host(host).friendly_name
            assert name in markdown and name in html, name
        assert host in markdown and host in html
    # remote values are escaped, never templated or rendered as markup
    assert "&lt;b&gt;odd&lt;/b&gt;-host" in html and "<b>odd</b>" not in html
    assert "&lt;b>odd&lt;/b>-host" in markdown
    assert "{{ 7 * 7 }}" in html and "{{ 7 * 7 }}" in markdown
    # the link, with its names and contract, in the tables and as an arrow in the diagram; values only by key
    (link,) = trio.links
    for text in (markdown, html):
        assert link["actor_id"] in text and link["provider_id"] in text and "wasmcloud:httpserver" in text
        assert "PORT" in text and "8080" not in text
    assert "| 1 | echo `%s` | httpserver `%s` |" % (link["actor_id"], link["provider_id"]) in markdown
    assert html.count("<svg") == 1 and 'class="link"' in html and "marker-end" in html
    assert html.count('class="host"') == 4
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    if os.access(CHROMIUM, os.X_OK):
        assert (report_dir / "lattice.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- silent successes: playbooks that would do nothing must say so and fail -----------------------------------


def test_rolling_update_fails_when_the_target_matches_no_host_or_no_host_runs_the_actor(trio, tmp_path):
    setup(tmp_path, trio, "- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, constraints: {zone: a}, count: 2}\n"
          % ECHO)
    inventory = inventory_config(tmp_path, trio)
    trio.clear_records()
    no_hosts = play("rolling_update.yml", *extra(actor_id="M" + "A" * 55, image_ref=ECHO_NEXT, target="zone_x"),
                    env=ansible_env(), inventory=inventory)
    assert no_hosts.returncode != 0, no_hosts.output
    assert "No inventory host matches the target 'zone_x'" in no_hosts.output
    mistyped = play("rolling_update.yml", *extra(actor_id="M" + "A" * 55, image_ref=ECHO_NEXT),
                    env=ansible_env(), inventory=inventory)
    assert mistyped.returncode != 0, mistyped.output
    assert "No host of 'wasmcloud' runs actor M%s, so nothing was updated" % ("A" * 55) in mistyped.output
    assert commands(trio) == []
    for result in (no_hosts, mistyped):
        assert_no_traceback(result)


def test_drain_fails_for_a_host_that_is_not_in_the_lattice_unless_told_it_may_be_gone(trio, tmp_path):
    mistyped = "N" + "Q" * 55
    failed = play("drain_host.yml", *extra(drain_host_id=mistyped), env=lattice_env(trio))
    assert failed.returncode != 0, failed.output
    assert "Host %s is not in the lattice (no host with this ID answered): check drain_host_id" % mistyped \
        in failed.output
    gone_ok = play("drain_host.yml", *extra(drain_host_id=mistyped, drain_absent_ok=True), env=lattice_env(trio))
    assert gone_ok.returncode == 0, gone_ok.output
    assert commands(trio) == [] and len(trio.hosts) == 3
    assert_no_traceback(failed)
