# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What the reading modules gather: auctions, events, the lattice's hosts and links, an application exported
from a lattice, v2 hosts.

Private to this collection; may change without notice.

Each ``read(task, client, wanted)`` fills ``task.result``; nothing is planned or sent but the reads.
``wanted()`` is what the options ask for in the lattice's generation as far as it is known when called.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import named_by_id
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    LatticeError,
    NoResponseError,
    OperationFailedError,
    WaitTimeoutError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory, Link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.export import SECRET_PREFIX, export_manifest
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import no_host_answered, read_inventories
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client, host_view


def auction(task: Any, client: Any, wanted: Callable[[], Tuple[str, Dict[str, str]]]) -> None:
    """wasmcloud_auction: the bids of the hosts that would run what is named."""
    params = task.params
    if client.generation is None:
        client.get_hosts(stall=min(0.25, client.settings.auction_timeout), detect_only=True)  # which generation
    kind, constraints = wanted()
    named = params["component_id"] if kind == "component" else params["provider_id"]
    link_name = None if named_by_id(client.generation) else params["link_name"] or "default"
    bids = client.auction(kind, params["image_ref"] if kind != "provider" else params["provider_ref"], constraints,
                          named if named_by_id(client.generation) else None, link_name)
    task.result["hosts"] = [bid.to_dict() for bid in bids]


def events(task: Any, client: Any, wanted: Callable[[], Tuple[float, List[str]]]) -> None:
    """wasmcloud_events: the events that match, over a window or until the first match."""
    params = task.params
    duration, kinds = wanted()
    with client.events() as stream:
        found = stream.collect(duration, kinds=kinds, source=params["source"], data=params["data"],
                               until_match=params["until_match"])
    task.result["events"] = [event.to_dict() for event in found]
    task.result["matched"] = bool(found)
    if params["until_match"] and not found and params["fail_on_timeout"]:
        raise WaitTimeoutError("no event matched within %gs" % duration, partial={"events": []}, elapsed=duration)


def lattice(task: Any, client: Any, wanted: Callable[[], Any]) -> None:
    """wasmcloud_lattice_info: hosts (with their inventories), links and claims, as asked."""
    gather = set(task.params["gather"])
    result = task.result
    if gather & {"hosts", "inventory"}:
        hosts = sorted(client.get_hosts(stall=task.params["discovery_stall"]),
                       key=lambda h: (h.friendly_name or h.id, h.id))
        if not hosts:
            client.warnings.append(no_host_answered(client))
        inventories = client.get_inventories([h.id for h in hosts]) if "inventory" in gather else {}
        views = []
        for host in hosts:
            view = host.to_dict()
            if host.id in inventories:
                plain = inventories[host.id].to_dict()
                for key in ("actors", "components", "providers"):
                    if key in plain:
                        view[key] = plain[key]
            views.append(view)
        result["hosts"] = views

    def or_empty(read_one: Callable[[], Any]) -> Any:
        # links and claims come from one host of the lattice: an empty lattice has nobody to ask
        try:
            return read_one()
        except NoResponseError:
            if result.get("hosts"):
                raise
            return []

    if "links" in gather:
        result["links"] = or_empty(lambda: [link.to_dict() for link in client.query_links()])
    if "claims" in gather:
        result["claims"] = or_empty(client.get_claims)


def exported_application(task: Any, client: Any, wanted: Callable[[], Any]) -> None:
    """wasmcloud_application_info: what runs on the lattice as a wadm manifest (planning/export.py), with the
    configs it names."""
    params = task.params
    inventories = read_inventories(client, stall=params.get("discovery_stall"))
    links = _links(client, inventories)
    names = sorted({name for link in links for name in list(link.source_config) + list(link.target_config)
                    if not name.startswith(SECRET_PREFIX)})
    configs: Dict[str, Optional[Dict[str, str]]] = {name: client.get_config(name) for name in names}
    export = export_manifest(params["name"], inventories, links, configs, params["scope"], params.get("version"))
    for warning in export.warnings:
        task.warn(warning)
    task.result.update(manifest=export.manifest, configs=export.configs)


def _links(client: Any, inventories: Mapping[str, HostInventory]) -> List[Link]:
    """The lattice's links; none when no host answered (nobody to ask, and nothing linked)."""
    try:
        return list(client.query_links())
    except NoResponseError:
        if inventories:
            raise
        return []


def data_plane_request(task: Any, client: Any, wanted: Callable[[], str]) -> None:
    """wasmcloud_request: one request on a subject, its reply, and whether it is the one expected."""
    params = task.params
    subject = task.result["subject"] = wanted()
    answer = client.request(subject, params["body"].encode("utf-8"), params["timeout"])
    task.result.update(answer)
    if params["expect"] is not None and answer["reply"] != params["expect"]:
        raise OperationFailedError("the reply on %s is not the one expected: expected %r, got %r%s" % (
            subject, params["expect"], answer["reply"][:512], " (cut)" if len(answer["reply"]) > 512 else ""))


def v2_hosts(task: Any, client: V2Client, wanted: Callable[[], Any]) -> None:
    """wasmcloud_host_info: the v2 hosts named, or every one that sends heartbeats."""
    params = task.params
    missing = []
    if params["host_ids"]:
        beats = {}
        for host_id, answer in client.heartbeats(params["host_ids"]).items():
            if isinstance(answer, LatticeError):
                missing.append(host_id)
                task.warn(str(answer))
            else:
                beats[host_id] = answer
    else:
        beats = client.discover(params["heartbeat_window"], stream=params["heartbeat_stream"] or None)
    views = [host_view(beat) for beat in beats.values()]
    if params["host_group"] is not None:
        views = [view for view in views if view["host_group"] == params["host_group"]]
    task.result["hosts"] = sorted(views, key=lambda view: (view["friendly_name"], view["id"]))
    task.result["missing"] = missing
