"""Payloads of the 1.x protocol document's examples (docs/protocol-1x.md), as the hosts send them."""

# The document's example host IDs (NUJZDEGX…7V4S, NEH2KVJ7…OJFL) are illustrations that no host could have (a host
# nkey starts with NA to ND and carries a checksum); real ones here, with the same key bytes, since a reply whose host
# ID is no valid nkey is refused as malformed.
H1 = "NAJZDEGXDNCF32EPF3DHODZDOCIS2JHTLGMXGEDN73U55XTPLPFT6SJB"
H2 = "NAH2KVJ72CEUVW75EFR6EDT4SYWB5WKH7DNSIPZZ7FK4ZRI3R2WYPQQM"
HELLO = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"
HTTP = "ghcr.io/wasmcloud/http-server:0.22.0"

PINGS = [
    '{"success":true,"message":"","response":{"ctl_host":"nats://127.0.0.1:4222","friendly_name":"summer-timber-8052",'
    '"id":"%s","labels":{"hostcore.arch":"x86_64","hostcore.os":"linux","hostcore.osfamily":"unix","zone":"eu-1"},'
    '"lattice":"default","rpc_host":"nats://127.0.0.1:4222","uptime_human":"2m 21s","uptime_seconds":141,'
    '"version":"1.7.0"}}' % H1,
    '{"success":true,"message":"","response":{"friendly_name":"wild-night-1017","id":"%s","js_domain":"edge",'
    '"labels":{"hostcore.arch":"aarch64","hostcore.os":"macos","hostcore.osfamily":"unix"},"lattice":"prod",'
    '"uptime_human":"5s","uptime_seconds":5,"version":"1.9.2"}}' % H2,
]

INVENTORIES = [
    '{"success":true,"message":"","response":{"components":[{"annotations":{"wasmcloud.dev/appspec":"hello",'
    '"wasmcloud.dev/managed-by":"wadm"},"id":"hello-http_component","image_ref":"%s","max_instances":1,'
    '"name":"http-hello-world","revision":0}],"friendly_name":"summer-timber-8052","host_id":"%s","labels":'
    '{"hostcore.arch":"x86_64","hostcore.os":"linux","hostcore.osfamily":"unix"},"providers":[{"annotations":{},'
    '"id":"http-server","image_ref":"%s","name":"http-server-provider","revision":0}],"uptime_human":"30s",'
    '"uptime_seconds":30,"version":"1.7.0"}}' % (HELLO, H1, HTTP),
    '{"success":true,"message":"","response":{"components":[],"providers":[],"host_id":"%s","friendly_name":'
    '"wild-night-1017","labels":{"hostcore.os":"linux"},"version":"1.4.0","uptime_human":"0s","uptime_seconds":0}}'
    % H2,
]

ACKS = [
    '{"success":true,"message":""}',
    '{"success":true,"message":"successfully handled stop host"}',
    '{"success":false,"message":"provider with that ID is already running"}',
    '{"success":false,"message":"link already exists with different target, consider deleting the existing link '
    'or using a different link name"}',
    '{"success":false,"message":"unsupported subject"}',
]

COMPONENT_BIDS = [
    '{"success":true,"message":"","response":{"component_ref":"%s","component_id":"hello","host_id":"%s",'
    '"constraints":{"zone":"eu-1"}}}' % (HELLO, H1),
]
PROVIDER_BIDS = [
    '{"success":true,"message":"","response":{"host_id":"%s","provider_ref":"%s","provider_id":"http-server",'
    '"constraints":{}}}' % (H2, HTTP),
]

LINKS = [
    '{"success":true,"message":"","response":[{"source_id":"http-server","target":"hello","name":"default",'
    '"wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"],"source_config":["listen-8080"],'
    '"target_config":[]}]}',
    '{"success":true,"message":"","response":[]}',
]

