"""Payloads of the wasmCloud v2 host API as the protocol notes record them from wash 2.10.3 (docs/v2.md)."""

HEARTBEAT_PUBLISHED = (
    '{"id":"01a20bff-2fd1-7a63-b2fb-ee7adb220956","hostname":"probe-host","friendlyName":"greasy-interest-6993",'
    '"version":"2.10.3","labels":{"hostgroup":"default"},"startedAt":"2026-11-24T05:20:03.030895590+00:00",'
    '"osArch":"x86_64","osName":"linux","osKernel":"unix","systemCpuUsage":2.3839397,'
    '"systemMemoryTotal":"25276063744","systemMemoryFree":"24536453120",'
    '"imports":[{"namespace":"wasi","package":"keyvalue","version":"0.2.0-draft","interfaces":["atomics","store","batch"]},'
    '{"namespace":"wasmcloud","package":"postgres","version":"0.1.1-draft","interfaces":["prepared","query","types"]}],'
    '"exports":[{"namespace":"wasmcloud","package":"nats","version":"0.1.2","interfaces":["kv-handler","jetstream-handler",'
    '"core-handler"]}],"httpPort":8390}'
)
# A host with --host-group g1 --environment env-a, no --http-addr, one workload (requested: pretty-printed).
HEARTBEAT_REQUESTED = """{
  "id": "01a20c01-0000-7000-8000-000000000001",
  "hostname": "probe-host",
  "friendlyName": "quiet-river-1234",
  "version": "2.10.3",
  "labels": {
    "hostgroup": "g1"
  },
  "startedAt": "2026-11-24T05:25:00.000000001+00:00",
  "osArch": "x86_64",
  "osName": "linux",
  "osKernel": "unix",
  "systemCpuUsage": 6.7850633,
  "systemMemoryTotal": "25276063744",
  "systemMemoryFree": "24536453120",
  "componentCount": "1",
  "workloadCount": "1",
  "environment": "env-a"
}"""
STATUS_NOT_FOUND = ('{"workloadStatus":{"workloadId":"nope","workloadState":"WORKLOAD_STATE_NOT_FOUND",'
                    '"message":"Workload not found: nope"}}')
STOP_NOT_FOUND = ('{"workloadStatus":{"workloadId":"nope","workloadState":"WORKLOAD_STATE_NOT_FOUND",'
                  '"message":"Workload not found"}}')
STATUS_EMPTY_ID = '{"workloadStatus":{"workloadState":"WORKLOAD_STATE_NOT_FOUND","message":"Workload not found: "}}'
STATUS_RUNNING = '{\n  "workloadStatus": {\n    "workloadId": "w-empty",\n    "workloadState": "WORKLOAD_STATE_RUNNING"\n  }\n}'
START_RUNNING = ('{"workloadStatus":{"workloadId":"w-empty","workloadState":"WORKLOAD_STATE_RUNNING",'
                 '"message":"Workload started successfully"}}')
START_DUPLICATE = ('{"workloadStatus":{"workloadId":"w-empty","workloadState":"WORKLOAD_STATE_ERROR","message":'
                   '"Workload ID [w-empty] already exists (the existing workload must be stopped to reuse the ID)"}}')
START_PULL_FAILED = ('{"workloadStatus":{"workloadId":"w-bad","workloadState":"WORKLOAD_STATE_ERROR","message":'
                     '"failed to pull image for component \'http\': failed to pull component from ghcr.io/x:0.1.0"}}')
STOP_RUNNING = ('{"workloadStatus":{"workloadId":"w-empty","workloadState":"WORKLOAD_STATE_STOPPING",'
                '"message":"Workload stopped successfully"}}')
WORKLOAD_REPLIES = [STATUS_NOT_FOUND, STOP_NOT_FOUND, STATUS_EMPTY_ID, STATUS_RUNNING, START_RUNNING, START_DUPLICATE,
                    START_PULL_FAILED, STOP_RUNNING]
HEARTBEATS = [HEARTBEAT_PUBLISHED, HEARTBEAT_REQUESTED]
