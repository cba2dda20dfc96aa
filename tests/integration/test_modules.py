"""The modules through real ansible-playbook and ansible runs against the sandbox over real NATS."""

from __future__ import annotations

import json

import pytest

from ansible_run import BIN, ansible_env, assert_no_traceback, playbook, run, write_playbook
from sandbox.images import register_image, unregister_image
from sandbox.keys import derived_key

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
ECHO_NEXT = "wasmcloud.azurecr.io/echo:0.3.5"
ECHO_OLDER = "wasmcloud.azurecr.io/echo:0.3.3"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"


@pytest.fixture
def trio(sandbox_lattice):
    return sandbox_lattice(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])


def commands(lattice):
    return [(r.operation, r.host_id) for r in lattice.commands()]


def zone_hosts(lattice, zone):
    return sorted(h for h in lattice.hosts if lattice.host(h).labels.get("zone") == zone)


def test_actor_on_a_host_changes_once_then_sends_nothing(trio, tmp_path):
    host = trio.hosts[0]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor:
    image_ref: %s
    host_id: %s
    count: 2
  register: echo
""" % (ECHO, host))
    first = playbook(book)
    assert first.returncode == 0, first.output
    result = first.results()[0]
    assert result["changed"] and result["actions"] == [
        {"operation": "start_actor", "host_id": host, "actor_ref": ECHO, "count": 2}]
    assert result["actor"]["hosts"][host]["count"] == 2
    assert [e["kind"] for e in result["events"]] == ["actor_started", "actor_started"]
    assert len(trio.inventory(host)["actors"][0]["instances"]) == 2
    trio.clear_records()
    second = playbook(book)
    assert second.returncode == 0 and not second.results()[0]["changed"]
    assert second.results()[0]["actions"] == [] and commands(trio) == []


def test_actor_check_mode_sends_nothing_and_diff_shows_hosts(trio, tmp_path):
    host = trio.hosts[1]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor:
    image_ref: %s
    host_id: %s
    count: 3
""" % (ECHO, host))
    trio.clear_records()
    checked = playbook(book, "--check", "--diff")
    assert checked.returncode == 0, checked.output
    result = checked.results()[0]
    assert result["changed"] and result["actions"][0]["count"] == 3
    assert result["diff"]["before"] == {} and result["diff"]["after"][host]["count"] == 3
    assert commands(trio) == [] and trio.inventory(host)["actors"] == []
    text = playbook(book, "--check", "--diff", env=ansible_env(callback="default"))
    assert '"count": 3' in text.stdout and "+" in text.stdout and "changed=1" in text.stdout


def test_actor_across_hosts_by_constraints_spreads_and_scales_down(trio, tmp_path):
    zone_a = zone_hosts(trio, "a")
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor:
    image_ref: %s
    constraints: {zone: a}
    count: "{{ wanted }}"
    annotations: {app: echo}
    discovery_stall: "{{ stall | default(omit) }}"
""" % ECHO)
    up = playbook(book, "-e", "wanted=4", "-e", "stall=0.3")
    assert up.returncode == 0, up.output
    counts = {h: len(trio.inventory(h)["actors"][0]["instances"]) for h in zone_a}
    assert counts == {zone_a[0]: 2, zone_a[1]: 2}
    assert trio.inventory(zone_hosts(trio, "b")[0])["actors"] == []
    trio.clear_records()
    assert not playbook(book, "-e", "wanted=4").results()[0]["changed"] and commands(trio) == []
    down = playbook(book, "-e", "wanted=1")
    assert down.returncode == 0 and [a["operation"] for a in down.results()[0]["actions"]] == ["stop_actor"] * 2
    remaining = sum(len(a["instances"]) for h in zone_a for a in trio.inventory(h)["actors"])
    assert remaining == 1


def test_actor_live_update_and_refused_revision(trio, tmp_path):
    host = trio.hosts[0]
    start = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s}
  register: started
- ansible.builtin.copy: {content: "{{ started.actor.actor_id }}", dest: "%s/actor_id"}
""" % (ECHO, host, tmp_path), name="start.yml")
    assert playbook(start).returncode == 0
    actor_id = (tmp_path / "actor_id").read_text()
    update = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: "{{ ref }}", actor_id: %s, host_id: %s}
