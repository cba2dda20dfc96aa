# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: hosts
short_description: wasmCloud lattice hosts as Ansible inventory
version_added: 0.1.0
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
description:
  - Lists the hosts of one or more wasmCloud lattices through the lattice control interface over NATS
    (the same host listing as C(wash ctl get hosts)) and makes one inventory host of each.
  - Lattice hosts are not SSH targets. They are the hosts the collection's modules act on, so every
    host gets C(ansible_connection=local) by default (see O(connection)) and the tasks run on the
    controller, talking to the lattice over NATS. When the lattice hosts run on machines you also manage
    with Ansible, compose C(ansible_host) (and set O(connection) to an empty string) to reach them.
  - Host variables are prefixed C(wasmcloud_). Every value a host reports (labels above all) is marked
    unsafe on every supported ansible-core, so a label value such as C({{ lookup('env', 'HOME') }}) stays a
    literal string and is never templated.
  - Every host is in the group C(wasmcloud) through a group per lattice, C(wasmcloud_<lattice>), where every
    character of the lattice name other than ASCII letters, digits and C(_) becomes C(_).
  - The configuration file name must end in C(wasmcloud.yml) or C(wasmcloud.yaml), for example
    C(lattice.wasmcloud.yml).
extends_documentation_fragment:
  - wasmcloud.lattice.connection.plugins
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; marks the file as a configuration of it.
    type: str
    required: true
    choices: [wasmcloud.lattice.hosts]
  lattices:
    description:
      - The lattices to list, when there are several. Each item names a O(lattices[].lattice) and may set any
        connection option; an option an item leaves out comes from the top-level option of the same name
        (and so from its environment variable or default).
      - When set, the top-level O(lattice) is not used. When not set, the single lattice named by O(lattice)
        is listed.
      - The lattices are listed concurrently, each over its own NATS connection.
      - Two items with the same lattice name (on different NATS servers) share the group C(wasmcloud_<lattice>).
    type: list
    elements: dict
    suboptions:
      lattice:
        description: The lattice prefix (namespace) of the hosts. A single NATS subject token.
        type: str
        required: true
      nats_url:
        description: NATS server URLs for this lattice; overrides the top-level O(nats_url).
        type: list
        elements: str
      ctl_topic_prefix:
        description: Overrides the top-level O(ctl_topic_prefix) for this lattice.
        type: str
      timeout:
        description: Overrides the top-level O(timeout) for this lattice.
        type: float
      auction_timeout:
        description: Overrides the top-level O(auction_timeout) for this lattice.
        type: float
      creds_file:
        description: Overrides the top-level O(creds_file) for this lattice.
        type: path
      jwt:
        description: Overrides the top-level O(jwt) for this lattice.
        type: str
      nkey_seed:
        description: Overrides the top-level O(nkey_seed) for this lattice.
        type: str
      user:
        description: Overrides the top-level O(user) for this lattice.
        type: str
      password:
        description: Overrides the top-level O(password) for this lattice.
        type: str
      token:
        description: Overrides the top-level O(token) for this lattice.
        type: str
      tls_ca_file:
        description: Overrides the top-level O(tls_ca_file) for this lattice.
        type: path
      tls_cert_file:
        description: Overrides the top-level O(tls_cert_file) for this lattice.
        type: path
      tls_key_file:
        description: Overrides the top-level O(tls_key_file) for this lattice.
        type: path
      tls_verify:
        description: Overrides the top-level O(tls_verify) for this lattice.
        type: bool
  hostname:
    description:
      - What names the inventory host. Names come from the hosts, whoever started them, so they are chosen
        such that no lattice host can ever join, or pose as, a host of another inventory source (and so take its
        variables, C(ansible_connection) above all), the controller, or a host pattern.
      - V(host_id) (the default) names each host by its ID, an nkey starting with C(N) (0.x, 1.x) or a UUID (v2,
        new at every start of a host), names that no machine has, so the inventory can be combined with any other
        source, read before or after it. A host whose ID is not of that form is left out, with a warning.
      - V(friendly_name) names each host by its friendly name (for example C(icy-breeze-2075)) where that is safe,
        and by its ID otherwise, with a warning that says why. A friendly name is used only when it holds
        nothing but ASCII letters, digits, C(-), C(_) and C(.) (no host pattern characters such as C(*), C(!),
        C(&), commas, brackets, colons, C(@), C(~), white space or new lines), is at most 253 characters long, and
        is not C(localhost), one of its forms or an IPv4 address in any form.
      - With V(friendly_name), a friendly name that several hosts of one lattice report names none of them; each
        of them goes by its ID, with a warning, so that a host copying another's name never takes it over. When
        hosts of different lattices have the same name, each of them is named C(<name>@<lattice>) instead.
      - With V(friendly_name), a name that a host of an inventory source read before this one already has is
        never joined to it; the lattice host goes by its ID, with a warning. Sources read after this one cannot
        be checked (Ansible reads the files of an inventory directory in alphabetical order), so when this
        inventory is combined with others, keep V(host_id) or make sure this source is read last.
      - A host ID reported twice (the same lattice reached through two entries of O(lattices)) makes one
        inventory host; the first entry wins.
      - A host name is never a group name, since Ansible would take it for the group (its variables, C(hosts)
        patterns, C(ansible-inventory --host)). A host whose name would be C(all), C(ungrouped), C(wasmcloud),
        C(wasmcloud_v2), C(wasmcloud_<lattice>) of any lattice listed, a group of O(keyed_groups) or O(groups), or a
        group made by an inventory source read before this one, is named by its host ID instead.
    type: str
    choices: [friendly_name, host_id]
    default: host_id
  fetch_inventory:
    description:
      - Also fetch each host's inventory (its running actors and providers) into C(wasmcloud_actors) and
        C(wasmcloud_providers); on wasmCloud 1.x lattices into C(wasmcloud_components) and C(wasmcloud_providers).
        The inventories are requested concurrently after the host listing.
      - A host that does not return its inventory in O(timeout) (for example because it stopped in between)
        gets neither variable, and a warning names it.
    type: bool
    default: false
  discovery_stall:
    description:
      - When not set, the listing ends soon after the last host has answered, by the rule the modules use. When the
        record of the hosts seen lately (see the notes) knows the lattice, a grace after the last of them has answered
        (as long again as they took, 0.02 to 0.05 seconds); an expected host that does not answer keeps it listening
        up to O(auction_timeout) and is named in a warning. Without a record, at least 0.35 seconds after the first
        reply and then once replies have paused for one and a half times the largest gap between the recent ones (0.05
        to 0.25 seconds), never beyond O(auction_timeout).
      - When set, the listing ends once no new host has answered for this many seconds, a fixed rule; set it
        to O(auction_timeout) to collect answers for the whole window, as C(wash) does.
    type: float
  heartbeat_window:
    description:
      - With O(protocol=2.x) only. wasmCloud v2 hosts have no ping, so they are found from their heartbeats (one
        at start-up, then every 15 seconds), and a host is listed when it also answers a heartbeat request.
      - When the NATS server has JetStream, the latest heartbeat of every host is kept in the stream
        O(heartbeat_stream) (created by the first listing); once it has recorded for a heartbeat period,
        listings read it at once. Otherwise the listing listens for this many seconds; the default, just over
        a heartbeat period, hears every host.
    type: float
    default: 16
  heartbeat_stream:
    description:
      - With O(protocol=2.x) only. JetStream stream that keeps the latest heartbeat of every v2 host; an empty
        string never uses one.
    type: str
    default: WASMCLOUD_LATTICE_HEARTBEATS
  connection:
    description:
      - The C(ansible_connection) given to every host.
      - Set it to an empty string to leave C(ansible_connection) unset, for example when O(compose) sets
        C(ansible_host) to reach the machines the lattice hosts run on. A value set through O(compose)
        wins over this one.
    type: str
    default: local
