"""A clone is self-contained: nothing the repository tracks points outside the repository.

Tests, scripts and documents read their data from the repository (the JSON:API conformance
documents live in ``tests/jsonapi/conformance/``) and the architecture lives in
``docs/architecture.md``, so ``make test`` passes in a fresh clone with nothing beside it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DESIGN_MD = "DESIGN" + ".md"  # assembled, so that this file does not name it
# A parent-relative path (two dots, a slash, a name); it stays inside the repository only when the
# name is one of the repository's own top-level entries (a command run from ``examples/`` may say
# "../.venv/bin/flask"). Any other parent path points at something beside the checkout.
PARENT_PATH = re.compile(r"(?<![\w.])\.\.[/\\]([^\s/\\'\"`)\]]+)")
MADE_BY_MAKE = {".venv"}


def _tracked_files() -> list[Path]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def _text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None  # tracked but deleted in the working tree
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def _offenders(pattern: re.Pattern[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in _tracked_files():
        text = _text(path)
        if text is None:
            continue
        lines = [
            f"{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1)
            if pattern.search(line)
        ]
        if lines:
            found[path.relative_to(ROOT).as_posix()] = lines
    return found


def outside_references(text: str, top_level: set[str]) -> list[str]:
    """The parent-relative paths in ``text`` that leave the repository."""
    return [
        match.group(0)
        for match in PARENT_PATH.finditer(text)
        if match.group(1) not in top_level | MADE_BY_MAKE
    ]


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = _tracked_files()
    top_level = {path.relative_to(ROOT).parts[0] for path in files}
    found = {}
    for path in files:
        text = _text(path)
        if text is not None and (refs := outside_references(text, top_level)):
            found[path.relative_to(ROOT).as_posix()] = refs
    assert found == {}


def test_the_outside_reference_check_itself() -> None:
    up = "." * 2  # assembled, so that this file does not match its own check
    top = {"tests", "docs", "examples"}
    assert outside_references(f"cd examples && {up}/.venv/bin/flask run", top) == []
    assert outside_references(f"see {up}/docs/http.md and {up}/tests/x.py", top) == []
    assert outside_references(f"read {up}/elsewhere/doc.md", top) == [f"{up}/elsewhere"]
    assert outside_references(f"open {up}\\beside\\y", top) == [f"{up}\\beside"]


def test_no_tracked_file_names_a_design_document_the_repository_lacks() -> None:
    if (ROOT / DESIGN_MD).exists():
        return
    assert _offenders(re.compile(r"\b" + re.escape(DESIGN_MD) + r"\b")) == {}


def test_the_readme_links_the_architecture_document() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "](docs/architecture.md)" in readme
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    assert "midil_common" in architecture
    assert "midil_sync" in architecture
    assert "midil_async" in architecture


def test_the_conformance_documents_are_vendored() -> None:
    suite = ROOT / "tests" / "jsonapi" / "conformance"
    assert (suite / "PROVENANCE.md").is_file()
    assert len(list((suite / "tests-1.0").rglob("*.json"))) >= 90
    assert len(list((suite / "tests-1.1-draft").rglob("*.json"))) >= 10