""" % (actor_id, host), name="update.yml")
    updated = playbook(update, "-e", "ref=" + ECHO_NEXT)
    assert updated.returncode == 0, updated.output
    assert [a["operation"] for a in updated.results()[0]["actions"]] == ["update_actor"]
    assert trio.inventory(host)["actors"][0]["image_ref"] == ECHO_NEXT
    refused = playbook(update, "-e", "ref=" + ECHO_OLDER)
    assert refused.returncode == 2
    failure = refused.results()[0]
    assert failure["failed"] and "Unable to perform live update" in failure["msg"] and host in failure["msg"]
    assert_no_traceback(refused)


def test_actor_absent_stops_by_image_ref(trio, tmp_path):
    host = trio.hosts[2]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s, count: 2}
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, state: absent}
  register: gone
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, state: absent}
  register: again
""" % (ECHO, host, ECHO, ECHO))
    result = playbook(book)
    assert result.returncode == 0, result.output
    gone, again = result.results()[1:]
    assert gone["changed"] and [e["kind"] for e in gone["events"]] == ["actor_stopped"] * 2
    assert not again["changed"] and trio.inventory(host)["actors"] == []


@pytest.mark.parametrize("options,message", [
    ("host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNIA", "bad checksum"),
    ("host_id: MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO", "is not a host key"),
    ("image_ref: 'Not A Ref'", "not a valid OCI reference"),
    ("count: -1", "count must be between 0"),
])
def test_bad_input_is_refused_before_sending(trio, tmp_path, options, message):
    base = {"image_ref": ECHO, "host_id": trio.hosts[0]}
    key = options.split(":")[0]
    base.pop(key, None)
    task = "- wasmcloud.lattice.wasmcloud_actor:\n    %s\n" % options
    task += "".join("    %s: %s\n" % (k, v) for k, v in base.items())
    trio.clear_records()
    result = playbook(write_playbook(tmp_path, trio, task))
    assert result.returncode == 2 and message in result.results()[0]["msg"], result.output
    assert trio.records == []
    assert_no_traceback(result)


def test_nats_down_is_a_clear_failure(trio, tmp_path):
    book = write_playbook(tmp_path, trio, "- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s}\n"
                          % (ECHO, trio.hosts[0]), nats_url="nats://127.0.0.1:9")
    result = playbook(book)
    assert result.returncode == 2
    msg = result.results()[0]["msg"]
    assert "cannot connect to NATS at nats://127.0.0.1:9" in msg
    assert_no_traceback(result)


def test_host_rejection_and_start_failure(trio, tmp_path):
    rejecting, failing, _unused = trio.hosts
    trio.hooks(rejecting).reject("la", "host is draining")
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: "{{ ref }}", host_id: "{{ host }}", wait_timeout: 1.5}
""")
    rejected = playbook(book, "-e", "ref=%s host=%s" % (ECHO, rejecting))
    assert rejected.returncode == 2 and "rejected the command: host is draining" in rejected.results()[0]["msg"]
    missing = "wasmcloud.azurecr.io/missing:1.0.0"
    failed = playbook(book, "-e", "ref=%s host=%s" % (missing, failing))
    assert failed.returncode == 2
    result = failed.results()[0]
    assert "actor_start_failed on host %s" % failing in result["msg"] and "manifest unknown" in result["msg"]
    assert result["changed"] and result["actions"]  # the command was sent; the failure says so
    for result in (rejected, failed):
        assert_no_traceback(result)


def test_wait_timeout_reports_what_was_reached(sandbox_lattice, tmp_path):
    slow = sandbox_lattice(hosts=1, start_delay=3.0)
    book = write_playbook(tmp_path, slow, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s, wait_timeout: 1}
""" % (ECHO, slow.hosts[0]))
    result = playbook(book)
    assert result.returncode == 2, result.output
    failure = result.results()[0]
    assert "timed out after" in failure["msg"] and failure["partial"]["parts"][0]["reached"] == 0
    assert_no_traceback(result)


