"""Keys and payloads of §11 of the 0.x protocol document, with the shortened keys written out."""

H1 = "NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7"
H2 = "NCRQZLDSSOOF5J2ZQVBXEWYAI3YU3SAURPD7P7C4DAJC6GIVWKJWRIBR"
CLUSTER = "CAHXM5T3MAYDKQI6RGRTULXHJTDYNDFOV5NGRCNLYMSVCTXCMPEJCGMY"
A1 = "MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO"
A2 = "MBYXUCUNUFC44HXHTRE3HO2JVZLUZEPWL2FUR5TGZEJCM3PPBH2K5YNE"
P1 = "VD27SVCAN3MAOLSPZRDNWKKFKFCQ6K424MIKMOLCQ4TMHZHPH34XPQBD"
P2 = "VCJF52ETU2U66AZF2GZ5DK7FJ6F2P7JHXHG6NGH54KT7D47ZJVE5ZZMX"
ISSUER = "AANM2MREGQSMTQIK2A2UEMTRN4SYRZUBLTMTJOZDETINA645D5H63VEU"


def expand(text: str) -> bytes:
    """Write the document's placeholders (H1, "CAHX…CGMY", ...) out as the full keys."""
    for short, full in (("H1", H1), ("H2", H2), ("A1", A1), ("A2", A2), ("P1", P1), ("P2", P2)):
        text = text.replace('"%s"' % short, '"%s"' % full)
    return text.replace("CAHX…CGMY", CLUSTER).replace("AANM…3VEU", ISSUER).encode("utf-8")


HOST_REPLIES = [
    '{"id":"H1","uptime_seconds":42}',
    '{"id":"H1","issuer":"CAHX…CGMY","friendly_name":"silent-river-4821","labels":{"hostcore.arch":"x86_64",'
    '"hostcore.os":"linux","hostcore.osfamily":"unix","region":"us-east"},"uptime_seconds":3725,'
    '"uptime_human":"1 hour, 2 minutes, 5 seconds","version":"0.57.4","cluster_issuers":"CAHX…CGMY",'
    '"js_domain":null,"ctl_host":"127.0.0.1","prov_rpc_host":"127.0.0.1","rpc_host":"127.0.0.1",'
    '"lattice_prefix":"default"}',
    '{"id":"H2","uptime_seconds":9,"friendly_name":"brave-otter-17","labels":{"hostcore.os":"macos",'
    '"hostcore.osfamily":"unix","hostcore.arch":"aarch64"},"version":"0.55.1","lattice_prefix":"default"}',
]

INVENTORIES = [
    '{"host_id":"H1","labels":{"hostcore.os":"linux","hostcore.osfamily":"unix","hostcore.arch":"x86_64"},'
    '"actors":[],"providers":[]}',
    '{"host_id":"H1","issuer":"CAHX…CGMY","friendly_name":"silent-river-4821","labels":{"hostcore.os":"linux",'
    '"hostcore.osfamily":"unix","hostcore.arch":"x86_64"},"actors":[{"id":"A1","image_ref":'
    '"wasmcloud.azurecr.io/echo:0.3.4","name":"Echo","instances":[{"instance_id":'
    '"2c0b6f2e-5d7e-4a8f-9f43-0f7a1c6d2b11","revision":4,"annotations":{}},{"instance_id":'
    '"8e5d0d44-1b2a-4c59-8a3e-6e2f7d9c1a02","revision":4,"annotations":{"wasmcloud.dev/appspec":"echo"}}]}],'
    '"providers":[{"id":"P1","link_name":"default","image_ref":"wasmcloud.azurecr.io/httpserver:0.16.0",'
    '"name":"HTTP Server","revision":0,"instance_id":"b7f1c6a0-3e1d-4c2f-9a8b-5d6e7f809a1b","annotations":{}}]}',
    '{"host_id":"H2","labels":{"region":"eu"},"actors":[{"id":"A2","image_ref":null,"name":"N/A","instances":'
    '[{"instance_id":"f0e1d2c3-b4a5-4697-8877-665544332211","revision":0}]}],"providers":[{"id":"P2",'
    '"link_name":"redis","image_ref":"wasmcloud.azurecr.io/kvredis:0.16.3","name":"Redis KeyValue",'
    '"revision":2,"contract_id":"wasmcloud:keyvalue"}]}',
]

ACKS = [
    '{"accepted":true,"error":""}',
    '{"accepted":false,"error":"Invalid launch actor JSON request"}',
    '{"accepted":false,"error":"Provider with that link name is already running on this host"}',
    '{"accepted":false,"error":"Command received by incorrect host and could not be processed"}',
]

