"""wasmcloud_application through real ansible-playbook runs against the sandbox."""

from __future__ import annotations

import json
import os

import yaml

from ansible_run import assert_no_traceback, playbook, write_playbook

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
KV_ACTOR = "wasmcloud.azurecr.io/kvcounter:0.3.0"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"
OWNER = "wasmcloud.lattice/application"


def spec(counter=True, echo_count=3):
    actors = [{"name": "echo", "image_ref": ECHO, "count": echo_count, "constraints": {"zone": "a"}}]
    links = [{"actor": "echo", "provider": "http", "contract_id": "wasmcloud:httpserver", "values": {"PORT": "8080"}}]
    if counter:
        actors.append({"name": "counter", "image_ref": KV_ACTOR, "count": 1, "constraints": {"zone": "b"}})
        links.append({"actor": "counter", "provider": "http", "contract_id": "wasmcloud:httpserver",
                      "link_name": "default", "values": {"PORT": "8081"}})
    return {"providers": [{"name": "http", "provider_ref": HTTP, "contract_id": "wasmcloud:httpserver",
                           "constraints": {"zone": "a"}, "configuration": {"tls": False}}],
            "actors": actors, "links": links}


def book(tmp_path, lattice, app_spec, extra=""):
    (tmp_path / "app.yml").write_text(yaml.safe_dump(app_spec))
    return write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec_file: %s/app.yml
%s""" % (tmp_path, extra))


def instances(lattice, ref):
    return {h: sum(len(a["instances"]) for a in lattice.inventory(h)["actors"] if a["image_ref"] == ref)
            for h in lattice.hosts}


def test_converge_once_then_nothing_then_prune_and_remove(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])
    checked = playbook(book(tmp_path, lattice, spec()), "--check")
    assert checked.returncode == 0, checked.output
    planned = checked.results()[0]["actions"]
    assert [a["operation"] for a in planned] == ["start_provider", "start_actor", "start_actor", "start_actor",
                                                 "advertise_link", "advertise_link"]
    assert lattice.commands() == []

    first = playbook(book(tmp_path, lattice, spec()), "--diff")
    assert first.returncode == 0, first.output
    result = first.results()[0]
    assert result["changed"] and len(lattice.links) == 2
    assert sum(instances(lattice, ECHO).values()) == 3 and sum(instances(lattice, KV_ACTOR).values()) == 1
    assert result["application"]["actors"]["echo"]["actor_id"].startswith("M")
    assert {link["values"]["PORT"] for link in result["application"]["links"]} == {"8080", "8081"}
    order = [r.operation for r in lattice.commands()]
    assert order.index("lp") < order.index("la") < order.index("linkdefs.put")  # providers, actors, links

    lattice.clear_records()
    second = playbook(book(tmp_path, lattice, spec()))
    assert second.returncode == 0 and not second.results()[0]["changed"]
    assert second.results()[0]["actions"] == [] and lattice.commands() == []

    pruned = playbook(book(tmp_path, lattice, spec(counter=False), "    prune: true\n"))
    assert pruned.returncode == 0, pruned.output
    ops = sorted(a["operation"] for a in pruned.results()[0]["actions"])
    assert ops == ["remove_link", "stop_actor"] and sum(instances(lattice, KV_ACTOR).values()) == 0
    assert len(lattice.links) == 1

    removed = playbook(book(tmp_path, lattice, spec(counter=False), "    state: absent\n"))
    assert removed.returncode == 0, removed.output
    assert sum(instances(lattice, ECHO).values()) == 0 and lattice.links == []
    assert all(lattice.inventory(h)["providers"] == [] for h in lattice.hosts)


def test_other_applications_are_left_alone(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=2, labels=[{"zone": "a"}, {"zone": "b"}])
    host = lattice.hosts[0]
    other = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: %s, count: 2, annotations: {%s: other}}
""" % (ECHO, host, OWNER), name="other.yml")
    assert playbook(other).returncode == 0
    app = {"actors": [{"name": "echo", "image_ref": ECHO, "count": 1, "host_id": host}]}
    first = playbook(book(tmp_path, lattice, app, "    prune: true\n"))
    assert first.returncode == 0, first.output
    assert instances(lattice, ECHO)[host] == 3  # the other application's two are not counted, pruned or stopped
    gone = playbook(book(tmp_path, lattice, app, "    state: absent\n"))
    assert gone.returncode == 0 and instances(lattice, ECHO)[host] == 2