notes:
  - Host variables set on every host are C(wasmcloud_host_id), C(wasmcloud_friendly_name),
    C(wasmcloud_lattice), C(wasmcloud_labels) (a dictionary), C(wasmcloud_version) (the host software
    version), C(wasmcloud_uptime_seconds) and C(wasmcloud_nats_url) (the list of NATS URLs the lattice was
    listed through, without any user name or password in them), and C(wasmcloud_protocol) (V(0.x) or V(1.x), the
    generation the lattice speaks; O(protocol=auto) tells them apart from the hosts that answer). With
    O(fetch_inventory=true) also C(wasmcloud_actors) (0.x) or C(wasmcloud_components) (1.x), and
    C(wasmcloud_providers), lists of dictionaries as the host reports them.
  - With O(protocol=2.x) (wasmCloud v2, C(wash host)) there is no lattice, and the hosts are in the groups
    C(wasmcloud) and C(wasmcloud_v2), named by host ID or O(hostname=friendly_name) (both new at every start of a host),
    with the vars C(wasmcloud_host_id), C(wasmcloud_friendly_name), C(wasmcloud_hostname), C(wasmcloud_version),
    C(wasmcloud_labels), C(wasmcloud_host_group), C(wasmcloud_environment), C(wasmcloud_http_port) (null without
    HTTP ingress), C(wasmcloud_workload_count), C(wasmcloud_os) (C(name), C(arch), C(kernel)), C(wasmcloud_memory)
    (C(total), C(free) in bytes), C(wasmcloud_protocol) (V(2.x)) and C(wasmcloud_nats_url). O(lattice),
    O(lattices), O(fetch_inventory) and O(discovery_stall) do not apply.
  - Every host also gets C(wasmcloud_connection), a dictionary of how the plugin reached it, without any secret
    (C(nats_url) without user names or passwords, C(protocol), for 0.x and 1.x C(lattice) and C(ctl_topic_prefix),
    and the absolute paths of C(creds_file) and C(tls_ca_file), C(tls_cert_file), C(tls_key_file) when set). A task
    of this collection that targets such a host (or is delegated to one) takes each of these options it does not
    set itself (module_defaults count as set) from it, before the environment variables and defaults apply.
    Passwords, tokens, JWTs and seeds are never copied; tasks give them as options, a creds file or environment
    variables.
  - With O(cache=true) the raw host listing is cached under a key made from the configuration file's path
    and a digest of the NATS URLs, lattice names, control topic prefixes and O(fetch_inventory) value, so
    changing any of them never serves another lattice's data. The cached listing is served until it expires
    (O(cache_timeout)) or C(--flush-cache) or the C(meta) task C(refresh_inventory) asks for a fresh one;
    C(wasmcloud_uptime_seconds) then is the value from when it was listed.
  - The record of the hosts seen lately in each lattice (host IDs, their generation and when they were seen;
    nothing secret) tells a listing how many hosts to expect. With O(cache=true) it is kept in the inventory
    cache under a key of its own (C(wasmcloud_lattice_hosts_...), shared by every configuration that lists the
    same lattice); otherwise in the per-user file the modules use (C($XDG_CACHE_HOME/wasmcloud.lattice/hosts),
    or E(WASMCLOUD_LATTICE_HOST_RECORD); see the collection's docs/discovery.md). A listing in which hosts seen
    lately did not answer warns with both numbers and the missing host IDs.
  - A lattice in which no host answers adds no host, and a warning names it. Failures to reach NATS,
    refused credentials or permissions, and invalid options are errors that name the lattice and the
    NATS URL.
seealso:
  - module: wasmcloud.lattice.wasmcloud_actor
"""

EXAMPLES = r"""
# lattice.wasmcloud.yml: the hosts of lattice "default" on a local NATS server, named by host ID
plugin: wasmcloud.lattice.hosts
nats_url: nats://127.0.0.1:4222

---
# named.wasmcloud.yml: hosts named by their friendly names where those are safe names (read this source
# after any other inventory source: see hostname)
plugin: wasmcloud.lattice.hosts
nats_url: nats://127.0.0.1:4222
hostname: friendly_name

---
# production.wasmcloud.yml: two lattices on two NATS clusters, grouped by a host label
plugin: wasmcloud.lattice.hosts
nats_url:
  - tls://nats-1.example.com:4222
  - tls://nats-2.example.com:4222
creds_file: /etc/wasmcloud/ops.creds
lattices:
  - lattice: prod
  - lattice: staging
    nats_url: tls://nats.staging.example.com:4222
    creds_file: /etc/wasmcloud/staging.creds
keyed_groups:
  # groups zone_<value> from the host label "zone"
  - key: wasmcloud_labels.zone
    prefix: zone
groups:
  # hosts started with HOST_gpu=true
  gpu: wasmcloud_labels.gpu | default('') == 'true'

---
# v2.wasmcloud.yml: wasmCloud v2 hosts (wash host), grouped by host group
plugin: wasmcloud.lattice.hosts
protocol: 2.x
nats_url: nats://nats.internal:4222
keyed_groups:
  - key: wasmcloud_host_group
    prefix: group

---
# inventory.wasmcloud.yml: actors and providers too, cached for five minutes
plugin: wasmcloud.lattice.hosts
lattice: default
fetch_inventory: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/wasmcloud-inventory
cache_timeout: 300
compose:
  # the lattice hosts run on machines managed by Ansible as well
  ansible_host: wasmcloud_labels.ip
  running_actors: wasmcloud_actors | map(attribute='image_ref') | list
connection: ""
"""

import copy
import hashlib
import json
import os
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import has_lattice
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client, host_view
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import (
    CONNECTION_OPTION_NAMES,
    ConnectionSettings,
    redact_url,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    InputError,
    LatticeError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.nkeys import is_public_key
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.host_record import (
    MemoryRecordStore,
    RecordStore,
    default_store,
    record_key,
)
from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._host_connection import HOST_VARIABLE, host_variable
from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._unsafe import make_unsafe

# Bumped whenever the cached structure changes, so an old entry is a miss.
_CACHE_FORMAT = 1
_PATH_OPTIONS = ("creds_file", "tls_ca_file", "tls_cert_file", "tls_key_file")
_LATTICE_KEYS = frozenset(CONNECTION_OPTION_NAMES)
_UNSAFE_GROUP_CHARS = re.compile(r"[^A-Za-z0-9_]")
_MAX_PARALLEL_LATTICES = 8


class _Target:
    """One lattice to list: where, and what to call it in messages."""

    def __init__(self, label: str, settings: ConnectionSettings) -> None:
        self.label = label
        self.settings = settings
        self.urls = [redact_url(url) for url in settings.servers]

    @property
    def lattice(self) -> str:
        return self.settings.lattice

    def describe(self) -> str:
        return self.settings.describe()

    def redact(self, text: str) -> str:
        """``text`` with every URL that carries a user or password replaced by its public form."""
        for url, public in zip(self.settings.servers, self.urls):
            if url != public:
                text = text.replace(url, public)
        return text

    def identity(self) -> List[Any]:
        return [self.urls, self.lattice, self.settings.ctl_topic_prefix, self.settings.protocol]

    def connection(self) -> Dict[str, Any]:
        """What the hosts' wasmcloud_connection needs besides URLs, lattice and protocol: no secrets."""
        settings = self.settings
        return {"ctl_topic_prefix": settings.ctl_topic_prefix, "creds_file": settings.creds_file,
                "tls_ca_file": settings.tls_ca_file, "tls_cert_file": settings.tls_cert_file,
                "tls_key_file": settings.tls_key_file}


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """One inventory host per wasmCloud lattice host."""

    NAME = "wasmcloud.lattice.hosts"

    def verify_file(self, path: str) -> bool:
        if not super().verify_file(path):
            return False
        if path.endswith(("wasmcloud.yml", "wasmcloud.yaml")):
            return True
        self.display.vvv("Skipping %s: a %s configuration file name ends in wasmcloud.yml or wasmcloud.yaml"
                         % (path, self.NAME))
        return False

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        targets = self._targets()
        fetch_inventory = bool(self.get_option("fetch_inventory"))
        stall = self._discovery_stall()

        caching = bool(self.get_option("cache"))
        cache_key = self._cache_key(path, targets, fetch_inventory)
        listing: Optional[List[Dict[str, Any]]] = None
        if caching and cache:
            listing = self._cached_listing(cache_key)
        if listing is None:
            records = self._host_records(targets) if caching else default_store()
            listing = self._fetch(targets, fetch_inventory, stall, records)
            if isinstance(records, MemoryRecordStore):
                for key, data in records.data.items():
                    self._cache[key] = data
            if caching:
                # A copy: nothing done to the listing below may reach the cache's own object.
                self._cache[cache_key] = {"format": _CACHE_FORMAT, "lattices": copy.deepcopy(listing)}
        self._populate(listing, fetch_inventory)

    # -- options ----------------------------------------------------------------------

    def _fail(self, message: str) -> AnsibleParserError:
        return AnsibleParserError("%s: %s" % (self.NAME, message))

    def _discovery_stall(self) -> Optional[float]:
        stall = self.get_option("discovery_stall")
        if stall is None:
            return None
        try:
            return check.positive_seconds(stall, "discovery_stall")
        except LatticeError as exc:
            raise self._fail(str(exc))

    def _heartbeat_options(self) -> Tuple[float, Optional[str]]:
        window = self.get_option("heartbeat_window")
        if window is None or not 0 < window <= 3600:
            raise self._fail("heartbeat_window must be between 0 and 3600 seconds, got %r" % window)
        return float(window), self.get_option("heartbeat_stream") or None

    def _targets(self) -> List[_Target]:
        top = {name: self.get_option(name) for name in CONNECTION_OPTION_NAMES}
        items = self.get_option("lattices")
        if not items:
            return [self._target("lattice %r" % top.get("lattice"), top)]
        targets = []
        for index, item in enumerate(items):
            where = "lattices[%d]" % index
            if not isinstance(item, Mapping):
                raise self._fail("%s must be a dictionary with a 'lattice' key, got %r" % (where, item))
            unknown = sorted(str(key) for key in item if key not in _LATTICE_KEYS)
            if unknown:
                raise self._fail("%s has unknown option(s) %s; an item takes 'lattice' and the connection options %s"
                                 % (where, ", ".join(unknown), ", ".join(sorted(_LATTICE_KEYS - {"lattice"}))))
            if not item.get("lattice"):
                raise self._fail("%s needs a 'lattice' name" % where)
            options = dict(top)
            for name, value in item.items():
                if name in _PATH_OPTIONS and isinstance(value, str) and value:
                    value = os.path.expanduser(os.path.expandvars(value))
                options[name] = value
            targets.append(self._target("%s (lattice %r)" % (where, item["lattice"]), options))
        return targets

    def _target(self, label: str, options: Mapping[str, Any]) -> _Target:
        try:
            return _Target(label, ConnectionSettings.from_options(options))
        except InputError as exc:
            raise self._fail("%s: %s" % (label, exc))

    # -- cache ------------------------------------------------------------------------

    def _cache_key(self, path: str, targets: List[_Target], fetch_inventory: bool) -> str:
        # The file's path alone is not enough: the same file can point at another NATS or
        # lattice through environment variables. No secret goes into the digest.
        scope = json.dumps({"format": _CACHE_FORMAT, "fetch_inventory": fetch_inventory,
                            "lattices": [target.identity() for target in targets]}, sort_keys=True)
        digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:16]
        return "%s_%s" % (self.get_cache_key(path), digest)

    def _cached_listing(self, key: str) -> Optional[List[Dict[str, Any]]]:
        try:
            entry = self._cache[key]
        except KeyError:
            return None
        if not isinstance(entry, Mapping) or entry.get("format") != _CACHE_FORMAT \
                or not isinstance(entry.get("lattices"), list):
            self.display.vvv("%s: ignoring a cache entry in an unknown format" % self.NAME)
            return None
        self.display.vvv("%s: using the cached host listing" % self.NAME)
        # A copy, with any trust a cache plugin's decoder may have put on its strings taken off again.
        return make_unsafe(entry["lattices"])

    def _host_records(self, targets: List[_Target]) -> MemoryRecordStore:
        """The records of recently seen hosts of these lattices (docs/discovery.md), from the inventory cache.

        They say how many hosts a listing should expect; they hold host IDs and times, nothing secret.
        """
        records = MemoryRecordStore()
        for target in targets:
            key = record_key(target.settings)
            try:
                records.data[key] = self._cache[key]
            except KeyError:
                continue
        return records

    # -- discovery --------------------------------------------------------------------

    def _fetch(self, targets: List[_Target], fetch_inventory: bool, stall: Optional[float],
               records: Optional[RecordStore] = None) -> List[Dict[str, Any]]:
        workers = min(len(targets), _MAX_PARALLEL_LATTICES)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wasmcloud-inventory") as pool:
            window, stream = self._heartbeat_options()
            futures = [pool.submit(self._list_lattice, target, fetch_inventory, stall, window, stream, records)
                       for target in targets]
            outcomes = [future.result() for future in futures]
        listing = []
        for target, (entry, warnings, error) in zip(targets, outcomes):
            for warning in warnings:
                self.display.warning("%s: %s: %s" % (self.NAME, target.describe(), target.redact(warning)))
            if error is not None:
                raise AnsibleError("%s: listing the hosts of %s failed: %s"
                                   % (self.NAME, target.describe(), target.redact(str(error))))
            if not entry["hosts"] and not has_lattice(entry.get("protocol") or ""):
                self.display.warning("%s: no wasmCloud v2 host at %s sent a heartbeat within heartbeat_window; check "
                                     "nats_url (the hosts' --scheduler-nats-url)" % (self.NAME, target.settings.server_list))
            elif not entry["hosts"]:
                self.display.warning("%s: no host of %s answered within %gs; check the lattice name and nats_url"
                                     % (self.NAME, target.describe(), target.settings.auction_timeout))
            listing.append(entry)
        return listing

    @staticmethod
    def _list_lattice(target: _Target, fetch_inventory: bool, stall: Optional[float], window: float = 16.0,
                      stream: Optional[str] = None, records: Optional[RecordStore] = None
                      ) -> Tuple[Dict[str, Any], List[str], Optional[LatticeError]]:
        """Runs in a worker thread: no Ansible display here, only data, warnings and the error.

        ``records`` keeps the record of recently seen hosts (one key per lattice, so threads never share one).
        """
        if not has_lattice(target.settings.protocol):
            return _list_v2_hosts(target, window, stream)
        entry: Dict[str, Any] = {"lattice": target.lattice, "nats_url": target.urls, "hosts": [],
                                 "connection": target.connection()}
        warnings: List[str] = []
        try:
            with ControlClient(target.settings, records) as client:
                inventories: Dict[str, Any] = {}
                if fetch_inventory:  # each host is asked for its inventory as soon as it has answered
                    found, inventories = client.discover_hosts(stall)
                else:
                    found = client.get_hosts(stall=stall)
                hosts = sorted(found, key=lambda host: host.id)
                entry["protocol"] = client.generation or ""
                warnings.extend(client.warnings)
        except LatticeError as exc:
            return entry, warnings, exc
        for host in hosts:
            data = host.to_dict()
            inventory = inventories.get(host.id)
            if isinstance(inventory, LatticeError):
                warnings.append("host %s did not return its inventory, so it has no variables for what runs on it "
                                "(wasmcloud_actors or wasmcloud_components, wasmcloud_providers): %s" % (host.id, inventory))
            elif inventory is not None:
                data["inventory"] = inventory.to_dict()
            entry["hosts"].append(data)
        return entry, warnings, None

    # -- inventory --------------------------------------------------------------------

    def _populate(self, listing: List[Dict[str, Any]], fetch_inventory: bool) -> None:
        # The hosts of the sources read before this one: a lattice host never joins one of them.
        existing = {name: host.vars.get("wasmcloud_host_id") for name, host in self.inventory.hosts.items()}
        named = self._named_hosts(listing, existing)
        self.inventory.add_group("wasmcloud")
        # Ansible takes a name that is also a group's for the group (variables, patterns, --host): no host may
        # take the name of a group that exists already or that this source makes for its lattices.
        reserved = set(self.inventory.groups) | {"all", "ungrouped", "wasmcloud"}
        reserved.update(_group_of(entry) for _name, entry, _host in named)
        taken: set = {name for name, host_id in existing.items() if host_id is None}
        added = []
        for name, entry, host in named:
            if name in reserved or name in self.inventory.groups:  # the latter: made by an earlier host's keyed_groups
                name = self._fallback_name(host, name, reserved | set(self.inventory.groups), taken)
            taken.add(name)
            self._add_lattice_host(name, entry, host, fetch_inventory)
            added.append((name, entry, host))
        # keyed_groups and groups name groups after the hosts' variables, so a clash with one of them shows only
        # once every host is in: such a host is taken out and added again under its fallback name. Building
        # each host once and mending the rare clash costs half of building every host twice.
        clashes = [(name, entry, host) for name, entry, host in added if name in self.inventory.groups]
        for name, _entry, _host in clashes:
            self.inventory.remove_host(self.inventory.get_host(name))
            taken.discard(name)
        groups = set(self.inventory.groups)
        for name, entry, host in clashes:
            fallback = self._fallback_name(host, name, groups, taken)
            taken.add(fallback)
            self._add_lattice_host(fallback, entry, host, fetch_inventory)

    def _fallback_name(self, host: Mapping[str, Any], name: str, groups: set, taken: set) -> str:
        fallback = next(candidate for candidate in (host["id"], "wasmcloud_host_" + host["id"])
                        if candidate not in groups and candidate not in taken)
        self.display.vv("wasmcloud.lattice.hosts: host %s goes by %s: %r is a group name" % (host["id"], fallback, name))
        return fallback

    def _add_lattice_host(self, name: str, entry: Dict[str, Any], host: Dict[str, Any], fetch_inventory: bool) -> None:
        strict = self.get_option("strict")
        connection = self.get_option("connection")
        self.inventory.add_group("wasmcloud")
        group = self.inventory.add_group(_group_of(entry))
        self.inventory.add_child("wasmcloud", group)
        self.inventory.add_host(name, group=group)
        # Marked unsafe on every ansible-core: 2.19 on keeps an inventory plugin's values untrusted by itself,
        # but before 2.19 a plain string from a host ("{{ lookup('pipe', …) }}" as a label) would be templated.
        hostvars = make_unsafe(self._host_vars(entry, host, fetch_inventory))
        if connection:
            hostvars["ansible_connection"] = connection
        for key, value in hostvars.items():
            self.inventory.set_variable(name, key, value)
        variables = self.inventory.get_host(name).get_vars()
        self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)

    @staticmethod
    def _host_vars(entry: Mapping[str, Any], host: Mapping[str, Any], fetch_inventory: bool) -> Dict[str, Any]:
        if not has_lattice(entry.get("protocol") or ""):
            return _v2_host_vars(entry, host)
        hostvars = {
            "wasmcloud_host_id": host["id"],
            "wasmcloud_friendly_name": host.get("friendly_name") or "",
            "wasmcloud_lattice": entry["lattice"],
            "wasmcloud_labels": dict(host.get("labels") or {}),
            "wasmcloud_version": host.get("version") or "",
            "wasmcloud_uptime_seconds": host.get("uptime_seconds") or 0,
            "wasmcloud_nats_url": list(entry.get("nats_url") or []),
            "wasmcloud_protocol": entry.get("protocol") or "",
            HOST_VARIABLE: host_variable(entry.get("nats_url"), entry.get("protocol"), lattice=entry["lattice"],
                                         **dict(entry.get("connection") or {})),
        }
        inventory = host.get("inventory")
        if fetch_inventory and isinstance(inventory, Mapping):
            # each generation's own word for what runs on a host: 1.x components, 0.x actors
            what = "components" if "components" in inventory else "actors"
            hostvars["wasmcloud_" + what] = list(inventory.get(what) or [])
            hostvars["wasmcloud_providers"] = list(inventory.get("providers") or [])
        return hostvars

    def _named_hosts(self, listing: List[Dict[str, Any]], existing: Mapping[str, Any]
                     ) -> List[Tuple[str, Dict[str, Any], Dict[str, Any]]]:
        """(inventory name, lattice entry, host) for every distinct host, names safe and unique.

        A name is the host ID, or with hostname=friendly_name the friendly name when it is a safe name
        (_name_refusal) that no other listed host reports and no host of another source has; otherwise
        the host ID. A host whose ID is not what its generation uses (an nkey, a UUID) is left out.
        """
        by_id = self.get_option("hostname") == "host_id"
        hosts: List[Tuple[Dict[str, Any], Dict[str, Any]]] = []
        seen = set()
        for entry in listing:
            for host in entry["hosts"]:
                if host["id"] in seen:
                    continue
                seen.add(host["id"])
                if not _distinct_id(entry, host["id"]):
                    self.display.warning("%s: left out a host of %s whose ID %s is not a wasmCloud host ID (%s)"
                                         % (self.NAME, _where(entry), _shown(host["id"]),
                                            "a UUID" if not has_lattice(entry.get("protocol") or "") else "an nkey starting with N"))
                    continue
                hosts.append((entry, host))

        def base(entry: Mapping[str, Any], host: Mapping[str, Any]) -> str:
            friendly = host.get("friendly_name") or ""
            if by_id or not friendly:
                return host["id"]
            refusal = _name_refusal(friendly)
            if refusal:
                self.display.warning("%s: host %s of %s goes by its host ID: its friendly name %s %s"
                                     % (self.NAME, host["id"], _where(entry), _shown(friendly), refusal))
                return host["id"]
            return friendly

        bases = [base(entry, host) for entry, host in hosts]
        # 1. A friendly name that several hosts of one lattice report names none of them (any of them may be
        #    copying another's): each goes by its ID, so no host can take a name from another.
        sharing: Dict[Tuple[str, str], List[str]] = {}
        for name, (entry, host) in zip(bases, hosts):
            sharing.setdefault((entry["lattice"], name), []).append(host["id"])
        for (lattice, name), ids in sorted(sharing.items()):
            if len(ids) > 1 and name not in ids:
                self.display.warning("%s: hosts %s of %s all report the friendly name %s, so each goes by its host ID "
                                     "(one of them may be copying another's name)"
                                     % (self.NAME, ", ".join(sorted(ids)), _where({"lattice": lattice}), _shown(name)))
        names = [host["id"] if len(sharing[(entry["lattice"], name)]) > 1 else name
                 for name, (entry, host) in zip(bases, hosts)]
        # 2. A name used in more than one lattice: each of them gets "@<lattice>".
        lattices_of: Dict[str, set] = {}
        for name, (entry, host) in zip(names, hosts):
            lattices_of.setdefault(name, set()).add(entry["lattice"])
        #    (Or its ID, should the lattice's name hold a character that is host pattern syntax.)
        names = [name if len(lattices_of[name]) == 1 else
                 "%s@%s" % (name, entry["lattice"]) if _SAFE_NAME.match(entry["lattice"]) else host["id"]
                 for name, (entry, host) in zip(names, hosts)]
        # 3. A name a host of another source has: never joined to it (its variables, ansible_connection above
        #    all, would mix with this host's); the host ID instead. The same lattice host listed by another
        #    configuration of this plugin keeps its name.
        named = []
        for name, (entry, host) in zip(names, hosts):
            if name in existing and existing[name] != host["id"]:
                fallback = host["id"] if existing.get(host["id"], host["id"]) == host["id"] else "wasmcloud_host_" + host["id"]
                self.display.warning("%s: host %s of %s goes by %s: a host named %s comes from another inventory "
                                     "source" % (self.NAME, host["id"], _where(entry), fallback, _shown(name)))
                name = fallback
            named.append((name, entry, host))
        return named


