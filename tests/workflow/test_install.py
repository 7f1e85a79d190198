"""`make setup` installs every Debian-packaged tool the rules call.

A tool missing from the Makefile's package list goes unnoticed on a machine that happens to
have it (delly did: the SV rules ran here, and `make demo` failed on a fresh Debian machine).
So the check reads the Makefile, not this machine's PATH alone: every word of a rule's shell
command that names a program under /usr must come from a package in `APT_PACKAGES`, or from
an essential package (coreutils, bash, ...), which every Debian machine has.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO

RULES = REPO / "workflow" / "rules"


def apt_packages() -> set[str]:
    """The Debian packages `make tools` installs (the Makefile's APT_PACKAGES)."""
    text = (REPO / "Makefile").read_text()
    match = re.search(r"^APT_PACKAGES := ((?:.*\\\n)*.*)$", text, flags=re.MULTILINE)
    assert match, "no APT_PACKAGES in the Makefile"
    return set(match.group(1).replace("\\\n", " ").split())


def shell_words() -> set[str]:
    """The words in command position in the rules files' string literals (shell commands
    among them): at a literal's start, or after `(`, `|`, `;`, `&` or `$(`."""
    words: set[str] = set()
    for smk in RULES.glob("*.smk"):
        for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', smk.read_text()):
            words.update(re.findall(r"(?:^|[(|;&])\s*([A-Za-z][A-Za-z0-9_.+-]*)", literal))
    return words


def package_of(program: str) -> str | None:
    """The Debian package that ships ``program`` on PATH under /usr or /bin, else None."""
    found = shutil.which(program)
    if found is None or not found.startswith(("/usr/", "/bin/")):
        return None
    real = Path(found).resolve()
    for path in (found, str(real)):
        query = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if query.returncode == 0:
            return query.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def is_essential(package: str) -> bool:
    query = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Essential} ${Priority}", package],
        capture_output=True,
        text=True,
    )
    return query.stdout.startswith("yes") or query.stdout.endswith("required")


def test_every_packaged_tool_the_rules_call_is_installed_by_make_setup() -> None:
    installed = apt_packages()
    called = {word: package_of(word) for word in shell_words()}
    packaged = {word: pkg for word, pkg in called.items() if pkg is not None}
    # The check sees the tools: it is not vacuous on this machine.
    assert {"bwa", "samtools", "bcftools", "delly", "snpEff"} <= packaged.keys()
    missing = {
        word: pkg
        for word, pkg in packaged.items()
        if pkg not in installed and not is_essential(pkg)
    }
    assert not missing, f"rules call tools whose package the Makefile does not install: {missing}"