def test_a_bad_spec_points_at_the_entry_and_sends_nothing(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=1)
    bad = {"actors": [{"name": "echo", "image_ref": ECHO}, {"name": "broken", "image_ref": ECHO, "count": "many"}]}
    result = playbook(book(tmp_path, lattice, bad))
    assert result.returncode == 2
    assert "spec.actors[1].count" in result.results()[0]["msg"]
    assert lattice.records == []
    assert_no_traceback(result)


def test_a_failed_start_fails_the_task_with_the_hosts_error(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=1)
    app = {"actors": [{"name": "ghost", "image_ref": "wasmcloud.azurecr.io/missing:1.0.0"}]}
    result = playbook(book(tmp_path, lattice, app, "    wait_timeout: 5\n"))
    assert result.returncode == 2
    assert "manifest unknown" in result.results()[0]["msg"]
    assert_no_traceback(result)


def test_a_new_tag_in_the_spec_is_a_live_update(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=2, labels=[{"zone": "a"}, {"zone": "a"}])
    newer = "wasmcloud.azurecr.io/echo:0.3.5"
    app = {"actors": [{"name": "echo", "image_ref": ECHO, "count": 2, "constraints": {"zone": "a"}}]}
    assert playbook(book(tmp_path, lattice, app)).returncode == 0
    app["actors"][0]["image_ref"] = newer
    updated = playbook(book(tmp_path, lattice, app))
    assert updated.returncode == 0, updated.output
    assert {a["operation"] for a in updated.results()[0]["actions"]} == {"update_actor"}
    assert sum(instances(lattice, newer).values()) == 2 and sum(instances(lattice, ECHO).values()) == 0
    lattice.clear_records()
    assert not playbook(book(tmp_path, lattice, app)).results()[0]["changed"] and lattice.commands() == []
    app["actors"][0]["image_ref"] = ECHO  # going back means a lower revision: the hosts refuse, and say so
    refused = playbook(book(tmp_path, lattice, app))
    assert refused.returncode == 2 and "Unable to perform live update" in refused.results()[0]["msg"]
    assert_no_traceback(refused)


def test_spec_files_yaml_would_misread_wrong_shapes_and_fighting_entries_are_refused(sandbox_lattice, tmp_path):
    """Each spec file below is refused with where the problem is, and nothing reaches the lattice."""
    lattice = sandbox_lattice(hosts=1)
    files = {
        "octal.yml": "actors: [{name: echo, image_ref: %s, count: 010}]\n" % ECHO,
        "no.yml": "providers: [{name: http, provider_ref: %s, link_name: no}]\n" % HTTP,
        "version.yml": "actors: [{name: echo, image_ref: %s, annotations: {version: 1.10}}]\n" % ECHO,
        "clock.yml": "actors: [{name: echo, image_ref: %s, annotations: {at: 12:30:00}}]\n" % ECHO,
        "dict.yml": "actors: {}\n",
        "twice.yml": "actors: [{name: a, image_ref: %s, count: 2}, {name: b, image_ref: %s, count: 3}]\n" % (ECHO, ECHO),
        "providers.yml": "providers: [{name: p, provider_ref: %s}, {name: q, provider_ref: %s}]\n" % (HTTP, HTTP),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "latin.yml").write_bytes("actors: [{name: caf\xe9, image_ref: %s}]\n".encode("latin-1") % ECHO.encode())
    (tmp_path / "folder.yml").mkdir()
    names = list(files) + ["latin.yml", "folder.yml"]
    tasks = "".join("""
- wasmcloud.lattice.wasmcloud_application: {name: shop, spec_file: "%s/%s"}
  ignore_errors: true
""" % (tmp_path, name) for name in names)
    result = playbook(write_playbook(tmp_path, lattice, tasks))
    assert result.returncode == 0, result.output
    messages = dict(zip(names, (r["msg"] for r in result.results())))
    assert "spec.actors[0].count is written 010, which YAML reads as the number 8" in messages["octal.yml"]
    assert "spec.providers[0].link_name is written no, which YAML reads as a boolean" in messages["no.yml"]
    assert "spec.actors[0].annotations.version is written 1.10, which YAML reads as the number 1.1" \
        in messages["version.yml"]
    assert "spec.actors[0].annotations.at is written 12:30:00, which YAML reads as the number 45000" \
        in messages["clock.yml"]
    assert messages["dict.yml"] == "spec.actors must be a list, got dict"
    assert "spec.actors[0] (a) and spec.actors[1] (b) both ask for actor wasmcloud.azurecr.io/echo" \
        in messages["twice.yml"]
    assert "spec.providers[0] (p) and spec.providers[1] (q) both ask for provider %s under link name default" \
        % HTTP in messages["providers.yml"]
    assert "is not UTF-8 text" in messages["latin.yml"]
    assert messages["folder.yml"].endswith("folder.yml is a directory, not a YAML file")
    assert lattice.records == []
    assert_no_traceback(result)


