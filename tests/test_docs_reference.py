"""The generated documentation pages (configuration and error references, benchmarks) are up to
date with the code: ``python scripts/gen_docs.py`` rewrites them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_up_to_date() -> None:
    stale = [str(path.relative_to(ROOT)) for path in gen_docs().stale_pages()]
    assert not stale, f"stale generated pages {stale}: run python scripts/gen_docs.py"


def test_every_setting_and_error_class_is_documented() -> None:
    from midil_common import errors
    from midil_common.settings import known_variables

    configuration = (ROOT / "docs" / "reference" / "configuration.md").read_text()
    for variable in known_variables():
        assert f"`{variable}`" in configuration, variable
    reference = (ROOT / "docs" / "reference" / "errors.md").read_text()
    for name in errors.__all__:
        assert f"### {name}\n" in reference, name


def test_the_site_builds_without_warnings(tmp_path: Path) -> None:
    """``mkdocs build --strict``: no broken link or anchor, no page left out of the navigation."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "migration" / "index.html").exists()
