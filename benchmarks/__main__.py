# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""``python -m benchmarks``: run the benchmarks (see benchmarks/run.py for the options)."""

from __future__ import annotations

import sys

from benchmarks.run import main

sys.exit(main())
