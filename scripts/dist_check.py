"""Check the release artefacts in ``dist/`` (``make dist-check``).

1. The wheel carries ``py.typed`` for each package and no tests; the sdist carries the whole test
   suite, ``docs/``, ``examples/``, ``benchmarks/``, ``scripts/``, the Makefile and the changelog.
2. The wheel installs into a fresh virtual environment, and from a temporary directory (no source
   tree on the path) every public module imports with the core dependencies alone (the framework
   adapters and the pytest plugin excluded); each adapter's import fails with an ``ImportError``
   naming its extra.
3. Each extra installs, and its adapter modules (or its AWS clients) then import and construct.

Standard library only; ``twine check`` runs beside it in the Makefile.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import time
import venv
import zipfile
from pathlib import Path

PACKAGES = ("midil_common", "midil_sync", "midil_async")

# Modules that import a framework (or pytest) at module level, by the extra that brings it.
ADAPTERS = {
    "flask": ("midil_sync.flask",),
    "django": ("midil_sync.django",),
    "fastapi": ("midil_async.fastapi",),
    "test": ("midil_common.testing.pytest_plugin",),
}
# Extras whose classes import their library when first constructed (DESIGN rule 4).
AWS_CHECKS = {
    "aws": "import midil_sync; midil_sync.SQSPublisher("
    "'https://sqs.us-east-1.amazonaws.com/123456789012/q', region='us-east-1').close()",
    "aws-async": "import asyncio, midil_async\n"
    "async def main():\n"
    "    async with midil_async.SQSPublisher("
    "'https://sqs.us-east-1.amazonaws.com/123456789012/q', region='us-east-1'):\n"
    "        pass\n"
    "asyncio.run(main())",
    "otel": "import opentelemetry.trace; from midil_common.events import event_context\n"
    "with event_context(): pass",
}

SDIST_MUST_HAVE = (
    "tests/conftest.py",
    "tests/test_parity.py",
    "tests/test_docs_snippets.py",
    "docs/index.md",
    "docs/migration.md",
    "docs/reference/configuration.md",
    "examples/demo.py",
    "benchmarks/run.py",
    "scripts/unasync.py",
    "scripts/gen_docs.py",
    "Makefile",
    "CHANGELOG.md",
    "README.md",
    "mkdocs.yml",
    "setup.cfg",
    "pyproject.toml",
    "LICENSE",
)

# Run inside the fresh environment: import every public module of the three packages, skipping the
# adapters, and check that each came from that environment.
WALK = r"""
import importlib, pkgutil, sys
skip = tuple(sys.argv[1].split(",")) if sys.argv[1] else ()
venv_prefix = sys.prefix
count = 0
for top in ("midil_common", "midil_sync", "midil_async"):
    package = importlib.import_module(top)
    assert package.__file__.startswith(venv_prefix), (top, package.__file__)
    names = [top] + [m.name for m in pkgutil.walk_packages(package.__path__, top + ".")]
    for name in names:
        if name.startswith(skip) or any(part.startswith("_") for part in name.split(".")[1:]):
            continue
        module = importlib.import_module(name)
        count += 1
        for attr in getattr(module, "__all__", ()):
            getattr(module, attr)  # lazy exports (PEP 562) resolve too
print(f"imported {count} public modules")
"""

ADAPTER_IMPORT = r"""
import importlib, pkgutil, sys
adapter = sys.argv[1]
if adapter.startswith("midil_sync.django"):
    import django
    from django.conf import settings
    settings.configure(INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                                       "rest_framework"], MIDIL={"ISSUER": "https://issuer.example"})
    django.setup()
module = importlib.import_module(adapter)
names = [adapter]
if hasattr(module, "__path__"):
    names += [m.name for m in pkgutil.walk_packages(module.__path__, adapter + ".")]
for name in names:
    importlib.import_module(name)
print(f"{adapter}: {len(names)} modules")
"""

MISSING_EXTRA = r"""
import importlib, sys
adapter, extra = sys.argv[1], sys.argv[2]
try:
    importlib.import_module(adapter)
