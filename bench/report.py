"""Write docs/BENCHMARKS.md and the p99 plot from one benchmark run."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

COLUMNS = ["size", "state", "workload", "texters", "requests_per_s", "contacts_per_s", "mean_ms", "p50_ms", "p95_ms",
           "p99_ms", "max_ms", "errors", "invariants_hold"]


# Causes and fixes, written after reading a run's numbers; kept across --report-only rewrites.
NOTES = Path(__file__).with_name("notes.md")


def _machine() -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    postgres = subprocess.run(["/usr/lib/postgresql/15/bin/postgres", "--version"], capture_output=True,
                              text=True).stdout.strip()
    return [f"- CPU: {cpu}, {os.cpu_count()} cores (shared with other work while this ran)",
            f"- Memory: {int(memory) // 1024 // 1024} GiB",
            f"- OS: {platform.platform()}", f"- Python {platform.python_version()}, {postgres}"]


def _find(results: list[dict[str, Any]], **where: Any) -> dict[str, Any] | None:
    for row in results:
        if all(row.get(key) == value for key, value in where.items()) and "note" not in row:
            return row
    return None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return None
    return numerator / denominator


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "not met")


def targets(results: list[dict[str, Any]], extra: dict[str, Any], sizes: dict[str, int], levels: list[int]
            ) -> list[tuple[str, str, str]]:
    """Return (target, measured, verdict) for P1 to P8."""
    large = max(sizes, key=sizes.get)
    small = min(sizes, key=sizes.get)
    # P1 and P4 are set at one million contacts; P2 compares the largest
    # campaign with the smallest.
    million = min(sizes, key=lambda label: abs(sizes[label] - 1_000_000))
    top = max(levels)
    rows: list[tuple[str, str, str]] = []

    http = _find(results, size=million, state="fresh", workload="W1 HTTP", texters=top)
    spoke = _find(results, size=million, state="fresh", workload="Spoke pattern", texters=top)
    cached = _find(results, size=million, state="fresh", workload="Spoke pattern, cached", texters=top)
    if http and spoke and cached:
        as_is = _ratio(http["requests_per_s"], spoke["requests_per_s"])
        versus_cached = _ratio(http["requests_per_s"], cached["requests_per_s"])
        p99 = _ratio(spoke["p99_ms"], http["p99_ms"])
        ok = None if None in (as_is, versus_cached, p99) else (as_is >= 50 and versus_cached >= 10 and p99 >= 20)
        rows.append((f"P1 W1 HTTP vs Spoke at {million}, {top} texters",
                     f"{_fmt(as_is)}x req/s vs as is, {_fmt(versus_cached)}x vs cached, p99 1/{_fmt(p99)}", _verdict(ok)))
    else:
        missing = "HTTP not measured" if http is None else "a Spoke level was left out or not measured"
        rows.append((f"P1 W1 HTTP vs Spoke at {million}, {top} texters", missing, _verdict(None)))

    for workload in ("W1 in-process", "W2 offer in-process", "W1 HTTP", "W2 offer HTTP"):
        for state in ("fresh", "90% assigned"):
            big = _find(results, size=large, state=state, workload=workload, texters=1)
            little = _find(results, size=small, state=state, workload=workload, texters=1)
            if not (big and little):
                continue
            ratio = _ratio(big["mean_ms"], little["mean_ms"])
            rows.append((f"P2 {workload}, {state}: time per request {large} / {small}, 1 texter",
                         f"{_fmt(ratio, 2)} ({big['mean_ms']} ms / {little['mean_ms']} ms)",
                         _verdict(None if ratio is None else ratio <= 1.2)))

    worst = None
    for row in results:
        if row["workload"] != "W1 in-process" or "note" in row:
            continue
        floor = _find(results, size=row["size"], state=row["state"], workload="floor", texters=row["texters"])
        ratio = _ratio(row["mean_ms"], floor["mean_ms"] if floor else None)
        if ratio is not None and (worst is None or ratio > worst[0]):
            worst = (ratio, row)
    if worst:
        ratio, row = worst
        rows.append(("P3 W1 in-process / floor, time per request (worst case)",
                     f"{_fmt(ratio, 2)} at {row['size']} {row['state']}, {row['texters']} texters",
                     _verdict(ratio <= 2)))

    offer = _find(results, size=million, state="fresh", workload="W2 offer in-process", texters=top)
    count = _find(results, size=million, state="fresh", workload="Spoke availability count", texters=top)
    if offer and count:
        ratio = _ratio(offer["requests_per_s"], count["requests_per_s"])
        rows.append((f"P4 W2 offers/s vs Spoke availability counts/s at {million}, {top} texters", f"{_fmt(ratio)}x",
                     _verdict(None if ratio is None else ratio >= 100)))

    for storm in extra.get("join", []):
        ok = storm["admitted"] == 100 and storm["assignments_stored"] == 100 and storm["seconds"] <= 5 and (
            storm["joins"] == 1000 and storm["errors"] == 0)
        rows.append((f"P5 join storm ({storm['path']})",
                     f"{storm['admitted']} admitted, {storm['assignments_stored']} stored, "
                     f"{storm['joins']} joins in {storm['seconds']} s", _verdict(ok)))

    uploads = extra.get("import", {})
    runs = [run for run in uploads.get("runs", []) if "imported" in run]
    if runs:
        big_run = runs[-1]
        seconds = big_run.get("seconds") or big_run["rows_in_file"] * big_run["stopped_after_seconds"] / max(
            1, big_run["imported"])
        grown_mb = (big_run["rss_peak_kb"] - big_run["rss_before_kb"]) / 1024
        partial = "" if big_run.get("seconds") else (
            f" (estimate: stopped after {big_run['stopped_after_seconds']} s with {big_run['imported']:,} rows stored)")
        rows.append((f"P6 import of {big_run['rows_in_file']:,} rows",
                     f"{seconds:.0f} s{partial}; peak RSS {big_run['rss_peak_kb'] // 1024} MB, "
                     f"{grown_mb:.0f} MB above the start", _verdict(seconds <= 60)))
    else:
        rows.append(("P6 import of 1M rows", str(uploads.get("skipped", uploads))[:200], _verdict(None)))

    sqlite = extra.get("sqlite", {})
    sqlite_16 = next((row for row in sqlite.get("results", []) if row["texters"] == 16), None)
    postgres_16 = sqlite.get("postgres_16")
    if sqlite_16 and postgres_16:
        ratio = _ratio(sqlite_16["requests_per_s"], postgres_16["requests_per_s"])
        rows.append((f"P7 SQLite / PostgreSQL W1 in-process, 16 texters, fresh (PostgreSQL at {postgres_16['size']})",
                     f"{_fmt(ratio, 2)} ({sqlite_16['requests_per_s']} / {postgres_16['requests_per_s']} requests/s)",
                     _verdict(None if ratio is None else ratio >= 0.5)))

    rss = extra.get("worker_peak_rss_kb")
    if rss:
        peak = max(rss.values()) / 1024
        rows.append(("P8 peak RSS of an app worker", f"{peak:.0f} MB", _verdict(peak <= 150)))
    else:
        rows.append(("P8 peak RSS of an app worker", "no app workers ran", _verdict(None)))
    return rows


def _plot(path: Path, results: list[dict[str, Any]], top: int) -> None:
    import pygal

    chart = pygal.XY(logarithmic=True, title=f"W1 p99 latency at {top} texters, fresh state",
                     x_title="contacts in the campaign", y_title="p99 (ms)", dots_size=4)
    for workload in ("W1 HTTP", "W1 in-process", "Spoke pattern", "Spoke pattern, cached"):
        points = sorted((row["contacts"], row["p99_ms"]) for row in results
                        if row["workload"] == workload and row["texters"] == top and row["state"] == "fresh"
                        and "note" not in row)
        if points:
            chart.add(workload, points)
    chart.render_to_file(str(path))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |")
    return lines


def write(path: Path, args: Any, command: str, results: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    top = max(args.levels)
    plot = path.with_name("benchmark-p99.svg")
    _plot(plot, results, top)
    lines = ["# Benchmarks", "",
             f"Written by `{command}`" + ("" if command.startswith("python") else " (`python -m bench.run`)")
             + "; every number below comes from that one run.", "",
             "## Machine", "", *_machine(), "",
             "## How it measures", "",
             f"- Campaign sizes: {', '.join(f'{label} ({count:,} contacts)' for label, count in args.sizes.items())}, "
             f"in one contact table that also holds {args.other:,} contacts of two other campaigns.",
             "- Contacts are generated in Python and loaded with PostgreSQL COPY; about one in twelve has no known "
             "time zone and 1% are opted out.",
             "- \"90% assigned\" is reached by real claims of up to 5,000 contacts (the batch claim statement of "
             "each schema with a larger LIMIT) on both schemas, with autovacuum off and no VACUUM in between, so "
             "the dead index entries of those claims are still there.",
             f"- Closed loop: each texter sends its next request when the last returns; {args.seconds:g} s measured "
             f"per level after {args.warmup:g} s of warm-up, at {', '.join(map(str, args.levels))} texters"
             + (" (the quick run leaves out 32 to finish within ten minutes)." if 32 not in args.levels else ".")
             + " Every request that ends after the warm-up counts, including those in flight at the deadline, so "
             "a baseline slower than the window still completes one request per texter; throughput divides by "
             "the time from the end of the warm-up to the last request's end.",
             "- Batch size 200, default strategy (`finished-replies`), bulk sending off. After each request the "
             "texter checks, outside the timed region, that it holds exactly what the request reported, then "
             "releases those contacts back to the pool. Releasing keeps each state's pool size constant, so "
             "every request measures a real claim, and the texter never trips \"finish your batch first\".",
             "- Spoke pattern: the statements of that platform's batch request, in its schema (`spoke_*` tables "
             "filled with the same rows), from psycopg in autocommit. \"Cached\" leaves out the campaign load and "
             "the SELECT DISTINCT of time zones. The availability count is its count(*) query alone.",
             "- Floor: dynassign's claim alone, one raw UPDATE (candidates picked in a materialized CTE in the "
             "pool index's order) through psycopg in autocommit.",
             "- HTTP: gunicorn with 4 sync workers serving the app; the client opens one connection per request and "
             "authenticates with a bearer token from `POST /api/auth/token`. W1 in-process calls `request_batch` "
             "directly. Texters run as threads in up to 4 forked client processes on the same 2 cores.",
             "- PostgreSQL runs with `synchronous_commit = off` (both sides commit the same number of claims, and "
             "this machine's shared disk would otherwise dominate) and autovacuum off.",
             "- Invariants are checked in SQL after every run; `invariants_hold` also covers the per-request check.",
             "- Join storm (W3): 1,000 texters join one campaign limited to 100 texters, all released at one "
             "moment. Over HTTP each join has its own client thread and connection (4 processes of 250 threads), "
             "so all 1,000 are in flight at once and the 4 sync workers take them from the listen queue. "
             "In-process, 300 threads (4 processes of 75, each with its own database connection, of the "
             "cluster's 400) share the 1,000 joins.",
             "- P7 compares SQLite's 100k-contact campaign, fresh, with PostgreSQL's W1 at 16 texters in the same "
             "fresh state, at the PostgreSQL campaign nearest 100k contacts.",
             "", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for name, measured, verdict in targets(results, extra, args.sizes, args.levels):
        lines.append(f"| {name} | {measured} | {verdict} |")
    lines += ["", f"![p99 against campaign size]({plot.name})", "", "## Batch requests and offers", ""]
    lines += _table(results, COLUMNS)
    errors = [row for row in results if row["errors"] or not row["invariants_hold"]]
    if errors:
        lines += ["", "Runs with errors or broken invariants:", ""]
        for row in errors:
            lines.append(f"- {row['workload']} {row['size']} {row['state']} {row['texters']} texters: "
                         f"{row['invariants']} {row['error_samples']}")
    if extra.get("left_out"):
        lines += ["", "Levels left out because the baseline's requests, each a scan of the whole campaign, would "
                  f"take longer than {getattr(args, 'level_budget', 150):g} s per level (texters x its time per "
                  "request alone / cores):", ""]
        for row in extra["left_out"]:
            lines.append(f"- {row['workload']}, {row['size']} {row['state']}, {row['texters']} texters: about "
                         f"{row['estimated_s']} s ({row['alone_ms']} ms per request alone)")
    if extra.get("http"):
        lines += ["", f"HTTP workloads: {extra['http']}"]
    lines += ["", "## Join storm", ""]
    for storm in extra.get("join", []):
        lines.append(f"- {storm}")
    lines += ["", "## Contact upload", "", f"- {extra.get('import')}", "", "## SQLite", ""]
    sqlite = extra.get("sqlite", {})
    lines += _table(sqlite.get("results", []), COLUMNS)
    if "error" in sqlite:
        lines.append(f"SQLite run failed: {sqlite['error']}")
    lines += ["", "## App workers", "", f"Peak RSS per gunicorn worker (kB): {extra.get('worker_peak_rss_kb')}",
              "", "## Setup times (s)", ""]
    for name, seconds in extra.get("timings", {}).items():
        lines.append(f"- {name}: {seconds:.1f}")
    lines += ["", "## Statements by total time (pg_stat_statements)", "",
              "| calls | total ms | mean ms | blocks/call | statement |", "|---|---|---|---|---|"]
    for statement in extra.get("statements", []):
        query = statement["query"].replace("|", "\\|")
        lines.append(f"| {statement['calls']} | {statement['total_ms']} | {statement['mean_ms']} | "
                     f"{statement['blocks_per_call']} | `{query}` |")
    lines += ["", f"Total run time: {extra.get('total_seconds', 0):.0f} s.", ""]
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
