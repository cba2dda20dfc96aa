"""The lattice-wide metadata every host of one lattice shares: links, claims and the ref map.

Real OTP hosts converge on this through the ``LATTICECACHE_{lattice}`` JetStream stream;
the emulated hosts live in one process, so they share one object instead.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Optional

LinkKey = tuple[str, str, str]  # (actor_id, contract_id, link_name)


class LatticeStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: dict[LinkKey, dict[str, Any]] = {}
        self._claims: dict[str, dict[str, str]] = {}
        self._refmap: dict[str, str] = {}

    # Links -------------------------------------------------------------------------------
    def put_link(self, actor_id: str, provider_id: str, contract_id: str, link_name: str,
                 values: dict[str, str]) -> dict[str, Any]:
        """Store (replacing any link with the same identity) and return the stored definition."""
        link = {
            "id": str(uuid.uuid4()),
            "actor_id": actor_id,
            "provider_id": provider_id,
            "link_name": link_name,
            "contract_id": contract_id,
            "values": dict(values),
        }
        with self._lock:
            self._links[(actor_id, contract_id, link_name)] = link
        return dict(link)

    def delete_link(self, actor_id: str, contract_id: str, link_name: str) -> Optional[dict[str, Any]]:
        with self._lock:
            return self._links.pop((actor_id, contract_id, link_name), None)

    def links(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(link, values=dict(link["values"])) for link in self._links.values()]

    def clear_links(self) -> None:
        with self._lock:
            self._links.clear()

    # Claims ------------------------------------------------------------------------------
    def put_claims(self, claims: dict[str, str]) -> None:
        with self._lock:
            self._claims[claims["sub"]] = dict(claims)

    def claims(self) -> list[dict[str, str]]:
        with self._lock:
            return [dict(entry) for entry in self._claims.values()]

    # Ref map (image reference -> public key, learned when an image is fetched) -----------
    def learn_ref(self, ref: str, public_key: str) -> None:
        with self._lock:
            self._refmap[ref] = public_key

    def key_for_ref(self, ref: str) -> Optional[str]:
        with self._lock:
            return self._refmap.get(ref)

    def ref_for_key(self, public_key: str) -> Optional[str]:
        with self._lock:
            for ref, key in self._refmap.items():
                if key == public_key:
                    return ref
        return None