LINK_REPLIES = [
    '{"links":[{"actor_id":"A1","provider_id":"P1","link_name":"default","contract_id":"wasmcloud:httpserver",'
    '"values":{"PORT":"8080"}},{"actor_id":"A2","provider_id":"P2","link_name":"redis","contract_id":'
    '"wasmcloud:keyvalue","values":{"URL":"redis://127.0.0.1:6379"}}]}',
    '{"links":[]}',
]

CLAIMS_REPLIES = [
    '{"claims":[]}',
    '{"claims":[{"sub":"A1","iss":"AANM…3VEU","name":"Echo","call_alias":"","caps":"wasmcloud:httpserver",'
    '"tags":"","rev":"4","version":"0.3.4"}]}',
    '{"claims":[{"sub":"P2","iss":"AANM…3VEU","name":"Redis KeyValue","call_alias":"","caps":"","tags":"",'
    '"rev":"2","version":"0.16.3"},{"sub":"A2","iss":"AANM…3VEU","name":"kvcounter","call_alias":"demo/counter",'
    '"caps":"wasmcloud:httpserver,wasmcloud:keyvalue","tags":"","rev":"1","version":"0.3.0"}]}',
]

EVENTS = [
    '{"specversion":"1.0","type":"com.wasmcloud.lattice.host_started","source":"H1","id":'
    '"0b7c2c77-6a3d-4a57-9b0e-3a1f2e4d5c6b","time":"2022-09-29T14:03:11.284113Z","datacontenttype":'
    '"application/json","data":{"labels":{"hostcore.os":"linux","hostcore.osfamily":"unix","hostcore.arch":'
    '"x86_64"},"friendly_name":"silent-river-4821"}}',
    '{"type":"com.wasmcloud.lattice.host_heartbeat","data":{"actors":[{"public_key":"A1","instance_id":'
    '"2c0b6f2e-5d7e-4a8f-9f43-0f7a1c6d2b11"}],"providers":[{"public_key":"P1","link_name":"default",'
    '"contract_id":"wasmcloud:httpserver","instance_id":"b7f1c6a0-3e1d-4c2f-9a8b-5d6e7f809a1b"}],"labels":'
    '{"hostcore.os":"linux"},"friendly_name":"silent-river-4821","version":"0.57.4","uptime_seconds":30,'
    '"uptime_human":"30 seconds"}}',
    '{"type":"com.wasmcloud.lattice.actor_started","data":{"public_key":"A1","image_ref":'
    '"wasmcloud.azurecr.io/echo:0.3.4","api_version":0,"instance_id":"2c0b6f2e-5d7e-4a8f-9f43-0f7a1c6d2b11",'
    '"annotations":{},"claims":{"call_alias":null,"caps":["wasmcloud:httpserver"],"issuer":"AANM…3VEU","tags":'
    'null,"name":"Echo","version":"0.3.4","revision":4,"not_before_human":"immediately","expires_human":"never"}}}',
    '{"type":"com.wasmcloud.lattice.actor_start_failed","data":{"actor_ref":"wasmcloud.azurecr.io/echo:9.9.9",'
    '"error":"{:error, \\"manifest unknown\\"}"}}',
    '{"type":"com.wasmcloud.lattice.actor_stopped","data":{"public_key":"A1","instance_id":'
    '"2c0b6f2e-5d7e-4a8f-9f43-0f7a1c6d2b11"}}',
    '{"type":"com.wasmcloud.lattice.provider_started","data":{"public_key":"P1","image_ref":'
    '"wasmcloud.azurecr.io/httpserver:0.16.0","link_name":"default","contract_id":"wasmcloud:httpserver",'
    '"instance_id":"b7f1c6a0-3e1d-4c2f-9a8b-5d6e7f809a1b","annotations":{},"claims":{"issuer":"AANM…3VEU",'
    '"tags":null,"name":"HTTP Server","version":"0.16.0","not_before_human":"immediately","expires_human":"never"}}}',
    '{"type":"com.wasmcloud.lattice.provider_stopped","data":{"public_key":"P1","link_name":"default",'
    '"contract_id":"wasmcloud:httpserver","instance_id":"b7f1c6a0-3e1d-4c2f-9a8b-5d6e7f809a1b","reason":"normal"}}',
    '{"type":"com.wasmcloud.lattice.health_check_passed","data":{"public_key":"P1","link_name":"default"}}',
    '{"type":"com.wasmcloud.lattice.linkdef_set","data":{"id":"5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f","actor_id":'
    '"A1","provider_id":"P1","link_name":"default","contract_id":"wasmcloud:httpserver","values":{"PORT":"8080"}}}',
]
