"""Organizations, campaigns, texters and assignments for the benchmark, created through Django."""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench import datagen
from bench.datagen import BATCH_SIZE, FILLER_TEXTERS, PASSWORD, TEXTERS, Campaign, Fixture
from bench.workloads import CONTACT

log = logging.getLogger(__name__)


def table_names() -> dict[str, str]:
    from django.contrib.auth import get_user_model

    from dynassign.assignment.models import Assignment, AssignmentEvent
    from dynassign.campaigns.models import Campaign as CampaignModel
    from dynassign.campaigns.models import Contact
    from dynassign.organizations.models import Membership, Organization

    models = {"organization": Organization, "campaign": CampaignModel, "contact": Contact, "assignment": Assignment,
              "event": AssignmentEvent, "membership": Membership, "user": get_user_model()}
    return {key: model._meta.db_table for key, model in models.items()}


def create_users(prefix: str, count: int, organization_id: int | None) -> list[int]:
    """Create ``count`` users (members of the organization when given) and return their ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from dynassign.organizations.models import Membership
    from dynassign.organizations.roles import Role

    user_model = get_user_model()
    password = make_password(PASSWORD)
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix}{number}", password=password) for number in range(count)]
    )
    if organization_id is not None:
        Membership.objects.bulk_create(
            [Membership(user=user, organization_id=organization_id, role=Role.TEXTER) for user in users]
        )
    return [user.id for user in users]


def _new_campaign(organization_id: int, label: str, size: int, settings: dict[str, Any] | None = None) -> Any:
    from dynassign.campaigns.models import Campaign as CampaignModel

    zones = sorted({zone for zone, _, _, _ in datagen.ZONES if zone})
    return CampaignModel.objects.create(
        organization_id=organization_id, title=f"Benchmark {label}", is_started=True, use_dynamic_assignment=True,
        batch_size=BATCH_SIZE, contact_timezones=zones, settings=settings or {},
    )


def create_fixture(dsn: str, sizes: dict[str, int], other_rows: int) -> Fixture:
    """Create one organization, the benchmark campaigns with their contacts, and the texters."""
    from dynassign.assignment.models import Assignment
    from dynassign.organizations.models import Organization

    started = time.perf_counter()
    tables = table_names()
    organization = Organization.objects.create(name="Benchmark organization")
    texter_ids = create_users("texter", TEXTERS, organization.id)
    filler_ids = create_users("filler", FILLER_TEXTERS, organization.id)

    campaigns: dict[str, Campaign] = {}
    loads: list[tuple[int, int]] = []
    for label, size in sizes.items():
        model = _new_campaign(organization.id, label, size)
        campaign = Campaign(label=label, size=size, id=model.id, join_token=model.join_token)
        created = Assignment.objects.bulk_create(
            [Assignment(campaign=model, texter_id=user_id) for user_id in texter_ids + filler_ids]
        )
        campaign.assignment_ids = [assignment.id for assignment in created[:TEXTERS]]
        campaign.filler_assignment_ids = [assignment.id for assignment in created[TEXTERS:]]
        campaigns[label] = campaign
        loads.append((model.id, size))
    # Other campaigns share the contact table, as in production.
    for number, rows in enumerate((other_rows // 2, other_rows - other_rows // 2)):
        loads.append((_new_campaign(organization.id, f"other {number}", rows).id, rows))

    rebuild = datagen.drop_secondary_indexes(dsn, tables["contact"])
    first_cell = 2_000_000_000
    for seed, (campaign_id, rows) in enumerate(loads):
        datagen.copy_contacts(dsn, tables["contact"], campaign_id, rows, first_cell, seed)
        first_cell += rows
    index_started = time.perf_counter()
    datagen.rebuild_indexes(dsn, rebuild)
    log.info("contact indexes rebuilt seconds=%.1f", time.perf_counter() - index_started)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")
    datagen.build_spoke_schema(dsn, tables)
    log.info("fixture ready seconds=%.1f", time.perf_counter() - started)
    return Fixture(organization_id=organization.id, texter_ids=texter_ids,
                   usernames=[f"texter{number}" for number in range(TEXTERS)], campaigns=campaigns)


# Setup claims take this many contacts each, so reaching 90% of 10M
# contacts takes 1,800 round trips per schema instead of 45,000.
SETUP_CLAIM_SIZE = 5000

# Each setup claim returns the count it claimed and the last row it took,
# in columns named as the next claim's parameters, and the next claim
# starts after that row. Claims from the start would walk past the dead
# entries of every earlier claim, which makes the setup quadratic.
#
# This one takes the rows FLOOR_CLAIM would take, in the same order. The
# last row is picked in SQL so that it follows the index's collation.
SETUP_FLOOR_CLAIM = f"""
WITH candidates AS MATERIALIZED (
    SELECT id, timezone FROM {CONTACT}
    WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
      AND message_status = 'needsMessage' AND NOT is_opted_out
      AND (timezone, id) > (%(after_timezone)s, %(after_id)s::bigint)
    ORDER BY timezone, id
    LIMIT %(size)s FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE {CONTACT} SET assignment_id = %(assignment)s, updated_at = now()
    FROM candidates WHERE {CONTACT}.id = candidates.id
    RETURNING candidates.timezone, candidates.id
)
SELECT count(*) OVER () AS claimed, timezone AS after_timezone, id AS after_id
FROM claimed ORDER BY timezone DESC, id DESC LIMIT 1
"""
# Timezone is NOT NULL and '' sorts first, so ('', 0) precedes every row.
SETUP_FLOOR_START = {"after_timezone": "", "after_id": 0}

# SPOKE_CLAIM has no ORDER BY and takes rows in the order of its
# (campaign_id, assignment_id) index. This one claims in id order through
# the primary key instead. Every claimed row's (campaign_id, NULL) entry
# dies whatever the order, so a scan from the start walks past as many
# dead entries.
SETUP_SPOKE_CLAIM = """
WITH claimed AS (
    UPDATE spoke_campaign_contact SET assignment_id = %(assignment)s
    WHERE id IN (
        SELECT id FROM spoke_campaign_contact
        WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
          AND is_opted_out = false AND message_status = 'needsMessage'
          AND id > %(after_id)s::bigint
        ORDER BY id
        LIMIT %(size)s FOR UPDATE SKIP LOCKED
    )
    RETURNING id
)
SELECT count(*) AS claimed, max(id) AS after_id FROM claimed
"""
# The first claim walks the primary key past the rows of the campaigns
# loaded before this one, once.
SETUP_SPOKE_START = {"after_id": 0}

# One read of each pool from its start, on the index its measured claim
# uses. It visits the heap row behind each dead entry once and marks the
# entry dead in the index, as claims that each scan from the start do, so
# the first measured request does not pay for those visits.
FLOOR_POOL_SCAN = f"""
SELECT id FROM {CONTACT}
WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
  AND message_status = 'needsMessage' AND NOT is_opted_out
