"""The batch request step by step, and the offer that must match it."""

from __future__ import annotations

import datetime as dt

import pytest

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.assignment.strategies.base import Reason
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.exceptions import InvalidValue, NotFound, PermissionDenied
from dynassign.messaging.sending import opt_out
from dynassign.organizations.roles import Role
from tests.assignment.support import held, send_all, unsent_of
from tests.fixtures import add_contacts, make_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def texter_in(organization, make_user, join):
    def make(campaign, role: str = Role.TEXTER) -> Assignment:
        return join(make_user(organization, role), campaign)

    return make


# Step 1: the caller and max_contacts.


def test_unknown_assignment_not_found():
    with pytest.raises(NotFound, match="Assignment 999999"):
        request_batch(999999)
    with pytest.raises(NotFound):
        offer(999999)


def test_other_texter_cannot_request(make_campaign, texter_in, make_user, organization):
    campaign = make_campaign(contacts=20)
    assignment = texter_in(campaign)
    stranger = make_user(organization)

    with pytest.raises(NotFound):
        request_batch(assignment.id, caller=stranger)
    with pytest.raises(NotFound):
        offer(assignment.id, caller=stranger)
    assert held(assignment) == 0


@pytest.mark.parametrize("role", [Role.SUPERVOLUNTEER, Role.VETTED_TEXTER])
def test_only_admin_acts_for_texter(make_campaign, texter_in, make_user, organization, role):
    campaign = make_campaign(contacts=20)
    assignment = texter_in(campaign)

    with pytest.raises(NotFound):
        request_batch(assignment.id, caller=make_user(organization, role))


def test_admin_requests_for_texter(make_campaign, texter_in, admin):
    campaign = make_campaign(contacts=20)
    assignment = texter_in(campaign)

    result = request_batch(assignment.id, caller=admin)

    assert result.assigned == 10
    assert held(assignment) == 10
    event = AssignmentEvent.objects.get(to_assignment=assignment)
    assert event.actor_id == admin.id


def test_texter_requests_own(make_campaign, texter_in):
    campaign = make_campaign(contacts=20)
    assignment = texter_in(campaign)

    assert request_batch(assignment.id, caller=assignment.texter).assigned == 10


def test_suspended_texter_gets_nothing(make_campaign, texter_in, organization, admin):
    from dynassign.organizations.services import set_role

    campaign = make_campaign(contacts=20)
    assignment = texter_in(campaign)
    set_role(organization.id, admin, assignment.texter_id, Role.SUSPENDED)

    with pytest.raises(PermissionDenied, match="suspended"):
        request_batch(assignment.id, caller=assignment.texter)
    assert held(assignment) == 0


# Step 2: the strategy.


def test_unknown_batch_type_gets_nothing(make_campaign, texter_in):
    campaign = make_campaign(contacts=20)
    assignment = texter_in(campaign)

    result = request_batch(assignment.id, batch_type="no-such-strategy")

    assert result.assigned == 0
    assert not result.found
    assert result.offer.reason == Reason.UNKNOWN_BATCH_TYPE
    assert held(assignment) == 0


def test_disabled_batch_type_gets_nothing(make_campaign, texter_in):
    campaign = make_campaign(contacts=20, strategies="finished-replies")
    assignment = texter_in(campaign)

    assert request_batch(assignment.id, batch_type="all-texters").assigned == 0
    assert offer(assignment.id, batch_type="all-texters").reason == Reason.UNKNOWN_BATCH_TYPE
    assert held(assignment) == 0


def test_default_is_first_enabled(make_campaign, texter_in):
    campaign = make_campaign(contacts=40, strategies="all-texters,finished-replies", settings={"BULK_SEND": True})
    assignment = texter_in(campaign)

    first = request_batch(assignment.id)

    assert first.offer.strategy == "all-texters"
    assert AssignmentEvent.objects.get(to_assignment=assignment).strategy == "all-texters"
    assert request_batch(assignment.id, batch_type="finished-replies").assigned == 10


# Steps 3 and 4: how many.


@pytest.mark.parametrize(("requested", "expected"), [(None, 10), (3, 3), (10, 10), (11, 10), (10_000, 10)])
def test_requested_count_capped_by_batch_size(make_campaign, texter_in, requested, expected):
    campaign = make_campaign(contacts=50, batch_size=10)
    assignment = texter_in(campaign)

    assert request_batch(assignment.id, requested=requested).assigned == expected


@pytest.mark.parametrize("requested", [0, -1])
def test_requested_count_must_be_positive(make_campaign, texter_in, requested):
    campaign = make_campaign(contacts=50)
    assignment = texter_in(campaign)

    with pytest.raises(InvalidValue, match=str(requested)):
        request_batch(assignment.id, requested=requested)
    assert held(assignment) == 0


def test_request_capped_by_available(make_campaign, texter_in):
    campaign = make_campaign(contacts=4, batch_size=10)
    assignment = texter_in(campaign)

    assert request_batch(assignment.id).assigned == 4
    send_all(assignment)
    result = request_batch(assignment.id)
    assert result.assigned == 0
    assert result.offer.reason == Reason.NOTHING_LEFT


# Step 6: finish your batch first, unless bulk sending is allowed.


def test_unfinished_batch_blocks_request(make_campaign, texter_in):
    campaign = make_campaign(contacts=50, batch_size=10, strategies="all-texters")
    assignment = texter_in(campaign)
    request_batch(assignment.id)

    result = request_batch(assignment.id)

    assert result.assigned == 0
    assert result.offer.reason == Reason.BATCH_UNFINISHED
    assert held(assignment) == 10


