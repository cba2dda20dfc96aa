# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The capability table: which wasmCloud generation each module, option and operation serves.

Private to this collection; may change without notice.

One table drives the gate (a module or option asked of a generation it does not serve fails before
anything is sent, naming what to use instead), the "works with" notes of the docs, and the gate tests.
Besides the dialects, this is the only code that knows generation names.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError

V0, V1, V2 = "0.x", "1.x", "2.x"
GENERATIONS = (V0, V1, V2)
CONTROL_INTERFACE = (V0, V1)  # the lattice control interface; v2 hosts share nothing but NATS with it
AUTO = "auto"

# module -> the generations it serves
MODULES: Dict[str, Tuple[str, ...]] = {
    "wasmcloud_actor": (V0,),
    "wasmcloud_component": (V1,),
    "wasmcloud_config": (V1,),
    "wasmcloud_label": (V1,),
    "wasmcloud_provider": CONTROL_INTERFACE,
    "wasmcloud_link": CONTROL_INTERFACE,
    "wasmcloud_host": CONTROL_INTERFACE,
    "wasmcloud_lattice_info": CONTROL_INTERFACE,
    "wasmcloud_auction": CONTROL_INTERFACE,
    "wasmcloud_events": CONTROL_INTERFACE,
    "wasmcloud_registry": CONTROL_INTERFACE,
    "wasmcloud_application": GENERATIONS,
    "wasmcloud_application_info": (V1,),
    "wasmcloud_workload": (V2,),
    "wasmcloud_host_info": (V2,),
    "wasmcloud_deployment": (V2,),
    "wasmcloud_request": GENERATIONS,  # the data plane: a subject, whatever generation serves it
}

# (module, option) -> (the generations it serves, the value that means "not given"). Options not listed
# serve every generation of their module.
OPTIONS: Dict[Tuple[str, str], Tuple[Tuple[str, ...], Any]] = {
    ("wasmcloud_provider", "link_name"): ((V0,), "default"),
    ("wasmcloud_provider", "contract_id"): ((V0,), None),
    ("wasmcloud_provider", "configuration"): ((V0,), None),
    ("wasmcloud_provider", "config"): ((V1,), []),
    ("wasmcloud_provider", "replicas"): ((V1,), 1),
    ("wasmcloud_provider", "daemon"): ((V1,), False),
    ("wasmcloud_link", "actor_id"): ((V0,), None),
    ("wasmcloud_link", "provider_id"): ((V0,), None),
    ("wasmcloud_link", "contract_id"): ((V0,), None),
    ("wasmcloud_link", "link_name"): ((V0,), "default"),
    ("wasmcloud_link", "values"): ((V0,), {}),
    ("wasmcloud_link", "source_id"): ((V1,), None),
    ("wasmcloud_link", "target"): ((V1,), None),
    ("wasmcloud_link", "wit_namespace"): ((V1,), None),
    ("wasmcloud_link", "wit_package"): ((V1,), None),
    ("wasmcloud_link", "interfaces"): ((V1,), []),
    ("wasmcloud_link", "name"): ((V1,), "default"),
    ("wasmcloud_link", "source_config"): ((V1,), []),
    ("wasmcloud_link", "target_config"): ((V1,), []),
    ("wasmcloud_application", "spec"): ((V0,), None),
    ("wasmcloud_application", "spec_file"): ((V0,), None),
    ("wasmcloud_application", "manifest"): ((V1, V2), None),
    ("wasmcloud_application", "manifest_file"): ((V1, V2), None),
    # how a manifest maps onto v2 hosts (docs/migrating-to-v2.md)
    ("wasmcloud_application", "mapping"): ((V2,), None),
    ("wasmcloud_application", "label_map"): ((V2,), None),
    ("wasmcloud_application", "http_hosts"): ((V2,), None),
    ("wasmcloud_application", "consumer_group"): ((V2,), None),
    ("wasmcloud_application", "instances"): ((V2,), None),
    ("wasmcloud_application", "configs"): ((V2,), None),
    ("wasmcloud_auction", "component_id"): ((V1,), None),
    ("wasmcloud_auction", "provider_id"): ((V1,), None),
}

