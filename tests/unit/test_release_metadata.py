"""Release metadata says what is tested: requires_ansible, the tested ansible-core, the changelog's release."""

from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts: str) -> str:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def matrix():
    """(line, ansible-core, python, scope) of every line of tests/matrix.txt, oldest first."""
    rows = [line.split() for line in read("tests", "matrix.txt").splitlines() if line.strip() and not line.startswith("#")]
    assert rows and all(len(row) == 4 for row in rows)
    return rows


def test_requires_ansible_is_the_oldest_tested_ansible_core():
    claimed = re.fullmatch(r">=(\d+)\.(\d+)\.0", yaml.safe_load(read("meta", "runtime.yml"))["requires_ansible"])
    assert claimed, "requires_ansible should be a lower bound >=X.Y.0"
    assert matrix()[0][0] == "%s.%s" % claimed.groups()  # the oldest line `make matrix` tests


def test_every_line_is_a_newest_patch_release_with_its_ignore_file_and_the_newest_is_the_default():
    rows = matrix()
    lines = [row[0] for row in rows]
    assert lines == sorted(lines, key=lambda line: tuple(map(int, line.split("."))))
    for line, core, python, scope in rows:
        assert core.startswith(line + ".") and re.fullmatch(r"3\.\d+", python) and scope in ("smoke", "full"), line
        assert os.path.isfile(os.path.join(ROOT, "tests", "sanity", "ignore-%s.txt" % line)), line
    assert rows[0][3] == rows[-1][3] == "full"  # the oldest and the newest run every integration test
    default = re.search(r"^ansible-core==(\S+)$", read("tests", "requirements.txt"), re.M)
    assert default and default.group(1) == rows[-1][1]  # the default .venv is the newest line
    makefile = read("Makefile")
    assert re.search(r"^DEFAULT_PYTHON_VERSION := %s$" % re.escape(rows[-1][2]), makefile, re.M)


def test_ignore_files_name_only_what_exists():
    """Every ignore entry points at a file of the collection and says which test it silences."""
    for name in os.listdir(os.path.join(ROOT, "tests", "sanity")):
        if not name.startswith("ignore-"):
            continue
        for entry in read("tests", "sanity", name).splitlines():
            if not entry.strip() or entry.startswith("#"):
                continue
            path, test = entry.split()[:2]
            assert os.path.isfile(os.path.join(ROOT, path)), (name, entry)
            assert re.fullmatch(r"[a-z0-9-]+(:[a-z0-9-]+)?", test), (name, entry)


def test_the_galaxy_version_is_released_in_the_changelog():
    version = yaml.safe_load(read("galaxy.yml"))["version"]
    release = yaml.safe_load(read("changelogs", "changelog.yaml"))["releases"][str(version)]
    assert release["changes"]["release_summary"] and release["release_date"]
    assert "\nv%s\n" % version in read("CHANGELOG.rst")


def test_skipped_sanity_tests_say_why():
    """tests/sanity/skip-<line>.txt: tests that tools/sanity.sh skips on an old line, each with its reason."""
    lines = {row[0] for row in matrix()}
    for name in os.listdir(os.path.join(ROOT, "tests", "sanity")):
        if name.startswith("skip-"):
            assert name[len("skip-"):-len(".txt")] in lines, name
            entries = [line for line in read("tests", "sanity", name).splitlines() if line and not line.startswith("#")]
            assert entries and all(re.fullmatch(r"[a-z0-9-]+ +# .+", entry) for entry in entries), name


def test_every_changelog_fragment_is_a_list_of_entries_under_a_known_section():
    # what the older lines' ansible-test changelog check parses; a ": " inside a plain line breaks it there
    sections = {name for name, _title in yaml.safe_load(read("changelogs", "config.yaml"))["sections"]}
    sections |= {"release_summary", "trivial"}
    folder = os.path.join(ROOT, "changelogs", "fragments")
    for name in sorted(n for n in os.listdir(folder) if n.endswith((".yml", ".yaml"))):
        fragment = yaml.safe_load(read("changelogs", "fragments", name))
        assert isinstance(fragment, dict) and set(fragment) <= sections, name
        for section, entries in fragment.items():
            if section == "release_summary":  # one text, not a list
                assert isinstance(entries, str), name
                continue
            assert isinstance(entries, list) and all(isinstance(entry, str) for entry in entries), name
