"""Batch requests and offers on PostgreSQL in a few prepared statements.

The general path builds a dozen ORM queries per request. On PostgreSQL,
for every strategy that keeps the default pool (no ``select_contacts``),
a request runs four statements (load, probe, claim, probe for the next
offer) and an offer two, of three kinds, each prepared once per
connection:

- ``load``: the assignment with its campaign, organization, texter and the
  texter's role, locked when the caller will claim;
- ``probe``: everything the default rules read from the contacts: a reply
  waiting, unsent contacts held, contacts held, and the pool up to the
  batch size;
- ``claim``: the batch itself, the assignment's batch counter and the
  history event.

The strategy still decides in Python, from the probed numbers (see
``BatchContext.probes``). The general path stays for SQLite and for
strategies that choose their own contacts, and tests run both on the same
cases.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import psycopg
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model

from dynassign.assignment.models import Assignment, AssignmentEvent
from dynassign.assignment.strategies.base import Probes, remember_pool_start, remembered_pool_start
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.organizations.models import Membership, Organization

# Tests turn this off to run the general path on PostgreSQL too.
ENABLED = True


def applies(strategy: Any) -> bool:
    """Return whether requests with ``strategy`` take this path on the current database."""
    return ENABLED and connection.vendor == "postgresql" and getattr(strategy, "select_contacts", None) is None


def _execute(sql: str, params: dict[str, Any] | tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Run one prepared statement on Django's connection, in its transaction, and return the first row."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def _columns(model: type[Model], alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def _instance(model: type[Model], values: tuple[Any, ...]) -> Model:
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


@lru_cache(maxsize=2)
def _load_sql(lock: bool) -> str:
    user_model = get_user_model()
    return f"""
        SELECT {_columns(Assignment, "a")}, {_columns(Campaign, "c")}, {_columns(Organization, "o")},
               {_columns(user_model, "u")},
               (SELECT m.role FROM {Membership._meta.db_table} m
                WHERE m.organization_id = c.organization_id AND m.user_id = a.texter_id
                ORDER BY m.id LIMIT 1)
        FROM {Assignment._meta.db_table} a
        JOIN {Campaign._meta.db_table} c ON c.id = a.campaign_id
        JOIN {Organization._meta.db_table} o ON o.id = c.organization_id
        JOIN {user_model._meta.db_table} u ON u.id = a.texter_id
        WHERE a.id = %s
        {"FOR NO KEY UPDATE OF a" if lock else ""}
    """


def load(assignment_id: int, *, lock: bool) -> tuple[Assignment, str | None] | None:
    """Return the assignment with campaign, organization and texter attached, and the texter's role."""
    row = _execute(_load_sql(lock), (assignment_id,))
    if row is None:
        return None
    models = (Assignment, Campaign, Organization, get_user_model())
    instances = []
    start = 0
    for model in models:
        width = len(model._meta.concrete_fields)
        instances.append(_instance(model, row[start:start + width]))
        start += width
    assignment, campaign, organization, texter = instances
    campaign.organization = organization
    assignment.campaign = campaign
    assignment.texter = texter
    return assignment, row[start]


CONTACT = Contact._meta.db_table
POOL = (
    f"campaign_id = %(campaign)s AND assignment_id IS NULL"
    f" AND message_status = '{MessageStatus.NEEDS_MESSAGE.value}' AND NOT is_opted_out"
)
# The pool in the order of its partial index, from a remembered start and
# then the rows before it, so a scan skips the dead index entries that
# earlier claims left at the front (see ``leading_rows``). The two parts
# never overlap, so the count is exact wherever the start is.
_POOL_AFTER_START = f"{POOL} AND (timezone, id) >= (%(zone)s, %(first)s) ORDER BY timezone, id"
_POOL_BEFORE_START = f"{POOL} AND (timezone, id) < (%(zone)s, %(first)s) ORDER BY timezone, id"

PROBE_SQL = f"""
    WITH pool AS MATERIALIZED (
        (SELECT timezone, id FROM {CONTACT} WHERE {_POOL_AFTER_START} LIMIT %(pool_limit)s)
        UNION ALL
        (SELECT timezone, id FROM {CONTACT} WHERE {_POOL_BEFORE_START} LIMIT %(pool_limit)s)
        LIMIT %(pool_limit)s
    ), first AS (
        SELECT timezone, id FROM pool ORDER BY timezone, id LIMIT 1
    )
    SELECT
        EXISTS (SELECT 1 FROM {CONTACT}
                WHERE assignment_id = %(assignment)s
                  AND message_status = '{MessageStatus.NEEDS_RESPONSE.value}'
                  AND (%(zones)s::text[] IS NULL OR timezone = ANY (%(zones)s::text[]))),
        (SELECT count(*) FROM (
            SELECT 1 FROM {CONTACT}
            WHERE assignment_id = %(assignment)s
              AND message_status = '{MessageStatus.NEEDS_MESSAGE.value}' AND NOT is_opted_out
            LIMIT %(unsent_limit)s) unsent),
        CASE WHEN %(need_held)s THEN (SELECT count(*) FROM {CONTACT} WHERE assignment_id = %(assignment)s) END,
        (SELECT count(*) FROM pool),
        (SELECT timezone FROM first),
        (SELECT id FROM first)
"""


