"""A nats-server cluster on loopback, built from sandbox.NatsServer nodes (each stopped by its PID)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from typing import Any, Dict, List

from sandbox import NatsServer
from sandbox.nats_server import free_port


class NatsCluster:
    """``with NatsCluster(3) as cluster: cluster.urls`` – nodes routed to each other, JetStream off."""

    def __init__(self, size: int = 3, name: str = "lattice-test") -> None:
        self.size = size
        self.name = name
        self.nodes: List[NatsServer] = []
        self.killed: List[int] = []
        self._urls: List[str] = []
        self.monitor_ports: List[int] = []  # each node's HTTP monitoring port (/connz), on loopback

    def start(self) -> "NatsCluster":
        route_ports = [free_port() for _index in range(self.size)]
        self.monitor_ports = [free_port() for _index in range(self.size)]
        routes = ", ".join("nats-route://127.0.0.1:%d" % port for port in route_ports)
        try:
            for index, port in enumerate(route_ports):
                config = "\n".join([
                    "server_name: %s-n%d" % (self.name, index + 1),
                    "http: 127.0.0.1:%d" % self.monitor_ports[index],
                    "cluster {",
                    "  name: %s" % self.name,
                    "  listen: 127.0.0.1:%d" % port,
                    "  routes: [%s]" % routes,
                    "}",
                ])
                self.nodes.append(NatsServer(config, jetstream=False).start())
            self._urls = [node.url for node in self.nodes]
            self.wait_for_routes()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def urls(self) -> List[str]:
        """Every node's URL, in order; still known after a node is killed."""
        return list(self._urls)

    def routes_of(self, node: NatsServer) -> int:
        """How many other nodes this one has a route to, from its log."""
        text = node.log_path.read_text(errors="replace") if node.log_path else ""
        return text.count("Route connection created") - text.count("Route connection closed")

    def wait_for_routes(self, timeout: float = 10.0) -> None:
        """Until every node has a route to every other (interest then flows everywhere)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.routes_of(node) >= self.size - 1 for node in self.nodes):
                time.sleep(0.2)  # let the subscription interest propagate over the new routes
                return
            time.sleep(0.05)
        raise RuntimeError("the cluster did not form within %gs" % timeout)

    def connections(self, index: int) -> List[Dict[str, Any]]:
        """Node ``index``'s client connections with their subscriptions (the /connz?subs=1 monitoring page)."""
        url = "http://127.0.0.1:%d/connz?subs=1&limit=100000" % self.monitor_ports[index]
        with urllib.request.urlopen(url, timeout=5) as reply:
            return json.loads(reply.read()).get("connections") or []

    def wait_for_subscriber(self, index: int, subject: str, newer_than: int = 0, delivered: int = 0,
                            timeout: float = 60.0) -> int:
        """Until a client connection (with a cid above ``newer_than``) subscribes to ``subject`` on node
        ``index`` and has been sent at least ``delivered`` messages; return its cid."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for conn in self.connections(index):
                if conn.get("cid", 0) > newer_than and subject in (conn.get("subscriptions_list") or []) \
                        and conn.get("out_msgs", 0) >= delivered:
                    return conn["cid"]
            time.sleep(0.02)
        raise RuntimeError("nobody subscribed to %s on node %d within %gs" % (subject, index, timeout))

    def newest_cid(self, index: int) -> int:
        return max((conn.get("cid", 0) for conn in self.connections(index)), default=0)

    def kill(self, index: int) -> int:
        """SIGKILL node ``index`` by its PID (a crash: no goodbye to clients); return the PID."""
        node = self.nodes[index]
        pid = node.pid
        if pid is None:
            raise RuntimeError("node %d is not running" % index)
        os.kill(pid, signal.SIGKILL)
        self.killed.append(pid)
        # Reap it and mark it stopped, so NatsServer.stop() does not signal a recycled PID later.
        node.stop()
        return pid

    @staticmethod
    def port_open(url: str) -> bool:
        host, port = url.rsplit("//", 1)[1].split(":")
        try:
            with socket.create_connection((host, int(port)), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> "NatsCluster":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
