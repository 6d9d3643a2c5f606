"""A closed-loop load generator: N texters, each sending its next request when the last returns.

Texters run as threads spread over forked worker processes, so the load
generator itself is not held back by one interpreter lock. Each texter
times only its ``request``; ``after`` (checks and resetting what the
request changed) runs outside the timed region.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

MAX_PROCESSES = 4


class Texter(Protocol):
    def request(self) -> int: ...

    def after(self, assigned: int) -> str | None: ...

    def close(self) -> None: ...


@dataclass
class RunResult:
    workload: str
    concurrency: int
    seconds: float
    requests: int = 0
    contacts: int = 0
    errors: int = 0
    violations: int = 0
    latencies: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def contacts_per_second(self) -> float:
        return self.contacts / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Return the latency in milliseconds below which ``share`` of requests finished."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, int(share * len(ordered)))
        return ordered[index] * 1000

    @property
    def mean_ms(self) -> float:
        return sum(self.latencies) / len(self.latencies) * 1000 if self.latencies else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            **self.labels,
            "workload": self.workload,
            "texters": self.concurrency,
            "seconds": round(self.seconds, 2),
            "requests": self.requests,
            "requests_per_s": round(self.requests_per_second, 1),
            "contacts_per_s": round(self.contacts_per_second, 0),
            "mean_ms": round(self.mean_ms, 2),
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "max_ms": round(max(self.latencies) * 1000, 2) if self.latencies else float("nan"),
            "errors": self.errors,
            "violations": self.violations,
            "error_samples": self.samples[:3],
        }


def _texter_loop(make_texter: Callable[[int], Texter], index: int, start: float, warmup_end: float,
                 deadline: float, out: dict[str, Any], lock: threading.Lock) -> None:
    latencies: list[float] = []
    contacts = errors = violations = 0
    last_end = 0.0
    samples: list[str] = []
    texter = make_texter(index)
    while time.time() < start:
        time.sleep(0.001)
    try:
        while True:
            begun = time.perf_counter()
            if time.time() >= deadline:
                break
            try:
                assigned = texter.request()
            except Exception as error:  # counted and reported per run, never hidden
                errors += time.time() >= warmup_end
                if len(samples) < 3:
                    samples.append(f"{type(error).__name__}: {str(error)[:200]}")
                time.sleep(0.01)
                continue
            elapsed = time.perf_counter() - begun
            # Every request that ends after the warm-up counts, including one
            # that began during it or ends after the deadline, so a system
            # whose requests take longer than the window still gets measured.
            if time.time() >= warmup_end:
                latencies.append(elapsed)
                contacts += assigned
                last_end = max(last_end, time.time())
            problem = texter.after(assigned)
            if problem is not None:
                violations += 1
                if len(samples) < 3:
                    samples.append(problem)
    finally:
        texter.close()
    with lock:
        out["latencies"].extend(latencies)
        out["contacts"] += contacts
        out["errors"] += errors
        out["violations"] += violations
        out["samples"].extend(samples)
        out["last_end"] = max(out["last_end"], last_end)


def _worker(make_texter: Callable[[int], Texter], indexes: list[int], start: float, warmup_end: float,
            deadline: float, queue: Any) -> None:
    out: dict[str, Any] = {"latencies": [], "contacts": 0, "errors": 0, "violations": 0, "samples": [],
                           "last_end": 0.0}
    try:
        lock = threading.Lock()
        threads = [
            threading.Thread(target=_texter_loop, args=(make_texter, index, start, warmup_end, deadline, out, lock))
            for index in indexes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except Exception:
        out["errors"] += 1
        out["samples"].append(traceback.format_exc(limit=3))
    queue.put(out)


def run_closed_loop(workload: str, make_texter: Callable[[int], Texter], concurrency: int, seconds: float,
                    warmup: float, *, processes: int | None = None, before_fork: Callable[[], None] | None = None,
                    labels: dict[str, Any] | None = None) -> RunResult:
    """Run ``concurrency`` texters for ``warmup + seconds`` and return what the timed part measured.

    ``make_texter`` runs inside the worker process and thread, so each texter
    opens its own connections there.
    """
    if before_fork is not None:
        before_fork()
    count = processes or min(concurrency, MAX_PROCESSES)
    groups = [list(range(concurrency))[number::count] for number in range(count)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    # Texters need time to connect before the clock starts.
    start = time.time() + 0.5 + concurrency * 0.01
    warmup_end = start + warmup
    deadline = warmup_end + seconds
    workers = [
        context.Process(target=_worker, args=(make_texter, group, start, warmup_end, deadline, queue), daemon=True)
        for group in groups if group
    ]
    for worker in workers:
        worker.start()
    result = RunResult(workload=workload, concurrency=concurrency, seconds=seconds, labels=dict(labels or {}))
    for _ in workers:
        out = queue.get(timeout=seconds + warmup + 900)
        result.latencies.extend(out["latencies"])
        result.contacts += out["contacts"]
        result.errors += out["errors"]
        result.violations += out["violations"]
        result.samples.extend(out["samples"])
        result.seconds = max(result.seconds, out["last_end"] - warmup_end)
    for worker in workers:
        worker.join(timeout=30)
    result.requests = len(result.latencies)
    log.info("run done workload=%s texters=%s pid=%s summary=%s", workload, concurrency, os.getpid(),
             {key: value for key, value in result.summary().items() if key != "error_samples"})
    return result