def test_provider_link_and_info_modules(trio, tmp_path):
    host = trio.hosts[0]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: %(host)s}
  register: actor
- wasmcloud.lattice.wasmcloud_provider:
    provider_ref: %(http)s
    contract_id: wasmcloud:httpserver
    constraints: {zone: a}
    configuration: {PORT: 8080}
  register: provider
- wasmcloud.lattice.wasmcloud_link:
    actor_id: "{{ actor.actor.actor_id }}"
    provider_id: "{{ provider.provider.provider_id }}"
    contract_id: wasmcloud:httpserver
    values: {PORT: "8080"}
  register: link
- wasmcloud.lattice.wasmcloud_lattice_info: {}
  register: info
- wasmcloud.lattice.wasmcloud_auction: {kind: provider, provider_ref: %(http)s, constraints: {zone: a}}
  register: auction
""" % {"echo": ECHO, "host": host, "http": HTTP})
    first = playbook(book)
    assert first.returncode == 0, first.output
    actor, provider, link, info, auction = first.results()
    assert provider["changed"] and provider["events"][0]["kind"] == "provider_started"
    placed = provider["actions"][0]["host_id"]
    assert placed in zone_hosts(trio, "a")
    assert link["changed"] and link["link"]["values"] == {"PORT": "8080"}
    assert len(info["hosts"]) == 3 and len(info["links"]) == 1 and info["claims"]
    where = {h["id"]: h for h in info["hosts"]}
    assert where[host]["actors"][0]["image_ref"] == ECHO and where[placed]["providers"][0]["image_ref"] == HTTP
    assert [b["host_id"] for b in auction["hosts"]] == [h for h in zone_hosts(trio, "a") if h != placed]
    trio.clear_records()
    second = playbook(book)
    assert second.returncode == 0 and not any(r["changed"] for r in second.results())
    assert commands(trio) == []
    changed = playbook(book, "-e", "unused=1", "--check")
    assert commands(trio) == [] and changed.returncode == 0


def test_link_values_replace_and_absent_is_idempotent(trio, tmp_path):
    actor = "MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO"
    provider = "VD27SVCAN3MAOLSPZRDNWKKFKFCQ6K424MIKMOLCQ4TMHZHPH34XPQBD"
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_link:
    actor_id: %s
    provider_id: %s
    contract_id: wasmcloud:keyvalue
    link_name: redis
    values: {URL: "{{ url }}"}
    state: "{{ state }}"
""" % (actor, provider))
    assert playbook(book, "-e", "url=redis://a state=present").results()[0]["changed"]
    assert not playbook(book, "-e", "url=redis://a state=present").results()[0]["changed"]
    replaced = playbook(book, "-e", "url=redis://b state=present", "--diff").results()[0]
    assert replaced["changed"] and replaced["diff"]["before"]["values"] == {"URL": "redis://a"}
    assert trio.links[0]["values"] == {"URL": "redis://b"}
    assert playbook(book, "-e", "url=x state=absent").results()[0]["changed"]
    trio.clear_records()
    assert not playbook(book, "-e", "url=x state=absent").results()[0]["changed"]
    assert commands(trio) == []


def test_host_stop_present_and_already_gone(trio, tmp_path):
    victim = trio.hosts[2]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: present, wait_timeout: 5}
  register: present
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped}
  check_mode: true
  register: check
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped, host_timeout: -1}
  register: negative
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped, host_timeout: 100000000000000000000}
  register: absurd
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped, wait_timeout: 10, host_timeout: 2500}
  register: stopped
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped}
  register: again
