#!/usr/bin/env bash
# The README's demo: a 3-host sandbox lattice on a fresh nats-server, shown through the inventory plugin,
# the demo application deployed with playbooks/deploy.yml twice (the second run changes nothing), and a
# report of what runs where; then tools/demo_v2.sh: a workload on a real wasmCloud v2 host answering a
# request. Everything started here is stopped by PID at the end.
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

cat >"$work/demo.wasmcloud.yml" <<YAML
plugin: wasmcloud.lattice.hosts
lattice: demo
auction_timeout: 0.5
discovery_stall: 0.25
keyed_groups:
  - key: wasmcloud_labels.zone
    prefix: zone
YAML

echo
echo "== the lattice's hosts through the inventory plugin (ansible-inventory --graph)"
ansible-inventory -i "$work/demo.wasmcloud.yml" --graph

echo
echo "== deploy examples/demo-app.yml with playbooks/deploy.yml (first run: starts, then verifies)"
ansible-playbook playbooks/deploy.yml -e spec_file=examples/demo-app.yml -e app=demo

echo
echo "== second run: nothing to do, no command sent"
ansible-playbook playbooks/deploy.yml -e spec_file=examples/demo-app.yml -e app=demo | tail -n 3

echo
echo "== what runs where: a Markdown and HTML report of the lattice"
ansible-playbook playbooks/report.yml -e report_dir="$ROOT/lattice-report" | tail -n 3
echo "report: $ROOT/lattice-report/lattice.md and lattice.html"
sed -n '1,40p' "$ROOT/lattice-report/lattice.md"

echo
bash "$ROOT/tools/demo_v2.sh"
