# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""NATS nkey public keys: encoding, decoding and validation.

Private to this collection; may change without notice.

An nkey public key is 56 characters of RFC 4648 base32 (no padding) that
encode 35 bytes: one prefix byte naming the key's role, the 32-byte Ed25519
public key, and a CRC16 (XMODEM) of those 33 bytes, little-endian.
"""

from __future__ import annotations

import base64

# Prefix byte of each kind of public key; its first base32 character is the letter below.
PREFIX_BYTES = {
    "account": 0,  # A, issuer of actor and provider claims
    "cluster": 2 << 3,  # C
    "actor": 12 << 3,  # M ("module")
    "host": 13 << 3,  # N ("server")
    "operator": 14 << 3,  # O
    "user": 20 << 3,  # U
    "provider": 21 << 3,  # V ("service")
}

# What a wasmCloud operator calls each kind of key, by its first character.
KIND_BY_LETTER = {
    "N": "host",
    "M": "actor",
    "V": "provider",
    "C": "cluster",
    "A": "account",
    "O": "operator",
    "U": "user",
}
LETTER_BY_KIND = {kind: letter for letter, kind in KIND_BY_LETTER.items()}

PUBLIC_KEY_LENGTH = 56
_RAW_LENGTH = 35


class InvalidKeyError(ValueError):
    """A string that is not a valid nkey public key of the expected kind."""


def crc16_xmodem(data: bytes) -> int:
    """CRC16 with polynomial 0x1021 and initial value 0, as nkeys use."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _bit in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc


def encode_public_key(kind: str, raw_key: bytes) -> str:
    """Encode 32 raw public-key bytes as an nkey of the given kind (host, actor, ...)."""
    if len(raw_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes, got %d" % len(raw_key))
    body = bytes([PREFIX_BYTES[kind]]) + raw_key
    crc = crc16_xmodem(body)
    return base64.b32encode(body + bytes([crc & 0xFF, crc >> 8])).decode("ascii")


def decode_public_key(key: str) -> bytes:
    """Return the 32 raw bytes of an nkey public key, checking its checksum."""
    if not isinstance(key, str):
        raise InvalidKeyError("a key must be a string, got %s" % type(key).__name__)
    if len(key) != PUBLIC_KEY_LENGTH:
        raise InvalidKeyError("%r is %d characters long; nkey public keys are %d" % (key, len(key), PUBLIC_KEY_LENGTH))
    try:
        raw = base64.b32decode(key.encode("ascii"), casefold=False)
    except (ValueError, UnicodeEncodeError):
        raise InvalidKeyError("%r is not base32 (only A-Z and 2-7 may appear)" % key)
    if len(raw) != _RAW_LENGTH:
        raise InvalidKeyError("%r does not decode to %d bytes" % (key, _RAW_LENGTH))
    body, checksum = raw[:33], raw[33:]
    if crc16_xmodem(body) != checksum[0] | (checksum[1] << 8):
        raise InvalidKeyError("%r has a bad checksum (mistyped or truncated?)" % key)
    return body[1:]


def key_kind(key: str) -> str:
    """The kind of a valid public key (host, actor, provider, ...)."""
    decode_public_key(key)
    kind = KIND_BY_LETTER.get(key[0])
    if kind is None:
        raise InvalidKeyError("%r has an unknown key prefix %r" % (key, key[0]))
    return kind


def validate_public_key(key: str, kind: str, what: str = "") -> str:
    """Check that ``key`` is a valid public key of ``kind``; return it unchanged.

    ``what`` names the option or field in the error message.
    """
    label = what or "%s id" % kind
    letter = LETTER_BY_KIND[kind]
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("%s must be a %s public key starting with %r" % (label, kind, letter))
    if key[0] != letter:
        found = KIND_BY_LETTER.get(key[0], "unknown")
        raise InvalidKeyError(
            "%s %r is not a %s key: %s keys start with %r (this one starts with %r, a %s key)"
            % (label, key, kind, kind, letter, key[0], found)
        )
    try:
        decode_public_key(key)
    except InvalidKeyError as exc:
        raise InvalidKeyError("%s is invalid: %s" % (label, exc))
    return key


def is_public_key(key: object, kind: str) -> bool:
    """True when ``key`` is a valid public key of ``kind``."""
    try:
        validate_public_key(key, kind)  # type: ignore[arg-type]
    except InvalidKeyError:
        return False
    return True
