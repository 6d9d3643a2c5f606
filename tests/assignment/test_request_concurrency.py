"""Batch requests from many threads at once, each on its own database connection.

A contact row has one assignment column, so "two owners" shows up as a
contact counted in two successful requests: every check compares what the
requests returned with what the database holds.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Sum

from dynassign.assignment.batches import request_batch
from dynassign.assignment.models import Assignment, AssignmentEvent
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.exceptions import NotFound
from dynassign.messaging.sending import send_message
from tests.assignment.support import assigned_total, errors_in, held, make_users, pool_size, run_at_once, unsent_of

pytestmark = pytest.mark.django_db(transaction=True)


def scale() -> tuple[int, int, int]:
    """Return texters, requests per texter and threads for the database under test.

    SQLite serialises every writer on one file lock, so it runs a smaller
    crowd; the requests still overlap, on separate connections.
    """
    if connection.vendor == "sqlite":
        return 20, 10, 40
    return 50, 20, 100


def join_all(campaign, users) -> list[Assignment]:
    from dynassign.assignment.joining import join_by_link

    return [join_by_link(user, campaign.join_token).assignment for user in users]


def held_by(campaign) -> dict[int, int]:
    rows = Contact.objects.filter(campaign=campaign, assignment__isnull=False).values("assignment_id")
    return {row["assignment_id"]: row["n"] for row in rows.annotate(n=Count("id"))}


def test_double_click_gives_one_batch(make_campaign, join, make_user, organization):
    campaign = make_campaign(contacts=100, batch_size=10)
    assignment = join(make_user(organization), campaign)

    results = run_at_once([lambda: request_batch(assignment.id), lambda: request_batch(assignment.id)])

    assert errors_in(results) == []
    assert sorted(result.assigned for result in results) == [0, 10]
    assert held(assignment) == 10
    assert pool_size(campaign) == 90
    assert Assignment.objects.get(id=assignment.id).batch_count == 1


def test_crowd_without_bulk_send_gets_one_batch_each(make_campaign, organization):
    texters, per_texter, threads = scale()
    campaign = make_campaign(contacts=texters * 40, batch_size=10, strategies="all-texters")
    assignments = join_all(campaign, make_users(texters, organization))

    calls = [lambda a=a: request_batch(a.id) for a in assignments for _ in range(per_texter)]
    results = run_at_once(calls, threads=threads)

    assert errors_in(results) == []
    assert sorted(held_by(campaign).values()) == [10] * texters
    assert sum(result.assigned for result in results) == texters * 10
    assert sum(1 for result in results if result.assigned) == texters
    assert assigned_total(campaign) == texters * 10
    assert pool_size(campaign) == texters * 30


def test_crowd_with_bulk_send_respects_max_contacts(make_campaign, organization):
    texters, per_texter, threads = scale()
    contacts = texters * 30
    campaign = make_campaign(
        contacts=contacts, batch_size=10, strategies="all-texters",
        settings={"BULK_SEND": True, "MAX_CONTACTS_PER_TEXTER": 35},
    )
    assignments = join_all(campaign, make_users(texters, organization))

    calls = [lambda a=a: request_batch(a.id) for a in assignments for _ in range(per_texter)]
    results = run_at_once(calls, threads=threads)

    assert errors_in(results) == []
    holdings = held_by(campaign)
    assert max(holdings.values()) <= 35
    returned = sum(result.assigned for result in results)
    assert returned == sum(holdings.values())
    assert returned == assigned_total(campaign)
    assert assigned_total(campaign) + pool_size(campaign) == contacts
    recorded = AssignmentEvent.objects.filter(campaign=campaign).aggregate(total=Sum("contact_count"))["total"]
    assert recorded == returned
    # 35 each for every texter would need more contacts than there are, so
    # the pool runs dry before the limits are all reached.
    assert pool_size(campaign) < 10


def send_unless_released(assignment: Assignment, *, limit: int) -> int:
    """Send like ``send_all``; a contact released meanwhile is refused to its former owner and skipped."""
    sent = 0
    for contact in unsent_of(assignment)[:limit]:
        try:
            send_message(contact.id, assignment.texter, initial=True)
        except NotFound:
            continue
        sent += 1
    return sent


@pytest.mark.parametrize("outbound_unassign", [False, True])
def test_requests_sends_and_releases_at_once(make_campaign, organization, outbound_unassign):
    """Texters request, send and release at the same time; nothing errors and every count agrees."""
    texters = 10
    campaign = make_campaign(
        contacts=texters * 20, batch_size=5, strategies="all-texters",
        settings={"MAX_CONTACTS_PER_TEXTER": 15, "OUTBOUND_UNASSIGN": outbound_unassign},
    )
    assignments = join_all(campaign, make_users(texters, organization))
    for assignment in assignments:
        request_batch(assignment.id)

    calls = []
    for assignment in assignments:
        calls += [
            lambda a=assignment: request_batch(a.id),
            lambda a=assignment: send_unless_released(a, limit=3),
            lambda a=assignment: release(a.id, a.texter),
            lambda a=assignment: request_batch(a.id),
        ]
    results = run_at_once(calls)

    assert errors_in(results) == []
    for assignment in assignments:
        assignment.refresh_from_db()
        counted = held(assignment) + assignment.handed_off_count
        assert counted <= 15
    handed_off = Contact.objects.filter(campaign=campaign, assignment__isnull=True).exclude(
        message_status=MessageStatus.NEEDS_MESSAGE
    )
    # A release may beat a texter's sends, so how many sends went out varies
    # from run to run; with outbound unassign each one hands its contact off.
    sent = sum(results[1::4])
    assert handed_off.count() == (sent if outbound_unassign else 0)
    counted_handed_off = Assignment.objects.filter(campaign=campaign).aggregate(total=Sum("handed_off_count"))["total"]
    assert counted_handed_off == handed_off.count()
    assert assigned_total(campaign) + pool_size(campaign) + handed_off.count() == texters * 20
