#!/usr/bin/env bash
# Run `ansible-test sanity` offline (PyPI is the only reachable host).
#
#   tools/sanity.sh                      # all sanity tests, on the venv's Python
#   tools/sanity.sh --test pep8 -v       # extra arguments go to ansible-test
#   VENV=.build/matrix/2.16 tools/sanity.sh   # with another line's ansible-test (make matrix does this)
#
# Steps:
#  1. ansible-test bootstraps pip in every venv it creates with a script it
#     downloads from a server we cannot reach. Put pip's wheel (from PyPI) and
#     our stand-in script (tools/get_pip_24_2.py) in its cache instead.
#  2. Copy the collection, minus local state (.venv, .build, .git, outputs,
#     caches), to a temporary ansible_collections/wasmcloud/lattice tree, so
#     the tree scanned is what a clean clone holds.
#  3. Run ansible-test sanity there and return its exit status.
#
# Environment: VENV (default <repo>/.venv, created by `make setup`), SANITY_PYTHON (default: the venv's
# Python version), KEEP_SANITY_TREE=1 to keep the copy. The ignore file is tests/sanity/ignore-<core X.Y>.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${HOME}/.ansible/test/cache"

if [[ ! -x "$VENV/bin/ansible-test" ]]; then
    echo "sanity: $VENV/bin/ansible-test not found; run 'make setup' first" >&2
    exit 2
fi
SANITY_PYTHON="${SANITY_PYTHON:-$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}"
export PATH="$VENV/bin:$PATH"

# The pip version ansible-test bootstraps (23.1.2 for ansible-core 2.16, 24.2 for 2.19, 25.2 for 2.20+).
PIP_VERSION="$("$VENV/bin/python" - <<'PY'
import pathlib, re
import ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
m = re.search(r"pip='([0-9.]+)'", src.read_text())
print(m.group(1) if m else "24.2")
PY
)"

# 1. pip wheel + bootstrap script in ansible-test's cache
mkdir -p "$CACHE"
if ! compgen -G "$CACHE/pip-$PIP_VERSION-*.whl" >/dev/null; then
    echo "sanity: caching pip $PIP_VERSION wheel in $CACHE"
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check \
        --no-deps --only-binary=:all: "pip==$PIP_VERSION" -d "$CACHE"
fi
cp "$ROOT/tools/get_pip_24_2.py" "$CACHE/get_pip_${PIP_VERSION//./_}.py"

# 2. a clean copy laid out as ansible_collections/<namespace>/<name>
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wasmcloud-sanity.XXXXXX")"
if [[ "${KEEP_SANITY_TREE:-0}" == 1 ]]; then
    trap 'echo "sanity: kept $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
DEST="$WORK/ansible_collections/wasmcloud/lattice"
mkdir -p "$DEST"
tar -C "$ROOT" \
    --exclude=./.venv --exclude=./.build --exclude=./.git \
    --exclude=./tests/output --exclude=./benchmarks/results \
    --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache \
    --exclude=.hypothesis --exclude='./*.tar.gz' \
    -cf - . | tar -C "$DEST" -xf -

# 3. run, skipping what tests/sanity/skip-<core X.Y>.txt names (checks only an old ansible-core makes)
CORE_LINE="$("$VENV/bin/python" -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')"
SKIPS=()
if [[ -f "$ROOT/tests/sanity/skip-$CORE_LINE.txt" ]]; then
    while read -r test _reason; do
        [[ -z "$test" || "$test" == \#* ]] && continue
        SKIPS+=(--skip-test "$test")
    done < "$ROOT/tests/sanity/skip-$CORE_LINE.txt"
fi
cd "$DEST"
echo "sanity: ansible-test $("$VENV/bin/ansible-test" --version 2>/dev/null | awk '{print $NF}') on Python $SANITY_PYTHON in $DEST"
start=$SECONDS
status=0
ansible-test sanity --python "$SANITY_PYTHON" --requirements --color no "${SKIPS[@]}" "$@" || status=$?
echo "sanity: finished in $((SECONDS - start)) s with exit status $status"
exit "$status"
