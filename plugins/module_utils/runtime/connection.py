# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Connection options shared by every module and plugin, with their environment fallbacks.

Private to this collection; may change without notice.

Declared once here as an argument spec (modules) and once as YAML in
plugins/doc_fragments/connection.py (docs; plugins read the same variables
through ``env:`` entries). ``ConnectionSettings.from_options`` is the single
place where option values become checked settings, whoever supplied them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import unquote, urlsplit

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import AUTO, GENERATIONS, has_lattice
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError

try:
    from ansible.module_utils.basic import env_fallback
    from ansible.module_utils.errors import AnsibleFallbackNotFound
except ImportError:  # pragma: no cover - only outside Ansible
    AnsibleFallbackNotFound = LookupError  # type: ignore[misc,assignment]

    def env_fallback(*args: str, **kwargs: Any) -> str:  # type: ignore[misc]
        for name in args:
            if name in os.environ:
                return os.environ[name]
        raise AnsibleFallbackNotFound


DEFAULT_NATS_URL = "nats://127.0.0.1:4222"

# Which wasmCloud generation the hosts speak. "auto" tells 0.x from 1.x during discovery;
# 2.x hosts have no lattice control interface, so 2.x is only ever chosen explicitly.
PROTOCOLS = (AUTO,) + GENERATIONS


def nats_url_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """WASMCLOUD_NATS_URL, then WASMCLOUD_CTL_HOST + WASMCLOUD_CTL_PORT (as wash uses them), then NATS_URL."""
    env = os.environ if environ is None else environ
    if env.get("WASMCLOUD_NATS_URL"):
        return env["WASMCLOUD_NATS_URL"]
    host, port = env.get("WASMCLOUD_CTL_HOST"), env.get("WASMCLOUD_CTL_PORT")
    if host or port:
        return "nats://%s:%s" % (host or "127.0.0.1", port or "4222")
    return env.get("NATS_URL") or None


def _nats_url_fallback() -> str:
    url = nats_url_from_environment()
    if url is None:
        raise AnsibleFallbackNotFound
    return url


CONNECTION_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "nats_url": {"type": "list", "elements": "str", "default": [DEFAULT_NATS_URL], "fallback": (_nats_url_fallback,)},
    "lattice": {"type": "str", "default": "default", "aliases": ["lattice_prefix", "ns_prefix"],
                "fallback": (env_fallback, ["WASMCLOUD_LATTICE_PREFIX"])},
    "ctl_topic_prefix": {"type": "str", "default": "wasmbus.ctl", "fallback": (env_fallback, ["WASMCLOUD_CTL_TOPIC_PREFIX"])},
    "timeout": {"type": "float", "default": 2.0, "fallback": (env_fallback, ["WASMCLOUD_CTL_TIMEOUT"])},
    "auction_timeout": {"type": "float", "default": 2.0, "fallback": (env_fallback, ["WASMCLOUD_AUCTION_TIMEOUT"])},
    # Every module takes it (not only those that discover), so group module_defaults can set it once.
    "discovery_stall": {"type": "float"},
    "creds_file": {"type": "path", "fallback": (env_fallback, ["WASMCLOUD_CTL_CREDSFILE"])},
    "jwt": {"type": "str", "no_log": True, "fallback": (env_fallback, ["WASMCLOUD_CTL_JWT"])},
    "nkey_seed": {"type": "str", "no_log": True, "fallback": (env_fallback, ["WASMCLOUD_CTL_SEED"])},
    "user": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "token": {"type": "str", "no_log": True},
    "tls_ca_file": {"type": "path"},
    "tls_cert_file": {"type": "path"},
    "tls_key_file": {"type": "path"},
    "tls_verify": {"type": "bool", "default": True},
    "protocol": {"type": "str", "default": "auto", "choices": list(PROTOCOLS),
                 "fallback": (env_fallback, ["WASMCLOUD_PROTOCOL"])},
}

CONNECTION_OPTION_NAMES = tuple(CONNECTION_ARGSPEC)


def connection_argspec() -> Dict[str, Dict[str, Any]]:
    """A fresh copy of the connection options, to merge into a module's own."""
    return {name: dict(spec) for name, spec in CONNECTION_ARGSPEC.items()}


