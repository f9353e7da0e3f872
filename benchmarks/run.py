"""Run every ``benchmarks/bench_*.py`` module's ``main()`` and print its ratios.

Each module runs in a fresh interpreter (as pyperf runs its workers), so one benchmark's imports,
threads and heap cannot slow the next one down.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def run_module(path: pathlib.Path) -> None:
    """Import one benchmark module and run its ``main()`` in this interpreter."""
    sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--module"]:
        run_module(pathlib.Path(argv[1]))
        return 0
    wanted = set(argv)
    failed = 0
    for path in sorted(HERE.glob("bench_*.py")):
        if wanted and path.stem not in wanted and path.stem.removeprefix("bench_") not in wanted:
            continue
        result = subprocess.run([sys.executable, __file__, "--module", str(path)], check=False)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
