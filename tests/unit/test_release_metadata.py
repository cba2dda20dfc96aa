"""Release metadata says what is tested: requires_ansible, the tested ansible-core, the changelog's release."""

from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts: str) -> str:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def test_requires_ansible_is_the_oldest_tested_ansible_core():
    claimed = re.fullmatch(r">=(\d+)\.(\d+)\.0", yaml.safe_load(read("meta", "runtime.yml"))["requires_ansible"])
    assert claimed, "requires_ansible should be a lower bound >=X.Y.0"
    tested = re.search(r"^ansible-core>=(\d+)\.(\d+)", read("tests", "requirements.txt"), re.M)
    assert tested and tested.groups() == claimed.groups()  # the oldest ansible-core installed for the tests
    assert os.path.isfile(os.path.join(ROOT, "tests", "sanity", "ignore-%s.%s.txt" % claimed.groups()))


def test_the_galaxy_version_is_released_in_the_changelog():
    version = yaml.safe_load(read("galaxy.yml"))["version"]
    release = yaml.safe_load(read("changelogs", "changelog.yaml"))["releases"][str(version)]
    assert release["changes"]["release_summary"] and release["release_date"]
    assert "\nv%s\n" % version in read("CHANGELOG.rst")
