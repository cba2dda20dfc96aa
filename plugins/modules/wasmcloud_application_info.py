#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_application_info
short_description: Read an application running on a wasmCloud 1.x lattice back as a wadm manifest
version_added: 0.2.0
description:
  - Reads every host's inventory, the lattice's links and the configs they name, and returns the application as
    a wadm manifest (C(core.oam.dev/v1beta1), C(kind Application)) that M(wasmcloud.lattice.wasmcloud_application)
    takes, on this lattice, on an empty one, or on wasmCloud v2 hosts. Changes nothing.
  - The application is what carries its name in the annotation C(wasmcloud.lattice/application) (set by
    M(wasmcloud.lattice.wasmcloud_application)) or C(wasmcloud.dev/appspec) (set by wadm); with
    O(scope=lattice), everything that runs, for a lattice deployed by hand.
  - Components and providers keep their IDs (C(properties.id)) and images. Each gets a spreadscaler that places
    it by the labels of the hosts it runs on (labels C(hostcore.*) left out), one spread per label set, weighted
    by what runs there. Links become link traits with their configs. A config named C(<app>-<config>) (wadm's
    naming) is written with its properties, so applying the manifest puts it again under the same name; any
    other config is referred to by name, and its values are returned in RV(configs) to be put first (with
    M(wasmcloud.lattice.wasmcloud_config)). Secret references (C(SECRET_*)) are left out with a warning.
  - What a lattice does not tell is said in warnings, for example that hosts do not report the named configs a
    component runs with.
  - See C(docs/migrating-to-v2.md) in the collection.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.attributes.info_module
options:
  name:
    description: The application's name; the manifest's C(metadata.name).
    type: str
    required: true
  scope:
    description:
      - V(application) exports what carries the application's annotation; V(lattice) exports everything that
        runs on the lattice, under O(name).
    type: str
    choices: [application, lattice]
    default: application
  version:
    description: The manifest's C(metadata.annotations.version).
    type: str
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Read the shop application as a wadm manifest
  wasmcloud.lattice.wasmcloud_application_info:
    name: shop
  register: shop

- name: Keep it
  ansible.builtin.copy:
    content: "{{ shop.manifest | to_nice_yaml }}"
    dest: shop.wadm.yaml
    mode: "0644"

- name: A lattice deployed by hand, as one application
  wasmcloud.lattice.wasmcloud_application_info:
    name: everything
    scope: lattice
"""

RETURN = r"""
manifest:
  description: The wadm manifest of the application.
  returned: always
  type: dict
configs:
  description: Configs the manifest refers to by name (not named after the application), with their values, to be
    put before the manifest is applied to another lattice.
  returned: always
  type: dict
protocol:
  description: The lattice's wasmCloud generation.
  returned: when known
  type: str
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.exporting import read_application

ARGSPEC = {
    "name": {"type": "str", "required": True},
    "scope": {"type": "str", "choices": ["application", "lattice"], "default": "application"},
    "version": {"type": "str"},
}


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    lattice.run(lambda client: read_application(lattice, client))


if __name__ == "__main__":
    main()
