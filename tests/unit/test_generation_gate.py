"""Which module serves which wasmCloud generation: the one gate in LatticeModule."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible.module import (
    CONTROL_INTERFACE,
    V2,
    generation_refusal,
)

CONTROL_MODULES = ["wasmcloud_actor", "wasmcloud_provider", "wasmcloud_link", "wasmcloud_host",
                   "wasmcloud_lattice_info", "wasmcloud_auction", "wasmcloud_events", "wasmcloud_application"]


@pytest.mark.parametrize("module", CONTROL_MODULES)
def test_control_interface_modules_refuse_v2_and_name_the_replacement(module: str) -> None:
    message = generation_refusal(module, "2.x", CONTROL_INTERFACE)
    assert message and message.startswith("%s does not work with protocol 2.x" % module)
    assert "wasmcloud_workload" in message or "wasmcloud_host_info" in message


def test_link_refusal_explains_v2_linking() -> None:
    message = generation_refusal("wasmcloud_link", "2.x", CONTROL_INTERFACE)
    assert "v2 has no links; components in one workload are linked by their WIT imports and exports" in message


@pytest.mark.parametrize("protocol", ["auto", "0.x", "1.x"])
def test_control_interface_modules_serve_their_generations(protocol: str) -> None:
    assert generation_refusal("wasmcloud_actor", protocol, CONTROL_INTERFACE) is None


@pytest.mark.parametrize("protocol", ["0.x", "1.x"])
def test_v2_modules_refuse_the_control_interface(protocol: str) -> None:
    message = generation_refusal("wasmcloud_workload", protocol, V2)
    assert "v2 hosts only" in message and protocol in message


@pytest.mark.parametrize("protocol", ["auto", "2.x"])
def test_v2_modules_take_auto_as_v2(protocol: str) -> None:
    assert generation_refusal("wasmcloud_workload", protocol, V2) is None
