"""Image references resolve to claims without any registry.

Rule (see README.md, "How images resolve"):

* The tag or digest is stripped from an OCI reference to get its repository
  (``registry/path/name``); for ``bindle://host/name/version`` the repository is
  ``bindle://host/name`` and the tag is ``version``.
* The public key is derived from the repository, so every tag of one repository is
  the same actor (or provider) – that is what makes live update possible.
* The claims revision comes from the tag: ``MAJOR.MINOR.PATCH`` (optional ``v``
  prefix, optional ``-pre``/``+build`` suffix) gives ``MAJOR*10000 + MINOR*100 +
  PATCH``; any other tag gives 0. The claims version is the tag itself.
* A repository or tag containing ``missing`` or ``notfound`` does not exist.
* ``register_image`` overrides any of this for one reference (or for every tag of
  a repository when registered without a tag).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from typing import Optional

from .keys import derived_key

ACTOR = "actor"
PROVIDER = "provider"

NOT_FOUND_ERROR = '{:error, "manifest unknown"}'
LATEST_ERROR = (
    "{:error, \"Fetching images tagged 'latest' is currently prohibited in this host. "
    'This option can be overridden with WASMCLOUD_OCI_ALLOW_LATEST"}'
)
INVALID_REF_ERROR = '{:error, "invalid reference format"}'

# All sandbox images are signed by one account, like a team publishing its own artifacts.
ISSUER = derived_key("account", "sandbox:issuer")

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
_MISSING_MARKERS = ("missing", "notfound")

# Provider repository name (substring) -> contract id, first match wins.
_PROVIDER_CONTRACTS = (
    ("httpserver", "wasmcloud:httpserver"),
    ("httpclient", "wasmcloud:httpclient"),
    ("kvredis", "wasmcloud:keyvalue"),
    ("keyvalue", "wasmcloud:keyvalue"),
    ("messaging", "wasmcloud:messaging"),
    ("nats", "wasmcloud:messaging"),
)
# Actor repository name -> capabilities its claims declare, so claims look like real ones.
_ACTOR_CAPS = {
    "echo": ("wasmcloud:httpserver",),
    "hello": ("wasmcloud:httpserver",),
    "kvcounter": ("wasmcloud:httpserver", "wasmcloud:keyvalue"),
}


class ImageResolutionError(Exception):
    """The reference cannot be fetched; ``str(exc)`` is the host's error text."""


@dataclass(frozen=True)
class Image:
    """What a host learns from an image's embedded claims."""

    ref: str
    kind: str
    public_key: str
    name: str
    revision: int
    version: str
    issuer: str = ISSUER
    contract_id: str = ""
    caps: tuple[str, ...] = ()
    call_alias: str = ""
    tags: tuple[str, ...] = ()
    # False: the artifact carries no embedded claims (common for 1.x components; 0.x hosts ignore it).
    signed: bool = True

    def claims_entry(self) -> dict[str, str]:
        """The lattice claims-cache map (``get.claims``): string values only, never null."""
        return {
            "sub": self.public_key,
            "iss": self.issuer,
            "name": self.name,
            "call_alias": self.call_alias,
            "caps": ",".join(self.caps),
            "tags": ",".join(self.tags),
            "rev": str(self.revision),
            "version": self.version,
        }


@dataclass(frozen=True)
class _Override:
    key: Optional[str] = None
    revision: Optional[int] = None
    name: Optional[str] = None
    version: Optional[str] = None
    contract_id: Optional[str] = None
    caps: Optional[tuple[str, ...]] = None
    fail: Optional[str] = None
    signed: Optional[bool] = None


_overrides: dict[str, _Override] = {}
_overrides_lock = threading.Lock()


