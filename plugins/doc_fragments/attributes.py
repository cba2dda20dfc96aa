# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """Attributes shared by the modules that only read the lattice."""

    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: Reads only, so it runs the same way in check mode.
  diff_mode:
    support: none
    description: Reads only, so there is nothing to compare.
"""
