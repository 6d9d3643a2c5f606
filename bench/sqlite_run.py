"""W5: the batch request on the embedded SQLite database, at 1, 4 and 16 texters.

Runs in its own process because Django's database settings are fixed per
process; prints one JSON line with the results.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import time

CONTACTS = 100_000
LEVELS = [1, 4, 16]


class SqliteTexter:
    """W1 in-process on SQLite, releasing its batch after each request like the PostgreSQL texters."""

    def __init__(self, path: str, assignment_id: int) -> None:
        from dynassign.assignment import batches

        self.batches = batches
        self.assignment_id = assignment_id
        self.side = sqlite3.connect(path, timeout=60, isolation_level=None)

    def request(self) -> int:
        return self.batches.request_batch(self.assignment_id).assigned

    def after(self, assigned: int) -> str | None:
        held = self.side.execute("SELECT count(*) FROM campaigns_contact WHERE assignment_id = ?",
                                 (self.assignment_id,)).fetchone()[0]
        self.side.execute("UPDATE campaigns_contact SET assignment_id = NULL WHERE assignment_id = ?",
                          (self.assignment_id,))
        if held != assigned:
            return f"assignment {self.assignment_id} holds {held} contacts, its request reported {assigned}"
        return None

    def close(self) -> None:
        from django.db import connection

        connection.close()
        self.side.close()


def _load_contacts(path: str, campaign_id: int) -> float:
    from bench.datagen import _zone_rows

    started = time.perf_counter()
    rows = (
        (campaign_id, "Pat", "Doe", f"+1{3_000_000_000 + index}", zip_code, f"X{index}", "{}", zone,
         "needsMessage", opted_out, None, "2026-01-01 00:00:00")
        for index, (zone, _, zip_code, opted_out) in enumerate(_zone_rows(CONTACTS, 7))
    )
    with sqlite3.connect(path, timeout=60) as conn:
        conn.executemany(
            "INSERT INTO campaigns_contact (campaign_id, first_name, last_name, cell, zip, external_id, "
            "custom_fields, timezone, message_status, is_opted_out, assignment_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dynassign.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from bench.datagen import TEXTERS
    from bench.fixture import _new_campaign, create_users
    from bench.loadgen import run_closed_loop
    from dynassign.assignment.models import Assignment
    from dynassign.organizations.models import Organization

    path = connections["default"].settings_dict["NAME"]
    organization = Organization.objects.create(name="SQLite benchmark")
    user_ids = create_users("sqlite-texter", TEXTERS, organization.id)
    campaign = _new_campaign(organization.id, "SQLite 100k", CONTACTS)
    assignments = Assignment.objects.bulk_create([Assignment(campaign=campaign, texter_id=user) for user in user_ids])
    ids = [assignment.id for assignment in assignments]
    load_seconds = _load_contacts(str(path), campaign.id)

    results = []
    for level in LEVELS:
        result = run_closed_loop("W5 SQLite", lambda i: SqliteTexter(str(path), ids[i]), level, args.seconds,
                                 args.warmup, before_fork=connections.close_all,
                                 labels={"size": "100k", "contacts": CONTACTS, "state": "fresh"})
        summary = result.summary()
        with sqlite3.connect(str(path)) as conn:
            held_elsewhere = conn.execute(
                "SELECT count(*) FROM campaigns_contact c JOIN assignment_assignment a ON a.id = c.assignment_id "
                "WHERE a.campaign_id <> c.campaign_id").fetchone()[0]
            over_size = conn.execute(
                "SELECT count(*) FROM assignment_assignmentevent WHERE contact_count > 200").fetchone()[0]
        summary["invariants"] = {"contacts held across campaigns": held_elsewhere,
                                 "batches over their campaign's batch size": over_size}
        summary["invariants_hold"] = held_elsewhere == 0 and over_size == 0 and result.violations == 0
        results.append(summary)
    print(json.dumps({"load_seconds": load_seconds, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
