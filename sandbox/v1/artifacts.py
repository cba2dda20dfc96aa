"""Component and provider references as a 1.x host fetches them, resolved without a registry.

OCI references follow the 0.x sandbox's rules (``sandbox/images.py``: key from the repository,
revision and version from the tag, ``missing``/``notfound`` fail, ``register_image`` overrides);
1.x adds the ``oci://`` scheme, ``file://`` paths (only with file loading allowed) and
``wasmcloud+builtin://`` providers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Optional

from .. import images
from ..images import ACTOR, PROVIDER, Image, ImageResolutionError
from ..keys import derived_key

COMPONENT = ACTOR  # a component's claims subject is an M… key, as a 0.x actor's was
BUILTIN_SCHEME = "wasmcloud+builtin://"
FILE_SCHEME = "file://"
OCI_SCHEME = "oci://"

_ELIXIR_ERROR = re.compile(r'^\{:error, "(.*)"\}$')


def is_builtin(ref: str) -> bool:
    return ref.startswith(BUILTIN_SCHEME)


def displayed_ref(ref: str) -> str:
    """Inventory shows provider refs without the oci:// or file:// scheme."""
    for scheme in (OCI_SCHEME, FILE_SCHEME):
        if ref.startswith(scheme):
            return ref[len(scheme):]
    return ref


def fetch(ref: str, kind: str, *, allow_latest: bool, allow_file_load: bool,
          forced_error: Optional[str] = None, signed: bool = True) -> Image:
    """The artifact's claims; ImageResolutionError carries the 1.x host's error text.

    ``signed=False`` treats every artifact as unsigned (no embedded claims).
    """
    image = _fetch(ref, kind, allow_latest=allow_latest, allow_file_load=allow_file_load, forced_error=forced_error)
    return image if signed or not image.signed else replace(image, signed=False)


def _fetch(ref: str, kind: str, *, allow_latest: bool, allow_file_load: bool, forced_error: Optional[str]) -> Image:
    what = "component" if kind == COMPONENT else "provider"
    if forced_error is not None:
        raise ImageResolutionError(forced_error)
    if ref.startswith(FILE_SCHEME) or is_builtin(ref):
        if ref.startswith(FILE_SCHEME) and not allow_file_load:
            raise ImageResolutionError("failed to fetch %s: unable to start %s from file, file loading is disabled"
                                       % (what, what))
        name = re.split(r"[/.]", ref.split("://", 1)[1].rstrip("/").rsplit("/", 1)[-1] or what)[0] or what
        digest = hashlib.sha256(ref.encode("utf-8")).hexdigest()[:12]
        return Image(ref=ref, kind=kind, public_key=derived_key(kind, "%s:%s" % (kind, ref)), name=name,
                     revision=0, version=digest if ref.startswith(FILE_SCHEME) else "builtin")
    oci_ref = ref[len(OCI_SCHEME):] if ref.startswith(OCI_SCHEME) else ref
    try:
        image = images.resolve(oci_ref, PROVIDER if kind == PROVIDER else ACTOR, allow_latest=allow_latest)
    except ImageResolutionError as exc:
        raise ImageResolutionError("failed to fetch %s: %s" % (what, _plain(str(exc)))) from None
    return image if oci_ref == ref else replace(image, ref=ref)


def _plain(text: str) -> str:
    """The 0.x resolver speaks Elixir (``{:error, "manifest unknown"}``); 1.x hosts are Rust."""
    match = _ELIXIR_ERROR.match(text)
    return match.group(1) if match else text
