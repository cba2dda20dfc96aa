#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_request
short_description: Send one NATS request to a deployed component and return its reply
version_added: 0.2.0
description:
  - Sends O(body) to O(subject) as a NATS request, as any client of the application would, and returns the
    reply. A component subscribed to the subject answers it (a messaging handler linked to a 1.x messaging
    provider, or a v2 workload with the C(wasmcloud:messaging) host interface), so this checks that the
    application's data plane answers, for example after a move to v2 hosts (C(playbooks/migrate_to_v2.yml)).
  - The connection is the one every module of the collection makes (O(nats_url), TLS, credentials); point
    O(nats_url) at the NATS server the hosts' data connection uses.
  - With O(expect), the task fails unless the reply is exactly that text.
  - The component decides what a request does; the task reports C(changed=false) and is skipped in check mode.
  - Works with every generation (the request goes to a subject, not to a host); O(protocol) is not used.
  - Works with wasmCloud 0.x and 1.x and 2.x.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
options:
  subject:
    description: The subject to send to (dot-separated tokens, no wildcards).
    type: str
    required: true
  body:
    description: The request's body, sent as UTF-8.
    type: str
    default: ""
  expect:
    description: The reply the component must give (compared exactly, as text); the task fails otherwise.
    type: str
attributes:
  check_mode:
    support: none
    description: A request makes a component act; in check mode nothing is sent and the task is skipped.
  diff_mode:
    support: none
    description: Changes nothing the collection tracks, so there is nothing to compare.
notes:
  - O(timeout) is how long to wait for the reply.
  - The reply comes from a peer and is returned as text (UTF-8, invalid bytes replaced), at most 65536 characters
    of it (RV(truncated) says when it was cut, RV(reply_bytes) has its whole size).
seealso:
  - module: wasmcloud.lattice.wasmcloud_deployment
  - module: wasmcloud.lattice.wasmcloud_application
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: The echo component answers on shop.echo
  wasmcloud.lattice.wasmcloud_request:
    nats_url: nats://127.0.0.1:4222
    subject: shop.echo
    body: ping
    expect: ping
    timeout: 5

- name: Ask, and use the reply
  wasmcloud.lattice.wasmcloud_request:
    subject: shop.price
    body: '{"item": 42}'
  register: price
"""

RETURN = r"""
subject:
  description: The subject the request went to.
  returned: always
  type: str
reply:
  description: The reply's body as text.
  returned: success
  type: str
reply_bytes:
  description: The size of the reply's body in bytes.
  returned: success
  type: int
truncated:
  description: Whether RV(reply) holds only the first 65536 characters of the reply.
  returned: success
  type: bool
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import gather
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import reads
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.data_plane import Requester

ARGSPEC = {
    "subject": {"type": "str", "required": True},
    "body": {"type": "str", "default": ""},
    "expect": {"type": "str"},
}


def main() -> None:
    gather(ARGSPEC, options.request, reads.data_plane_request, Requester, supports_check_mode=False)


if __name__ == "__main__":
    main()
