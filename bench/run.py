"""Run the dynassign benchmark and write docs/BENCHMARKS.md.

    python -m bench.run            # quick: 10k and 1M contacts, short runs
    python -m bench.run --full     # adds 100k and 10M contacts, 20 s per level
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

log = logging.getLogger("bench")

REPO = Path(__file__).resolve().parent.parent
LEVELS = [1, 8, 32, 64]
# The quick run leaves out 32 texters to finish within ten minutes.
QUICK_LEVELS = [1, 8, 64]
# SQLite runs its own 100k-contact campaign, fresh; PostgreSQL is compared
# in the same state at the campaign nearest that size.
SQLITE_CONTACTS = 100_000
SQLITE_LEVEL = 16
# A baseline whose requests scan the whole campaign needs, at L texters on
# this machine's cores, about L x (its time per request alone) / cores per
# round. Levels whose estimate passes the budget are left out and listed.
BASELINES_THAT_SCAN = ("Spoke pattern", "Spoke pattern, cached", "Spoke availability count")
CORES = os.cpu_count() or 1
LEVEL_BUDGET = 150.0


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "dynassign.settings"
    os.environ["DYNASSIGN_FAST_PASSWORD_HASHER"] = "1"
    os.environ.setdefault("DYNASSIGN_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


class Bench:
    def __init__(self, args: argparse.Namespace, dsn: str, work_dir: Path) -> None:
        self.args = args
        self.dsn = dsn
        self.work_dir = work_dir
        self.results: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {"timings": {}}
        self.server: Any = None
        self.tokens: list[str] = []
        self.skip: set[str] = set(filter(None, args.skip.split(",")))

    def measure(self, workload: str, make_texter: Any, level: int, labels: dict[str, Any]) -> dict[str, Any]:
        from bench import invariants
        from bench.loadgen import run_closed_loop

        first_event = invariants.last_event_id(self.dsn)
        result = run_closed_loop(workload, make_texter, level, self.args.seconds, self.args.warmup,
                                 before_fork=_close_connections, labels=labels)
        summary = result.summary()
        summary["invariants"] = invariants.check(self.dsn, first_event)
        summary["invariants_hold"] = all(value == 0 for value in summary["invariants"].values()) and (
            result.violations == 0)
        self.results.append(summary)
        print(json.dumps({key: summary[key] for key in (
            "workload", "size", "state", "texters", "requests_per_s", "p50_ms", "p99_ms", "errors",
            "violations", "invariants_hold")}), flush=True)
        return summary

    def _over_budget(self, workload: str, alone: dict[str, Any], level: int, labels: dict[str, Any]) -> bool:
        """Return whether a level of a scanning baseline would outlast the budget; list it when it would."""
        estimate = level * alone["mean_ms"] / 1000 / CORES
        if estimate <= self.args.level_budget:
            return False
        self.extra.setdefault("left_out", []).append({
            **labels, "workload": workload, "texters": level, "estimated_s": round(estimate),
            "alone_ms": alone["mean_ms"]})
        log.info("level left out workload=%s texters=%s estimate_s=%.0f", workload, level, estimate)
        return True

    def workloads(self, campaign: Any) -> dict[str, Any]:
        from bench import workloads as w

        dsn, org = self.dsn, None
        from bench.fixture_state import FIXTURE

        org = FIXTURE.organization_id
        users = FIXTURE.texter_ids
        ids = campaign.assignment_ids
        found: dict[str, Any] = {
            "W1 in-process": lambda i: w.ServiceTexter(dsn, ids[i]),
            "W2 offer in-process": lambda i: w.OfferTexter(ids[i]),
            "floor": lambda i: w.FloorTexter(dsn, campaign.id, ids[i]),
            "Spoke pattern": lambda i: w.SpokeTexter(dsn, org, campaign.id, ids[i], users[i], cached=False),
            "Spoke pattern, cached": lambda i: w.SpokeTexter(dsn, org, campaign.id, ids[i], users[i], cached=True),
            "Spoke availability count": lambda i: w.SpokeCountTexter(dsn, campaign.id),
        }
        if self.server is not None:
            port, tokens = self.server.port, self.tokens
            found["W1 HTTP"] = lambda i: w.HttpTexter(dsn, port, tokens[i], ids[i])
            found["W2 offer HTTP"] = lambda i: w.HttpTexter(dsn, port, tokens[i], ids[i], offer_only=True)
        return found

    def run_campaign(self, campaign: Any, *, compare_with_sqlite: bool) -> None:
        from bench.fixture import assign_share

        for state in ("fresh", "90% assigned"):
            if state != "fresh":
                self.extra["timings"][f"assign 90% of {campaign.label}"] = assign_share(self.dsn, campaign, 0.9)
            labels = {"size": campaign.label, "contacts": campaign.size, "state": state}
            for workload, make_texter in self.workloads(campaign).items():
                alone: dict[str, Any] | None = None
                for level in self.args.levels:
                    if workload in BASELINES_THAT_SCAN and alone is not None and self._over_budget(
                            workload, alone, level, labels):
                        continue
                    summary = self.measure(workload, make_texter, level, labels)
                    if level == 1:
                        alone = summary
            if compare_with_sqlite and state == "fresh" and "sqlite" not in self.skip:
                make_texter = self.workloads(campaign)["W1 in-process"]
                self.extra["postgres_for_sqlite"] = self.measure(
                    "W1 in-process", make_texter, SQLITE_LEVEL, {**labels, "note": "for the SQLite comparison"})


def _start_server(bench: Bench, database_url: str) -> None:
    from bench.server import Server, api_available
    from bench.datagen import PASSWORD
    from bench.fixture_state import FIXTURE

    if not api_available():
        bench.extra["http"] = "skipped: the app does not route /api/auth/token and /api/assignments/{id}/batches yet"
        log.warning("HTTP workloads skipped: API endpoints not routed")
        return
    bench.server = Server(database_url, bench.work_dir)
    bench.tokens = [bench.server.token_for(name, PASSWORD) for name in FIXTURE.usernames]


def _run_subprocess(module: str, arguments: list[str], environment: dict[str, str]) -> dict[str, Any]:
    completed = subprocess.run([sys.executable, "-m", module, *arguments], cwd=REPO, env=environment,
                               capture_output=True, text=True)
    if completed.returncode != 0:
        log.error("%s failed rc=%s stderr=%s", module, completed.returncode, completed.stderr[-2000:])
        return {"error": completed.stderr[-500:]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="add the 100k and 10M campaigns; 20 s per level")
    parser.add_argument("--seconds", type=float, help="measured seconds per concurrency level (quick: 1.5, full: 20)")
    parser.add_argument("--warmup", type=float, default=0.3, help="unmeasured seconds before each level")
    parser.add_argument("--sizes", help="comma-separated label=contacts, e.g. 10k=10000,1M=1000000")
    parser.add_argument("--levels", help="comma-separated texter counts (quick: 1,8,64; full: 1,8,32,64)")
    parser.add_argument("--level-budget", type=float, default=LEVEL_BUDGET,
                        help="seconds a level of a baseline that scans the campaign may be expected to take")
    parser.add_argument("--other", type=int, help="contacts of other campaigns in the same table")
    parser.add_argument("--output", default=str(REPO / "docs" / "BENCHMARKS.md"), help="Markdown report path")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: http,join,import,sqlite")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from bench/out/results.json of the last run with the same options")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (20.0 if args.full else 1.5)
    args.levels = [int(level) for level in args.levels.split(",")] if args.levels else (
        LEVELS if args.full else QUICK_LEVELS)
    default_sizes = "10k=10000,100k=100000,1M=1000000,10M=10000000" if args.full else "10k=10000,1M=1000000"
    args.sizes = {label: int(count) for label, count in
                  (item.split("=") for item in (args.sizes or default_sizes).split(","))}
    args.other = args.other if args.other is not None else (1_000_000 if args.full else 100_000)
    skip = set(filter(None, args.skip.split(",")))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from bench import report
    from bench.cluster import new_cluster

    saved = REPO / "bench" / "out" / "results.json"
    command = "make bench-full" if args.full else "make bench"
    # Options beyond --full change what the report measured, so it names them.
    changed = [f"--seconds {args.seconds:g}" if args.seconds != (20.0 if args.full else 1.5) else "",
               f"--level-budget {args.level_budget:g}" if args.level_budget != LEVEL_BUDGET else ""]
    if any(changed):
        command = f"python -m bench.run {'--full ' if args.full else ''}{' '.join(filter(None, changed))}"
    if args.report_only:
        previous = json.loads(saved.read_text())
        report.write(Path(args.output), args, command, previous["results"], previous["extra"])
        return 0

    started = time.time()
    cluster = new_cluster()
    work_dir = Path(tempfile.mkdtemp(prefix="dynassign-bench-"))
    bench: Bench | None = None
    try:
        cluster.start()
        _setup_django(cluster.url)
        bench = Bench(args, cluster.dsn, work_dir)
        from bench import fixture, fixture_state, special

        began = time.perf_counter()
        fixture_state.FIXTURE = fixture.create_fixture(cluster.dsn, args.sizes, args.other)
        bench.extra["timings"]["generate and load data"] = time.perf_counter() - began
        if "http" not in skip:
            _start_server(bench, cluster.url)
        campaigns = list(fixture_state.FIXTURE.campaigns.values())
        nearest = min(campaigns, key=lambda campaign: (abs(math.log(campaign.size / SQLITE_CONTACTS)), -campaign.size))
        for campaign in campaigns:
            bench.run_campaign(campaign, compare_with_sqlite=campaign is nearest)
        if "sqlite" not in skip:
            bench.extra["sqlite"] = special.sqlite_runs(args, bench)
        if "join" not in skip:
            bench.extra["join"] = special.join_storm(bench)
        if "import" not in skip:
            bench.extra["import"] = special.import_runs(bench, work_dir, 0 if args.full else 90)
        bench.extra["statements"] = special.top_statements(cluster.dsn)
    finally:
        if bench is not None and bench.server is not None:
            bench.server.stop()
            bench.extra["worker_peak_rss_kb"] = bench.server.peak_rss
        cluster.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
    bench.extra["total_seconds"] = time.time() - started
    saved.parent.mkdir(exist_ok=True)
    saved.write_text(json.dumps({"results": bench.results, "extra": bench.extra}, indent=1, default=str))
    report.write(Path(args.output), args, command, bench.results, bench.extra)
    log.info("benchmark done seconds=%.0f report=%s", bench.extra["total_seconds"], args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