def _split_urls(value: Any) -> List[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    urls: List[str] = []
    for item in items:
        # "a,b" is one common way to pass several servers through one variable. A comma inside a password
        # must not cut its URL in two: a piece that is no address on its own ("nats://user:pa") takes in the
        # next one when that holds the rest of the user information ("ss@host:4222").
        pieces = [part.strip() for part in str(item).split(",")]
        merged: List[str] = []
        for piece in pieces:
            if merged and "@" not in merged[-1] and "@" in piece and "://" not in piece \
                    and not _is_address(merged[-1]):
                merged[-1] += "," + piece
            else:
                merged.append(piece)
        urls.extend(part for part in merged if part)
    return urls


def _is_address(url: str) -> bool:
    """Whether ``url`` (without user information) is scheme://host[:port] with a valid port."""
    try:
        parsed = urlsplit(url if "://" in url else "nats://" + url)
        return bool(parsed.hostname) and parsed.port != -1
    except ValueError:
        return False


def _userinfo(url: str) -> Tuple[str, Optional[str], str]:
    """(``scheme://``, the user information as written or None, ``host:port…``) of a URL.

    The user information ends at the LAST ``@``: a password may hold ``@``, ``/`` or ``:`` as they are
    (urllib and nats-py end it at the first ``/``, which put such a password into the host part).
    """
    scheme, sep, rest = url.partition("://")
    prefix = scheme + sep if sep else ""
    if not sep:
        rest = url
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        return prefix, None, rest
    return prefix, userinfo, hostpart


def redact_url(url: str) -> str:
    """The URL without its ``user:password@`` (or ``token@``) part, for messages."""
    prefix, userinfo, hostpart = _userinfo(url)
    return url if userinfo is None else prefix + hostpart


def url_credentials(url: str) -> Tuple[Optional[str], Optional[str]]:
    """(user, password) written into a URL as ``scheme://user:password@host``; a lone ``token@`` is a user.

    Percent-escapes are decoded, as URLs have them (``%40`` is ``@``).
    """
    userinfo = _userinfo(url)[1]
    if not userinfo:
        return None, None
    user, colon, password = userinfo.partition(":")
    return unquote(user) or None, (unquote(password) or None) if colon else None


# A secret found inside a URL joins the values Ansible masks in every output (no_log_values) with
# the text around it in the URL, whatever its length; alone only from this length on. Why: Ansible
# masks each such value wherever it occurs, so a short one (a one-letter token) would cut words
# apart in unrelated text ("tls_req********ired"), while URLs are redacted where this code echoes them.
MIN_MASKED_SECRET = 6


def url_secrets(urls: Any) -> List[str]:
    """What of nats_url values to keep out of output: each ``userinfo@`` as written, and each password
    or token (decoded and as written) of at least MIN_MASKED_SECRET characters. User names are not secrets."""
    found: List[str] = []
    for url in _split_urls(urls):
        userinfo = _userinfo(url)[1]
        if not userinfo:
            continue
        found.append(userinfo + "@")
        user, password = url_credentials(url)
        written = userinfo.partition(":")[2] if password is not None else userinfo  # a lone part is a token
        for value in (password if password is not None else user, written):
            if value and len(value) >= MIN_MASKED_SECRET:
                found.append(value)
    return list(dict.fromkeys(found))


def secrets_before_validation(params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The url_secrets of the nats_url a module will use, from its raw arguments (or the environment).

    For no_log_values before any check can fail: a module that refuses its input echoes its arguments
    (``invocation.module_args`` at -vvv), nats_url included.
    """
    raw = params.get("nats_url")
    try:
        return url_secrets(raw if raw else (nats_url_from_environment(environ) or []))
    except Exception:  # noqa: BLE001 - whatever the value is, the argument checks refuse it next
        return []


def _normalise_url(url: str) -> str:
    if "://" not in url:
        url = "nats://" + url
    scheme = url.split("://", 1)[0].lower()
    public = redact_url(url)
    if scheme not in ("nats", "tls", "ws", "wss"):
        raise InputError("nats_url %r has an unsupported scheme %r (use nats://, tls://, or ws:// and wss:// for WebSocket)" % (public, scheme))
    try:  # the host part only: urlsplit would end user information at a "/" in a password
        port = urlsplit(public).port
        host = urlsplit(public).hostname
    except ValueError:
        port, host = -1, None
    if port == -1 or not host:
        raise InputError("nats_url %r must be scheme://host[:port] with a port from 1 to 65535" % public)
    return url


def _boolean(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):  # from an environment variable
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


@dataclass(frozen=True)
class ConnectionSettings:
    """Checked connection settings; secrets are kept out of ``repr``."""

    servers: List[str] = field(default_factory=lambda: [DEFAULT_NATS_URL])
    lattice: str = "default"
    ctl_topic_prefix: str = "wasmbus.ctl"
    timeout: float = 2.0
    auction_timeout: float = 2.0
    discovery_stall: Optional[float] = None  # None: the adaptive early finish of _discovery
    creds_file: Optional[str] = None
    jwt: Optional[str] = field(default=None, repr=False)
    nkey_seed: Optional[str] = field(default=None, repr=False)
    user: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    token: Optional[str] = field(default=None, repr=False)
    tls_ca_file: Optional[str] = None
    tls_cert_file: Optional[str] = None
    tls_key_file: Optional[str] = None
    tls_verify: bool = True
    protocol: str = "auto"

    def __repr__(self) -> str:
        # The generated repr leaves out secret fields, but a password can sit inside a URL too.
        values = {name: getattr(self, name) for name, spec in self.__dataclass_fields__.items() if spec.repr}
        values["servers"] = self.public_servers
        shown = ", ".join("%s=%r" % item for item in values.items())
        return "ConnectionSettings(%s)" % shown

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_ca_file or self.tls_cert_file or not self.tls_verify or
                    any(url.lower().startswith(("tls://", "wss://")) for url in self.servers))

    @property
    def secrets(self) -> List[str]:
        return [value for value in (self.jwt, self.nkey_seed, self.password, self.token) if value] + self.url_secrets

    @property
    def url_secrets(self) -> List[str]:
        return url_secrets(self.servers)

    @property
    def url_auth(self) -> Tuple[Optional[str], Optional[str]]:
        """(user or token, password or None) written into the URLs (from_options makes them agree)."""
        return next((found for found in map(url_credentials, self.servers) if found[0] or found[1]), (None, None))

    @property
    def url_user(self) -> Optional[str]:
        """The user (or token) written into the URLs."""
        return self.url_auth[0]

    @property
    def url_has_password(self) -> bool:
        return self.url_auth[1] is not None

    @property
    def public_servers(self) -> List[str]:
        """The servers without the credentials written into them: what the NATS client is given (the
        credentials go to it as options, so it never parses, keeps or echoes them)."""
        return [redact_url(url) for url in self.servers]

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "ConnectionSettings":
        """Build from module params or plugin options; ``None`` means "not set"."""
        raw_urls = options.get("nats_url") or nats_url_from_environment() or DEFAULT_NATS_URL
        servers = [_normalise_url(url) for url in _split_urls(raw_urls)]
        if not servers:
            raise InputError("nats_url must name at least one NATS server")
        if len({url_credentials(url) for url in servers if _userinfo(url)[1] is not None}) > 1:
            raise InputError("the nats_url entries carry different credentials; write the same ones into each, "
                             "or give them once with user and password (or token)")

        def pick(name: str, default: Any) -> Any:
            value = options.get(name)
            return default if value is None or value == "" else value

        try:
            timeout = float(pick("timeout", 2.0))
            auction_timeout = float(pick("auction_timeout", 2.0))
            stall = None if pick("discovery_stall", None) is None else float(options["discovery_stall"])
        except (TypeError, ValueError, OverflowError):
            raise InputError("timeout, auction_timeout and discovery_stall must be numbers of seconds")
        if options.get("lattice") == "":
            raise InputError("lattice must not be empty: name the lattice (leave the option out for 'default')")
        if options.get("password") and not options.get("user"):
            raise InputError("password needs user: NATS checks a password only together with its user "
                             "(for a token alone, use the token option)")
        if (options.get("tls_cert_file") is None) != (options.get("tls_key_file") is None):
            raise InputError("tls_cert_file and tls_key_file must be given together for mutual TLS")
        if options.get("jwt") and not options.get("nkey_seed"):
            raise InputError("jwt needs nkey_seed too: the server asks the client to sign a nonce with the user's seed")
        if options.get("creds_file") and (options.get("jwt") or options.get("nkey_seed")):
            raise InputError("creds_file and jwt/nkey_seed are alternatives: give one of them")
        for name in ("creds_file", "tls_ca_file", "tls_cert_file", "tls_key_file"):
            path = options.get(name)
            if path and not os.path.isfile(path):
                raise InputError("%s %r does not exist or is not a file" % (name, path))
        protocol = str(pick("protocol", "auto"))
        if protocol not in PROTOCOLS:
            raise InputError("protocol must be one of %s, got %r" % (", ".join(PROTOCOLS), protocol))
        return cls(
            servers=servers,
            lattice=check.nats_token(pick("lattice", "default"), "lattice"),
            ctl_topic_prefix=check.subject_prefix(pick("ctl_topic_prefix", "wasmbus.ctl"), "ctl_topic_prefix"),
            timeout=check.positive_seconds(timeout, "timeout"),
            auction_timeout=check.positive_seconds(auction_timeout, "auction_timeout"),
            discovery_stall=check.positive_seconds(stall, "discovery_stall") if stall is not None else None,
            creds_file=options.get("creds_file") or None,
            jwt=options.get("jwt") or None,
            nkey_seed=options.get("nkey_seed") or None,
            user=options.get("user") or None,
            password=options.get("password") or None,
            token=options.get("token") or None,
            tls_ca_file=options.get("tls_ca_file") or None,
            tls_cert_file=options.get("tls_cert_file") or None,
            tls_key_file=options.get("tls_key_file") or None,
            tls_verify=_boolean(options.get("tls_verify"), True),
            protocol=protocol,
        )

    def describe(self) -> str:
        if not has_lattice(self.protocol):  # the lattice option (default 'default') means nothing there
            return "the wasmCloud v2 hosts at %s" % self.server_list
        return "lattice %r at %s" % (self.lattice, self.server_list)

    @property
    def server_list(self) -> str:
        """The servers for messages: credentials in URLs are left out."""
        return ", ".join(self.public_servers)
