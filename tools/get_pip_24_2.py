# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Offline replacement for the pip bootstrap script that ansible-test downloads.

ansible-test bootstraps pip in each virtual environment it creates by running
``~/.ansible/test/cache/get_pip_<X_Y>.py``, normally fetched from a file server
this machine cannot reach. tools/sanity.sh copies this file there under that
name, next to the matching pip wheel (``pip-<X.Y>-*.whl``), and this script
installs pip from that wheel with the options ansible-test passes.
"""

from __future__ import annotations

import glob
import os
import sys


def main() -> int:
    """Install pip from the wheel cached beside this script."""
    here = os.path.dirname(os.path.abspath(__file__))
    # The version comes from our own name: get_pip_24_2.py -> 24.2
    stem = os.path.splitext(os.path.basename(__file__))[0]
    version = stem[len("get_pip_"):].replace("_", ".")
    wheels = sorted(glob.glob(os.path.join(here, "pip-%s-*.whl" % version)))
    if not wheels:
        sys.stderr.write("no pip-%s wheel in %s; run tools/sanity.sh, which downloads it\n" % (version, here))
        return 1
    wheel = wheels[-1]

    # pip runs from its own wheel: a wheel is a zip file Python can import from.
    sys.path.insert(0, wheel)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = []
    for arg in sys.argv[1:]:
        if arg in ("--no-setuptools", "--no-wheel"):
            continue  # options of get-pip.py itself, unknown to `pip install`
        args.append(wheel if arg.startswith("pip==") else arg)
    return pip_main(["install", "--upgrade", "--force-reinstall"] + args)


if __name__ == "__main__":
    sys.exit(main())
