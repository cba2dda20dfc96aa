"""NATS identities for authentication tests: nkeys, a hand-built operator/account/user JWT chain, .creds files.

The JWTs follow the NATS v2 format: ``base64url(header).base64url(claims).base64url(signature)``,
header ``{"typ":"JWT","alg":"ed25519-nkey"}``, signed with the issuer's nkey seed over the first two
parts. Nothing here talks to a server; the server config text is built by ``operator_config``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

import nkeys

_PREFIX = {
    "operator": nkeys.PREFIX_BYTE_OPERATOR,
    "account": nkeys.PREFIX_BYTE_ACCOUNT,
    "user": nkeys.PREFIX_BYTE_USER,
}
UNLIMITED = -1


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


@dataclass
class Identity:
    """An nkey pair: ``seed`` (S…) and ``public_key`` (O…, A… or U…)."""

    kind: str
    seed: str
    public_key: str

    @classmethod
    def create(cls, kind: str) -> "Identity":
        seed = nkeys.encode_seed(os.urandom(32), _PREFIX[kind])
        keypair = nkeys.from_seed(seed)
        public = keypair.public_key.decode("ascii")
        keypair.wipe()
        return cls(kind, seed.decode("ascii"), public)

    def sign(self, data: bytes) -> bytes:
        keypair = nkeys.from_seed(self.seed.encode("ascii"))
        try:
            return keypair.sign(data)
        finally:
            keypair.wipe()


def encode_jwt(issuer: Identity, subject: str, name: str, nats: Dict[str, Any]) -> str:
    """A NATS JWT for ``subject`` signed by ``issuer``; ``jti`` is the SHA-256 of the claims, as nsc makes it."""
    claims: Dict[str, Any] = {"jti": "", "iat": int(time.time()), "iss": issuer.public_key, "name": name,
                              "sub": subject, "nats": nats}
    digest = hashlib.sha256(json.dumps(claims, sort_keys=True).encode("utf-8")).digest()
    claims["jti"] = base64.b32encode(digest).decode("ascii").rstrip("=")
    header = _b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signed = ("%s.%s" % (header, body)).encode("ascii")
    return "%s.%s" % (signed.decode("ascii"), _b64url(issuer.sign(signed)))


def decode_jwt_claims(token: str) -> Dict[str, Any]:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@dataclass
class JwtChain:
    """Operator → account → user, as the server's ``operator:``/``resolver: MEMORY`` config expects."""

    operator: Identity
    account: Identity
    user: Identity
    operator_jwt: str
    account_jwt: str
    user_jwt: str

    @classmethod
    def create(cls, permissions: Optional[Dict[str, Any]] = None) -> "JwtChain":
        operator, account, user = Identity.create("operator"), Identity.create("account"), Identity.create("user")
        operator_jwt = encode_jwt(operator, operator.public_key, "test-operator", {"type": "operator", "version": 2})
        account_jwt = encode_jwt(operator, account.public_key, "test-account", {
            "type": "account", "version": 2,
            "limits": {"subs": UNLIMITED, "data": UNLIMITED, "payload": UNLIMITED, "imports": UNLIMITED,
                       "exports": UNLIMITED, "wildcards": True, "conn": UNLIMITED, "leaf": UNLIMITED},
        })
        user_claims: Dict[str, Any] = {"type": "user", "version": 2, "subs": UNLIMITED, "data": UNLIMITED,
                                       "payload": UNLIMITED}
        user_claims.update(permissions or {})
        user_jwt = encode_jwt(account, user.public_key, "test-user", user_claims)
        return cls(operator, account, user, operator_jwt, account_jwt, user_jwt)

    def new_user(self, name: str = "another-user") -> "tuple[Identity, str]":
        """Another user of the same account, with its JWT."""
        user = Identity.create("user")
        token = encode_jwt(self.account, user.public_key, name, {"type": "user", "version": 2, "subs": UNLIMITED,
                                                                 "data": UNLIMITED, "payload": UNLIMITED})
        return user, token

    def server_config(self) -> str:
        """nats-server configuration text: trust this operator, preload the account."""
        return "\n".join([
            "operator: %s" % self.operator_jwt,
            "resolver: MEMORY",
            "resolver_preload: {",
            "  %s: %s" % (self.account.public_key, self.account_jwt),
            "}",
        ])


def creds_file_text(user_jwt: str, user_seed: str) -> str:
    """A ``.creds`` file in the layout nsc writes (and nats-py reads)."""
    return "\n".join([
        "-----BEGIN NATS USER JWT-----",
        user_jwt,
        "------END NATS USER JWT------",
        "",
        "************************* IMPORTANT *************************",
        "NKEY Seed printed below can be used to sign and prove identity.",
        "NKEYs are sensitive and should be treated as secrets.",
        "",
        "-----BEGIN USER NKEY SEED-----",
        user_seed,
        "------END USER NKEY SEED------",
        "",
        "*************************************************************",
        "",
    ])