def register_image(
    ref: str,
    *,
    key: Optional[str] = None,
    revision: Optional[int] = None,
    name: Optional[str] = None,
    version: Optional[str] = None,
    contract_id: Optional[str] = None,
    caps: Optional[list[str]] = None,
    fail: str | bool | None = None,
    signed: Optional[bool] = None,
) -> None:
    """Override what ``ref`` resolves to (process-wide).

    ``ref`` with a tag or digest matches exactly that reference; without one it matches
    every tag of the repository. ``fail=True`` makes it unresolvable with the standard
    "manifest unknown" text; a string gives the exact error text. ``signed=False`` makes it an
    artifact without claims (1.x hosts then report no name, claims or public key for it).
    """
    fail_text = NOT_FOUND_ERROR if fail is True else (fail or None)
    override = _Override(key, revision, name, version, contract_id, tuple(caps) if caps is not None else None, fail_text,
                         signed)
    with _overrides_lock:
        _overrides[ref] = override


def unregister_image(ref: str) -> None:
    with _overrides_lock:
        _overrides.pop(ref, None)


def clear_registered_images() -> None:
    with _overrides_lock:
        _overrides.clear()


@dataclass(frozen=True)
class ParsedRef:
    repository: str
    tag: str = ""
    digest: str = ""
    bindle: bool = False

    @property
    def name(self) -> str:
        return self.repository.rstrip("/").rsplit("/", 1)[-1]


def parse_ref(ref: str) -> ParsedRef:
    """Split an OCI or bindle reference; raises ImageResolutionError when malformed."""
    if not ref or ref != ref.strip() or any(c.isspace() for c in ref):
        raise ImageResolutionError(INVALID_REF_ERROR)
    if ref.startswith("bindle://"):
        parts = ref[len("bindle://"):].split("/")
        if len(parts) < 3 or not all(parts):
            raise ImageResolutionError(INVALID_REF_ERROR)
        return ParsedRef("bindle://" + "/".join(parts[:-1]), tag=parts[-1], bindle=True)
    repository, _sep, digest = ref.partition("@")
    tag = ""
    last_colon = repository.rfind(":")
    # A colon before the last "/" belongs to a registry port, not a tag.
    if last_colon > repository.rfind("/"):
        repository, tag = repository[:last_colon], repository[last_colon + 1:]
    if not repository or ("@" in ref and not digest):
        raise ImageResolutionError(INVALID_REF_ERROR)
    return ParsedRef(repository, tag=tag, digest=digest)


def revision_from_tag(tag: str) -> int:
    match = _SEMVER.match(tag)
    if not match:
        return 0
    major, minor, patch = (int(g) for g in match.groups())
    return major * 10000 + minor * 100 + patch


def _override_for(ref: str, parsed: ParsedRef) -> Optional[_Override]:
    with _overrides_lock:
        return _overrides.get(ref) or _overrides.get(parsed.repository)


def _contract_for(name: str) -> str:
    for marker, contract in _PROVIDER_CONTRACTS:
        if marker in name:
            return contract
    return "sandbox:%s" % name


def resolve(ref: str, kind: str, *, allow_latest: bool = False) -> Image:
    """Resolve ``ref`` as an actor or provider image, or raise ImageResolutionError."""
    parsed = parse_ref(ref)
    override = _override_for(ref, parsed)
    if override is not None and override.fail:
        raise ImageResolutionError(override.fail)
    if override is None and any(m in parsed.repository.lower() or m in parsed.tag.lower() for m in _MISSING_MARKERS):
        raise ImageResolutionError(NOT_FOUND_ERROR)
    if not parsed.bindle and not parsed.digest and parsed.tag in ("", "latest") and not allow_latest:
        raise ImageResolutionError(LATEST_ERROR)

    image = Image(
        ref=ref,
        kind=kind,
        public_key=derived_key(kind, "%s:%s" % (kind, parsed.repository)),
        name=parsed.name,
        revision=revision_from_tag(parsed.tag),
        version=parsed.tag,
        contract_id=_contract_for(parsed.name) if kind == PROVIDER else "",
        caps=_ACTOR_CAPS.get(parsed.name, ()) if kind == ACTOR else (),
    )
    if override is None:
        return image
    changes = {
        field_name: value
        for field_name, value in (
            ("public_key", override.key),
            ("revision", override.revision),
            ("name", override.name),
            ("version", override.version),
            ("contract_id", override.contract_id),
            ("caps", override.caps),
            ("signed", override.signed),
        )
        if value is not None
    }
    return replace(image, **changes)