# What a host name may be: Ansible reads ",", ":", "!", "&", "*", "[", "~", "@" and white space in names on the
# command line and in `hosts:` as pattern syntax, so a name holding one could match other hosts (or be unreachable).
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def _name_refusal(name: str) -> Optional[str]:
    """Why a peer-chosen name cannot name an inventory host (None when it can)."""
    if not _SAFE_NAME.match(name):
        return ("holds characters other than letters, digits, '-', '_' and '.' (Ansible reads some as host "
                "patterns) or is over 253 characters long")
    lowered = name.lower()
    if lowered in C.LOCALHOST or lowered == "localhost.localdomain" or lowered.endswith(".localhost"):
        return "names the controller (Ansible's implicit localhost)"
    try:
        socket.inet_aton(name)  # every form a resolver takes for an IPv4 address: 127.1, 0x7f000001, 2130706433
    except (OSError, ValueError):
        return None
    return "is an IP address"


def _distinct_id(entry: Mapping[str, Any], host_id: Any) -> bool:
    """Whether ``host_id`` has the form its generation gives host IDs (so it cannot pose as a machine's name)."""
    if not isinstance(host_id, str):
        return False
    if not has_lattice(entry.get("protocol") or ""):
        return bool(_UUID.match(host_id))
    return is_public_key(host_id, "host")


