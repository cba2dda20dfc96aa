"""Connection settings and input checks that must refuse bad values before anything is sent:
non-finite or absurd seconds, empty or huge lattice names, link names that are not one subject
token, a password without its user, credentials inside nats_url."""

from __future__ import annotations

import math

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import (
    ConnectionSettings,
    secrets_before_validation,
    url_credentials,
    url_secrets,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import _auth_method, _tls_request

URL = "nats://127.0.0.1:4222"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0, 0.0, -1, -1e-9, 86400.5, 1e300, True, "5", None])
def test_seconds_that_cannot_be_waited_are_refused(value):
    with pytest.raises(InputError) as refused:
        check.positive_seconds(value, "wait_timeout")
    assert "wait_timeout" in str(refused.value)


@pytest.mark.parametrize("value", [1e-3, 0.4, 2, 60.0, 86400])
def test_sensible_seconds_pass(value):
    assert check.positive_seconds(value, "timeout") == float(value)


@pytest.mark.parametrize("name", ["timeout", "auction_timeout"])
@pytest.mark.parametrize("value", [math.nan, math.inf, "nan", "inf", "-inf", 1e12, "1e999"])
def test_connection_seconds_are_checked(name, value):
    with pytest.raises(InputError) as refused:
        ConnectionSettings.from_options({"nats_url": URL, name: value})
    assert name in str(refused.value) or "numbers of seconds" in str(refused.value)


def test_an_empty_lattice_is_an_error_not_default():
    with pytest.raises(InputError, match="lattice must not be empty"):
        ConnectionSettings.from_options({"nats_url": URL, "lattice": ""})
    assert ConnectionSettings.from_options({"nats_url": URL}).lattice == "default"
    assert ConnectionSettings.from_options({"nats_url": URL, "lattice": None}).lattice == "default"


def test_a_huge_lattice_name_is_refused_with_a_short_message():
    huge = "x" * 100_000
    with pytest.raises(InputError) as refused:
        ConnectionSettings.from_options({"nats_url": URL, "lattice": huge})
    message = str(refused.value)
    assert "too long" in message and "at most 255" in message and "100000 characters" in message
    assert len(message) < 300  # the name is not repeated in full
    assert ConnectionSettings.from_options({"nats_url": URL, "lattice": "x" * 255}).lattice == "x" * 255
    with pytest.raises(InputError, match="too long"):
        ConnectionSettings.from_options({"nats_url": URL, "ctl_topic_prefix": "a." * 200 + "b"})


@pytest.mark.parametrize("value", ["a.b c*>", "a.b", "with space", "*", ">", "tab\there", "", "x" * 256, None, 7])
def test_link_names_that_are_not_one_token_are_refused(value):
    with pytest.raises(InputError, match="link_name"):
        check.link_name(value)


@pytest.mark.parametrize("value", ["default", "redis", "backend-2", "Ünïcode_ok", "x" * 255])
def test_link_names_that_are_one_token_pass(value):
    assert check.link_name(value) == value


def test_a_password_without_a_user_is_refused():
    with pytest.raises(InputError, match="password needs user"):
        ConnectionSettings.from_options({"nats_url": URL, "password": "s3cret"})
    settings = ConnectionSettings.from_options({"nats_url": URL, "user": "ops", "password": "s3cret"})
    assert _auth_method(settings) == "user 'ops' and password"


def test_credentials_inside_the_url_are_named_as_such():
    with_password = ConnectionSettings.from_options({"nats_url": "nats://ops:pa%40ss@127.0.0.1:4222"})
    assert url_credentials(with_password.servers[0]) == ("ops", "pa@ss")
    assert _auth_method(with_password) == "user 'ops' and password from nats_url"
    assert with_password.server_list == URL
    token = ConnectionSettings.from_options({"nats_url": "tls://t0ken-value@127.0.0.1:4222"})
    assert _auth_method(token) == "the token in nats_url"
    assert _auth_method(ConnectionSettings.from_options({"nats_url": URL})) == "no credentials"
    # Options win over the URL, as nats-py sends them instead.
    both = ConnectionSettings.from_options({"nats_url": "nats://a:b@127.0.0.1", "user": "ops", "password": "x"})
    assert _auth_method(both) == "user 'ops' and password"