def test_a_command_refused_half_way_reports_what_was_sent_confirmed_and_not_sent(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=2, labels=[{"zone": "a"}, {"zone": "b"}])
    first, second = lattice.hosts
    lattice.hooks(second).reject("la", "sandbox: no room for actors")
    app = {"providers": [{"name": "http", "provider_ref": HTTP, "host_id": first}],
           "actors": [{"name": "echo", "image_ref": ECHO, "host_id": first},
                      {"name": "counter", "image_ref": KV_ACTOR, "host_id": second}],
           "links": [{"actor": "echo", "provider": "http", "contract_id": "wasmcloud:httpserver"}]}
    result = playbook(book(tmp_path, lattice, app))
    assert result.returncode == 2, result.output
    failed = result.results()[0]
    assert "rejected the command: sandbox: no room for actors" in failed["msg"]

    def ops(key):
        return [(a["operation"], a.get("host_id")) for a in failed[key]]

    assert ops("sent") == [("start_provider", first), ("start_actor", first), ("start_actor", second)]
    assert ops("confirmed") == [("start_provider", first), ("start_actor", first)]
    assert [a["operation"] for a in failed["not_sent"]] == ["advertise_link"] and lattice.links == []
    # what is left running, read again after the refusal
    assert failed["application"]["actors"]["echo"]["hosts"] == {first: {"count": 1, "image_ref": ECHO}}
    assert failed["application"]["actors"]["counter"]["hosts"] == {}
    assert list(failed["application"]["providers"]["http"]["hosts"]) == [first]
    assert_no_traceback(result)


def test_diff_compares_like_with_like(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])
    planned = playbook(book(tmp_path, lattice, spec(counter=False)), "--check", "--diff").results()[0]["diff"]
    assert planned["before"]["links"] == [] and len(planned["after"]["links"]) == 1  # the link it will create
    assert '""' not in yaml.safe_dump(planned["after"], default_style='"')  # unknown keys are null, not ""
    assert planned["before"].keys() == planned["after"].keys()
    assert playbook(book(tmp_path, lattice, spec(counter=False))).returncode == 0
    diff = playbook(book(tmp_path, lattice, spec(counter=False, echo_count=4)), "--diff").results()[0]["diff"]
    assert diff["before"]["providers"] == diff["after"]["providers"]  # unchanged: shown as unchanged
    assert diff["before"]["links"] == diff["after"]["links"] and diff["after"]["links"][0]["values"] == {"PORT": "8080"}
    before, after = diff["before"]["actors"]["echo"], diff["after"]["actors"]["echo"]
    assert before["actor_id"] == after["actor_id"] and before["actor_id"].startswith("M")
    assert sum(v["count"] for v in before["hosts"].values()) == 3 and sum(v["count"] for v in after["hosts"].values()) == 4


