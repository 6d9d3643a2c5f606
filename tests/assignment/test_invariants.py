"""Random sequences of requests, sends, replies, releases, moves and opt-outs keep the invariants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.counts import campaign_counts
from dynassign.assignment.joining import join_by_link
from dynassign.assignment.models import Assignment
from dynassign.assignment.reassigning import reassign
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.exceptions import DynassignError
from dynassign.messaging.sending import opt_out, receive_message, send_message
from dynassign.organizations.roles import Role
from tests.assignment.support import make_users
from tests.fixtures import add_contacts, make_cells

TAKE = "vetted-takeconversations"
BATCH_SIZE = 4
TEXTERS = 3

operations = st.lists(
    st.tuples(
        st.sampled_from(["request", "take", "send", "reply", "answer", "release", "release_all", "to_pool", "move", "opt_out"]),
        st.integers(0, TEXTERS - 1),
        st.integers(0, 30),
    ),
    min_size=5,
    max_size=25,
)


def unsent(assignment: Assignment):
    return Contact.objects.filter(
        assignment_id=assignment.id, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False
    )


def check_counts(campaign: Campaign, assignments: list[Assignment]) -> None:
    contacts = Contact.objects.filter(campaign=campaign)
    counts = campaign_counts(campaign)
    pool = contacts.filter(assignment__isnull=True, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False)
    assert counts["pool"] == pool.count()
    assert counts["assigned"] + counts["unassigned"] == counts["total"] == 24
    held = sum(Contact.objects.filter(assignment=a).count() for a in assignments)
    assert held == counts["assigned"]
    assert not contacts.filter(assignment__isnull=False).exclude(assignment__campaign=campaign).exists()


def run_request(campaign: Campaign, assignment: Assignment, batch_type: str | None, bulk_send: bool) -> None:
    assignment.refresh_from_db()
    before = set(Contact.objects.filter(assignment=assignment).values_list("id", flat=True))
    unsent_before = unsent(assignment).count()
    shown = offer(assignment.id, batch_type=batch_type)

    result = request_batch(assignment.id, batch_type=batch_type)

    assert result.assigned == shown.count
    gained = Contact.objects.filter(assignment=assignment).exclude(id__in=before)
    assert gained.count() == result.assigned
    assert not gained.filter(is_opted_out=True).exists()
    if batch_type is None:
        assert set(gained.values_list("message_status", flat=True)) <= {MessageStatus.NEEDS_MESSAGE}
        if result.assigned and not bulk_send:
            assert unsent_before < BATCH_SIZE
    else:
        assert not gained.filter(message_status__in=[MessageStatus.NEEDS_MESSAGE, MessageStatus.MESSAGED]).exists()
    if result.assigned and assignment.max_contacts is not None:
        assignment.refresh_from_db()
        counted = Contact.objects.filter(assignment=assignment).count() + assignment.handed_off_count
        assert counted <= assignment.max_contacts


def apply(operation: tuple[str, int, int], campaign: Campaign, assignments: list[Assignment], admin: Any, bulk_send: bool) -> None:
    kind, index, number = operation
    assignment = assignments[index]
    texter = assignment.texter
    if kind == "request":
        run_request(campaign, assignment, None, bulk_send)
    elif kind == "take":
        run_request(campaign, assignment, TAKE, bulk_send)
    elif kind == "send":
        for contact in unsent(assignment)[: number % 5 + 1]:
            send_message(contact.id, texter, initial=True)
    elif kind == "reply":
        contact = Contact.objects.filter(campaign=campaign).exclude(message_status=MessageStatus.NEEDS_MESSAGE).order_by("id")
        chosen = contact[number % contact.count()] if contact.exists() else None
        if chosen is not None:
            receive_message(chosen.id, "Sure")
    elif kind == "answer":
        waiting = Contact.objects.filter(assignment=assignment, message_status=MessageStatus.NEEDS_RESPONSE, is_opted_out=False)
        for contact in waiting:
            send_message(contact.id, texter, text="Thanks!")
    elif kind == "release":
        release(assignment.id, texter)
    elif kind == "release_all":
        release(assignment.id, admin, conversations=True)
    elif kind == "to_pool":
        reassign(campaign.id, admin, from_texter_ids=[texter.id], count=number % 4 + 1)
    elif kind == "move":
        target = assignments[(index + 1) % TEXTERS].texter
        reassign(campaign.id, admin, from_texter_ids=[texter.id], to_texter_ids=[target.id], count=number % 4 + 1)
    elif kind == "opt_out":
        contact = Contact.objects.filter(campaign=campaign).order_by("id")[number % 24]
        opt_out(contact.id, admin)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    steps=operations,
    bulk_send=st.booleans(),
    outbound_unassign=st.booleans(),
    max_contacts=st.sampled_from([None, 6, 10]),
)
def test_random_operations_keep_invariants(make_campaign, organization, admin, steps, bulk_send, outbound_unassign, max_contacts):
    campaign = make_campaign(
        contacts=0, batch_size=BATCH_SIZE, strategies=f"all-texters,{TAKE}",
        settings={
            "BULK_SEND": bulk_send, "OUTBOUND_UNASSIGN": outbound_unassign, "RELEASE_CONVERSATIONS": True,
            **({} if max_contacts is None else {"MAX_CONTACTS_PER_TEXTER": max_contacts}),
        },
    )
    add_contacts(campaign, make_cells(24, start=90000 + campaign.id * 100))
    users = make_users(TEXTERS - 1, organization) + make_users(1, organization, Role.VETTED_TEXTER)
    assignments = [join_by_link(user, campaign.join_token).assignment for user in users]

    for step in steps:
        try:
            apply(step, campaign, assignments, admin, bulk_send)
        except DynassignError:
            # Refusals (sending to an opted-out contact, for example) are
            # allowed; they must leave everything consistent.
            pass
        check_counts(campaign, assignments)
