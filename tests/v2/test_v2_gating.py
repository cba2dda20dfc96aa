"""Modules of the lattice control interface refuse protocol 2.x before connecting (so nothing is sent)."""

from __future__ import annotations

from ansible_run import assert_no_traceback, playbook

from sandbox.nats_server import free_port

TASKS = {
    "wasmcloud_link": "actor_id: MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5\n"
                      "contract_id: wasmcloud:httpserver\nprovider_id: VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M",
    "wasmcloud_actor": "image_ref: wasmcloud.azurecr.io/echo:0.3.4\nhost_id: NCPGH5CVXBU3TQXIXMNR3KWZQ37QHSKVG6VDS66PV2XWJZ7K6EZ7LXSY",
    "wasmcloud_lattice_info": "{}",
    "wasmcloud_host": "host_id: NCPGH5CVXBU3TQXIXMNR3KWZQ37QHSKVG6VDS66PV2XWJZ7K6EZ7LXSY",
    "wasmcloud_application": "name: shop\nspec: {actors: []}",
}


def test_control_interface_modules_fail_clearly_on_v2_without_connecting(tmp_path):
    # Nothing listens on this port: a module that tried to connect would fail with "cannot connect".
    url = "nats://127.0.0.1:%d" % free_port()
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    for module, args in TASKS.items():
        lines += ["    - name: %s" % module, "      ignore_errors: true",
                  "      wasmcloud.lattice.%s:" % module, "        protocol: 2.x", "        nats_url: %s" % url]
        lines += ["        " + line for line in args.splitlines() if line != "{}"]
    path = tmp_path / "gate.yml"
    path.write_text("\n".join(lines) + "\n")
    result = playbook(path)
    assert_no_traceback(result)
    outcomes = dict(zip(TASKS, result.results()))
    for module, outcome in outcomes.items():
        assert outcome.get("failed"), (module, outcome)
        assert outcome["msg"].startswith("%s does not work with protocol 2.x" % module), outcome["msg"]
        assert outcome["error_type"] == "UnsupportedProtocol"
    assert "components in one workload are linked by their WIT imports and exports" in outcomes["wasmcloud_link"]["msg"]
    assert "wasmcloud_workload" in outcomes["wasmcloud_actor"]["msg"]