def test_hostile_spec_files_are_refused_quickly_by_the_module_and_the_lookup(sandbox_lattice, tmp_path):
    """A FIFO (would block), /dev/zero (would never end), a billion laughs (629 bytes for billions of values),
    100,000-deep nesting and a key written twice: each is refused with what is wrong, and nothing is sent."""
    lattice = sandbox_lattice(hosts=1)
    os.mkfifo(str(tmp_path / "pipe.yml"))
    laughs = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
        "a%d: &a%d [%s]\n" % (n, n, ", ".join(["*a%d" % (n - 1)] * 9)) for n in range(1, 10))
    (tmp_path / "laughs.yml").write_text(laughs)
    (tmp_path / "deep.yml").write_text("actors: " + "[" * 100000 + "]" * 100000 + "\n")
    (tmp_path / "twice.yml").write_text("actors:\n- name: echo\n  image_ref: %s\n  image_ref: %s\n" % (ECHO, KV_ACTOR))
    names = ["pipe.yml", "/dev/zero", "laughs.yml", "deep.yml", "twice.yml"]
    paths = [name if name.startswith("/") else "%s/%s" % (tmp_path, name) for name in names]
    tasks = "".join("""
- wasmcloud.lattice.wasmcloud_application: {name: shop, spec_file: "%s"}
  ignore_errors: true
- ansible.builtin.set_fact: {read: "{{ lookup('wasmcloud.lattice.spec_file', '%s') }}"}
  ignore_errors: true
""" % (path, path) for path in paths)
    result = playbook(write_playbook(tmp_path, lattice, tasks))
    assert result.returncode == 0, result.output
    outcomes = result.results()
    assert all(r.get("failed") for r in outcomes), outcomes
    messages = dict(zip(names, zip(*[iter(r["msg"] for r in outcomes)] * 2)))  # (module, lookup) per file
    expected = {
        "pipe.yml": "pipe.yml is a named pipe (FIFO), not a regular file",
        "/dev/zero": "/dev/zero is a character device, not a regular file",
        "laughs.yml": "uses more than 32 YAML aliases",
        "deep.yml": "nests mappings and lists more than 64 levels deep",
        "twice.yml": "spec.actors[0] has the key 'image_ref' twice (lines 3 and 4)",
    }
    for name, text in expected.items():
        module, lookup = messages[name]
        assert text in module and text in lookup, (name, module, lookup)
    assert lattice.records == []
    assert_no_traceback(result)


def test_a_timeout_names_only_the_events_still_missing(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=2)
    quick, slow = lattice.hosts
    lattice.hooks(slow).start_delay = 6.0
    app = {"actors": [{"name": "echo", "image_ref": ECHO, "host_id": quick},
                      {"name": "counter", "image_ref": KV_ACTOR, "host_id": slow}]}
    result = playbook(book(tmp_path, lattice, app, "    wait_timeout: 2\n"))
    assert result.returncode == 2, result.output
    failed = result.results()[0]
    assert "timed out after" in failed["msg"], failed["msg"]
    assert "actor_started for %s on host %s" % (KV_ACTOR, slow) in failed["msg"]
    assert ECHO not in failed["msg"] and quick not in failed["msg"], failed["msg"]  # it arrived: not "waited for"
    assert [a["operation"] for a in failed["confirmed"]] == ["start_actor"]
    assert {p["expected"]: p["reached"] for p in failed["partial"]["parts"]} == {
        "1 actor_started for %s on host %s" % (ECHO, quick): 1, "1 actor_started for %s on host %s" % (KV_ACTOR, slow): 0}
    assert_no_traceback(result)


# -- two applications sharing an actor and a provider (0.x) --------------------------------------------------

KV_PROVIDER = "wasmcloud.azurecr.io/kvredis:0.16.3"


def test_two_specs_sharing_an_actor_keep_each_others_links_and_provider(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=1)
    host = lattice.hosts[0]
    http = {"name": "http", "provider_ref": HTTP, "contract_id": "wasmcloud:httpserver", "host_id": host}
    echo = {"name": "echo", "image_ref": ECHO, "count": 1, "host_id": host}
    to_http = {"actor": "echo", "provider": "http", "contract_id": "wasmcloud:httpserver", "values": {"PORT": "8080"}}
    specs = {
        "shop": {"providers": [http], "actors": [echo], "links": [to_http]},
        "blog": {"providers": [http, {"name": "kv", "provider_ref": KV_PROVIDER, "contract_id": "wasmcloud:keyvalue",
                                      "host_id": host}],
                 "actors": [echo],
                 "links": [to_http, {"actor": "echo", "provider": "kv", "contract_id": "wasmcloud:keyvalue"}]},
    }
    books = {}
    for name, app_spec in specs.items():
        (tmp_path / ("%s.yml" % name)).write_text(yaml.safe_dump(app_spec))
        books[name] = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_application:
    name: %s
    spec_file: %s/%s.yml
    prune: true
    state: "{{ state | default('present') }}"
