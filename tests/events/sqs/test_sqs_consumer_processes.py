"""Consumer processes against moto's server: no message lost across a SIGKILL and a SIGTERM, and
three processes sharing one queue (``consumer_process.py`` is the consumer)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .conftest import Queues, Shell, environment, events, eventually

SCRIPT = Path(__file__).with_name("consumer_process.py")


def _start(
    shell: str, queue: str, record: Path, endpoint: str, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--shell",
            shell,
            "--queue",
            queue,
            "--record",
            str(record),
            *extra,
        ],
        env=environment(endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _recorded(record: Path) -> list[tuple[str, str]]:
    if not record.exists():
        return []
    lines = record.read_text().splitlines()
    return [(line.split()[0], line.split()[1]) for line in lines if line.count(" ") == 1]


def _terminate(process: subprocess.Popen[str]) -> dict[str, int]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err[-2000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_no_message_is_lost_across_a_sigkill_and_a_sigterm(
    shell: Shell, process_queues: Queues, tmp_path: Path
) -> None:
    dlq = process_queues.create()
    url = process_queues.create(visibility=2, dlq=dlq, max_receive=10)
    sent = events(300)
    feeder = process_queues.feed(url, sent)
    record = tmp_path / "handled.txt"
    endpoint = process_queues.endpoint_url
    fail = ("--fail-rate", "0.2")

    first = _start(shell.name, url, record, endpoint, *fail)
    try:
        eventually(lambda: len(_recorded(record)) >= 80, within=30)
    finally:
        first.kill()
        first.communicate(timeout=10)

    second = _start(shell.name, url, record, endpoint, *fail)
    try:
        eventually(lambda: len(_recorded(record)) >= 170, within=30)
    finally:
        counters = _terminate(second)
    assert counters["failed"] > 0  # failures happened and were redelivered

    third = _start(shell.name, url, record, endpoint, *fail)
    wanted = {e.id for e in sent}
    try:
        eventually(lambda: feeder.done, within=60, every=0.2)
        eventually(lambda: {i for _, i in _recorded(record)} >= wanted, within=60, every=0.2)
        eventually(lambda: process_queues.counts(url) == (0, 0), within=30, every=0.2)
    finally:
        _terminate(third)
    assert process_queues.counts(url) == (0, 0)
    assert process_queues.counts(dlq) == (0, 0)
    handled = Counter(i for _, i in _recorded(record))
    assert set(handled) == wanted
    print(f"\n[{shell}] no loss: 300 handled, {sum(handled.values()) - 300} duplicate successes")


def test_three_processes_share_one_queue(process_queues: Queues, tmp_path: Path) -> None:
    # Both shells in one run (moto slows with queue depth, and the folder has a time budget):
    # two sync consumers and an async one, sharing the queue as any mix of deployments would.
    shells = ("sync", "async", "sync")
    url = process_queues.create(visibility=30)
    sent = events(600)
    feeder = process_queues.feed(url, sent)
    record = tmp_path / "handled.txt"
    processes = [_start(name, url, record, process_queues.endpoint_url) for name in shells]
    wanted = {e.id for e in sent}
    try:
        eventually(lambda: feeder.done, within=60, every=0.2)
        eventually(lambda: {i for _, i in _recorded(record)} >= wanted, within=60, every=0.2)
        eventually(lambda: process_queues.counts(url) == (0, 0), within=30, every=0.2)
    finally:
        totals = [_terminate(p) for p in processes]
    recorded = _recorded(record)
    handled = Counter(i for _, i in recorded)
    by_process = Counter(pid for pid, _ in recorded)
    duplicates = sum(handled.values()) - len(handled)
    print(
        f"\n[{'/'.join(shells)}] scale out: per process {sorted(by_process.values())}, "
        f"{duplicates} duplicates"
    )
    assert set(handled) == wanted
    assert len(by_process) == 3 and all(n > 0 for n in by_process.values())
    assert sum(t["deleted"] for t in totals) == sum(t["handled"] for t in totals) >= 600
    assert process_queues.counts(url) == (0, 0)
