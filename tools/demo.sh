#!/usr/bin/env bash
# The README's demo: a 3-host sandbox lattice on a fresh nats-server, the demo playbook run twice
# (the second run changes nothing), then everything started here is stopped by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV_BIN="$ROOT/.venv/bin"
work="$(mktemp -d)"
state="$work/sandbox.json"

stop_sandbox() {
    if [[ -f "$state" ]]; then
        "$VENV_BIN/python" -m sandbox down --state-file "$state" >/dev/null 2>&1 || true
    fi
    if [[ -n "${sandbox_pid:-}" ]] && kill -0 "$sandbox_pid" 2>/dev/null; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_sandbox EXIT

echo "== starting a sandbox lattice: nats-server + 3 emulated wasmCloud hosts (zones a, a, b)"
"$VENV_BIN/python" -m sandbox up --hosts 3 --labels-per-host 'zone=a;zone=a;zone=b' --lattice demo \
    --state-file "$state" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _try in $(seq 100); do
    [[ -s "$state" ]] && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log"; exit 1; }
    sleep 0.1
done
head -n 4 "$work/sandbox.log"

export WASMCLOUD_NATS_URL
WASMCLOUD_NATS_URL="$("$VENV_BIN/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["nats_url"])' "$state")"
export WASMCLOUD_LATTICE_PREFIX=demo WASMCLOUD_AUCTION_TIMEOUT=0.5
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.build/collections" ANSIBLE_PYTHON_INTERPRETER="$VENV_BIN/python"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false PATH="$VENV_BIN:$PATH"

echo
echo "== first run: starts the provider, the actors and the link"
ansible-playbook playbooks/demo.yml
echo
echo "== second run: nothing to do, no command sent"
ansible-playbook playbooks/demo.yml | tail -n 3
