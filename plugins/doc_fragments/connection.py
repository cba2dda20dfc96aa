# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """How to reach a lattice: declared once for modules and once (with env entries) for plugins."""

    DOCUMENTATION = r"""
options:
  nats_url:
    description:
      - NATS server URLs of the lattice's control connection, for example V(nats://127.0.0.1:4222).
        The client knows every URL given and reconnects to another one when a server goes away.
      - A comma-separated string is split into several URLs.
      - A V(tls://) URL (like O(tls_ca_file), O(tls_cert_file) or O(tls_verify=false)) asks for TLS. The connection
        is then TLS or nothing; a server that does not offer TLS is refused before any credential is sent.
      - Credentials may be written into the URL (V(nats://user:password@host:4222), or V(nats://token@host:4222));
        the password or token is then kept out of results like O(password). The credentials end at the last C(@), so
        a password may hold C(@), C(/) and C(:) as they are; percent-escapes (V(%40) for C(@), V(%2C) for a comma,
        which Ansible would otherwise take for a list separator) are decoded. All URLs of a task carry the same
        credentials, or none. The options O(user), O(password) and O(token) win over credentials in the URL.
      - V(ws://) and V(wss://) URLs reach the server's WebSocket listener (V(wss://) with TLS); they need the Python
        package C(aiohttp) where the task runs.
      - When not set, the environment variable E(WASMCLOUD_NATS_URL) is used; then
        E(WASMCLOUD_CTL_HOST) with E(WASMCLOUD_CTL_PORT) (the variables C(wash) uses); then E(NATS_URL).
    type: list
    elements: str
    default: [nats://127.0.0.1:4222]
  lattice:
    description:
      - The lattice prefix (namespace) the hosts were started with. A single NATS subject token, not empty, at
        most 255 characters.
      - When not set, the environment variable E(WASMCLOUD_LATTICE_PREFIX) is used.
    type: str
    default: default
    aliases: [lattice_prefix, ns_prefix]
  ctl_topic_prefix:
    description:
      - Subject prefix of the control interface, if the hosts were started with a different one.
      - When not set, the environment variable E(WASMCLOUD_CTL_TOPIC_PREFIX) is used.
    type: str
    default: wasmbus.ctl
  timeout:
    description:
      - Seconds to wait for the reply to a request (inventory, commands, links, claims). Like every seconds
        option, a positive finite number of at most 86400 (one day).
      - When not set, the environment variable E(WASMCLOUD_CTL_TIMEOUT) is used.
    type: float
    default: 2
  auction_timeout:
    description:
      - The longest host discovery and auctions listen for replies, in seconds.
      - They end sooner, once the hosts have answered (see O(discovery_stall)).
      - When not set, the environment variable E(WASMCLOUD_AUCTION_TIMEOUT) is used.
    type: float
    default: 2
  discovery_stall:
    description:
      - How host discovery and auctions decide that every host has answered, within O(auction_timeout).
      - When not set, host discovery expects the hosts that answered lately (a per-lattice record kept by the
        controller, see the collection's docs/discovery.md) and ends a grace after the last of them has answered (as
        long again as they took, 0.02 to 0.05 seconds); an expected host that does not answer keeps it listening up to
        O(auction_timeout) and is named in a warning. Without a record (and for auctions) they listen for at least
        0.35 seconds after the first reply, then end once replies have paused for one and a half times the largest gap
        between the recent ones (between 0.05 and 0.25 seconds); with no reply at all they wait the whole
        O(auction_timeout).
      - When set, they end once no new reply has come for this many seconds (counted from the request
        until the first reply), a fixed rule. Set it to O(auction_timeout) to always wait the whole window.
      - Whatever the rule, a task that removes from every matching host (C(state=absent) without a host, prune)
        listens for the whole O(auction_timeout), and so does one whose plan would change something after a
        discovery that ended early, before it sends anything.
      - Taken by every module, so that C(module_defaults) for the group can set it once; modules that
        discover no hosts ignore it.
    type: float
  creds_file:
    description:
      - Path of a NATS C(.creds) file (user JWT and seed). Needs the C(nkeys) Python library.
      - When not set, the environment variable E(WASMCLOUD_CTL_CREDSFILE) is used.
    type: path
  jwt:
    description:
      - User JWT for decentralised NATS authentication; needs O(nkey_seed) to sign the server's nonce.
      - When not set, the environment variable E(WASMCLOUD_CTL_JWT) is used.
    type: str
  nkey_seed:
    description:
      - User nkey seed (C(SU...)), alone for nkey authentication or with O(jwt).
      - When not set, the environment variable E(WASMCLOUD_CTL_SEED) is used.
    type: str
  user:
    description: User name for NATS user/password authentication.
    type: str
  password:
    description: Password for NATS user/password authentication; needs O(user).
    type: str
  token:
    description: Token for NATS token authentication.
    type: str
  tls_ca_file:
    description: CA certificate file to verify the NATS server's certificate with.
    type: path
  tls_cert_file:
    description: Client certificate file for mutual TLS; needs O(tls_key_file).
    type: path
  tls_key_file:
    description: Private key file of O(tls_cert_file).
    type: path
  tls_verify:
    description:
      - Verify the NATS server's TLS certificate and host name. Turning this off is insecure and warns.
    type: bool
    default: true
  protocol:
    description:
      - The wasmCloud generation the hosts speak.
      - V(auto) tells 0.x lattices from 1.x lattices by how the hosts answer discovery.
      - V(2.x) hosts (C(wash host)) have no lattice control interface and are never detected; choose V(2.x) explicitly.
      - When not set, the environment variable E(WASMCLOUD_PROTOCOL) is used.
    type: str
    choices: [auto, 0.x, 1.x, 2.x]
    default: auto
notes:
  - >-
    These modules talk to the lattice over NATS from wherever they run; usually that is the controller
    (C(delegate_to: localhost) or C(connection: local)). The Python libraries C(nats-py) and, for seeds and
    credentials files, C(nkeys) must be installed there.
requirements:
  - nats-py >= 2.6
  - nkeys (for O(creds_file), O(jwt) and O(nkey_seed))
"""

    PLUGINS = r"""
options:
  nats_url:
    description:
      - NATS server URLs of the lattice's control connection, for example V(nats://127.0.0.1:4222).
      - A comma-separated string is split into several URLs.
      - A V(tls://) URL (like O(tls_ca_file), O(tls_cert_file) or O(tls_verify=false)) asks for TLS. The connection
        is then TLS or nothing; a server that does not offer TLS is refused before any credential is sent.
      - Credentials may be written into the URL (V(nats://user:password@host:4222), or V(nats://token@host:4222));
        the password or token is then kept out of results like O(password). The credentials end at the last C(@), so
        a password may hold C(@), C(/) and C(:) as they are; percent-escapes (V(%40) for C(@), V(%2C) for a comma,
        which Ansible would otherwise take for a list separator) are decoded. All URLs of a task carry the same
        credentials, or none. The options O(user), O(password) and O(token) win over credentials in the URL.
      - V(ws://) and V(wss://) URLs reach the server's WebSocket listener (V(wss://) with TLS); they need the Python
        package C(aiohttp) where the task runs.
      - When neither this option nor E(WASMCLOUD_NATS_URL) is set, E(WASMCLOUD_CTL_HOST) with
        E(WASMCLOUD_CTL_PORT) and then E(NATS_URL) are used, and finally V(nats://127.0.0.1:4222).
    type: list
    elements: str
    env:
      - name: WASMCLOUD_NATS_URL
  lattice:
    description: The lattice prefix (namespace) the hosts were started with. A single NATS subject token, not empty.
    type: str
    default: default
    aliases: [lattice_prefix, ns_prefix]
    env:
      - name: WASMCLOUD_LATTICE_PREFIX
  ctl_topic_prefix:
    description: Subject prefix of the control interface.
    type: str
    default: wasmbus.ctl
    env:
      - name: WASMCLOUD_CTL_TOPIC_PREFIX
  timeout:
    description: Seconds to wait for the reply to a request.
    type: float
    default: 2
    env:
      - name: WASMCLOUD_CTL_TIMEOUT
  auction_timeout:
    description: Seconds to collect replies from every host during discovery.
    type: float
    default: 2
    env:
      - name: WASMCLOUD_AUCTION_TIMEOUT
  creds_file:
    description: Path of a NATS C(.creds) file.
    type: path
    env:
      - name: WASMCLOUD_CTL_CREDSFILE
  jwt:
    description: User JWT; needs O(nkey_seed).
    type: str
    env:
      - name: WASMCLOUD_CTL_JWT
  nkey_seed:
    description: User nkey seed.
    type: str
    env:
      - name: WASMCLOUD_CTL_SEED
  user:
    description: User name for NATS user/password authentication.
    type: str
  password:
    description: Password for NATS user/password authentication; needs O(user).
    type: str
  token:
    description: Token for NATS token authentication.
    type: str
  tls_ca_file:
    description: CA certificate file to verify the NATS server's certificate with.
    type: path
  tls_cert_file:
    description: Client certificate file for mutual TLS.
    type: path
  tls_key_file:
    description: Private key file of O(tls_cert_file).
    type: path
  tls_verify:
    description: Verify the NATS server's TLS certificate and host name.
    type: bool
    default: true
  protocol:
    description:
      - The wasmCloud generation the hosts speak. V(auto) tells 0.x from 1.x during discovery;
        V(2.x) (C(wash host)) is only ever chosen explicitly.
    type: str
    choices: [auto, 0.x, 1.x, 2.x]
    default: auto
    env:
      - name: WASMCLOUD_PROTOCOL
requirements:
  - nats-py >= 2.6
  - nkeys (for O(creds_file), O(jwt) and O(nkey_seed))
"""
