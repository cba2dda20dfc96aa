# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """The workload spec of the modules that start wasmCloud v2 workloads (wasmcloud_workload, wasmcloud_deployment)."""

    DOCUMENTATION = r"""
options:
  components:
    description: The request/response components of the workload.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Component name, unique in the workload.
        type: str
        required: true
      image:
        description:
          - OCI reference of the component, for example V(registry.example.com/team/echo:1.0.0).
          - No scheme, a lower-case repository, registry and repository together at most 255 characters, a
            C(sha256) digest of 64 lower-case hex digits; other references are refused before anything is sent.
        type: str
        required: true
      pool_size:
        description: Warm instances to keep; 0 means not set. Negative values are refused.
        type: int
      max_invocations:
        description: Recycle an instance after this many calls; 0 means not set. Negative values are refused.
        type: int
      max_concurrency:
        description: Calls one instance may run at once; 0 means not set. Negative values are refused.
        type: int
      local_resources:
        description: What the component may use.
        type: dict
        suboptions: &local_resources
          config:
            description: Configuration (C(wasi:config/store)); numbers and booleans become strings.
            type: dict
          environment:
            description: Environment variables (C(wasi:cli/environment)).
            type: dict
          allowed_hosts:
            description: Outbound hosts allowed (V(*), V(*.example.com), V(host:port), V(https://host)).
            type: list
            elements: str
          allowed_ip_name_lookups:
            description: Names the component may resolve.
            type: list
            elements: str
          allowed_host_loopback_ports:
            description: Loopback ports allowed (only with the host's C(--allow-host-loopback)).
            type: list
            elements: str
          memory_limit_mb:
            description: Memory limit in MiB.
            type: int
          cpu_limit:
            description: CPU limit.
            type: int
          volume_mounts:
            description: Volumes of O(volumes) to mount.
            type: list
            elements: dict
            suboptions:
              name:
                description: Name of a volume in O(volumes).
                type: str
                required: true
              mount_path:
                description: Path inside the component.
                type: str
                required: true
              read_only:
                description: Mount read-only.
                type: bool
                default: false
      image_pull_policy:
        description: When to pull the image. Hosts check the registry at every start whatever the policy.
        type: str
        choices: [always, if_not_present, never]
      image_pull_secret:
        description:
          - Registry credentials for this image. They travel in clear text in the start request (use TLS to
            NATS) and are not recorded; changing only them does not replace a running workload.
        type: dict
        suboptions: &pull_secret
          username:
            description: Registry user.
            type: str
            required: true
          password:
            description: Registry password or token.
            type: str
            required: true
  service:
    description: A long-running component (exporting C(wasi:cli/run)), restarted on a trap up to O(service.max_restarts) times.
    type: dict
    suboptions:
      image:
        description: OCI reference of the service component.
        type: str
        required: true
      max_restarts:
        description: Restarts after a trap.
        type: int
      local_resources:
        description: As O(components[].local_resources).
        type: dict
        suboptions: *local_resources
      image_pull_policy:
        description: As O(components[].image_pull_policy).
        type: str
        choices: [always, if_not_present, never]
      image_pull_secret:
        description: As O(components[].image_pull_secret).
        type: dict
        suboptions: *pull_secret
  host_interfaces:
    description:
      - Host capabilities the workload uses, with their configuration. For example C(wasi:http) with
        C(config.host) (the C(Host) header routed to the workload) or C(wasmcloud:messaging) with
        C(config.subscriptions) (comma-separated NATS subjects).
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: WIT namespace, for example V(wasi).
        type: str
        required: true
      package:
        description: WIT package, for example V(http).
        type: str
        required: true
      version:
        description: Package version, for example V(0.2.0).
        type: str
      interfaces:
        description: Interfaces of the package, for example V([incoming-handler]).
        type: list
        elements: str
      config:
        description: Configuration of the capability for this workload.
        type: dict
      name:
        description: Instance name, when a workload binds several backends of one package.
        type: str
  volumes:
    description: Volumes the components may mount; each has O(volumes[].host_path) or O(volumes[].empty_dir).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Volume name.
        type: str
        required: true
      host_path:
        description: An existing directory on the host machine.
        type: str
      empty_dir:
        description: An empty scratch directory.
        type: bool
        default: false
  annotations:
    description: Free-form annotations of the workload.
    type: dict
    default: {}
"""