# (module, option, value) -> the generations that accept that value
VALUES: Dict[Tuple[str, str, Any], Tuple[str, ...]] = {
    ("wasmcloud_registry", "registry_type", "bindle"): (V0,),
    ("wasmcloud_auction", "kind", "actor"): (V0,),
    ("wasmcloud_auction", "kind", "component"): (V1,),
}

# operation (an intent or read) -> the generations that have it; the dialects agree (a test checks)
OPERATIONS: Dict[str, Tuple[str, ...]] = {
    "start_actor": (V0,), "stop_actor": (V0,), "update_actor": (V0,),
    "advertise_link": (V0,), "remove_link": (V0,),
    "start_provider": CONTROL_INTERFACE, "stop_provider": CONTROL_INTERFACE, "stop_host": CONTROL_INTERFACE,
    "scale_component": (V1,), "update_component": (V1,), "put_link": (V1,), "delete_link": (V1,),
    "put_config": (V1,), "delete_config": (V1,), "put_label": (V1,), "delete_label": (V1,),
    "workload.start": (V2,), "workload.stop": (V2,), "workload.status": (V2,), "heartbeat": (V2,),
}

# Generations whose components and providers are named by IDs the user chooses (not by keys from their images).
NAMED_BY_ID = (V1,)

# generation -> the step that plans an application for it (planning/applications.py)
APPLICATION_PLANNING: Dict[str, str] = {V0: "actors", V1: "workloads", V2: "deployments"}

# The default of each auction kind per generation (wasmcloud_auction without kind).
DEFAULT_AUCTION_KIND = {V0: "actor", V1: "component"}

# What to use instead, for the modules of the lattice control interface on a v2 host.
_V2_INSTEAD = {
    "wasmcloud_application": "on v2 hosts it takes a wadm manifest (manifest or manifest_file); an application spec "
                             "describes actors, which v2 hosts cannot run: rebuild them as components and describe "
                             "the application as a wadm manifest",
    "wasmcloud_link": "v2 has no links; components in one workload are linked by their WIT imports and "
                      "exports, and capabilities are chosen with host_interfaces of wasmcloud.lattice.wasmcloud_workload",
    "wasmcloud_lattice_info": "v2 has no lattice control interface; use wasmcloud.lattice.wasmcloud_host_info",
    "wasmcloud_host": "v2 hosts cannot be stopped over NATS; stop the wash host process (for example the "
                      "service of the wasmcloud.lattice.host role) and read hosts with wasmcloud.lattice.wasmcloud_host_info",
}
_V2_DEFAULT_INSTEAD = ("v2 has no actors, providers, auctions, events or applications on the bus; deploy with "
                       "wasmcloud.lattice.wasmcloud_deployment (replicas placed over matching hosts) or "
                       "wasmcloud.lattice.wasmcloud_workload (one workload on a host, placed by your play)")

# What to use instead, between the two generations of the lattice control interface.
_INSTEAD: Dict[Tuple[str, str], str] = {
    ("wasmcloud_actor", V1): "1.x runs components, named by IDs you choose, instead of actors: use "
                             "wasmcloud.lattice.wasmcloud_component",
    ("wasmcloud_component", V0): "0.x runs actors instead of components: use wasmcloud.lattice.wasmcloud_actor",
    ("wasmcloud_config", V0): "0.x has no named configs: give values to wasmcloud.lattice.wasmcloud_link (values) "
                              "or wasmcloud.lattice.wasmcloud_provider (configuration)",
    ("wasmcloud_label", V0): "this collection changes labels of 1.x hosts only; give 0.x hosts their labels when "
                             "they start (HOST_* environment variables)",
    ("wasmcloud_application", V1): "its spec describes 0.x applications (actors); on 1.x give a wadm manifest "
                                   "(manifest or manifest_file), or use wasmcloud.lattice.wasmcloud_component, "
                                   "wasmcloud_provider, wasmcloud_link and wasmcloud_config",
    ("wasmcloud_application", V0): "a wadm manifest describes a 1.x application; on 0.x give spec (actors, "
                                   "providers, links)",
}


