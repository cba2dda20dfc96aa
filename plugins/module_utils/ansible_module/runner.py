# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The one body of every module: options -> connect -> read -> plan -> check/diff -> apply -> wait -> report.

Private to this collection; may change without notice.

A module file declares its argument spec, the builder of what its options want
(ansible_module/options.py) and the resource that reads, plans and applies it
(runtime/resources/); ``run`` (mutating modules) or ``gather`` (reading modules) does the rest,
the same way for every module and generation.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.clients import client_for
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import (
    Resource,
    ResourceFactory,
    plan_and_apply,
)

Wanted = Callable[[str, Mapping[str, Any]], Any]


def run(argument_spec: Dict[str, Any], wanted: Wanted, resource: ResourceFactory, **module_options: Any) -> None:
    """Run a mutating module: ``wanted(generation, params)`` builds what is asked (refused before anything is
    sent), ``resource(task, wanted)`` knows how to read, plan and apply it."""
    task = LatticeModule(argument_spec, **module_options)
    choices = task.checked_by_generation(wanted)
    target = resource(task, task.for_generation(choices, None))
    task.run(lambda client: converge(task, target, choices, client), client_class=target.client)


def converge(task: LatticeModule, resource: Resource, choices: Mapping[str, Any], client: Any) -> None:
    # what is wanted before the read is provisional when the read is what tells the lattice's generation
    resource.wanted_now = lambda: task.for_generation(choices, client.generation)
    wanted = resource.wanted_now()
    observed = resource.read(client, wanted)
    plan_and_apply(resource, client, task.for_generation(choices, client.generation), observed)


def gather(argument_spec: Dict[str, Any], wanted: Wanted, read: Callable[..., Any],
           client: Optional[Callable[[ConnectionSettings], Any]] = None, **module_options: Any) -> None:
    """Run a reading module: ``read(task, client, wanted)`` fills the result (``wanted()`` is what the options ask
    for in the generation known when it is called); nothing is planned or sent. ``client`` builds the connection's
    client when it is neither a lattice's nor v2 hosts' (the data plane)."""
    task = LatticeModule(argument_spec, **module_options)
    choices = task.checked_by_generation(wanted)
    task.run(lambda connected: read(task, connected,
                                    lambda: task.for_generation(choices, getattr(connected, "generation", None))),
             client_class=client or (lambda settings: client_for(settings, task.generations)))
