"""Which module serves which wasmCloud generation: the capability table, read by the one gate in LatticeModule."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import (
    CONTROL_INTERFACE,
    MODULES,
    V2,
    generation_refusal,
)

CONTROL_MODULES = sorted(module for module, generations in MODULES.items() if V2 not in generations)


def test_the_table_has_the_modules_that_ran_on_the_control_interface() -> None:
    assert {"wasmcloud_actor", "wasmcloud_provider", "wasmcloud_link", "wasmcloud_host", "wasmcloud_lattice_info",
            "wasmcloud_auction", "wasmcloud_events"} <= set(CONTROL_MODULES)


def test_the_application_module_serves_every_generation_its_options_choose() -> None:
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import serves, targets_v2

    assert MODULES["wasmcloud_application"] == ("0.x", "1.x", "2.x")
    assert serves("wasmcloud_application", {"spec": {"actors": []}}) == ("0.x",)
    assert serves("wasmcloud_application", {"manifest": {"kind": "Application"}}) == ("1.x", "2.x")
    assert serves("wasmcloud_application", {"manifest": {}, "label_map": {"zone": "hostgroup"}}) == ("2.x",)
    # a spec on v2 hosts is refused, naming what to give instead
    message = generation_refusal("wasmcloud_application", V2, ("0.x",))
    assert "an application spec describes actors, which v2 hosts cannot run" in message
    assert targets_v2("2.x", ("1.x", "2.x")) and targets_v2("auto", ("2.x",))
    assert not targets_v2("auto", ("1.x", "2.x")) and not targets_v2("1.x", ("1.x", "2.x"))


@pytest.mark.parametrize("module", CONTROL_MODULES)
def test_control_interface_modules_refuse_v2_and_name_the_replacement(module: str) -> None:
    message = generation_refusal(module, V2, MODULES[module])
    assert message and message.startswith("%s does not work with protocol 2.x" % module)
    assert "wasmcloud_workload" in message or "wasmcloud_host_info" in message


def test_link_refusal_explains_v2_linking() -> None:
    message = generation_refusal("wasmcloud_link", V2, MODULES["wasmcloud_link"])
    assert "v2 has no links; components in one workload are linked by their WIT imports and exports" in message


@pytest.mark.parametrize("module", CONTROL_MODULES)
@pytest.mark.parametrize("protocol", ["auto"] + list(CONTROL_INTERFACE))
def test_control_interface_modules_serve_their_generations(module: str, protocol: str) -> None:
    refusal = generation_refusal(module, protocol, MODULES[module])
    assert (refusal is None) == (protocol == "auto" or protocol in MODULES[module]), refusal


def test_wasmcloud_actor_serves_0x_only() -> None:
    assert MODULES["wasmcloud_actor"] == ("0.x",)


@pytest.mark.parametrize("protocol", ["0.x", "1.x"])
def test_v2_modules_refuse_the_control_interface(protocol: str) -> None:
    message = generation_refusal("wasmcloud_workload", protocol, MODULES["wasmcloud_workload"])
    assert "v2 hosts only" in message and protocol in message


@pytest.mark.parametrize("protocol", ["auto", "2.x"])
def test_v2_modules_take_auto_as_v2(protocol: str) -> None:
    assert generation_refusal("wasmcloud_workload", protocol, MODULES["wasmcloud_workload"]) is None
