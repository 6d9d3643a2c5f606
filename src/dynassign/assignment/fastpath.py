"""Batch requests and offers on PostgreSQL in a few prepared statements.

The general path builds a dozen ORM queries per request. On PostgreSQL,
for every strategy that keeps the default pool (no ``select_contacts``), a
request runs three statements, each prepared once per connection:

- ``load``: the assignment with its campaign, organization, texter and the
  texter's role, locked;
- ``probe``: everything the default rules read from the contacts: the
  zones of waiting replies, unsent contacts held, contacts held, and the
  pool up to the batch size;
- ``claim``: the batch itself, the assignment's batch counter, the history
  event, and the pool as the next offer will find it.

An offer reads the assignment and the probe in one statement. The strategy
still decides in Python, from the probed numbers (see
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
from dynassign.campaigns.texting_hours import TextingHours
from dynassign.organizations.models import Membership, Organization

# Tests turn this off to run the general path on PostgreSQL too.
ENABLED = True


def on_postgresql() -> bool:
    """Return whether this path is on for the current database."""
    return ENABLED and connection.vendor == "postgresql"


def applies(strategy: Any) -> bool:
    """Return whether requests with ``strategy`` take this path on the current database."""
    return on_postgresql() and getattr(strategy, "select_contacts", None) is None


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


def _loaded_rows() -> str:
    """Return the select list and joins of the assignment, its campaign, organization, texter and role."""
    user_model = get_user_model()
    return f"""
        {_columns(Assignment, "a")}, {_columns(Campaign, "c")}, {_columns(Organization, "o")},
        {_columns(user_model, "u")},
        (SELECT m.role FROM {Membership._meta.db_table} m
         WHERE m.organization_id = c.organization_id AND m.user_id = a.texter_id
         ORDER BY m.id LIMIT 1)
        FROM {Assignment._meta.db_table} a
        JOIN {Campaign._meta.db_table} c ON c.id = a.campaign_id
        JOIN {Organization._meta.db_table} o ON o.id = c.organization_id
        JOIN {user_model._meta.db_table} u ON u.id = a.texter_id
        WHERE a.id = %(assignment)s
    """


@lru_cache(maxsize=2)
def _load_sql(lock: bool) -> str:
    return f"SELECT {_loaded_rows()} {'FOR NO KEY UPDATE OF a' if lock else ''}"


# The offer reads the assignment and the numbers in one statement. A
# request cannot, because it must read the numbers after its lock is
# granted: then the second request of a double click counts the batch that
# the first one claimed.
@lru_cache(maxsize=1)
def _offer_sql() -> str:
    wanted = "CASE WHEN c.batch_size > 0 THEN c.batch_size ELSE 1 END"
    return f"""
        WITH target AS (
            SELECT a.campaign_id, {wanted} AS wanted, CASE WHEN %(has_any)s THEN 1 ELSE {wanted} END AS pool_limit
            FROM {Assignment._meta.db_table} a JOIN {Campaign._meta.db_table} c ON c.id = a.campaign_id
            WHERE a.id = %(assignment)s
        ), pool AS MATERIALIZED ({_pool_sample("(SELECT campaign_id FROM target)", "(SELECT pool_limit FROM target)")})
        SELECT
            {_contact_numbers("a.id", "(SELECT wanted FROM target)", "a.max_contacts IS NOT NULL")},
            (SELECT count(*) FROM pool),
            (SELECT timezone FROM pool ORDER BY timezone, id LIMIT 1),
            (SELECT id FROM pool ORDER BY timezone, id LIMIT 1),
            {_loaded_rows()}
    """


# The campaign of each assignment seen, so a statement that starts from the
# assignment can use its campaign's remembered pool start.
_campaign_of: dict[int, int] = {}


def load(assignment_id: int, *, lock: bool = True) -> tuple[Assignment, str | None] | None:
    """Return the assignment with campaign, organization and texter attached, and the texter's role."""
    row = _execute(_load_sql(lock), {"assignment": assignment_id})
    return None if row is None else _loaded(row)


