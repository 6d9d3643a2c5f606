"""Benchmark data: campaigns of many contacts, loaded with PostgreSQL COPY.

Contacts of every benchmark campaign share one table with other campaigns'
contacts, as in production. The Spoke-pattern baseline gets its own tables
(``spoke_*``) filled from the same rows, so both sides read the same data.
"""

from __future__ import annotations

import io
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Iterator

import psycopg

log = logging.getLogger(__name__)

BATCH_SIZE = 200
TEXTERS = 64
# Texters who hold the contacts of the "90% already assigned" state.
FILLER_TEXTERS = 40
PASSWORD = "bench-password-1"

# US time zones weighted roughly by population; about one contact in twelve
# has no known zone (an empty string), as when neither zip nor area code
# resolves. The second item is the same zone in Spoke's offset notation.
ZONES = [
    ("America/New_York", "-5_1", 0.43, "10001"),
    ("America/Chicago", "-6_1", 0.27, "60601"),
    ("America/Denver", "-7_1", 0.05, "80202"),
    ("America/Phoenix", "-7_0", 0.02, "85001"),
    ("America/Los_Angeles", "-8_1", 0.14, "90001"),
    ("America/Anchorage", "-9_1", 0.005, "99501"),
    ("Pacific/Honolulu", "-10_0", 0.005, "96801"),
    ("", "", 1 / 12, ""),
]
OPTED_OUT_SHARE = 0.01
FIRST_NAMES = ["Mary", "James", "Ana", "Luis", "Wei", "Aisha", "John", "Fatima", "Olga", "Kwame", "Linda", "Tomas"]
LAST_NAMES = ["Smith", "Garcia", "Nguyen", "Johnson", "Kim", "Brown", "Patel", "Lopez", "Okafor", "Miller"]


@dataclass
class Campaign:
    label: str
    size: int
    id: int = 0
    join_token: str = ""
    # Assignment ids of the benchmark texters, in texter order.
    assignment_ids: list[int] = field(default_factory=list)
    filler_assignment_ids: list[int] = field(default_factory=list)


@dataclass
class Fixture:
    organization_id: int
    texter_ids: list[int]
    usernames: list[str]
    campaigns: dict[str, Campaign]


def _zone_rows(count: int, seed: int) -> Iterator[tuple[str, str, str, bool]]:
    """Yield (zone, spoke offset, zip, opted out) for ``count`` contacts, deterministically."""
    rng = random.Random(seed)
    weights = [zone[2] for zone in ZONES]
    chunk = 100_000
    for start in range(0, count, chunk):
        picks = rng.choices(ZONES, weights=weights, k=min(chunk, count - start))
        for zone in picks:
            yield zone[0], zone[1], zone[3], rng.random() < OPTED_OUT_SHARE


def _contact_lines(campaign_id: int, count: int, first_cell: int, seed: int) -> Iterator[str]:
    """Yield COPY text lines for the dynassign contact table."""
    for index, (zone, _, zip_code, opted_out) in enumerate(_zone_rows(count, seed)):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // 7) % len(LAST_NAMES)]
        cell = f"+1{first_cell + index}"
        opted = "t" if opted_out else "f"
        yield (
            f"{campaign_id}\t{first}\t{last}\t{cell}\t{zip_code}\tX{index}\t{{}}\t{zone}\t"
            f"needsMessage\t{opted}\t\\N\t2026-01-01 00:00:00+00\n"
        )


CONTACT_COLUMNS = (
    "campaign_id, first_name, last_name, cell, zip, external_id, custom_fields, timezone, "
    "message_status, is_opted_out, assignment_id, updated_at"
)


