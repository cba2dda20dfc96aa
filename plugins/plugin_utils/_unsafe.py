# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Mark data that came from the lattice as never-to-be-templated.

Private to this collection; may change without notice.

Whatever a host reports (labels above all, but also names, versions and image
references) is chosen by whoever started the host, not by the person running
Ansible. A label value such as ``{{ lookup('pipe', 'id') }}`` must stay a
literal string wherever it ends up. Before ansible-core 2.19 that means
wrapping every string as ``AnsibleUnsafe``; from 2.19 on, strings are only
templated when trusted, and ``wrap_var`` removes any trust a value carries.
Either way ``make_unsafe`` does the right thing for the running version.
"""

from __future__ import annotations

from typing import Any

from ansible.utils.unsafe_proxy import wrap_var


def make_unsafe(value: Any) -> Any:
    """``value`` with every string in it (dict keys included) marked unsafe, recursively.

    Returns new containers; the argument is left untouched.
    """
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return wrap_var(value)
