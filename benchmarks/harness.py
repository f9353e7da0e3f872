"""A tiny timing harness: every figure is a ratio against an anchor measured in the same run."""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Figure", "alternating", "per_call", "print_figures"]


def per_call(fn: Callable[[], object], *, repeat: int = 5, min_time: float = 0.2) -> float:
    """Best-of-``repeat`` seconds per call, each repeat running at least ``min_time`` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        took = time.perf_counter() - start
        if took >= min_time / 4 or number >= 1 << 20:
            break
        number *= 2
    number = max(1, int(number * (min_time / max(took, 1e-9))))
    best = float("inf")
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best = min(best, (time.perf_counter() - start) / number)
    finally:
        if gc_was:
            gc.enable()
    return best


def alternating(
    fns: list[Callable[[], object]], *, rounds: int = 10, min_time: float = 0.1
) -> list[float]:
    """Best seconds per call of each of ``fns``, measured in alternating batches.

    The machine is shared: alternating batches expose every function to the same background load,
    so a slow spell cannot land on one side of a ratio only; the best batch of each is the least
    disturbed one. Each batch runs about ``min_time`` seconds.
    """
    numbers = []
    for fn in fns:
        number = 1
        while True:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            took = time.perf_counter() - start
            if took >= min_time / 4 or number >= 1 << 20:
                break
            number *= 2
        numbers.append(max(1, int(number * (min_time / max(took, 1e-9)))))
    best = [float("inf")] * len(fns)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for index, (fn, number) in enumerate(zip(fns, numbers, strict=True)):
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                best[index] = min(best[index], (time.perf_counter() - start) / number)
    finally:
        if gc_was:
            gc.enable()
    return best


@dataclass(frozen=True)
class Figure:
    """One benchmark line: our time, the anchor's time, and the goal for ``ours / anchor``."""

    name: str
    ours: float
    anchor_name: str
    anchor: float
    goal: str = ""
    unit: str = "us"

    @property
    def ratio(self) -> float:
        """``ours / anchor``: below 1 means we are faster."""
        return self.ours / self.anchor if self.anchor else float("inf")


# ``benchmarks/run.py --record`` sets this: each printed block is also appended to that file as one
# JSON line, for ``scripts/gen_docs.py`` to chart on the benchmarks page.
RECORD_ENV = "MIDIL_BENCH_RECORD"


def record_figures(title: str, figures: list[Figure]) -> None:
    """Append a block of figures to the file named by ``$MIDIL_BENCH_RECORD``, if set."""
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    rows = [
        {
            "name": f.name,
            "ours": f.ours,
            "anchor_name": f.anchor_name,
            "anchor": f.anchor,
            "goal": f.goal,
            "unit": f.unit,
        }
        for f in figures
    ]
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"title": title, "figures": rows}) + "\n")


def print_figures(title: str, figures: list[Figure]) -> None:
    """Print a block of figures, one per line (and record it, see :func:`record_figures`)."""
    record_figures(title, figures)
    print(f"\n== {title}")
    for f in figures:
        scale = 1e6 if f.unit == "us" else 1e3
        print(
            f"  {f.name:<52} {f.ours * scale:10.1f} {f.unit}  vs {f.anchor_name:<34}"
            f" {f.anchor * scale:10.1f} {f.unit}  ratio {f.ratio:6.3f}"
            f"  (x{1 / f.ratio:5.2f} speed){'  goal ' + f.goal if f.goal else ''}"
        )
