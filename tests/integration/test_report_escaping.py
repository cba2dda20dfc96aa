# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""playbooks/report.yml writes what hosts report as text, never as markup.

A peer on a real nats-server plays a 0.x host whose every reported value (actor and provider IDs, names,
image references, link names, contracts, annotations, labels, claims, links) carries markup, and the real
report playbook writes the HTML, SVG and Markdown report of that lattice: no element the host sent appears in
them. A second check reads the templates themselves: every expression that writes data is escaped.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Callable

from ansible_run import BIN, ansible_env, run
from sandbox import NatsServer
from security import peer as peer_helpers
from security.peer import Peer

peers = peer_helpers.peers  # the fixture

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "playbooks" / "templates"
HOST = "NAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6CRG"
SCRIPT = '<script>alert("x")</script>'
BREAKOUT = '"><img src=x onerror=alert(1)>`'


def hostile(what: str) -> str:
    return "%s-%s-%s" % (what, SCRIPT, BREAKOUT)


def test_a_hostile_host_puts_no_markup_into_the_report(nats_server: NatsServer, peers: Callable[[], Peer],
                                                       tmp_path: Path) -> None:
    lattice = "report%s" % uuid.uuid4().hex[:8]
    actor, provider = hostile("actor"), hostile("provider")
    annotations = {"wasmcloud.lattice/application": hostile("app")}
    prefix = "wasmbus.ctl.%s" % lattice
    peer = peers()
    peer.answer(prefix + ".ping.hosts", json.dumps({
        "id": HOST, "friendly_name": hostile("host"), "labels": {hostile("label"): hostile("value")},
        "version": hostile("version"), "uptime_human": hostile("uptime"), "uptime_seconds": 1}).encode())
    peer.answer("%s.get.%s.inv" % (prefix, HOST), json.dumps({
        "host_id": HOST, "labels": {}, "actors": [{"id": actor, "image_ref": hostile("image"), "name": hostile("name"),
                                                   "instances": [{"instance_id": "i", "revision": 1,
                                                                  "annotations": annotations}]}],
        "providers": [{"id": provider, "link_name": hostile("link"), "contract_id": hostile("contract"),
                       "image_ref": hostile("pimage"), "name": hostile("pname"), "annotations": annotations}]}).encode())
    peer.answer(prefix + ".get.links", json.dumps({"links": [{
        "actor_id": actor, "provider_id": provider, "link_name": hostile("link"), "contract_id": hostile("contract"),
        "values": {hostile("key"): hostile("secret")}}]}).encode())
    peer.answer(prefix + ".get.claims", json.dumps({"claims": [{
        "sub": actor, "iss": hostile("issuer"), "name": hostile("claim"), "caps": hostile("caps"),
        "version": hostile("cversion"), "rev": hostile("rev")}]}).encode())

    result = run([str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / "report.yml"),
                  "-i", "localhost,", "-c", "local", "-e", "report_dir=%s" % (tmp_path / "report")],
                 env=ansible_env({"WASMCLOUD_NATS_URL": nats_server.url, "WASMCLOUD_LATTICE_PREFIX": lattice,
                                  "WASMCLOUD_AUCTION_TIMEOUT": "0.5"}, callback="default"))
    assert result.returncode == 0, result.output[-3000:]

    html = (tmp_path / "report" / "lattice.html").read_text()
    markdown = (tmp_path / "report" / "lattice.md").read_text()
    assert "1 host(s), 1 actor instance(s), 1 provider(s), 1 link(s)" in result.stdout
    # The IDs are there, as text; not one element the host sent.
    assert html.count("actor-&lt;script&gt;") >= 4 and html.count("provider-&lt;script&gt;") >= 3
    assert "<script" not in html and "<img" not in html and "onerror=alert(1)>" not in html
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "p", "main", "div", "b", "span",
                    "h2", "svg", "defs", "marker", "path", "filter", "feDropShadow", "g", "rect", "text", "table",
                    "tr", "th", "td", "code", "br", "circle"}, tags
    assert "<script" not in markdown and "<img" not in markdown
    # inside Markdown code spans a backtick from the host would end the span and let the rest be markup
    for span in re.findall(r"`([^`]*)`", markdown):
        assert "<" not in span, span


def data_expressions(template: Path):
    """(line, expression) of every {{ }} in ``template`` that writes something a host may have sent."""
    text = template.read_text()
    for match in re.finditer(r"\{\{(.*?)\}\}", text, re.S):
        expression = " ".join(match.group(1).split())
        line = text[:match.start()].count("\n") + 1
        if re.search(r"\b(host|actor|provider|link|claim|name|report\.lattice|report\.generated|key|value)\b",
                     expression) and not re.search(r"\|\s*(length|sum)$|^link\.number$|^owner\(", expression):
            yield line, expression


def test_every_expression_that_writes_host_data_into_html_is_escaped() -> None:
    # Ansible's templating has no autoescape: each expression escapes what it writes.
    for template in ("lattice-report.html.j2", "lattice-diagram.svg.j2"):
        unescaped = [(line, expr) for line, expr in data_expressions(TEMPLATES / template)
                     if not re.search(r"\|\s*e$|\|\s*e or '<span class=\"muted\">nowhere</span>'$", expr)]
        assert unescaped == [], (template, unescaped)
