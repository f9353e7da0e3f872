"""Cold import: what every CLI run and every AWS Lambda cold start pays, in fresh interpreters.

Each statement is timed inside its own new interpreter (the import statement alone, not the
interpreter's start-up), alternating ours and the anchor, best of several runs.

Both sides load bytecode: pip compiles an installed package's modules, so ours are compiled first
too (a checkout run with ``PYTHONDONTWRITEBYTECODE`` would otherwise compile them on every import
and measure the compiler, not the import).
"""

from __future__ import annotations

import compileall
import pathlib
import subprocess
import sys

from harness import Figure, print_figures

RUNS = 15
TIMER = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def cold(statement: str) -> float:
    """Seconds the import ``statement`` takes in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", TIMER.format(statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def best_pair(ours: str, anchor: str) -> tuple[float, float]:
    """Best of :data:`RUNS` alternating fresh-interpreter runs of each statement."""
    best_ours = best_anchor = float("inf")
    for _ in range(RUNS):
        best_ours = min(best_ours, cold(ours))
        best_anchor = min(best_anchor, cold(anchor))
    return best_ours, best_anchor


ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> None:
    for package in ("midil_common", "midil_sync", "midil_async"):
        compileall.compile_dir(ROOT / package, quiet=1)
    figures = []
    for ours, anchor in (
        ("from midil_sync import HttpClient", "import requests"),
        ("from midil_async import HttpClient", "import httpx"),
    ):
        o, a = best_pair(ours, anchor)
        figures.append(Figure(ours, o, anchor, a, goal="<= 1.5", unit="ms"))
    print_figures("import: cold import in a fresh interpreter", figures)


if __name__ == "__main__":
    main()