""" % {"h": victim})
    trio.clear_records()
    result = playbook(book)
    assert result.returncode == 0, result.output
    present, check, negative, absurd, stopped, again = result.results()
    assert not present["changed"] and present["answering"]
    assert check["changed"] and check["answering"]
    for refused in (negative, absurd):
        assert refused["failed"] and "host_timeout must be between 0 and 86400000 milliseconds" in refused["msg"], refused
    assert stopped["changed"] and not stopped["answering"] and victim not in trio.hosts
    [stop] = trio.commands()  # the refused ones sent nothing
    assert stop.operation == "stop" and stop.body["timeout"] == 2500
    assert not again["changed"] and again["actions"] == [] and not again["found"]


def test_stopping_a_host_that_is_not_in_the_lattice_warns_or_fails(trio, tmp_path):
    stranger = derived_key("host", "a host that never joined")  # a valid id no host has
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped}
  register: warned
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped, fail_on_missing: true}
  register: failed
  ignore_errors: true
""" % {"h": stranger})
    result = playbook(book)
    assert result.returncode == 0, result.output
    warned, failed = result.results()
    expected = "host %s did not answer in lattice %r at %s" % (stranger, trio.lattice, trio.nats_url)
    assert not warned["changed"] and not warned["found"] and not warned.get("failed")
    assert any(expected in warning for warning in warned["warnings"]), warned
    assert failed["failed"] and expected in failed["msg"] and failed["error_type"] == "NoResponseError"
    assert [r.operation for r in trio.commands()] == []


def test_events_module_waits_for_a_match(sandbox_lattice, tmp_path):
    beating = sandbox_lattice(hosts=2, heartbeat_interval=0.5)
    book = write_playbook(tmp_path, beating, """
- wasmcloud.lattice.wasmcloud_events: {types: [host_heartbeat], until_match: true, duration: 5}
  register: heartbeat
- wasmcloud.lattice.wasmcloud_events: {types: [host_stopped], until_match: true, duration: 0.5}
  register: nothing
  ignore_errors: true
""")
    result = playbook(book)
    heartbeat, nothing = result.results()
    assert heartbeat["matched"] and heartbeat["events"][0]["kind"] == "host_heartbeat"
    assert nothing["failed"] and "no event matched" in nothing["msg"]


def test_adhoc_info_with_environment_only(trio):
    env = ansible_env({"WASMCLOUD_NATS_URL": trio.nats_url, "WASMCLOUD_LATTICE_PREFIX": trio.lattice,
                       "WASMCLOUD_AUCTION_TIMEOUT": "0.4"}, callback="default")
    result = run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "wasmcloud.lattice.wasmcloud_lattice_info",
                  "-a", "gather=hosts"], env=env)
    assert result.returncode == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{"):])
    assert sorted(h["id"] for h in data["hosts"]) == sorted(trio.hosts)


def test_ctl_host_and_port_variables_like_wash(trio):
    host, port = trio.nats_url.rsplit("//", 1)[1].split(":")
    env = ansible_env({"WASMCLOUD_CTL_HOST": host, "WASMCLOUD_CTL_PORT": port, "WASMCLOUD_LATTICE_PREFIX": trio.lattice,
                       "WASMCLOUD_AUCTION_TIMEOUT": "0.4"}, callback="default")
    result = run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "wasmcloud.lattice.wasmcloud_lattice_info",
                  "-a", "gather=hosts"], env=env)
    assert result.returncode == 0, result.output
    assert len(json.loads(result.stdout[result.stdout.index("{"):])["hosts"]) == 3


def test_check_mode_sends_no_command_for_any_module(trio, tmp_path):
    actor = "MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO"
    provider = "VD27SVCAN3MAOLSPZRDNWKKFKFCQ6K424MIKMOLCQ4TMHZHPH34XPQBD"
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_provider: {provider_ref: %(http)s, constraints: {zone: a}}
  register: provider
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, constraints: {zone: b}, count: 2}
  register: actor
- wasmcloud.lattice.wasmcloud_link: {actor_id: %(a)s, provider_id: %(p)s, contract_id: "wasmcloud:httpserver"}
  register: link