def load_for_offer(assignment_id: int, *, has_any: bool, now: dt.datetime
                   ) -> tuple[Assignment, str | None, Probes] | None:
    """Return what ``load`` does, unlocked, with the numbers an offer needs."""
    campaign_id = _campaign_of.get(assignment_id)
    if campaign_id is None:
        # The campaign, and so its remembered pool start, is known only after loading.
        found = load(assignment_id, lock=False)
        if found is None:
            return None
        assignment, role = found
        wanted = assignment.campaign.batch_size or 1
        return assignment, role, probe(assignment, now=now, limit=wanted, pool_limit=1 if has_any else wanted)
    zone, first = remembered_pool_start(_start_key(campaign_id))
    row = _execute(_offer_sql(), {"assignment": assignment_id, "has_any": has_any, "zone": zone, "first": first})
    if row is None:
        return None
    assignment, role = _loaded(row[6:])
    return assignment, role, _probes(assignment, now, row[:6])


def _loaded(row: tuple[Any, ...]) -> tuple[Assignment, str | None]:
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
    if len(_campaign_of) >= _CAMPAIGNS_KEPT:
        _campaign_of.clear()
    _campaign_of[assignment.id] = assignment.campaign_id
    return assignment, row[start]


_CAMPAIGNS_KEPT = 100_000


CONTACT = Contact._meta.db_table


def _pool(campaign: str = "%(campaign)s") -> str:
    return (
        f"campaign_id = {campaign} AND assignment_id IS NULL"
        f" AND message_status = '{MessageStatus.NEEDS_MESSAGE.value}' AND NOT is_opted_out"
    )


POOL = _pool()
# The pool in the order of its partial index, from a remembered start and
# then the rows before it, so a scan skips the dead index entries that
# earlier claims left at the front (see ``leading_rows``). The two parts
# never overlap, so the count is exact wherever the start is.
_AFTER_START = "AND (timezone, id) >= (%(zone)s, %(first)s) ORDER BY timezone, id"
_BEFORE_START = "AND (timezone, id) < (%(zone)s, %(first)s) ORDER BY timezone, id"
_POOL_AFTER_START = f"{POOL} {_AFTER_START}"


def _pool_sample(campaign: str, limit: str) -> str:
    """Return a query of the first ``limit`` pool rows (timezone, id), from the remembered start."""
    return f"""
        (SELECT timezone, id FROM {CONTACT} WHERE {_pool(campaign)} {_AFTER_START} LIMIT {limit})
        UNION ALL
        (SELECT timezone, id FROM {CONTACT} WHERE {_pool(campaign)} {_BEFORE_START} LIMIT {limit})
        LIMIT {limit}
    """


def _contact_numbers(assignment: str, unsent_limit: str, need_held: str) -> str:
    """Return the select list of the texter's numbers: zones of waiting replies, unsent and held contacts."""
    return f"""
        ARRAY(SELECT DISTINCT timezone FROM {CONTACT}
              WHERE assignment_id = {assignment} AND message_status = '{MessageStatus.NEEDS_RESPONSE.value}'),
        (SELECT count(*) FROM (
            SELECT 1 FROM {CONTACT}
            WHERE assignment_id = {assignment}
              AND message_status = '{MessageStatus.NEEDS_MESSAGE.value}' AND NOT is_opted_out
            LIMIT {unsent_limit}) unsent),
        CASE WHEN {need_held} THEN (SELECT count(*) FROM {CONTACT} WHERE assignment_id = {assignment}) END
    """

PROBE_SQL = f"""
    WITH pool AS MATERIALIZED ({_pool_sample("%(campaign)s", "%(pool_limit)s")})
    SELECT
        {_contact_numbers("%(assignment)s", "%(unsent_limit)s", "%(need_held)s")},
        (SELECT count(*) FROM pool),
        (SELECT timezone FROM pool ORDER BY timezone, id LIMIT 1),
        (SELECT id FROM pool ORDER BY timezone, id LIMIT 1)
"""


