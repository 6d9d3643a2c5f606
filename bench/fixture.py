"""Organizations, campaigns, texters and assignments for the benchmark, created through Django."""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

from bench import datagen
from bench.datagen import BATCH_SIZE, FILLER_TEXTERS, PASSWORD, TEXTERS, Campaign, Fixture
from bench.workloads import FLOOR_CLAIM, SPOKE_CLAIM

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


def _claim_until(dsn: str, statement: str, table: str, campaign: Campaign, target: int) -> int:
    claims = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Setup only: keeps both schemas' claims on an index, as the
        # dynassign request does, so reaching the state takes seconds.
        conn.execute("SET enable_seqscan = off")
        held = 0
        while held < target:
            assignment = campaign.filler_assignment_ids[claims % len(campaign.filler_assignment_ids)]
            size = min(SETUP_CLAIM_SIZE, target - held)
            got = conn.execute(statement, {"assignment": assignment, "campaign": campaign.id, "size": size},
                               prepare=True).rowcount
            claims += 1
            if got == 0:
                break
            held += got
        log.info("claimed table=%s campaign=%s held=%s claims=%s", table, campaign.id, held, claims)
    return claims


# Setup claims take this many contacts each: the same statements as a
# batch claim, so they leave the same dead index entries, in fewer round
# trips (each one walks past the entries the earlier ones left).
SETUP_CLAIM_SIZE = 5000


def _setup_claim(statement: str) -> str:
    batch_limit = f"LIMIT {BATCH_SIZE} "
    if batch_limit not in statement:
        raise ValueError(f"setup claim statement has no {batch_limit!r} to widen: {statement[:80]!r}")
    return statement.replace(batch_limit, "LIMIT %(size)s ")


def assign_share(dsn: str, campaign: Campaign, share: float) -> float:
    """Assign ``share`` of the campaign's contacts to filler texters by real claims, on both schemas.

    No VACUUM runs afterwards (autovacuum is off), so the dead index entries
    these claims leave stay in place, as they would between vacuums.
    """
    import threading

    started = time.perf_counter()
    target = int(campaign.size * share)
    threads = [
        threading.Thread(target=_claim_until, args=(dsn, _setup_claim(FLOOR_CLAIM), "dynassign", campaign, target)),
        threading.Thread(target=_claim_until, args=(dsn, _setup_claim(SPOKE_CLAIM), "spoke", campaign, target)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started
