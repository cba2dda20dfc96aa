# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
