"""The generation gate between 0.x and 1.x: which module serves which lattice, and what to use instead."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import MODULES, generation_refusal


def test_actor_on_1x_names_wasmcloud_component():
    message = generation_refusal("wasmcloud_actor", "1.x", MODULES["wasmcloud_actor"])
    assert message.startswith("wasmcloud_actor does not work with wasmCloud 1.x lattices")
    assert "wasmcloud.lattice.wasmcloud_component" in message


@pytest.mark.parametrize("module,instead", [
    ("wasmcloud_component", "wasmcloud_actor"),
    ("wasmcloud_config", "wasmcloud_link"),
    ("wasmcloud_label", "HOST_"),
])
def test_1x_modules_on_0x_say_what_to_use(module, instead):
    message = generation_refusal(module, "0.x", MODULES[module])
    assert "does not work with wasmCloud 0.x lattices" in message and instead in message


@pytest.mark.parametrize("protocol", ["auto", "0.x", "1.x"])
def test_modules_of_both_generations_serve_both_and_auto_waits_for_detection(protocol):
    assert generation_refusal("wasmcloud_provider", protocol, MODULES["wasmcloud_provider"]) is None
    assert generation_refusal("wasmcloud_actor", "auto", MODULES["wasmcloud_actor"]) is None
