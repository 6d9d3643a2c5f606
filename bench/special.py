"""The workloads that are not a closed loop of batch requests: joins, imports, SQLite; and statement statistics."""

from __future__ import annotations

import csv
import importlib.util
import logging
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

log = logging.getLogger(__name__)

JOINS = 1000
TEXTER_LIMIT = 100
JOIN_PROCESSES = 4
# Every HTTP join has its own client thread and connection, all released
# at one moment. In-process, each thread uses its own database connection, so
# 300 threads (of the cluster's 400 connections) share the 1,000 joins.
JOIN_THREADS_PER_PROCESS = {"HTTP": JOINS // JOIN_PROCESSES, "in-process": 75}


def _join_thread(user_ids: list[int], token: str, start: float, port: int | None, tokens: dict[int, str],
                 outcomes: list[tuple[str, float]]) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from dynassign.assignment.joining import join_by_link
    from dynassign.exceptions import CampaignFull

    users = {user.id: user for user in get_user_model().objects.filter(id__in=user_ids)} if port is None else {}
    while time.time() < start:
        time.sleep(0.001)
    for user_id in user_ids:
        try:
            if port is None:
                join_by_link(users[user_id], token)
                outcome = "admitted"
            else:
                outcome = _join_over_http(port, tokens[user_id], token)
        except CampaignFull:
            outcome = "full"
        except Exception as error:
            outcome = f"error {type(error).__name__}: {str(error)[:120]}"
        outcomes.append((outcome, time.time()))
    connection.close()


def _join_over_http(port: int, api_token: str, join_token: str) -> str:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", f"/api/join/{join_token}", body="{}",
                       headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status in (200, 201):
        return "admitted"
    if response.status == 409:
        return "full"
    return f"error HTTP {response.status}"


def _join_worker(user_ids: list[int], token: str, start: float, port: int | None, tokens: dict[int, str],
                 queue: Any) -> None:
    outcomes: list[tuple[str, float]] = []
    threads_per_process = JOIN_THREADS_PER_PROCESS["in-process" if port is None else "HTTP"]
    chunks = [user_ids[number::threads_per_process] for number in range(threads_per_process)]
    threads = [threading.Thread(target=_join_thread, args=(chunk, token, start, port, tokens, outcomes))
               for chunk in chunks if chunk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(outcomes)


def _storm(bench: Any, over_http: bool) -> dict[str, Any]:
    from django.db import connections

    from bench.datagen import PASSWORD
    from bench.fixture import _new_campaign, create_users
    from bench.fixture_state import FIXTURE

    label = "HTTP" if over_http else "in-process"
    campaign = _new_campaign(FIXTURE.organization_id, f"join storm {label}", 0,
                             {"MAX_TEXTERS_PER_CAMPAIGN": TEXTER_LIMIT, "MAX_CONTACTS_PER_TEXTER": 500})
    prefix = f"joiner-{'http' if over_http else 'local'}-"
    user_ids = create_users(prefix, JOINS, None)
    tokens: dict[int, str] = {}
    port = None
    if over_http:
        port = bench.server.port
        tokens = {user_id: bench.server.token_for(f"{prefix}{number}", PASSWORD)
                  for number, user_id in enumerate(user_ids)}
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    # Time for up to 1,000 threads to start and connect before the release.
    start = time.time() + 5.0
    groups = [user_ids[number::JOIN_PROCESSES] for number in range(JOIN_PROCESSES)]
    workers = [context.Process(target=_join_worker, args=(group, campaign.join_token, start, port, tokens, queue))
               for group in groups]
    for worker in workers:
        worker.start()
    outcomes: list[tuple[str, float]] = []
    for _ in workers:
        outcomes.extend(queue.get(timeout=600))
    for worker in workers:
        worker.join()
    finished = max(moment for _, moment in outcomes)
    with psycopg.connect(bench.dsn, autocommit=True) as conn:
        stored = conn.execute("SELECT count(*), count(*) FILTER (WHERE max_contacts = 500) "
                              "FROM assignment_assignment WHERE campaign_id = %s", (campaign.id,)).fetchone()
    errors = [outcome for outcome, _ in outcomes if outcome.startswith("error")]
    result = {
        "path": label,
        "joins": len(outcomes),
        "admitted": sum(outcome == "admitted" for outcome, _ in outcomes),
        "refused_full": sum(outcome == "full" for outcome, _ in outcomes),
        "errors": len(errors),
        "error_samples": errors[:3],
        "assignments_stored": stored[0],
        "assignments_with_max_contacts": stored[1],
        "seconds": round(finished - start, 2),
        "parallel": JOIN_PROCESSES * JOIN_THREADS_PER_PROCESS[label],
    }
    log.info("join storm done %s", result)
    print(result, flush=True)
    return result


def join_storm(bench: Any) -> list[dict[str, Any]]:
    runs = [_storm(bench, over_http=False)]
    if bench.server is not None:
        runs.append(_storm(bench, over_http=True))
    return runs


def write_upload(path: Path, rows: int) -> None:
    """Write a contact upload of ``rows`` valid, distinct US numbers with zips."""
    area_codes = [212, 312, 415, 617, 713, 303, 602, 206, 404, 305, 214, 702, 808, 907]
    zips = ["10001", "60601", "94103", "02108", "77002", "80202", "85001", "98101", "30303", "33101"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["firstName", "lastName", "cell", "zip", "external_id"])
        for index in range(rows):
            area = area_codes[index % len(area_codes)]
            number = index // len(area_codes)
            exchange = 201 + (number // 10_000) % 700
            line = number % 10_000
            writer.writerow(["Pat", f"Doe{index % 97}", f"({area}) {exchange}-{line:04d}", zips[index % len(zips)],
                             f"E{index}"])


def import_runs(bench: Any, work_dir: Path, max_seconds: float) -> dict[str, Any]:
    if importlib.util.find_spec("dynassign.campaigns.importing") is None:
        return {"skipped": "dynassign.campaigns.importing is not in the tree yet"}
    from bench.fixture import _new_campaign
    from bench.fixture_state import FIXTURE
    from bench.run import _run_subprocess

    runs = []
    for rows in ((1_000_000,) if max_seconds else (100_000, 1_000_000)):
        path = work_dir / f"upload-{rows}.csv"
        write_upload(path, rows)
        campaign = _new_campaign(FIXTURE.organization_id, f"upload {rows}", rows)
        result = _run_subprocess("bench.import_run", ["--campaign", str(campaign.id), "--path", str(path),
                                                      "--max-seconds", str(max_seconds)],
                                 {**os.environ, "BENCH_DSN": bench.dsn})
        result["rows_in_file"] = rows
        runs.append(result)
        path.unlink()
        print(result, flush=True)
    return {"runs": runs}


def sqlite_runs(args: Any, bench: Any) -> dict[str, Any]:
    """Run W5 on SQLite; PostgreSQL's W1 at 16 texters, fresh, was measured during its campaign's fresh state."""
    from bench.run import _run_subprocess

    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment["DYNASSIGN_DATA_DIR"] = str(bench.work_dir)
    environment["DYNASSIGN_SQLITE_PATH"] = str(bench.work_dir / "bench.sqlite3")
    result = _run_subprocess("bench.sqlite_run", ["--seconds", str(args.seconds), "--warmup", str(args.warmup)],
                             environment)
    for path in bench.work_dir.glob("bench.sqlite3*"):
        path.unlink()
    result["postgres_16"] = bench.extra.get("postgres_for_sqlite")
    return result


def top_statements(dsn: str, limit: int = 12) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            """SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),
                      round(shared_blks_hit::numeric / greatest(calls, 1), 1), left(regexp_replace(query, '\\s+', ' ', 'g'), 160)
               FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT %s""",
            (limit,),
        ).fetchall()
    return [{"calls": row[0], "total_ms": float(row[1]), "mean_ms": float(row[2]), "blocks_per_call": float(row[3]),
             "query": row[4]} for row in rows]