except ImportError as exc:
    assert extra in str(exc), f"{adapter}: the ImportError does not name [{extra}]: {exc}"
    print(f"{adapter} without its extra: ImportError naming [{extra}]")
else:
    raise SystemExit(f"{adapter} imported without the {extra} extra")
"""


def fail(message: str) -> None:
    """Stop with ``message``."""
    raise SystemExit(f"dist-check: FAILED: {message}")


def check_archives(dist: Path) -> Path:
    """Check the contents of the wheel and the sdist; return the wheel."""
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
    wheel, sdist = wheels[0], sdists[0]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for package in PACKAGES:
        if f"{package}/py.typed" not in names:
            fail(f"{package}/py.typed is not in {wheel.name}")
    if any(name.startswith(("tests/", "docs/", "benchmarks/")) for name in names):
        fail(f"{wheel.name} carries tests, docs or benchmarks")
    print(f"{wheel.name}: {len(names)} files, py.typed in {', '.join(PACKAGES)}")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = [name for name in SDIST_MUST_HAVE if name not in members]
    if missing:
        fail(f"{sdist.name} lacks {missing}")
    tests = sum(1 for m in members if m.startswith("tests/") and m.endswith(".py"))
    source_tests = sum(1 for _ in Path("tests").rglob("*.py")) if Path("tests").is_dir() else tests
    if tests < source_tests:
        fail(f"{sdist.name} carries {tests} test files of {source_tests}")
    if any("__pycache__" in m or m.startswith("site/") for m in members):
        fail(f"{sdist.name} carries build leftovers")
    print(f"{sdist.name}: {len(members)} files, {tests} test modules, docs, examples, benchmarks")
    return wheel


def run(python: Path, code: str, *args: str, cwd: Path) -> None:
    """Run ``code`` with the environment's interpreter in ``cwd`` (isolated: no user site, no
    PYTHONPATH, the current directory not on the path)."""
    result = subprocess.run(
        [str(python), "-I", "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        fail(f"{' '.join(args) or 'import walk'}:\n{result.stdout}{result.stderr}")
    print("  " + result.stdout.strip().replace("\n", "\n  "))


def pip(python: Path, *args: str, cwd: Path) -> None:
    """``pip install`` into the environment."""
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        fail(f"pip install {' '.join(args)}:\n{result.stdout}{result.stderr}")


def check_install(wheel: Path) -> None:
    """Install the wheel in a fresh environment and import everything, extra by extra."""
    with tempfile.TemporaryDirectory(prefix="midil-dist-check-") as tmp:
        work = Path(tmp)
        env_dir = work / "venv"
        venv.create(env_dir, with_pip=True)
        python = env_dir / "bin" / "python"
        started = time.monotonic()
        pip(python, str(wheel), cwd=work)
        print(f"core install ({time.monotonic() - started:.0f} s):")
        skip = [module for modules in ADAPTERS.values() for module in modules]
        run(python, WALK, ",".join(skip), cwd=work)
        for extra, modules in ADAPTERS.items():
            if extra == "test":
                continue
            for module in modules:
                run(python, MISSING_EXTRA, module, extra, cwd=work)
        for extra in ("flask", "django", "fastapi", "aws", "aws-async", "otel"):
            started = time.monotonic()
            pip(python, f"{wheel}[{extra}]", cwd=work)
            print(f"[{extra}] ({time.monotonic() - started:.0f} s):")
            for module in ADAPTERS.get(extra, ()):
                run(python, ADAPTER_IMPORT, module, cwd=work)
            if extra in AWS_CHECKS:
                run(python, AWS_CHECKS[extra] + "\nprint('constructed')", cwd=work)
        result = subprocess.run(
            [str(env_dir / "bin" / "midil"), "--help"], cwd=work, capture_output=True, text=True
        )
        if result.returncode != 0 or "Usage" not in result.stdout:
            fail(f"the midil console script:\n{result.stdout}{result.stderr}")
        print("  the midil console script answers --help")


def main(argv: list[str]) -> int:
    """``dist_check.py [DIST_DIR]``."""
    dist = Path(argv[0] if argv else "dist").resolve()
    wheel = check_archives(dist)
    check_install(wheel)
    print("dist-check: OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