def copy_contacts(dsn: str, table: str, campaign_id: int, count: int, first_cell: int, seed: int) -> float:
    """Load ``count`` generated contacts of one campaign with COPY and return the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({CONTACT_COLUMNS}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for number, line in enumerate(_contact_lines(campaign_id, count, first_cell, seed), start=1):
                buffer.write(line)
                if number % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
    elapsed = time.perf_counter() - started
    log.info("copied contacts campaign=%s rows=%s seconds=%.1f", campaign_id, count, elapsed)
    return elapsed


def drop_secondary_indexes(dsn: str, table: str) -> list[str]:
    """Drop ``table``'s indexes except its primary key and return their definitions for rebuilding."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname
            FROM pg_index i
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
            """,
            (table,),
        ).fetchall()
        rebuild = []
        for name, definition, constraint in rows:
            if constraint:
                ddl = conn.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (constraint,)
                ).fetchone()[0]
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {ddl}')
            else:
                conn.execute(f"DROP INDEX {name}")
                rebuild.append(definition)
    return rebuild


def rebuild_indexes(dsn: str, statements: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in statements:
            conn.execute(statement)


# The Spoke pattern's schema: no partial index, an index on (campaign_id,
# assignment_id) and one on (assignment_id, timezone_offset), and a row
# trigger that sets updated_at on every update.
SPOKE_SCHEMA = """
CREATE TABLE spoke_organization (
    id bigint PRIMARY KEY, name text NOT NULL, features text NOT NULL DEFAULT '',
    texting_hours_enforce boolean NOT NULL DEFAULT false, texting_hours_start integer NOT NULL DEFAULT 9,
    texting_hours_end integer NOT NULL DEFAULT 21, created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE spoke_campaign (
    id bigint PRIMARY KEY, organization_id bigint NOT NULL REFERENCES spoke_organization (id),
    title text NOT NULL, description text NOT NULL DEFAULT '', is_started boolean, is_archived boolean,
    use_dynamic_assignment boolean, batch_size integer, features text NOT NULL DEFAULT '',
    join_token text, due_by timestamptz, created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE spoke_user_organization (
    id bigserial PRIMARY KEY, user_id bigint NOT NULL, organization_id bigint NOT NULL, role text NOT NULL
);
CREATE INDEX spoke_user_organization_user ON spoke_user_organization (user_id, organization_id);
CREATE TABLE spoke_assignment (
    id bigint PRIMARY KEY, user_id bigint NOT NULL, campaign_id bigint NOT NULL REFERENCES spoke_campaign (id),
    max_contacts integer, created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spoke_assignment_campaign_user ON spoke_assignment (campaign_id, user_id);
CREATE TABLE spoke_campaign_contact (
    id bigint PRIMARY KEY, campaign_id bigint NOT NULL, assignment_id bigint,
    external_id text NOT NULL DEFAULT '', first_name text NOT NULL, last_name text NOT NULL,
    cell text NOT NULL, zip text NOT NULL DEFAULT '', custom_fields text NOT NULL DEFAULT '{}',
    message_status text NOT NULL DEFAULT 'needsMessage', is_opted_out boolean DEFAULT false,
    timezone_offset text DEFAULT '', created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION spoke_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END $$;
"""

SPOKE_CONTACT_INDEXES = [
    "CREATE INDEX spoke_contact_campaign_assignment ON spoke_campaign_contact (campaign_id, assignment_id)",
    "CREATE INDEX spoke_contact_assignment_timezone ON spoke_campaign_contact (assignment_id, timezone_offset)",
    "CREATE TRIGGER spoke_contact_updated_at BEFORE UPDATE ON spoke_campaign_contact "
    "FOR EACH ROW EXECUTE FUNCTION spoke_set_updated_at()",
]


def _spoke_offset_case() -> str:
    branches = " ".join(f"WHEN '{zone}' THEN '{offset}'" for zone, offset, _, _ in ZONES if zone)
    return f"CASE c.timezone {branches} ELSE '' END"


def build_spoke_schema(dsn: str, tables: dict[str, str]) -> float:
    """Create the Spoke-pattern tables and fill them from dynassign's rows; return seconds taken."""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SPOKE_SCHEMA)
        conn.execute(f"INSERT INTO spoke_organization (id, name) SELECT id, name FROM {tables['organization']}")
        conn.execute(
            f"""INSERT INTO spoke_campaign (id, organization_id, title, is_started, is_archived,
                    use_dynamic_assignment, batch_size, join_token)
                SELECT id, organization_id, title, is_started, is_archived, use_dynamic_assignment,
                    batch_size, join_token FROM {tables['campaign']}"""
        )
        conn.execute(
            f"""INSERT INTO spoke_user_organization (user_id, organization_id, role)
                SELECT user_id, organization_id, role FROM {tables['membership']}"""
        )
        conn.execute(
            f"""INSERT INTO spoke_assignment (id, user_id, campaign_id, max_contacts)
                SELECT id, texter_id, campaign_id, max_contacts FROM {tables['assignment']}"""
        )
        conn.execute(
            f"""INSERT INTO spoke_campaign_contact (id, campaign_id, assignment_id, external_id, first_name,
                    last_name, cell, zip, custom_fields, message_status, is_opted_out, timezone_offset)
                SELECT c.id, c.campaign_id, c.assignment_id, c.external_id, c.first_name, c.last_name,
                    c.cell, c.zip, c.custom_fields::text, c.message_status, c.is_opted_out, {_spoke_offset_case()}
                FROM {tables['contact']} c"""
        )
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in SPOKE_CONTACT_INDEXES:
            conn.execute(statement)
        conn.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    log.info("spoke schema built seconds=%.1f", elapsed)
    return elapsed