def probe(assignment: Assignment, *, now: dt.datetime, limit: int, pool_limit: int) -> Probes:
    """Read the numbers the default rules need, in the caller's transaction."""
    campaign_id = assignment.campaign_id
    zone, first = remembered_pool_start(_start_key(campaign_id))
    row = _execute(PROBE_SQL, {
        "campaign": campaign_id, "assignment": assignment.id, "zone": zone, "first": first,
        "pool_limit": pool_limit, "unsent_limit": limit, "need_held": assignment.max_contacts is not None,
    })
    assert row is not None
    return _probes(assignment, now, row)


def _probes(assignment: Assignment, now: dt.datetime, values: tuple[Any, ...]) -> Probes:
    """Build Probes from the select list of ``_contact_numbers`` followed by the pool's size and start."""
    reply_zones, unsent, held, pool, first_zone, first_id = values
    open_zones = TextingHours(assignment.campaign).zones_open(now)
    if open_zones is None:
        replies_waiting = bool(reply_zones)
    else:
        replies_waiting = any(zone in open_zones for zone in reply_zones)
    start = None if first_id is None else (first_zone, first_id)
    return Probes(replies_waiting=replies_waiting, unsent=unsent, held=held, pool=pool, pool_start=start)


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
# UPDATE finds the rows by an array of ids, looked up in the primary key.
# A join or an IN list was planned as a scan of the whole table. The statement also samples the pool as the next offer will
# find it: its snapshot still shows the claimed rows unassigned, so they are
# left out by id, and the sample starts where the claim leaves the start.
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
    ), start_after AS (
        SELECT COALESCE(zone, %(zone)s) AS zone, COALESCE(first, %(first)s) AS first FROM total
    ), pool_after AS MATERIALIZED (
        (SELECT timezone, id FROM {CONTACT}
         WHERE {POOL} AND (timezone, id) >= ((SELECT zone FROM start_after), (SELECT first FROM start_after))
           AND id <> ALL (ARRAY(SELECT id FROM claimed))
         ORDER BY timezone, id LIMIT %(next_limit)s)
        UNION ALL
        (SELECT timezone, id FROM {CONTACT}
         WHERE {POOL} AND (timezone, id) < ((SELECT zone FROM start_after), (SELECT first FROM start_after))
           AND id <> ALL (ARRAY(SELECT id FROM claimed))
         ORDER BY timezone, id LIMIT %(next_limit)s)
        LIMIT %(next_limit)s
    )
    SELECT assigned, zone, first,
           (SELECT count(*) FROM pool_after),
           (SELECT timezone FROM pool_after ORDER BY timezone, id LIMIT 1),
           (SELECT id FROM pool_after ORDER BY timezone, id LIMIT 1)
    FROM total
"""


def claim(assignment: Assignment, count: int, *, now: dt.datetime, kind: str, actor_id: int, strategy: str,
          before: Probes, next_limit: int) -> tuple[int, Probes]:
    """Assign up to ``count`` pool contacts, count the batch and record it.

    Return how many were assigned, and the probes of the next offer:
    ``before`` (read in this transaction, with unsent contacts counted up to
    at least ``next_limit``) updated with the claim.
    """
    campaign_id = assignment.campaign_id
    zone, first = remembered_pool_start(_start_key(campaign_id))
    row = _execute(CLAIM_SQL, {
        "campaign": campaign_id, "assignment": assignment.id, "count": count, "zone": zone, "first": first,
        "now": now, "kind": kind, "actor": actor_id, "strategy": strategy, "next_limit": next_limit,
    })
    assert row is not None
    assigned, first_zone, first_id, pool, pool_zone, pool_first = row
    if first_id is not None:
        remember_pool_start(_start_key(campaign_id), first_zone, first_id)
    after = Probes(
        replies_waiting=before.replies_waiting,
        unsent=before.unsent + assigned,
        held=None if before.held is None else before.held + assigned,
        pool=pool,
        pool_start=None if pool_first is None else (pool_zone, pool_first),
    )
    return int(assigned), after


def _start_key(campaign_id: int) -> str:
    return f"default pool of campaign {campaign_id}"
