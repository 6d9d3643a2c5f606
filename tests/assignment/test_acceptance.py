"""Organizer scenarios with their exact outcomes, on the services texters and admins call."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.counts import campaign_counts
from dynassign.assignment.joining import join_by_link
from dynassign.assignment.models import Assignment
from dynassign.assignment.releasing import release
from dynassign.assignment.strategies.base import Reason
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.campaigns.services import archive_campaign, set_max_contacts
from dynassign.exceptions import CampaignFull, InvalidJoinLink, PermissionDenied
from dynassign.messaging.sending import opt_out, receive_message, send_message
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role
from dynassign.organizations.services import set_role
from tests.assignment.support import (
    CHICAGO,
    LOS_ANGELES,
    NEW_YORK,
    assigned_total,
    errors_in,
    held,
    pool_size,
    run_at_once,
    send_all,
    unsent_of,
)
from tests.fixtures import add_contacts, make_cells

TAKE = "vetted-takeconversations"


def assigned_counts(results) -> list[int]:
    return sorted(result.assigned for result in results)


def reply_to(assignment: Assignment, count: int) -> list[Contact]:
    """Have ``count`` of the assignment's messaged contacts reply."""
    contacts = list(
        Contact.objects.filter(assignment_id=assignment.id, message_status=MessageStatus.MESSAGED).order_by("id")[:count]
    )
    for contact in contacts:
        receive_message(contact.id, "Tell me more")
    return contacts


# Simultaneous requests split the pool exactly.


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_split_pool(organization, make_user, make_campaign, join):
    campaign = make_campaign(contacts=25, batch_size=10, strategies="all-texters")
    assignments = [join(make_user(organization), campaign) for _ in range(3)]

    results = run_at_once([lambda a=a: request_batch(a.id) for a in assignments])

    assert errors_in(results) == []
    assert assigned_counts(results) == [5, 10, 10]
    assert sorted(held(a) for a in assignments) == [5, 10, 10]
    assert assigned_total(campaign) == 25
    assert pool_size(campaign) == 0

    late = join(make_user(organization), campaign)
    assert offer(late.id).count == 0
    assert request_batch(late.id).assigned == 0


# A double-submitted request gives one batch.


@pytest.mark.django_db(transaction=True)
def test_double_submit_gives_one_batch(organization, make_user, make_campaign, join):
    campaign = make_campaign(contacts=2000, batch_size=500, strategies="finished-replies")
    assignment = join(make_user(organization), campaign)

    results = run_at_once([lambda: request_batch(assignment.id), lambda: request_batch(assignment.id)])

    assert errors_in(results) == []
    assert assigned_counts(results) == [0, 500]
    assert held(assignment) == 500
    assert pool_size(campaign) == 1500

    assert send_all(assignment) == 500
    assert request_batch(assignment.id).assigned == 500
    assert pool_size(campaign) == 1000


# Joins at the limit, again, with a wrong token, on an archived campaign.


@pytest.mark.django_db(transaction=True)
def test_joins_at_limit(organization, make_user, make_campaign, admin):
    campaign = make_campaign(contacts=5, settings={"MAX_TEXTERS_PER_CAMPAIGN": 3})
    first, second, third, fourth = (make_user(organization) for _ in range(4))
    join_by_link(first, campaign.join_token)
    join_by_link(second, campaign.join_token)

    results = run_at_once([lambda: join_by_link(third, campaign.join_token), lambda: join_by_link(fourth, campaign.join_token)])

    joined = [result for result in results if not isinstance(result, BaseException)]
    refused = errors_in(results)
    assert len(joined) == 1
    assert joined[0].created
    assert [type(error) for error in refused] == [CampaignFull]
    assert "full" in refused[0].message
    loser = fourth if joined[0].assignment.texter_id == third.id else third
    assert not Assignment.objects.filter(campaign=campaign, texter=loser).exists()
    assert Assignment.objects.filter(campaign=campaign).count() == 3

    again = join_by_link(first, campaign.join_token)
    assert not again.created
    assert Assignment.objects.filter(campaign=campaign).count() == 3

    stranger = make_user()
    with pytest.raises(InvalidJoinLink):
        join_by_link(stranger, campaign.join_token + "x")
    assert not Membership.objects.filter(user=stranger).exists()
    assert not Assignment.objects.filter(texter=stranger).exists()

    archive_campaign(campaign.id, admin)
    with pytest.raises(InvalidJoinLink):
        join_by_link(make_user(organization), campaign.join_token)
    assert Assignment.objects.filter(campaign=campaign).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"is_started": False}, {"use_dynamic_assignment": False}])