def probe(assignment: Assignment, *, zones: list[str] | None, limit: int, pool_limit: int) -> Probes:
    """Read the numbers the default rules need, in the caller's transaction."""
    campaign_id = assignment.campaign_id
    zone, first = remembered_pool_start(_start_key(campaign_id))
    row = _execute(PROBE_SQL, {
        "campaign": campaign_id, "assignment": assignment.id, "zones": zones, "zone": zone, "first": first,
        "pool_limit": pool_limit, "unsent_limit": limit, "need_held": assignment.max_contacts is not None,
    })
    assert row is not None
    replies, unsent, held, pool, first_zone, first_id = row
    start = None if first_id is None else (first_zone, first_id)
    return Probes(replies_waiting=replies, unsent=unsent, held=held, pool=pool, pool_start=start)


def pool_was_read(assignment: Assignment, probes: Probes) -> None:
    """Remember where the probed pool starts, as a pool count does; call when the strategy read it."""
    if probes.pool_start is not None:
        remember_pool_start(_start_key(assignment.campaign_id), *probes.pool_start)


# The claim picks its rows as ``leading_rows`` does: the pool after the
# remembered start, or, when that falls short, the pool from its very start
# (LIMIT 0 skips that scan otherwise). Candidates are picked once
# (MATERIALIZED) and locked with SKIP LOCKED, so concurrent claims pass each
# other's rows and no row is claimed twice. A row that a concurrent claim
# committed first is re-checked against the pool before it is locked. The
# UPDATE finds the rows by an array of ids, which PostgreSQL always looks up
# in the primary key; a join or IN list may be planned as a scan of the
# whole table.
CLAIM_SQL = f"""
    WITH after_start AS MATERIALIZED (
        SELECT id FROM {CONTACT} WHERE {_POOL_AFTER_START}
        LIMIT %(count)s FOR UPDATE SKIP LOCKED
    ), short AS (
        SELECT count(*) < %(count)s AS fell_short FROM after_start
    ), from_start AS MATERIALIZED (
        SELECT id FROM {CONTACT} WHERE {POOL} ORDER BY timezone, id
        LIMIT (SELECT CASE WHEN fell_short THEN %(count)s ELSE 0 END FROM short) FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE {CONTACT} SET assignment_id = %(assignment)s, updated_at = %(now)s
        WHERE id = ANY (ARRAY(
            SELECT id FROM after_start WHERE NOT (SELECT fell_short FROM short)
            UNION ALL SELECT id FROM from_start))
        RETURNING timezone, id
    ), total AS (
        SELECT count(*) AS assigned,
               (array_agg(timezone ORDER BY timezone, id))[1] AS zone,
               (array_agg(id ORDER BY timezone, id))[1] AS first
        FROM claimed
    ), counted AS (
        UPDATE {Assignment._meta.db_table} SET batch_count = batch_count + 1
        WHERE id = %(assignment)s AND (SELECT assigned FROM total) > 0
    ), logged AS (
        INSERT INTO {AssignmentEvent._meta.db_table}
            (campaign_id, kind, actor_id, from_assignment_id, to_assignment_id, contact_count, strategy, created_at)
        SELECT %(campaign)s, %(kind)s, %(actor)s, NULL, %(assignment)s, assigned, %(strategy)s, %(now)s
        FROM total WHERE assigned > 0
    )
    SELECT assigned, zone, first FROM total
"""


def claim(assignment: Assignment, count: int, *, now: dt.datetime, kind: str, actor_id: int, strategy: str) -> int:
    """Assign up to ``count`` pool contacts, count the batch and record it; return how many were assigned."""
    campaign_id = assignment.campaign_id
    zone, first = remembered_pool_start(_start_key(campaign_id))
    row = _execute(CLAIM_SQL, {
        "campaign": campaign_id, "assignment": assignment.id, "count": count, "zone": zone, "first": first,
        "now": now, "kind": kind, "actor": actor_id, "strategy": strategy,
    })
    assert row is not None
    assigned, first_zone, first_id = row
    if first_id is not None:
        remember_pool_start(_start_key(campaign_id), first_zone, first_id)
    return int(assigned)


def _start_key(campaign_id: int) -> str:
    return f"default pool of campaign {campaign_id}"
