# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What each module's options ask for, checked: ``wanted(generation, params)`` -> the desired state.

Private to this collection; may change without notice.

The runner calls a module's ``wanted`` for every generation the task may meet, before anything is sent
(``LatticeModule.checked_by_generation``): invalid input is refused there, and options that belong to
another generation are refused by the capability table. What a builder returns is what the planner
plans: its type says which plan it needs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import application_v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import read_spec_file
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.workload_options import (
    DEPLOYMENT_DEFAULTS,
    workload_spec,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v1, v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import link as checked_link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import (
    DEFAULT_AUCTION_KIND,
    NAMED_BY_ID,
    has_lattice,
    named_by_id,
    refuse_unused,
    unused_options,
    value_refusal,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import EVENT_TYPE_PREFIX
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import LinkDefinition
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import ActorSpec, ProviderSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import parse_spec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import DesiredWorkload
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import build as build_workload
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import parse_manifest
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2mapping
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.applications import Asked
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import COMPONENT, PROVIDER, Application
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.data_plane import checked_subject
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.deployment import asked as deployment_asked
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import WorkloadSpec

Params = Mapping[str, Any]


# -- things placed on hosts ------------------------------------------------------------------------------------------


def actor(generation: str, params: Params) -> ActorSpec:
    """wasmcloud_actor: the actor, its count and where."""
    if not params["image_ref"] and not params["actor_id"]:
        raise InputError("one of image_ref or actor_id is required")
    return ActorSpec(
        state=params["state"],
        image_ref=check.image_ref(params["image_ref"], "image_ref") if params["image_ref"] else None,
        actor_id=check.public_key(params["actor_id"], "actor", "actor_id") if params["actor_id"] else None,
        count=check.count(params["count"]),
        host_id=check.public_key(params["host_id"], "host", "host_id") if params["host_id"] else None,
        constraints=check.string_map(params["constraints"], "constraints"),
        annotations=check.string_map(params["annotations"], "annotations"),
    )


def component(generation: str, params: Params) -> WorkloadSpec:
    """wasmcloud_component: a component by its ID, its instance limit and placement."""
    return workload_spec(COMPONENT, params["component_id"], params["image_ref"], params, params["max_instances"])


def provider(generation: str, params: Params) -> Any:
    """wasmcloud_provider in the terms of ``generation``; refused when the options belong to another (the
    capability table says which generation has which option; a provider is named by its own ID there)."""
    refuse_unused("wasmcloud_provider", params, generation)
    if named_by_id(generation):
        if not params["provider_id"]:
            raise InputError("provider_id is required on wasmCloud %s lattices (the ID you give the provider)"
                             % generation)
        return workload_spec(PROVIDER, params["provider_id"], params["provider_ref"], params)
    if not params["provider_ref"] and not params["provider_id"]:
        raise InputError("one of provider_ref or provider_id is required")
    return ProviderSpec(
        state=params["state"],
        provider_ref=check.provider_ref(params["provider_ref"], "provider_ref") if params["provider_ref"] else None,
        provider_id=check.public_key(params["provider_id"], "provider", "provider_id") if params["provider_id"] else None,
        link_name=check.link_name(params["link_name"] or "default"),
        contract_id=check.contract_id(params["contract_id"]) if params["contract_id"] else None,
        host_id=check.public_key(params["host_id"], "host", "host_id") if params["host_id"] else None,
        constraints=check.string_map(params["constraints"], "constraints"),
        configuration=configuration_text(params["configuration"]),
        annotations=check.string_map(params["annotations"], "annotations"),
    )


def configuration_text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    raise InputError("configuration must be a string or a dict (sent as JSON), got %s" % type(value).__name__)


# -- links, configs, labels ------------------------------------------------------------------------------------------


def link(generation: str, params: Params) -> Any:
    """wasmcloud_link: a 0.x link definition or a 1.x WIT link, whichever ``generation`` has."""
    refuse_unused("wasmcloud_link", params, generation)  # the capability table knows which options are whose
    if named_by_id(generation):
        missing = [name for name in ("source_id", "wit_namespace", "wit_package") if not params[name]]
        if params["state"] == "present":
            missing += [name for name in ("target", "interfaces") if not params[name]]
        if missing:
            raise InputError("%s required for a link on wasmCloud %s lattices" % (" and ".join(missing), generation) +
                             (" is" if len(missing) == 1 else " are"))
        if params["state"] == "absent":  # only the identity matters; fill the rest so the link checks pass
            return checked_link(params["source_id"], params["target"] or params["source_id"], params["wit_namespace"],
                                params["wit_package"], params["interfaces"] or ["any"], params["name"])
        return checked_link(params["source_id"], params["target"], params["wit_namespace"], params["wit_package"],
                            params["interfaces"], params["name"], params["source_config"], params["target_config"])
    for name in ("actor_id", "contract_id"):
        if not params[name]:
            raise InputError("%s is required for a link on wasmCloud %s lattices" % (name, generation))
    if params["state"] == "present" and not params["provider_id"]:
        raise InputError("provider_id is required to advertise a link")
    return LinkDefinition(
        actor_id=check.public_key(params["actor_id"], "actor", "actor_id"),
        provider_id=check.public_key(params["provider_id"], "provider", "provider_id") if params["provider_id"] else "",
        contract_id=check.contract_id(params["contract_id"]),
        link_name=check.link_name(params["link_name"] or "default"),
        values=check.string_map(params["values"], "values"),
    )


def config(generation: str, params: Params) -> Tuple[str, Dict[str, str]]:
    """wasmcloud_config: (name, values)."""
    return v1.config_name(params["name"], "name"), check.string_map(params["values"], "values")


def labels(generation: str, params: Params) -> Tuple[str, Dict[str, str]]:
    """wasmcloud_label: (host ID, labels)."""
    host_id = check.public_key(params["host_id"], "host", "host_id")
    found = check.string_map(params["labels"], "labels")
    for key in found:
        check.label_key(key, "labels key")
    return host_id, found


# -- hosts and registries --------------------------------------------------------------------------------------------


def host(generation: str, params: Params) -> str:
    """wasmcloud_host: the host ID (host_timeout checked too)."""
    if params["host_timeout"] is not None and not 0 <= params["host_timeout"] <= check.MAX_SECONDS * 1000:
        # the host reads it as an unsigned 64-bit number: an absurd value is a typo, not a wish
        raise InputError("host_timeout must be between 0 and %d milliseconds (one day), got %s"
                         % (check.MAX_SECONDS * 1000, check.shown_number(params["host_timeout"])))
    return check.public_key(params["host_id"], "host", "host_id")


_REGISTRY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")


def registry(generation: str, params: Params) -> Tuple[str, Dict[str, str]]:
    """wasmcloud_registry: (registry, credential fields)."""
    found = params["registry"]
    if not isinstance(found, str) or not _REGISTRY.match(found):
        raise InputError("registry %r must be a registry host with an optional port, e.g. 'ghcr.io' or "
                         "'registry.local:5000' (no scheme or path)" % (found,))
    username, password, token = params["registry_username"], params["registry_password"], params["registry_token"]
    if token and (username or password):
        raise InputError("give either registry_token or registry_username and registry_password, not both")
    if username and not password:
        raise InputError("registry_username needs registry_password (the option password is the NATS server's "
                         "since version 0.2.0)")
    if password and not username:
        raise InputError("registry_password needs registry_username")
    if not token and not username:
        raise InputError("credentials are needed: registry_token, or registry_username and registry_password (the "
                         "options token and password are the NATS server's since version 0.2.0)")
    fields = {key: value for key, value in (("username", username), ("password", password), ("token", token))
              if value}
    fields["registry_type"] = params["registry_type"]
    return found, fields


# -- applications ----------------------------------------------------------------------------------------------------


def application(generation: str, params: Params) -> Asked:
    """wasmcloud_application: the one application model, from a wadm manifest or a 0.x spec, whichever was given
    (the capability table has already narrowed the generations to those that read it), with the planning step
    ``generation`` names; on hosts without a lattice (v2) the parts they cannot carry are set aside first (the
    mapping lists them), with the mapping's options."""
    if not has_lattice(generation):
        written, terms = application_v2.checked_name(params), application_v2.checked(params)
        app, unmappable = v2mapping.application_of(written)
        return Asked.for_generation(generation, app, unmappable=unmappable, deployment=DEPLOYMENT_DEFAULTS, **terms)
    if params["manifest"] is not None or params["manifest_file"] is not None:
        return Asked.for_generation(generation, _manifest(params))
    spec = params["spec"] if params["spec"] is not None else read_spec_file(params["spec_file"])
    return Asked.for_generation(generation, parse_spec(params["name"], spec))


def _manifest(params: Params) -> Application:
    """The wadm manifest, parsed and checked; a given ``name`` must be the manifest's."""
    if params["manifest"] is not None:
        manifest = parse_manifest(params["manifest"])
    else:
        manifest = parse_manifest(read_spec_file(params["manifest_file"], "manifest_file", ""))
    if params["name"] not in (None, manifest.name):
        raise InputError("name %r differs from the manifest's metadata.name %r; leave name out or make them the same"
                         % (params["name"], manifest.name))
    return manifest


APPLICATION_SOURCES = ("spec", "spec_file", "manifest", "manifest_file")


# -- v2 workloads ----------------------------------------------------------------------------------------------------


def workload(generation: str, params: Params) -> DesiredWorkload:
    """wasmcloud_workload: the workload to start, its digest and what is shown of it."""
    desired = build_workload(params)
    if not 0 < params["start_timeout"] <= 3600:  # also refuses NaN
        raise InputError("start_timeout must be between 0 and 3600 seconds, got %r" % params["start_timeout"])
    return desired


def deployment(generation: str, params: Params) -> Any:
    """wasmcloud_deployment: the deployment's target (namespace, name, workload, template) and its desired
    replicas and placement."""
    return deployment_asked(params)


# -- reading modules -------------------------------------------------------------------------------------------------


def auction(generation: str, params: Params) -> Tuple[str, Dict[str, str]]:
    """wasmcloud_auction: (kind, constraints) in the terms of ``generation``."""
    kind = params["kind"] or DEFAULT_AUCTION_KIND[generation]
    if kind != "provider" and params["provider_ref"] or kind == "provider" and params["image_ref"]:
        raise InputError("use image_ref for %s auctions and provider_ref for provider auctions" % kind)
    if named_by_id(generation):
        if value_refusal("wasmcloud_auction", "kind", kind, generation):
            raise InputError("wasmCloud %s lattices run components, not actors: use kind component with component_id"
                             % generation)
        needed = ("image_ref", "component_id") if kind == "component" else ("provider_ref", "provider_id")
    else:
        if value_refusal("wasmcloud_auction", "kind", kind, generation) or unused_options("wasmcloud_auction", params,
                                                                                          generation):
            raise InputError("kind component, component_id and provider_id are for wasmCloud %s lattices"
                             % " and ".join(NAMED_BY_ID))
        needed = ("image_ref",) if kind == "actor" else ("provider_ref",)
    missing = [name for name in needed if not params[name]]
    if missing:
        raise InputError("a %s auction needs %s" % (kind, " and ".join(missing)))
    check.link_name(params["link_name"] or "default")
    return kind, check.string_map(params["constraints"], "constraints")


def event_filter(generation: str, params: Params) -> Tuple[float, list]:
    """wasmcloud_events: (duration, short event types)."""
    if params["source"]:
        check.public_key(params["source"], "host", "source")
    kinds = [kind[len(EVENT_TYPE_PREFIX):] if kind.startswith(EVENT_TYPE_PREFIX) else kind for kind in params["types"]]
    return check.positive_seconds(params["duration"], "duration"), kinds


def v2_hosts(generation: str, params: Params) -> Params:
    """wasmcloud_host_info: the heartbeat window, host IDs and stream name."""
    window = params["heartbeat_window"]
    if not window > 0 or window > 3600:
        raise InputError("heartbeat_window must be between 0 and 3600 seconds, got %r" % window)
    for index, host_id in enumerate(params["host_ids"] or []):
        v2.host_id(host_id, "host_ids[%d]" % index)
    if params["heartbeat_stream"]:
        v2.jetstream_name(params["heartbeat_stream"], "heartbeat_stream")
    return params


def request(generation: str, params: Params) -> str:
    """wasmcloud_request: the subject, one a request can go to."""
    return checked_subject(params["subject"])


def as_given(generation: str, params: Params) -> Params:
    """Modules whose options need no check beyond their argument spec."""
    return params
