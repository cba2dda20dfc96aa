"""Ed25519 identities for emulated hosts, actors, providers and issuers.

Keys are real Ed25519 public keys in nkey encoding, so they pass the same
checksum validation a client applies to keys from real hosts.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import sys
from pathlib import Path

import nacl.signing

# The nkey encoder lives in the collection; the sandbox reuses it instead of keeping a copy.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from plugins.module_utils.model.nkeys import encode_public_key  # noqa: E402


def public_key(kind: str, seed: bytes) -> str:
    """The nkey public key ("host", "actor", "provider", "cluster", "account") of a 32-byte seed."""
    verify_key = nacl.signing.SigningKey(seed).verify_key.encode()
    return encode_public_key(kind, verify_key)


def derived_key(kind: str, text: str) -> str:
    """A public key that is a pure function of ``text`` (same text, same key, every run)."""
    return public_key(kind, hashlib.sha256(text.encode("utf-8")).digest())


def seed_bytes(seed: bytes | str | None) -> bytes:
    """32 seed bytes from raw bytes, an nkey seed string (``SN…``), any other string, or None (random).

    Accepting nkey seeds mirrors ``WASMCLOUD_HOST_SEED``; other strings are hashed so tests can
    name a host's identity ("host-a") and get the same key on every run.
    """
    if seed is None:
        return os.urandom(32)
    if isinstance(seed, bytes):
        if len(seed) != 32:
            raise ValueError("a raw seed is 32 bytes, got %d" % len(seed))
        return seed
    if len(seed) == 58 and seed.startswith("S"):
        # nkey seed: 2 prefix bytes, 32 seed bytes, 2 CRC bytes, base32 without padding.
        raw = base64.b32decode(seed + "=" * 6)
        return raw[2:34]
    return hashlib.sha256(seed.encode("utf-8")).digest()


_ADJECTIVES = (
    "autumn", "billowing", "bitter", "black", "bold", "brave", "calm", "cold", "cool", "crimson",
    "damp", "dark", "dawn", "delicate", "divine", "dry", "empty", "falling", "fancy", "floral",
    "fragrant", "frosty", "gentle", "green", "hidden", "holy", "icy", "jolly", "late", "lingering",
    "little", "lively", "long", "lucky", "misty", "morning", "muddy", "nameless", "noisy", "old",
    "patient", "polished", "proud", "purple", "quiet", "rapid", "restless", "rough", "shy", "silent",
    "small", "snowy", "solitary", "sparkling", "spring", "still", "summer", "twilight", "wandering",
    "weathered", "white", "wild", "winter", "wispy", "withered", "young",
)
_NOUNS = (
    "bird", "breeze", "brook", "bush", "butterfly", "cherry", "cloud", "darkness", "dawn", "dew",
    "dream", "dust", "feather", "field", "fire", "firefly", "flower", "fog", "forest", "frog",
    "frost", "glade", "glitter", "grass", "haze", "hill", "lake", "leaf", "meadow", "moon",
    "morning", "mountain", "night", "otter", "paper", "pine", "pond", "rain", "resonance", "river",
    "sea", "shadow", "shape", "silence", "sky", "smoke", "snow", "snowflake", "sound", "star",
    "sun", "sunset", "surf", "thunder", "tree", "violet", "voice", "water", "waterfall", "wave",
    "wildflower", "wind", "wood",
)


def friendly_name(rng: random.Random | None = None) -> str:
    """An OTP-style friendly name: ``adjective-noun-N`` with N in 1..9999."""
    rng = rng or random.Random()
    return "%s-%s-%d" % (rng.choice(_ADJECTIVES), rng.choice(_NOUNS), rng.randint(1, 9999))
