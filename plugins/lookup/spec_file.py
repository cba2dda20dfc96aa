# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: spec_file
short_description: Read an application spec or wadm manifest from a YAML file, values kept as written
version_added: 0.2.0
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
description:
  - Reads a YAML file on the controller and returns the document it holds, read exactly as
    M(wasmcloud.lattice.wasmcloud_application) reads O(wasmcloud.lattice.wasmcloud_application#module:spec_file).
  - >-
    A plain (unquoted) value that YAML 1.1 would read as something other than what is written is refused with
    where it is, for example C(count: 010) (octal 8), C(link_name: no) (a boolean), C(version: 1.10) (the
    number 1.1) or C(12:30:00) (45000). The C(from_yaml) filter would silently pass the reading on; quote such
    values to keep them.
  - The role C(wasmcloud.lattice.application) reads C(wasmcloud_application_spec_file) with it.
options:
  _terms:
    description:
      - Path of the file, absolute or relative to the directory C(ansible-playbook) runs in. One path per term.
    required: true
    type: list
    elements: path
  root:
    description:
      - How messages name the top of the document, V(spec) (C(spec.actors[0].count)); an empty string names
        paths from the top (C(spec.components[0])), as for a wadm manifest.
    type: str
    default: spec
notes:
  - The file must be UTF-8 text. PyYAML is needed on the controller (ansible-core depends on it).
  - The file must be a regular file (not a FIFO or a device) of at most 1 MiB. Nesting deeper than 64 levels, more
    than 32 YAML aliases (or aliases that expand to more than 100,000 values) and a key written twice in one
    mapping are refused, naming where.
seealso:
  - module: wasmcloud.lattice.wasmcloud_application
"""

EXAMPLES = r"""
- name: Apply the spec in apps/shop.yml
  wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec: "{{ lookup('wasmcloud.lattice.spec_file', 'apps/shop.yml') }}"

- name: Read a wadm manifest, its problems named from the top of the document
  ansible.builtin.set_fact:
    manifest: "{{ lookup('wasmcloud.lattice.spec_file', 'hello.wadm.yaml', root='') }}"
"""

RETURN = r"""
_raw:
  description: The document each file holds (a mapping for a spec or a manifest), one per term.
  type: list
  elements: raw
"""

from typing import Any, List, Optional

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import read_spec_file


class LookupModule(LookupBase):
    def run(self, terms: List[Any], variables: Optional[dict] = None, **kwargs: Any) -> List[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        root = self.get_option("root")
        documents = []
        for term in terms:
            if not isinstance(term, str) or not term:
                raise AnsibleLookupError("wasmcloud.lattice.spec_file takes file paths, got %r" % (term,))
            try:
                documents.append(read_spec_file(term, "file", root))
            except InputError as exc:
                raise AnsibleLookupError(str(exc))
        return documents