CLAIMS = [
    '{"success":true,"message":"","response":[{"call_alias":"","iss":"AVFZ5ZFKKIBJ5J6WJIBAGI3MNBQNSPUQ2IDW52IJB4LAJLJ6HDU6GDPM",'
    '"issuer":"AVFZ5ZFKKIBJ5J6WJIBAGI3MNBQNSPUQ2IDW52IJB4LAJLJ6HDU6GDPM","name":"http-hello-world","rev":"0",'
    '"revision":"0","sub":"MJOOA7LQSAJ2XUID5ZZZZG6ZDMEN4KHVDGAJGXBENYJQWX6HH7566TFJ","subject":'
    '"MJOOA7LQSAJ2XUID5ZZZZG6ZDMEN4KHVDGAJGXBENYJQWX6HH7566TFJ","tags":"","version":"0.1.0"}]}',
]

CONFIGS = [
    '{"success":true,"message":"","response":{"address":"0.0.0.0:8080"}}',
    '{"success":true,"message":"Configuration not found"}',
]

EVENTS = [
    '{"specversion":"1.0","id":"01907c3a-5b1e-8d2c-4f61-2a9d7e0b6c13","type":"com.wasmcloud.lattice.component_scaled",'
    '"source":"%s","datacontenttype":"application/json","time":"2024-07-01T12:00:03.512Z","data":{"annotations":{},'
    '"host_id":"%s","image_ref":"%s","max_instances":5,"component_id":"hello"}}' % (H1, H1, HELLO),
    '{"specversion":"1.0","id":"01907c3a-7e40-1b9a-03c5-55d1e2f9a7b0","type":'
    '"com.wasmcloud.lattice.component_scale_failed","source":"%s","datacontenttype":"application/json","time":'
    '"2024-07-01T12:00:04.100Z","data":{"annotations":{},"component_id":"bad","host_id":"%s","image_ref":'
    '"ghcr.io/acme/missing:9.9.9","max_instances":1,"error":"failed to fetch component: not found"}}' % (H1, H1),
    '{"specversion":"1.0","id":"01907c3b-0a11-4c7e-9d02-6e3f1a2b4c5d","type":"com.wasmcloud.lattice.provider_started",'
    '"source":"%s","datacontenttype":"application/json","time":"2024-07-01T12:00:09.000Z","data":{"host_id":"%s",'
    '"image_ref":"%s","provider_id":"http-server","annotations":{},"claims":{"issuer":'
    '"AVFZ5ZFKKIBJ5J6WJIBAGI3MNBQNSPUQ2IDW52IJB4LAJLJ6HDU6GDPM","tags":null,"name":"http-server-provider","version":'
    '"0.22.0","not_before_human":"never","expires_human":"never"},"instance_id":"http-server","public_key":'
    '"http-server","link_name":"default"}}' % (H2, H2, HTTP),
    '{"specversion":"1.0","type":"com.wasmcloud.lattice.provider_stopped","source":"%s","data":{"host_id":"%s",'
    '"provider_id":"http-server","annotations":{},"reason":"stop","instance_id":"http-server","public_key":'
    '"http-server","link_name":"default"}}' % (H2, H2),
    '{"specversion":"1.0","type":"com.wasmcloud.lattice.linkdef_deleted","source":"%s","data":{"source_id":"hello",'
    '"name":"default","wit_namespace":"wasi","wit_package":"keyvalue","target":"kv-redis","interfaces":["store"]}}'
    % H1,
    '{"specversion":"1.0","type":"com.wasmcloud.lattice.config_set","source":"%s","data":{"config_name":"redis-url"}}'
    % H1,
    '{"specversion":"1.0","type":"com.wasmcloud.lattice.labels_changed","source":"%s","data":{"host_id":"%s",'
    '"labels":{"hostcore.os":"linux","zone":"eu-1"}}}' % (H1, H1),
    '{"specversion":"1.0","type":"com.wasmcloud.lattice.host_started","source":"%s","data":{"friendly_name":'
    '"summer-timber-8052","labels":{"zone":"eu-1"},"uptime_seconds":0,"version":"1.7.0"}}' % H1,
]
