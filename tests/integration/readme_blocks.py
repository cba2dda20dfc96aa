"""The code blocks of the README files, and a user's fresh shell to run them in, as written."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
READMES = ("README.md", "roles/application/README.md", "roles/host/README.md")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
# The NATS server a README names is the reader's; a test gives the one it started instead (the only substitution).
READER_NATS_URLS = ("nats://nats.internal:4222", "nats://127.0.0.1:4222")


@dataclass(frozen=True)
class Block:
    readme: str  # relative to the repository root
    lang: str
    text: str

    @property
    def key(self) -> str:
        """``README.md: <first line>``: how a test names the block it runs (and a new block is noticed)."""
        return "%s: %s" % (self.readme, self.text.splitlines()[0].strip() if self.text.strip() else "")


def code_blocks(readme: str) -> List[Block]:
    return [Block(readme, lang, text) for lang, text in _FENCE.findall((ROOT / readme).read_text())]


def block(key: str) -> Block:
    """The one block named ``key``."""
    readme = key.split(": ", 1)[0]
    (found,) = [b for b in code_blocks(readme) if b.key == key]
    return found


def fresh_env(home: Path, **extra: str) -> Dict[str, str]:
    """A user's new shell with ``home`` as HOME: none of the test run's Ansible, Python path, venv or lattice
    settings. pip keeps the machine's download cache (a user's pip would have its own)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "WASMCLOUD_", "NATS_", "MOLECULE_", "VIRTUAL_ENV", "XDG_", "PIP_"))
           and key not in ("PYTHONPATH", "HOME")}
    env.update({"HOME": str(home), "NO_COLOR": "1", "PY_COLORS": "0",
                "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip"),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env.update(extra)
    return env


def run_bash(text: str, cwd: Path, env: Dict[str, str], timeout: float = 300,
             substitute: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """``text`` in a new bash (stops at the first failing command), with only the ``substitute`` replacements."""
    for old, new in (substitute or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
