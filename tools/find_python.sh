#!/usr/bin/env bash
# Print the path of a working python<VERSION> (e.g. 3.12): on PATH, else a pyenv installation.
# pyenv's shims answer `command -v python3.12` even when that version is not selected, so each
# candidate is run once to make sure it works.
set -euo pipefail
version="${1:?usage: tools/find_python.sh 3.X}"
candidates=("python$version")
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin; do
    candidates+=("$dir/python$version")
done
for candidate in "${candidates[@]}"; do
    path="$(command -v "$candidate" 2>/dev/null)" || continue
    if "$path" -c 'import sys' >/dev/null 2>&1; then
        echo "$path"
        exit 0
    fi
done
echo "find_python: no working python$version (install it, e.g. with pyenv)" >&2
exit 1