def test_closed_campaign_refuses_joins(organization, make_user, make_campaign, fields):
    campaign = make_campaign(contacts=5, **fields)
    user = make_user()

    with pytest.raises(InvalidJoinLink):
        join_by_link(user, campaign.join_token)

    assert not Assignment.objects.filter(campaign=campaign).exists()
    assert not Membership.objects.filter(user=user).exists()


# MAX_CONTACTS_PER_TEXTER unset, 150, and 0.


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("limit", "expected"),
    [(None, [100, 100, 100, 100, 100, 0]), (150, [100, 50, 0]), (0, [0])],
)
def test_max_contacts_per_texter(organization, make_user, make_campaign, join, limit, expected):
    settings = {} if limit is None else {"MAX_CONTACTS_PER_TEXTER": limit}
    campaign = make_campaign(contacts=500, batch_size=100, settings=settings)
    assignment = join(make_user(organization), campaign)
    assert assignment.max_contacts == limit

    received = []
    for _ in expected:
        received.append(request_batch(assignment.id).assigned)
        send_all(assignment)

    assert received == expected
    assert offer(assignment.id).count == 0
    assert request_batch(assignment.id).assigned == 0


# Stopping a texter and letting them back.


@pytest.mark.django_db
def test_stop_texter_and_let_back(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(contacts=200, batch_size=50)
    texter = make_user(organization)
    assignment = join(texter, campaign)
    assert request_batch(assignment.id).assigned == 50
    send_all(assignment, limit=20)

    set_max_contacts(assignment.id, admin, 0)

    assert offer(assignment.id).count == 0
    assert offer(assignment.id).reason == Reason.LIMIT_REACHED
    assert request_batch(assignment.id).assigned == 0
    assert len(unsent_of(assignment)) == 30
    assert Contact.objects.filter(assignment=assignment, message_status=MessageStatus.MESSAGED).count() == 20
    (replied,) = reply_to(assignment, 1)
    assert send_message(replied.id, texter, text="Thanks for writing back").status == MessageStatus.CONVO

    release(assignment.id, admin)
    assert pool_size(campaign) == 180

    set_max_contacts(assignment.id, admin, 60)
    assert request_batch(assignment.id).assigned == 40


# A client cannot ask its way past the limit.


@pytest.mark.django_db
def test_client_cannot_exceed_limit(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(contacts=1000, batch_size=100)
    assignment = join(make_user(organization), campaign)
    set_max_contacts(assignment.id, admin, 150)

    assert request_batch(assignment.id, requested=500).assigned == 100
    send_all(assignment)
    assert request_batch(assignment.id, requested=500).assigned == 50
    assert request_batch(assignment.id).assigned == 0
    assert offer(assignment.id).count == 0

    set_max_contacts(assignment.id, admin, 120)
    assert request_batch(assignment.id).assigned == 0
    assert held(assignment) == 150


# A zero offer carries the reason the button is hidden.


@pytest.mark.django_db
def test_offer_reason_replies_first(organization, make_user, make_campaign, join):
    campaign = make_campaign(contacts=1000, batch_size=20, strategies="finished-replies")
    texter = make_user(organization)
    assignment = join(texter, campaign)
    assert request_batch(assignment.id).assigned == 20
    send_all(assignment)
    replied = reply_to(assignment, 3)

    hidden = offer(assignment.id)
    assert hidden.count == 0
    assert hidden.reason == Reason.REPLIES_PENDING
    assert "replies" in hidden.reason.value

    for contact in replied:
        send_message(contact.id, texter, text="Thanks!")
    assert offer(assignment.id).count == 20
    assert request_batch(assignment.id).assigned == 20


@pytest.mark.django_db
def test_offer_reason_not_vetted(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(contacts=1000, batch_size=20, strategies="vetted-texters")
    texter = make_user(organization)
    assignment = join(texter, campaign)
    assert request_batch(assignment.id).assigned == 20
    send_all(assignment)

    hidden = offer(assignment.id)
    assert hidden.count == 0
    assert hidden.reason == Reason.NOT_VETTED

    set_role(organization.id, admin, texter.id, Role.VETTED_TEXTER)
    assert offer(assignment.id).count == 20


# Opt-outs follow the cell across campaigns.


@pytest.mark.django_db
def test_opt_out_follows_cell(organization, make_user, make_campaign, join):
    cells = make_cells(10, start=8000)
    cell_x = cells[0]
    first = make_campaign(cells=[cell_x, *make_cells(3, start=8100)])
    second = make_campaign(cells=cells, batch_size=10)
    contact_in_first = Contact.objects.get(campaign=first, cell=cell_x)
    receive_message(contact_in_first.id, "STOP")

    texter = make_user(organization)
    assignment = join(texter, second)
    assert request_batch(assignment.id).assigned == 9
    assert not Contact.objects.filter(assignment=assignment, cell=cell_x).exists()
    assert Contact.objects.get(campaign=second, cell=cell_x).is_opted_out

    assert not campaign_counts(second)["initial_texts_complete"]
    send_all(assignment)
    assert campaign_counts(second)["initial_texts_complete"]


@pytest.mark.django_db
def test_take_conversations_skips_opted_out(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(batch_size=10, strategies=f"finished-replies,{TAKE}")
    contacts = add_contacts(campaign, make_cells(10, start=8200), status=MessageStatus.NEEDS_RESPONSE)
    for contact in contacts[:5]:
        opt_out(contact.id, admin, reason="asked by phone")
    vetted = join(make_user(organization, Role.VETTED_TEXTER), campaign)

    assert request_batch(vetted.id, requested=10, batch_type=TAKE).assigned == 5
    assert not Contact.objects.filter(assignment=vetted, is_opted_out=True).exists()


# Texting hours by the contact's time zone.


def tz_campaign(make_campaign, **settings):
    campaign = make_campaign(batch_size=10, strategies="finished-replies-tz", settings=settings)
    add_contacts(campaign, make_cells(4, start=9000), timezone=NEW_YORK)
    add_contacts(campaign, make_cells(3, start=9100, area="312"), timezone=CHICAGO)
    add_contacts(campaign, make_cells(3, start=9200, area="213"), timezone=LOS_ANGELES)
    return campaign


@pytest.mark.django_db
def test_hours_not_enforced(organization, make_user, make_campaign, join, clock):
    campaign = tz_campaign(make_campaign)
    assignment = join(make_user(organization), campaign)
    clock.set("07:00", NEW_YORK)

    assert request_batch(assignment.id).assigned == 10


@pytest.mark.django_db
def test_hours_enforced_by_contact_zone(organization, make_user, make_campaign, join, clock):
    campaign = tz_campaign(
        make_campaign, TEXTING_HOURS_ENFORCED=True, TEXTING_HOURS_START=9, TEXTING_HOURS_END=21
    )
    assignment = join(make_user(organization), campaign)

    clock.set("10:00", NEW_YORK)
    assert request_batch(assignment.id).assigned == 7
    zones = set(Contact.objects.filter(assignment=assignment).values_list("timezone", flat=True))
    assert zones == {NEW_YORK, CHICAGO}
    assert send_all(assignment) == 7

    clock.set("12:00", NEW_YORK)
    assert request_batch(assignment.id).assigned == 3
    zones = set(Contact.objects.filter(assignment=assignment, message_status=MessageStatus.NEEDS_MESSAGE).values_list("timezone", flat=True))
    assert zones == {LOS_ANGELES}


# Default requests take only contacts never texted.


@pytest.mark.django_db
def test_default_request_takes_only_unsent(organization, make_user, make_campaign, join):
    campaign = make_campaign(batch_size=10, strategies=f"finished-replies,{TAKE}")
    unsent = add_contacts(campaign, make_cells(4, start=10000))
    taken_statuses = {
        MessageStatus.NEEDS_RESPONSE: 3, MessageStatus.CONVO: 2, MessageStatus.CLOSED: 1,
    }
    start = 10100
    for status, count in taken_statuses.items():
        add_contacts(campaign, make_cells(count, start=start), status=status)
        start += 100
    messaged = add_contacts(campaign, make_cells(2, start=10500), status=MessageStatus.MESSAGED)
    opted_out = add_contacts(campaign, make_cells(1, start=10600), status=MessageStatus.NEEDS_RESPONSE, is_opted_out=True)
    other = join(make_user(organization), campaign)
    add_contacts(campaign, make_cells(5, start=10700), status=MessageStatus.NEEDS_RESPONSE, assignment=other)

    texter = join(make_user(organization), campaign)
    assert offer(texter.id).count == 4
    assert request_batch(texter.id).assigned == 4
    cells = set(Contact.objects.filter(assignment=texter).values_list("cell", flat=True))
    assert cells == {contact.cell for contact in unsent}

    vetted = join(make_user(organization, Role.VETTED_TEXTER), campaign)
    assert request_batch(vetted.id, batch_type=TAKE).assigned == 6
    statuses = sorted(Contact.objects.filter(assignment=vetted).values_list("message_status", flat=True))
    assert statuses == sorted(["needsResponse"] * 3 + ["convo"] * 2 + ["closed"])
    assert not Contact.objects.filter(assignment=vetted, cell__in=[c.cell for c in messaged + opted_out]).exists()
    assert Contact.objects.filter(assignment=other).count() == 5

    assert request_batch(texter.id, batch_type=TAKE).assigned == 0


# Split assignment: send, hand off, take.


@pytest.mark.django_db
def test_split_assignment(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(
        contacts=10, batch_size=5, strategies=f"finished-replies,{TAKE}", settings={"OUTBOUND_UNASSIGN": True}
    )
    texter = make_user(organization)
    assignment = join(texter, campaign)
    set_max_contacts(assignment.id, admin, 5)
    assert request_batch(assignment.id).assigned == 5

    sent = unsent_of(assignment)
    for contact in sent:
        send_message(contact.id, texter, initial=True)
        contact.refresh_from_db()
        assert contact.assignment_id is None
        assert contact.message_status == MessageStatus.MESSAGED
    assert held(assignment) == 0

    for contact in sent[:3]:
        receive_message(contact.id, "Who is this?")
    waiting = Contact.objects.filter(campaign=campaign, assignment__isnull=True, message_status=MessageStatus.NEEDS_RESPONSE)
    assert waiting.count() == 3

    vetted = join(make_user(organization, Role.VETTED_TEXTER), campaign)
    assert request_batch(vetted.id, batch_type=TAKE).assigned == 3
    assert request_batch(assignment.id, batch_type=TAKE).assigned == 0
    assert request_batch(assignment.id).assigned == 0
    assert offer(assignment.id).reason == Reason.LIMIT_REACHED


# Vetting: one first batch, release, conversations.


@pytest.mark.django_db
def test_vetting_first_batch_release(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(
        contacts=200, batch_size=25, strategies="vetted-texters",
        settings={"RELEASE_CONVERSATIONS": True, "RELEASE_CONVERSATIONS_VETTED_ONLY": True},
    )
    texter = make_user(organization)
    assignment = join(texter, campaign)
    assert offer(assignment.id).count == 25
    assert request_batch(assignment.id).assigned == 25

    send_all(assignment, limit=10)
    assert release(assignment.id, texter).released == 15
    assert offer(assignment.id).count == 0
    assert offer(assignment.id).reason == Reason.NOT_VETTED

    with pytest.raises(PermissionDenied):
        release(assignment.id, texter, conversations=True)
    assert held(assignment) == 10

    assert release(assignment.id, admin, conversations=True).released == 10
    assert held(assignment) == 0
    assert offer(assignment.id).count == 0
    assert request_batch(assignment.id).assigned == 0

    vetted = join(make_user(organization, Role.VETTED_TEXTER), campaign)
    assert request_batch(vetted.id).assigned == 25
    send_all(vetted)
    assert request_batch(vetted.id).assigned == 25


# A release returns fresh counts, and a second release moves nothing.


@pytest.mark.django_db
def test_release_fresh_counts(organization, make_user, make_campaign, join):
    campaign = make_campaign(
        contacts=60, batch_size=30, strategies=f"finished-replies,{TAKE}", settings={"RELEASE_CONVERSATIONS": True}
    )
    texter = make_user(organization)
    assignment = join(texter, campaign)
    assert request_batch(assignment.id).assigned == 30
    send_all(assignment, limit=10)
    reply_to(assignment, 2)
    pool_before, assigned_before = pool_size(campaign), assigned_total(campaign)

    result = release(assignment.id, texter)
    assert result.released == 20
    assert result.counts["to_send"] == 0
    assert result.counts["replies"] == 2
    assert result.counts["held"] == 10
    assert pool_size(campaign) == pool_before + 20
    assert assigned_total(campaign) == assigned_before - 20

    result = release(assignment.id, texter, conversations=True)
    assert result.released == 10
    assert result.counts["held"] == 0
    assert assigned_total(campaign) == assigned_before - 30

    assert release(assignment.id, texter, conversations=True).released == 0
    assert release(assignment.id, texter).released == 0
    assert assigned_total(campaign) == assigned_before - 30

    vetted = join(make_user(organization, Role.VETTED_TEXTER), campaign)
    assert request_batch(vetted.id, batch_type=TAKE).assigned == 2
    assert Assignment.objects.filter(id=assignment.id).exists()
    assert offer(assignment.id).count == 30
