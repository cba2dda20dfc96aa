# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Wire dialects, one module per wasmCloud generation (v0 = 0.x, v1 = 1.x, v2 = 2.x).

Private to this collection; may change without notice. A dialect owns what differs
between generations: subjects, bodies, reply envelopes, event decoding.
"""
