"""Decoding 1.x request bodies as the host's serde types do: required fields must be present, the
others take their defaults, and any mismatch is one ``failed to deserialize …`` error."""

from __future__ import annotations

from typing import Any, Optional

U32_MAX = 0xFFFFFFFF


class BadRequest(ValueError):
    """A request body that does not deserialize; the message is the host's reply text."""


class Body:
    """The JSON object of one request; ``what`` names it in the error (``component scale command``)."""

    def __init__(self, body: Any, what: str, empty_ok: bool = False) -> None:
        self.what = what
        if body is None and empty_ok:
            body = {}
        if not isinstance(body, dict):
            raise self.error()
        self.fields: dict[str, Any] = body

    def error(self) -> BadRequest:
        return BadRequest("failed to deserialize %s" % self.what)

    def _present(self, key: str, required: bool) -> bool:
        if self.fields.get(key) is None:
            if required:
                raise self.error()
            return False
        return True

    def string(self, key: str, required: bool = False, default: str = "") -> str:
        if not self._present(key, required):
            return default
        if not isinstance(self.fields[key], str):
            raise self.error()
        return self.fields[key]

    def strings(self, key: str, required: bool = False) -> list[str]:
        if not self._present(key, required):
            return []
        value = self.fields[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error()
        return list(value)

    def string_map(self, key: str, required: bool = False) -> Optional[dict[str, str]]:
        if not self._present(key, required):
            return None
        value = self.fields[key]
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.error()
        return dict(value)

    def u32(self, key: str) -> int:
        value = self.fields.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U32_MAX:
            raise self.error()
        return value

    def boolean(self, key: str) -> bool:
        value = self.fields.get(key, False)
        if not isinstance(value, bool):
            raise self.error()
        return value