- wasmcloud.lattice.wasmcloud_host: {host_id: %(h)s, state: stopped}
  register: host
""" % {"http": HTTP, "echo": ECHO, "a": actor, "p": provider, "h": trio.hosts[0]})
    trio.clear_records()
    result = playbook(book, "--check", "--diff")
    assert result.returncode == 0, result.output
    assert all(r["changed"] for r in result.results())
    assert [r["actions"][0]["operation"] for r in result.results()] == [
        "start_provider", "start_actor", "advertise_link", "stop_host"]
    assert commands(trio) == [] and len(trio.hosts) == 3 and trio.links == []


@pytest.fixture
def contract_unreported():
    """A provider image whose contract id the sandbox's inventories do not report, as hosts before OTP 0.60."""
    ref = "wasmcloud.azurecr.io/custom-capability:1.0.0"
    register_image(ref, contract_id="")
    yield ref
    unregister_image(ref)


def test_a_provider_started_with_ref_and_link_name_stops_with_the_same_options(trio, tmp_path, contract_unreported):
    custom = contract_unreported
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_provider:
    provider_ref: %s
    link_name: backend
    constraints: {zone: b}
    state: "{{ state }}"
""" % custom)
    started = playbook(book, "-e", "state=present")
    assert started.returncode == 0, started.output
    host = zone_hosts(trio, "b")[0]
    assert [(p["image_ref"], p["link_name"], p["contract_id"]) for p in trio.inventory(host)["providers"]] == [
        (custom, "backend", "")]
    stopped = playbook(book, "-e", "state=absent")
    assert stopped.returncode == 0, stopped.output
    result = stopped.results()[0]
    assert result["changed"] and [a["operation"] for a in result["actions"]] == ["stop_provider"]
    assert trio.inventory(host)["providers"] == []
    assert [r.body["link_name"] for r in trio.commands() if r.operation == "sp"] == ["backend"]
    trio.clear_records()
    again = playbook(book, "-e", "state=absent")
    assert again.returncode == 0 and not again.results()[0]["changed"] and commands(trio) == []


def test_an_actor_start_refused_half_way_reports_sent_confirmed_and_not_sent(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=3, labels=[{"zone": "a"}] * 3)
    hosts = sorted(lattice.hosts)  # the plan starts host by host in this order
    lattice.hooks(hosts[1]).reject("la", "sandbox: no room for actors")
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, constraints: {zone: a}, count: 3}
""" % ECHO)
    result = playbook(book)
    assert result.returncode == 2, result.output
    failed = result.results()[0]
    assert "rejected the command: sandbox: no room for actors" in failed["msg"]
    assert [a["host_id"] for a in failed["actions"]] == hosts  # the plan
    assert [a["host_id"] for a in failed["sent"]] == hosts[:2]
    assert [a["host_id"] for a in failed["confirmed"]] == hosts[:1]
    assert [a["host_id"] for a in failed["not_sent"]] == hosts[2:]
    assert failed["actor"]["hosts"] == {hosts[0]: {"count": 1, "image_ref": ECHO}} and failed["actor"]["count"] == 1
    assert [r.host_id for r in lattice.commands() if r.operation == "la"] == hosts[:2]
    assert_no_traceback(result)


def test_check_mode_fails_like_the_real_run_when_a_host_runs_the_actor_from_another_tag(trio, tmp_path):
    host = trio.hosts[0]
    assert playbook(write_playbook(tmp_path, trio, "- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s}"
                                   % (ECHO, host), name="first.yml")).returncode == 0
    trio.clear_records()
    book = write_playbook(tmp_path, trio, "- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s}"
                          % (ECHO_NEXT, host))
    checked, real = playbook(book, "--check"), playbook(book)
    assert checked.returncode == real.returncode == 2, checked.output
    message = "already runs on host %s from %s" % (host, ECHO)
    assert message in checked.results()[0]["msg"] and "use a live update" in checked.results()[0]["msg"]
    assert checked.results()[0]["msg"] == real.results()[0]["msg"]
    assert commands(trio) == []
