"""Run every ``benchmarks/bench_*.py`` module's ``main()`` and print its ratios.

Each module runs in a fresh interpreter (as pyperf runs its workers), so one benchmark's imports,
threads and heap cannot slow the next one down.

``--record [PATH]`` also writes every figure, with the machine and the date, to a JSON file
(``benchmarks/results.json`` by default), from which ``scripts/gen_docs.py`` draws the charts of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def run_module(path: pathlib.Path) -> None:
    """Import one benchmark module and run its ``main()`` in this interpreter."""
    sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "system": platform.platform(terse=True),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--module"]:
        run_module(pathlib.Path(argv[1]))
        return 0
    record: pathlib.Path | None = None
    if argv[:1] == ["--record"]:
        argv = argv[1:]
        record = RESULTS
        if argv and argv[0].endswith(".json"):
            record, argv = pathlib.Path(argv[0]), argv[1:]
    wanted = set(argv)
    failed = 0
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        lines = pathlib.Path(tmp) / "figures.jsonl"
        if record is not None:
            env["MIDIL_BENCH_RECORD"] = str(lines)
        started = datetime.datetime.now(datetime.timezone.utc)
        for path in sorted(HERE.glob("bench_*.py")):
            if (
                wanted
                and path.stem not in wanted
                and path.stem.removeprefix("bench_") not in wanted
            ):
                continue
            result = subprocess.run(
                [sys.executable, __file__, "--module", str(path)], check=False, env=env
            )
            failed += result.returncode != 0
        if record is not None:
            blocks = (
                [json.loads(line) for line in lines.read_text().splitlines()]
                if lines.exists()
                else []
            )
            record.write_text(
                json.dumps(
                    {
                        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
                        "machine": machine(),
                        "blocks": blocks,
                    },
                    indent=1,
                )
                + "\n"
            )
            print(f"\nrecorded {sum(len(b['figures']) for b in blocks)} figures in {record}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