def _given(value: Any, idle: Any) -> bool:
    return value not in (idle, None, "", [], {})


def serves(module: str, params: Optional[Mapping[str, Any]] = None) -> Tuple[str, ...]:
    """The generations ``module`` serves; with ``params``, narrowed by the options that only some serve
    when no generation serves them all (then the module's own say which)."""
    generations = MODULES[module]
    narrowed = [g for g in generations if not unused_options(module, params or {}, g)]
    return tuple(narrowed) if narrowed and params and _narrows(module) else generations


def _narrows(module: str) -> bool:
    """Options that choose the generation (application: spec or manifest) rather than being refused on another."""
    return module == "wasmcloud_application"


def unused_options(module: str, params: Mapping[str, Any], generation: str) -> List[str]:
    """The options given in ``params`` that ``generation`` does not have for ``module``."""
    return sorted(option for (name, option), (generations, idle) in OPTIONS.items()
                  if name == module and generation not in generations and _given(params.get(option), idle))


def refuse_unused(module: str, params: Mapping[str, Any], generation: str) -> None:
    given = unused_options(module, params, generation)
    if given:
        raise InputError("%s cannot be used on wasmCloud %s lattices" % (", ".join(given), generation))


def value_refusal(module: str, option: str, value: Any, generation: Optional[str]) -> Optional[str]:
    """Why ``generation`` does not accept ``option: value`` (None when it does, or is not known yet)."""
    generations = VALUES.get((module, option, value))
    if generation is None or generations is None or generation in generations:
        return None
    return "%s %s exists on %s hosts only" % (option, value, " and ".join(generations))


def has_operation(generation: str, operation: str) -> bool:
    return generation in OPERATIONS.get(operation, ())


def generation_refusal(module_name: str, protocol: str, generations: Sequence[str]) -> Optional[str]:
    """Why ``module_name`` cannot serve ``protocol`` (None when it can); "auto" decides later, on detection
    (control-interface modules) or means the module's own family (v2 modules)."""
    if protocol == AUTO or protocol in generations:
        return None
    if protocol == V2:
        return "%s does not work with protocol 2.x: %s" % (
            module_name, _V2_INSTEAD.get(module_name, _V2_DEFAULT_INSTEAD))
    if tuple(generations) == (V2,):
        return ("%s speaks to wasmCloud v2 hosts only (protocol 2.x, the default for it), not to the lattice "
                "control interface of %s" % (module_name, protocol))
    instead = _INSTEAD.get((module_name, protocol)) or "it serves %s" % " and ".join(generations)
    return "%s does not work with wasmCloud %s lattices: %s" % (module_name, protocol, instead)


def application_step(generation: str) -> str:
    """The application planning step of ``generation``."""
    return APPLICATION_PLANNING[generation]


def named_by_id(generation: str) -> bool:
    return generation in NAMED_BY_ID


def has_lattice(protocol: str) -> bool:
    """Hosts of this protocol share a lattice (a name that scopes every subject); v2 hosts have none."""
    return protocol != V2


def targets_v2(protocol: Optional[str], generations: Sequence[str]) -> bool:
    """A module that serves several families talks to v2 hosts: asked to, or only v2 is left (its options)."""
    return protocol == V2 or ((protocol or AUTO) == AUTO and tuple(generations) == (V2,))


def speaks_v2(generations: Sequence[str]) -> bool:
    """The module talks to v2 hosts (its own client), not to a lattice control interface."""
    return tuple(generations) == (V2,)


def works_with(module: str) -> str:
    """The "works with" note of a module's documentation, from the table."""
    options = sorted("%s (%s)" % (option, " and ".join(generations))
                     for (name, option), (generations, _idle) in OPTIONS.items() if name == module)
    note = "Works with wasmCloud %s." % " and ".join(MODULES[module])
    return note + (" Options of one generation only are %s." % ", ".join(options) if options else "")