def test_user_information_ends_at_the_last_at_sign():
    # A password may hold "@", "/" and ":" as they are: user information ends at the last "@".
    for written, password in [("p@ss", "p@ss"), ("pa/ss", "pa/ss"), ("a:b@c/d", "a:b@c/d"), ("x%2Fy", "x/y")]:
        settings = ConnectionSettings.from_options({"nats_url": "nats://ops:%s@127.0.0.1:4222" % written})
        assert settings.url_auth == ("ops", password)
        assert settings.public_servers == [URL] and settings.server_list == URL
        assert password not in repr(settings) and written not in repr(settings)
    # a comma inside a password does not split the URL where user information is written
    assert ConnectionSettings.from_options({"nats_url": ["nats://u:a,b@h:1,nats://h2:2"]}).public_servers == [
        "nats://h:1", "nats://h2:2"]
    assert ConnectionSettings.from_options({"nats_url": "h1:1,h2:2"}).public_servers == ["nats://h1:1", "nats://h2:2"]
    with pytest.raises(InputError, match="different credentials"):
        ConnectionSettings.from_options({"nats_url": "nats://a:b@h:1,nats://a:c@h:2"})
    with pytest.raises(InputError) as refused:
        ConnectionSettings.from_options({"nats_url": "nats://ops:pa/ss@127.0.0.1:99999"})
    assert "pa/ss" not in str(refused.value) and "ss@" not in str(refused.value)


def test_secrets_are_known_before_any_check():
    assert secrets_before_validation({"nats_url": ["nats://u:longpassword@h:1"]}) == ["u:longpassword@", "longpassword"]
    assert secrets_before_validation({}, {"NATS_URL": "nats://tok3n-value@h:1"}) == ["tok3n-value@", "tok3n-value"]
    assert secrets_before_validation({"nats_url": 7}) == []  # refused by the argument checks next


def test_url_secrets_cover_raw_and_written_forms():
    # Each user information with its "@" (any length), and passwords and tokens alone from 6 characters on.
    assert url_secrets(["nats://ops:pa%40ss@h:1", "nats://h:2", "tls://tok@h:3"]) == ["ops:pa%40ss@", "pa%40ss", "tok@"]
    assert url_secrets(["nats://ops:s3cr%40t@h:1", "tls://t0ken-value@h:3"]) == [
        "ops:s3cr%40t@", "s3cr@t", "s3cr%40t", "t0ken-value@", "t0ken-value"]
    assert url_secrets("nats://h:1,nats://u:pw@h:2") == ["u:pw@"]
    settings = ConnectionSettings.from_options({"nats_url": "nats://ops:hunter2@127.0.0.1:4222"})
    assert "hunter2" in settings.secrets and "hunter2" not in repr(settings)
    assert "servers=['nats://127.0.0.1:4222']" in repr(settings)


@pytest.mark.parametrize("url, message", [
    ("http://ops:hunter2@127.0.0.1:80", "unsupported scheme"),
    ("nats://ops:hunter2@127.0.0.1:99999", "port from 1 to 65535"),
    ("nats://ops:hunter2@:4222", "scheme://host"),
])
def test_bad_urls_are_refused_without_their_password(url, message):
    with pytest.raises(InputError) as refused:
        ConnectionSettings.from_options({"nats_url": url})
    assert message in str(refused.value) and "hunter2" not in str(refused.value)


def test_which_options_asked_for_tls_are_named():
    settings = ConnectionSettings.from_options({"nats_url": "tls://127.0.0.1:4222", "tls_verify": False})
    assert settings.uses_tls and _tls_request(settings) == "a tls:// URL, tls_verify: false"
    assert not ConnectionSettings.from_options({"nats_url": URL}).uses_tls
