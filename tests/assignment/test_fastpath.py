"""On PostgreSQL, the prepared-statement path returns the same results as the general path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynassign.assignment import fastpath
from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.joining import join_by_link
from dynassign.assignment.models import Assignment, AssignmentEvent
from dynassign.assignment.releasing import release
from dynassign.assignment.strategies import base
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.exceptions import DynassignError
from dynassign.messaging.sending import opt_out, receive_message, send_message
from dynassign.organizations.roles import Role
from tests.assignment.support import CHICAGO, LOS_ANGELES, NEW_YORK, make_users
from tests.fixtures import add_contacts, make_cells

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

TEXTERS = 3
ZONES = [NEW_YORK, CHICAGO, LOS_ANGELES, ""]

operations = st.lists(
    st.tuples(
        st.sampled_from(["request", "request_some", "offer", "send", "reply", "answer", "release", "opt_out"]),
        st.integers(0, TEXTERS - 1),
        st.integers(0, 40),
    ),
    min_size=5,
    max_size=25,
)


@pytest.fixture(autouse=True)
def restore_switch():
    yield
    fastpath.ENABLED = True
    base._pool_starts.clear()


def _campaign(make_campaign, organization, strategy: str, campaign_settings: dict[str, Any]) -> tuple[Campaign, list[Assignment]]:
    campaign = make_campaign(contacts=0, batch_size=4, strategies=strategy, settings=campaign_settings)
    for offset, zone in enumerate(ZONES):
        add_contacts(campaign, make_cells(8, start=offset * 10), timezone=zone)
    users = make_users(TEXTERS - 1, organization) + make_users(1, organization, Role.VETTED_TEXTER)
    return campaign, [join_by_link(user, campaign.join_token).assignment for user in users]


def _outcome(operation: tuple[str, int, int], campaign: Campaign, assignments: list[Assignment], admin: Any) -> Any:
    """Apply one operation and return what a texter would see of it."""
    kind, index, number = operation
    assignment = assignments[index]
    texter = assignment.texter
    contacts = list(Contact.objects.filter(campaign=campaign).order_by("id"))
    try:
        if kind == "request":
            result = request_batch(assignment.id)
            return result.assigned, result.offer.count, result.offer.reason
        if kind == "request_some":
            result = request_batch(assignment.id, requested=number % 3 + 1)
            return result.assigned, result.offer.count, result.offer.reason
        if kind == "offer":
            shown = offer(assignment.id, has_any=number % 2 == 0)
            return shown.count, shown.reason
        if kind == "send":
            unsent = Contact.objects.filter(assignment=assignment, message_status=MessageStatus.NEEDS_MESSAGE)
            for contact in unsent.order_by("id")[: number % 3 + 1]:
                send_message(contact.id, texter, initial=True)
        elif kind == "reply":
            texted = [contact for contact in contacts if contact.message_status != MessageStatus.NEEDS_MESSAGE]
            if texted:
                receive_message(texted[number % len(texted)].id, "Maybe")
        elif kind == "answer":
            waiting = Contact.objects.filter(assignment=assignment, message_status=MessageStatus.NEEDS_RESPONSE)
            for contact in waiting.order_by("id")[:1]:
                send_message(contact.id, texter, text="Thanks")
        elif kind == "release":
            release(assignment.id, texter)
        elif kind == "opt_out":
            opt_out(contacts[number % len(contacts)].id, admin)
    except DynassignError as error:
        return type(error).__name__
    return None


def _holdings(campaign: Campaign, assignments: list[Assignment]) -> list[Any]:
    contacts = list(Contact.objects.filter(campaign=campaign).order_by("id"))
    owners = {assignment.id: position for position, assignment in enumerate(assignments)}
    return [(owners.get(contact.assignment_id), contact.message_status) for contact in contacts]


def _history(campaign: Campaign) -> list[Any]:
    events = AssignmentEvent.objects.filter(campaign=campaign).order_by("id")
    return [(event.kind, event.contact_count, event.strategy) for event in events]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    steps=operations,
    strategy=st.sampled_from(["finished-replies", "all-texters", "vetted-texters"]),
    bulk_send=st.booleans(),
    max_contacts=st.sampled_from([None, 5, 9]),
    hours_enforced=st.booleans(),
)
def test_both_paths_give_same_results(
    make_campaign, organization, admin, clock, steps, strategy, bulk_send, max_contacts, hours_enforced
):
    # 09:30 in New York: its contacts are within 9 to 17, Chicago and Los Angeles are not yet.
    clock.set("09:30", NEW_YORK)
    campaign_settings: dict[str, Any] = {
        "BULK_SEND": bulk_send, "TEXTING_HOURS_ENFORCED": hours_enforced,
        "TEXTING_HOURS_START": 9, "TEXTING_HOURS_END": 17,
    }
    if max_contacts is not None:
        campaign_settings["MAX_CONTACTS_PER_TEXTER"] = max_contacts
    runs = []
    for enabled in (False, True):
        fastpath.ENABLED = enabled
        base._pool_starts.clear()
        campaign, assignments = _campaign(make_campaign, organization, strategy, campaign_settings)
        outcomes = [_outcome(step, campaign, assignments, admin) for step in steps]
        runs.append((outcomes, _holdings(campaign, assignments), _history(campaign)))

    general, fast = runs
    assert fast[0] == general[0]
    assert fast[1] == general[1]
    assert fast[2] == general[2]
    assert [assignment.batch_count for assignment in Assignment.objects.filter(campaign=campaign).order_by("id")] == [
        sum(1 for outcome, step in zip(fast[0], steps) if step[0].startswith("request") and step[1] == position
            and isinstance(outcome, tuple) and outcome[0] > 0)
        for position in range(TEXTERS)
    ]


def test_claim_takes_rows_behind_the_remembered_start(make_campaign, make_user, organization, join):
    campaign = make_campaign(contacts=15, batch_size=5, strategies="all-texters", settings={"BULK_SEND": True})
    first, second, third = (join(make_user(organization), campaign) for _ in range(3))
    request_batch(first.id)
    request_batch(second.id)
    # The remembered start is now the second batch's first row; the first
    # batch's five contacts go back to the pool behind it.
    release(first.id, first.texter)

    result = request_batch(third.id)

    assert result.assigned == 5
    assert offer(third.id).count == 5
    assert request_batch(third.id).assigned == 5
    assert Contact.objects.filter(assignment=third).count() == 10
    assert Contact.objects.filter(campaign=campaign, assignment__isnull=True).count() == 0


def test_unknown_assignment_is_not_found(db):
    from dynassign.exceptions import NotFound

    with pytest.raises(NotFound, match="Assignment 987654 not found"):
        request_batch(987654)
    with pytest.raises(NotFound, match="Assignment 987654 not found"):
        offer(987654)
