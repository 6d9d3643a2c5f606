"""Campaign and texter counts move with every assign, release, hand-off, move and opt-out."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import request_batch
from dynassign.assignment.counts import assignment_counts, campaign_counts
from dynassign.assignment.reassigning import reassign
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Contact
from dynassign.messaging.sending import opt_out, send_message
from tests.assignment.support import LOS_ANGELES, NEW_YORK, send_all, unsent_of
from tests.fixtures import add_contacts, make_cells

pytestmark = pytest.mark.django_db


def moved(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in ("assigned", "unassigned", "pool")}


def test_counts_move_at_once(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(contacts=30, batch_size=10, settings={"OUTBOUND_UNASSIGN": True})
    assignment = join(make_user(organization), campaign)
    steps = []

    def step(action) -> None:
        before = campaign_counts(campaign)
        action()
        steps.append(moved(before, campaign_counts(campaign)))

    step(lambda: request_batch(assignment.id))
    step(lambda: send_message(unsent_of(assignment)[0].id, assignment.texter, initial=True))
    step(lambda: release(assignment.id, assignment.texter))
    step(lambda: request_batch(assignment.id))
    step(lambda: reassign(campaign.id, admin, from_texter_ids=[assignment.texter_id], count=4))
    pool = Contact.objects.filter(campaign=campaign, assignment__isnull=True, message_status="needsMessage")
    step(lambda: opt_out(pool.first().id, admin))

    assert steps == [
        {"assigned": 10, "unassigned": -10, "pool": -10},
        {"assigned": -1, "unassigned": 1, "pool": 0},
        {"assigned": -9, "unassigned": 9, "pool": 9},
        {"assigned": 10, "unassigned": -10, "pool": -10},
        {"assigned": -4, "unassigned": 4, "pool": 4},
        {"assigned": 0, "unassigned": 0, "pool": -1},
    ]
    counts = campaign_counts(campaign)
    assert counts["texters"] == 1
    assert counts["total"] == 30
    assert counts["messaged"] == 1


def test_texter_counts_past_hours(organization, make_user, make_campaign, join, clock):
    campaign = make_campaign(contacts=0, batch_size=10, settings={"TEXTING_HOURS_ENFORCED": True})
    add_contacts(campaign, make_cells(4, start=95000), timezone=NEW_YORK)
    add_contacts(campaign, make_cells(6, start=95100, area="213"), timezone=LOS_ANGELES)
    assignment = join(make_user(organization), campaign)
    clock.set("10:00", NEW_YORK)
    request_batch(assignment.id)

    counts = assignment_counts(assignment)
    assert counts["to_send"] == 10
    assert counts["past_hours"] == 6
    assert counts["counted_against_limit"] == 10

    clock.set("13:00", NEW_YORK)
    assert assignment_counts(assignment)["past_hours"] == 0
    send_all(assignment)
    counts = assignment_counts(assignment)
    assert (counts["to_send"], counts["messaged"], counts["held"]) == (0, 10, 10)