def test_fewer_unsent_than_batch_allows_request(make_campaign, texter_in):
    campaign = make_campaign(contacts=50, batch_size=10, strategies="all-texters")
    assignment = texter_in(campaign)
    request_batch(assignment.id)
    send_all(assignment, limit=6)

    assert request_batch(assignment.id).assigned == 10
    assert len(unsent_of(assignment)) == 14


def test_opted_out_held_contacts_do_not_block(make_campaign, texter_in, admin):
    campaign = make_campaign(contacts=50, batch_size=10, strategies="all-texters")
    assignment = texter_in(campaign)
    request_batch(assignment.id)
    for contact in unsent_of(assignment):
        opt_out(contact.id, admin)

    assert request_batch(assignment.id).assigned == 10


def test_bulk_send_lifts_unfinished_batch(make_campaign, texter_in):
    campaign = make_campaign(contacts=50, batch_size=10, strategies="all-texters", settings={"BULK_SEND": True})
    assignment = texter_in(campaign)

    assert request_batch(assignment.id).assigned == 10
    assert request_batch(assignment.id).assigned == 10
    assert len(unsent_of(assignment)) == 20


# Step 7: which contacts.


def test_batch_holds_only_unassigned_unsent_not_opted_out(make_campaign, texter_in, organization, admin):
    campaign = make_campaign(contacts=0, batch_size=50, strategies="all-texters")
    wanted = add_contacts(campaign, make_cells(5, start=40000))
    add_contacts(campaign, make_cells(3, start=40100), status=MessageStatus.MESSAGED)
    add_contacts(campaign, make_cells(3, start=40200), status=MessageStatus.NEEDS_RESPONSE)
    add_contacts(campaign, make_cells(3, start=40300), is_opted_out=True)
    other = texter_in(campaign)
    add_contacts(campaign, make_cells(3, start=40400), assignment=other)

    assignment = texter_in(campaign)
    assert request_batch(assignment.id).assigned == 5
    assert set(Contact.objects.filter(assignment=assignment).values_list("id", flat=True)) == {c.id for c in wanted}


def test_batch_never_crosses_campaigns(make_campaign, texter_in):
    first = make_campaign(contacts=3, batch_size=10)
    make_campaign(contacts=30, batch_size=10)
    assignment = texter_in(first)

    assert request_batch(assignment.id).assigned == 3
    assert set(Contact.objects.filter(assignment=assignment).values_list("campaign_id", flat=True)) == {first.id}


# Step 8: the result and the next offer.


def test_answer_carries_next_offer(make_campaign, texter_in):
    campaign = make_campaign(contacts=15, batch_size=10)
    assignment = texter_in(campaign)

    result = request_batch(assignment.id)

    assert result.found
    assert result.assigned == 10
    assert result.offer.count == 0
    assert result.offer.reason == Reason.BATCH_UNFINISHED
    assert result.offer.as_dict()["reason"] == "batch_unfinished"
    event = AssignmentEvent.objects.get(to_assignment=assignment)
    assert (event.kind, event.contact_count, event.strategy) == (EventKind.BATCH, 10, "finished-replies")
    assert Assignment.objects.get(id=assignment.id).batch_count == 1


def test_has_any_answers_existence(make_campaign, texter_in):
    campaign = make_campaign(contacts=15, batch_size=10)
    assignment = texter_in(campaign)

    assert offer(assignment.id, has_any=True).count >= 1
    request_batch(assignment.id)
    send_all(assignment)
    request_batch(assignment.id)
    send_all(assignment)
    assert offer(assignment.id, has_any=True).count == 0


@pytest.mark.parametrize(
    "setup",
    ["fresh", "holding", "partly_sent", "sent", "replied", "limited", "small_pool", "empty", "closed"],
)
def test_offer_equals_next_request(make_campaign, texter_in, admin, setup):
    from dynassign.campaigns.services import set_max_contacts
    from dynassign.messaging.sending import receive_message

    campaign = make_campaign(contacts=0 if setup == "empty" else 25, batch_size=10)
    assignment = texter_in(campaign)
    if setup in {"holding", "partly_sent", "sent", "replied", "limited", "small_pool"}:
        request_batch(assignment.id)
    if setup == "partly_sent":
        send_all(assignment, limit=4)
    if setup in {"sent", "replied", "limited", "small_pool"}:
        send_all(assignment)
    if setup == "replied":
        receive_message(Contact.objects.filter(assignment=assignment).first().id, "hi")
    if setup == "limited":
        set_max_contacts(assignment.id, admin, 14)
    if setup == "small_pool":
        other = texter_in(campaign, Role.VETTED_TEXTER)
        request_batch(other.id, requested=8)
    if setup == "closed":
        campaign.due_at = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
        campaign.save()

    shown = offer(assignment.id)
    delivered = request_batch(assignment.id)

    assert delivered.assigned == shown.count


def test_due_date_closes_requests(make_campaign, texter_in, clock):
    clock.set("12:00")
    campaign = make_campaign(contacts=20, due_at=clock.set("11:00"))
    assignment = texter_in(campaign)
    clock.set("12:00")

    result = request_batch(assignment.id)
    assert result.assigned == 0
    assert result.offer.reason == Reason.CAMPAIGN_CLOSED