ORDER BY timezone, id LIMIT 1
"""
SPOKE_POOL_SCAN = """
SELECT id FROM spoke_campaign_contact
WHERE campaign_id = %(campaign)s AND assignment_id IS NULL
  AND is_opted_out = false AND message_status = 'needsMessage'
LIMIT 1
"""


def _claim_until(dsn: str, statement: str, start: dict[str, Any], table: str, campaign: Campaign,
                 target: int) -> int:
    claims = 0
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        # Setup only: keeps both schemas' claims on an index, as the
        # dynassign request does, so reaching the state takes seconds.
        conn.execute("SET enable_seqscan = off")
        params: dict[str, Any] = {"campaign": campaign.id, **start}
        held = 0
        while held < target:
            params["assignment"] = campaign.filler_assignment_ids[claims % len(campaign.filler_assignment_ids)]
            params["size"] = min(SETUP_CLAIM_SIZE, target - held)
            row = conn.execute(statement, params, prepare=True).fetchone()
            claims += 1
            if row is None or row["claimed"] == 0:
                break
            held += row.pop("claimed")
            params.update(row)
        log.info("claimed table=%s campaign=%s held=%s claims=%s", table, campaign.id, held, claims)
    return claims


def _scan_pools(dsn: str, campaign: Campaign) -> None:
    # Runs after both schemas' claims have committed, because an index scan
    # marks an entry dead only once no open transaction can see its row.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        for statement in (FLOOR_POOL_SCAN, SPOKE_POOL_SCAN):
            conn.execute(statement, {"campaign": campaign.id}).fetchall()


def assign_share(dsn: str, campaign: Campaign, share: float) -> float:
    """Assign ``share`` of the campaign's contacts to filler texters by real claims, on both schemas.

    No VACUUM runs afterwards (autovacuum is off), so the dead index entries
    these claims leave stay in place, as they would between vacuums.
    """
    import threading

    started = time.perf_counter()
    target = int(campaign.size * share)
    threads = [
        threading.Thread(target=_claim_until,
                         args=(dsn, SETUP_FLOOR_CLAIM, SETUP_FLOOR_START, "dynassign", campaign, target)),
        threading.Thread(target=_claim_until,
                         args=(dsn, SETUP_SPOKE_CLAIM, SETUP_SPOKE_START, "spoke", campaign, target)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _scan_pools(dsn, campaign)
    return time.perf_counter() - started
