"""A pull-only OCI registry on loopback, enough for `wash host` to pull wasm components over plain HTTP.

The host asks for ``GET /v2/``, ``GET|HEAD /v2/{repo}/manifests/{tag|digest}`` and
``GET /v2/{repo}/blobs/{digest}`` and needs ``Docker-Content-Digest`` on manifests. Each published
component becomes an OCI image manifest with a wasm config blob and one ``application/wasm`` layer.

In a test: ``with OciRegistry() as registry: ref = registry.publish("lattice/echo", "0.1.0", path)``.
As a process (the demo): ``python oci_registry.py READY_FILE repo:tag=file.wasm ...`` serves on a free
port and writes ``host:port`` to READY_FILE once it listens.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Tuple

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.wasm.config.v0+json"
LAYER_TYPE = "application/wasm"
_PATH = re.compile(r"^/v2/(?P<repo>.+)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)$")


class _Store:
    def __init__(self) -> None:
        self.blobs: Dict[str, Tuple[bytes, str]] = {}
        self.manifests: Dict[Tuple[str, str], str] = {}
        self.requests: List[str] = []  # "METHOD path", for tests that want to see pulls
        self.stalled: Dict[Tuple[str, str], threading.Event] = {}  # (repo, tag) -> set to let its manifest go

    def blob(self, data: bytes, media_type: str) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = (data, media_type)
        return digest


def _handler(store: _Store) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet: tests read store.requests instead
            pass

        def _reply(self, code: int, body: bytes = b"", media_type: str = "application/json", digest: str = "") -> None:
            self.send_response(code)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            if digest:
                self.send_header("Docker-Content-Digest", digest)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            store.requests.append("%s %s" % (self.command, path))
            if path in ("/v2", "/v2/"):
                return self._reply(200, b"{}")
            match = _PATH.match(path)
            if not match:
                return self._reply(404)
            repo, kind, ref = match.group("repo", "kind", "ref")
            gate = store.stalled.get((repo, ref)) if kind == "manifests" else None
            if gate is not None:
                gate.wait(60)  # a slow registry: the pull waits until the test lets it go
            digest = store.manifests.get((repo, ref)) if kind == "manifests" else ref
            if not digest or digest not in store.blobs:
                return self._reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            data, media_type = store.blobs[digest]
            self._reply(200, data, media_type if kind == "manifests" else "application/octet-stream", digest)

        do_HEAD = do_GET

    return Handler


class OciRegistry:
    """The registry on 127.0.0.1 and a free port, served from a thread; ``address`` is ``host:port``."""

    def __init__(self) -> None:
        self.store = _Store()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.store))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="oci-registry", daemon=True)

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.server.server_address[1]

    def publish(self, repo: str, tag: str, wasm: Path) -> str:
        """Serve the component at ``wasm`` as ``repo:tag``; returns the image reference."""
        data = Path(wasm).read_bytes()
        config = json.dumps({"architecture": "wasm", "os": "wasip2"}).encode()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": self.store.blob(config, CONFIG_TYPE), "size": len(config)},
            "layers": [{"mediaType": LAYER_TYPE, "digest": self.store.blob(data, LAYER_TYPE), "size": len(data)}],
        }).encode()
        digest = self.store.blob(manifest, MANIFEST_TYPE)
        self.store.manifests[(repo, tag)] = self.store.manifests[(repo, digest)] = digest
        return "%s/%s:%s" % (self.address, repo, tag)

    def stall(self, repo: str, tag: str) -> threading.Event:
        """Hold every manifest request for ``repo:tag`` until the returned event is set (a slow pull)."""
        gate = self.store.stalled.setdefault((repo, tag), threading.Event())
        gate.clear()
        return gate

    def start(self) -> "OciRegistry":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "OciRegistry":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: List[str]) -> None:
    registry = OciRegistry()
    for spec in argv[1:]:
        ref, path = spec.split("=", 1)
        repo, tag = ref.rsplit(":", 1)
        registry.publish(repo, tag, Path(path))
    Path(argv[0]).write_text(registry.address)
    registry.server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