def _shown(value: str) -> str:
    """A peer's string for a warning: quoted, control characters escaped, at most 80 characters of it."""
    return repr(value[:80] + ("…" if len(value) > 80 else ""))


def _where(entry: Mapping[str, Any]) -> str:
    return "the wasmCloud v2 hosts" if not has_lattice(entry.get("protocol") or "") else "lattice %r" % entry["lattice"]


def _group_of(entry: Mapping[str, Any]) -> str:
    """The group of a lattice's hosts: wasmcloud_<lattice>, or wasmcloud_v2."""
    if not has_lattice(entry.get("protocol") or ""):
        return _V2_GROUP
    return "wasmcloud_" + _UNSAFE_GROUP_CHARS.sub("_", entry["lattice"])


# -- wasmCloud v2 (protocol 2.x): hosts from heartbeats, no lattice ----------------------------------------

_V2_GROUP = "wasmcloud_v2"


def _list_v2_hosts(target: _Target, window: float,
                   stream: Optional[str]) -> Tuple[Dict[str, Any], List[str], Optional[LatticeError]]:
    entry: Dict[str, Any] = {"lattice": _V2_GROUP, "protocol": v2.NAME, "nats_url": target.urls, "hosts": [],
                             "connection": target.connection()}
    warnings: List[str] = []
    try:
        with V2Client(target.settings, record_bucket=None) as client:
            beats = client.discover(window, stream=stream)
            warnings.extend(client.warnings)
    except LatticeError as exc:
        return entry, warnings, exc
    entry["hosts"] = [host_view(beat) for _id, beat in sorted(beats.items())]
    return entry, warnings, None


def _v2_host_vars(entry: Mapping[str, Any], host: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "wasmcloud_host_id": host["id"],
        "wasmcloud_friendly_name": host.get("friendly_name") or "",
        "wasmcloud_hostname": host.get("hostname") or "",
        "wasmcloud_version": host.get("version") or "",
        "wasmcloud_labels": dict(host.get("labels") or {}),
        "wasmcloud_host_group": host.get("host_group") or "",
        "wasmcloud_environment": host.get("environment") or "",
        "wasmcloud_http_port": host.get("http_port"),
        "wasmcloud_workload_count": host.get("workload_count") or 0,
        "wasmcloud_os": dict(host.get("os") or {}),
        "wasmcloud_memory": dict(host.get("memory") or {}),
        "wasmcloud_protocol": entry["protocol"],
        "wasmcloud_nats_url": list(entry.get("nats_url") or []),
        # v2 hosts have no lattice and no control topic
        HOST_VARIABLE: host_variable(entry.get("nats_url"), entry["protocol"], **{
            name: value for name, value in dict(entry.get("connection") or {}).items() if name != "ctl_topic_prefix"}),
    }
