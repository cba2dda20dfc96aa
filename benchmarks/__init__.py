# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Benchmarks of the collection against the sandbox lattice (see benchmarks/README.md).

Run from the repository root: ``.venv/bin/python -m benchmarks [--quick] [--json]``.
"""