""" % (name, tmp_path, name), name="%s-play.yml" % name)
    for name in ("shop", "blog"):
        assert playbook(books[name]).returncode == 0
    contracts = sorted(link["contract_id"] for link in lattice.links)
    assert contracts == ["wasmcloud:httpserver", "wasmcloud:keyvalue"]
    # each prune leaves the other application's link of the shared actor alone: nothing flaps
    lattice.clear_records()
    for name in ("shop", "blog", "shop"):
        again = playbook(books[name])
        assert again.returncode == 0, again.output
        assert not again.results()[0]["changed"], again.results()[0]["actions"]
    assert lattice.commands() == [] and sorted(link["contract_id"] for link in lattice.links) == contracts

    # absent of the application that started the provider keeps it and the link the other one uses
    gone = playbook(books["shop"], "-e", "state=absent")
    assert gone.returncode == 0, gone.output
    warnings = gone.results()[0]["warnings"]
    assert any("is kept: application(s) 'blog' run the actor too" in w for w in warnings), warnings
    assert any("is left running: actors of application(s) 'blog' are still linked to it" in w for w in warnings)
    assert instances(lattice, ECHO)[host] == 1 and sorted(l["contract_id"] for l in lattice.links) == contracts
    assert [p["image_ref"] for p in lattice.inventory(host)["providers"]].count(HTTP) == 1
    lattice.clear_records()
    still = playbook(books["blog"])
    assert still.returncode == 0 and not still.results()[0]["changed"] and lattice.commands() == []


def test_check_mode_after_a_new_tag_plans_the_update_and_no_link_that_exists(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=1)
    app = spec(counter=False, echo_count=1)
    app["actors"][0].pop("constraints")
    app["providers"][0].pop("constraints")
    assert playbook(book(tmp_path, lattice, app)).returncode == 0
    app["actors"][0]["image_ref"] = "wasmcloud.azurecr.io/echo:0.3.5"
    checked = playbook(book(tmp_path, lattice, app), "--check", "--diff")
    assert checked.returncode == 0, checked.output
    result = checked.results()[0]
    assert [a["operation"] for a in result["actions"]] == ["update_actor"], result["actions"]
    assert result["diff"]["before"]["links"] == result["diff"]["after"]["links"] != []
    applied = playbook(book(tmp_path, lattice, app))
    assert applied.returncode == 0 and [a["operation"] for a in applied.results()[0]["actions"]] == ["update_actor"]


def stop_one_instance(lattice, host, actor_id, owner):
    """What a concurrent run of the same spec does: one stop command for one of the application's instances."""
    import asyncio

    import nats

    async def stop():
        client = await nats.connect(lattice.nats_url)
        try:
            subject = "wasmbus.ctl.%s.cmd.%s.sa" % (lattice.lattice, host)
            body = {"actor_ref": actor_id, "count": 1, "annotations": {OWNER: owner}}
            reply = await client.request(subject, json.dumps(body).encode(), timeout=5)
            assert json.loads(reply.data).get("accepted"), reply.data
        finally:
            await client.close()

    asyncio.run(stop())


def test_a_scale_down_reads_the_host_again_and_does_not_stop_what_a_concurrent_run_stopped(sandbox_lattice, tmp_path):
    import subprocess
    import time

    from ansible_run import BIN, ansible_env

    lattice = sandbox_lattice(hosts=2)
    first, second = lattice.hosts
    app = {"actors": [{"name": "echo", "image_ref": ECHO, "count": 3, "host_id": first}]}
    assert playbook(book(tmp_path, lattice, app)).returncode == 0
    actor_id = lattice.inventory(first)["actors"][0]["id"]
    # the run under test: a start on the second host whose reply takes a while, then echo 3 -> 2 on the first
    app = {"actors": [{"name": "counter", "image_ref": KV_ACTOR, "host_id": second},
                      {"name": "echo", "image_ref": ECHO, "count": 2, "host_id": first}]}
    lattice.hooks(second).delay("la", 4.0)
    path = book(tmp_path, lattice, app, "    timeout: 20\n")
    lattice.clear_records()
    run = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ansible_env())
    try:
        deadline = time.monotonic() + 60
        while not any(r.operation == "la" and r.host_id == second for r in lattice.records):
            assert run.poll() is None and time.monotonic() < deadline, "the run never sent its start"
            time.sleep(0.05)
        stop_one_instance(lattice, first, actor_id, "shop")  # meanwhile, another run scaled 3 -> 2
        stdout, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, stdout + stderr
    result = json.loads(stdout[stdout.index("{"):])["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert [(a["operation"], a["count"]) for a in result["not_needed"]] == [("stop_actor", 1)]
    assert [a["operation"] for a in result["sent"]] == ["start_actor"]
    assert instances(lattice, ECHO)[first] == 2  # not 1
