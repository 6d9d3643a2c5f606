"""The built-in strategies, each rule on its own."""

from __future__ import annotations

import datetime as dt

import pytest

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.releasing import release
from dynassign.assignment.strategies.base import Reason
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.campaigns.services import set_max_contacts
from dynassign.messaging.sending import close_contact, receive_message, send_message
from dynassign.organizations.roles import Role
from dynassign.organizations.services import set_role
from tests.assignment.support import CHICAGO, LOS_ANGELES, NEW_YORK, held, send_all
from tests.fixtures import add_contacts, make_cells

pytestmark = pytest.mark.django_db

TAKE = "vetted-takeconversations"
BATCH_STRATEGIES = ["finished-replies", "finished-replies-tz", "vetted-texters", "all-texters"]


@pytest.fixture
def texter_in(organization, make_user, join):
    def make(campaign, role: str = Role.TEXTER):
        return join(make_user(organization, role), campaign)

    return make


def reply_once(assignment) -> Contact:
    contact = Contact.objects.filter(assignment=assignment, message_status=MessageStatus.MESSAGED).first()
    receive_message(contact.id, "Who is this?")
    return contact


# Restrictions every batch strategy applies itself.


@pytest.mark.parametrize("strategy", BATCH_STRATEGIES)
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"use_dynamic_assignment": False}, Reason.CAMPAIGN_CLOSED),
        ({"is_archived": True}, Reason.CAMPAIGN_CLOSED),
        ({"batch_size": None}, Reason.CAMPAIGN_CLOSED),
        ({"due_at": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)}, Reason.CAMPAIGN_CLOSED),
        ({"max_contacts": 0}, Reason.LIMIT_REACHED),
    ],
)
def test_batch_strategy_refuses(make_campaign, texter_in, strategy, change, reason):
    campaign = make_campaign(contacts=20, strategies=strategy)
    assignment = texter_in(campaign)
    if "max_contacts" in change:
        assignment.max_contacts = 0
        assignment.save()
    else:
        for field, value in change.items():
            setattr(campaign, field, value)
        campaign.save()

    shown = offer(assignment.id)
    assert shown.count == 0
    assert shown.reason == reason
    assert request_batch(assignment.id).assigned == 0
    assert held(assignment) == 0


# finished-replies


def test_finished_replies_waits_for_answers(make_campaign, texter_in):
    campaign = make_campaign(contacts=40, strategies="finished-replies")
    assignment = texter_in(campaign)
    request_batch(assignment.id)
    send_all(assignment)
    replied = reply_once(assignment)

    assert offer(assignment.id).reason == Reason.REPLIES_PENDING
    assert request_batch(assignment.id).assigned == 0

    close_contact(replied.id, assignment.texter)
    assert request_batch(assignment.id).assigned == 10


def test_finished_replies_ignores_replies_outside_hours(make_campaign, texter_in, clock):
    campaign = make_campaign(
        contacts=0, strategies="finished-replies",
        settings={"TEXTING_HOURS_ENFORCED": True, "TEXTING_HOURS_START": 9, "TEXTING_HOURS_END": 21},
    )
    add_contacts(campaign, make_cells(20, start=50000, area="213"), timezone=LOS_ANGELES)
    assignment = texter_in(campaign)
    clock.set("13:00", NEW_YORK)
    request_batch(assignment.id)
    send_all(assignment)
    reply_once(assignment)
    assert offer(assignment.id).reason == Reason.REPLIES_PENDING

    # 23:00 in New York is 20:00 in Los Angeles: the reply still waits.
    clock.set("23:00", NEW_YORK)
    assert offer(assignment.id).reason == Reason.REPLIES_PENDING
    # 01:00 in New York is 22:00 in Los Angeles, past texting hours there.
    clock.set("01:00", NEW_YORK)
    assert offer(assignment.id).count == 10


# finished-replies-tz


def test_tz_strategy_outside_hours_everywhere(make_campaign, texter_in, clock):
    campaign = make_campaign(
        contacts=10, strategies="finished-replies-tz", settings={"TEXTING_HOURS_ENFORCED": True}
    )
    assignment = texter_in(campaign)
    clock.set("06:00", NEW_YORK)

    shown = offer(assignment.id)
    assert shown.count == 0
    assert shown.reason == Reason.OUTSIDE_HOURS
    assert request_batch(assignment.id).assigned == 0


def test_tz_strategy_open_zone_empty(make_campaign, texter_in, clock):
    campaign = make_campaign(contacts=0, strategies="finished-replies-tz", settings={"TEXTING_HOURS_ENFORCED": True})
    add_contacts(campaign, make_cells(5, start=51000, area="213"), timezone=LOS_ANGELES)
    assignment = texter_in(campaign)
    clock.set("10:00", NEW_YORK)

    assert offer(assignment.id).reason == Reason.OUTSIDE_HOURS
    clock.set("13:00", NEW_YORK)
    assert request_batch(assignment.id).assigned == 5
    send_all(assignment)
    assert offer(assignment.id).reason == Reason.NOTHING_LEFT


def test_tz_strategy_unknown_zone_uses_campaign_zone(make_campaign, texter_in, clock):
    campaign = make_campaign(
        contacts=0, strategies="finished-replies-tz",
        settings={"TEXTING_HOURS_ENFORCED": True, "TIMEZONE": CHICAGO},
    )
    add_contacts(campaign, make_cells(3, start=52000), timezone="")
    add_contacts(campaign, make_cells(2, start=52100), timezone=NEW_YORK)
    assignment = texter_in(campaign)

    # 09:30 in New York is 08:30 in Chicago: only New York contacts are open.
    clock.set("09:30", NEW_YORK)
    assert request_batch(assignment.id).assigned == 2
    send_all(assignment)
    clock.set("10:30", NEW_YORK)
    assert request_batch(assignment.id).assigned == 3
    assert set(Contact.objects.filter(assignment=assignment, message_status="needsMessage").values_list("timezone", flat=True)) == {""}


# vetted-texters


def test_vetted_texters_one_first_batch(make_campaign, texter_in, admin, organization):
    campaign = make_campaign(contacts=60, strategies="vetted-texters")
    assignment = texter_in(campaign)
    assert request_batch(assignment.id).assigned == 10
    release(assignment.id, assignment.texter)

    assert offer(assignment.id).reason == Reason.NOT_VETTED
    assert request_batch(assignment.id).assigned == 0

    set_role(organization.id, admin, assignment.texter_id, Role.VETTED_TEXTER)
    assert request_batch(assignment.id).assigned == 10


def test_vetted_texters_many_batches_for_vetted(make_campaign, texter_in):
    campaign = make_campaign(contacts=60, strategies="vetted-texters")
    assignment = texter_in(campaign, Role.VETTED_TEXTER)

    for _ in range(3):
        assert request_batch(assignment.id).assigned == 10
        send_all(assignment)


def test_vetted_texters_admin_counts_as_vetted(make_campaign, texter_in):
    campaign = make_campaign(contacts=60, strategies="vetted-texters")
    assignment = texter_in(campaign, Role.ADMIN)
    request_batch(assignment.id)
    send_all(assignment)

    assert request_batch(assignment.id).assigned == 10


# all-texters


def test_all_texters_ignores_pending_replies(make_campaign, texter_in):
    campaign = make_campaign(contacts=60, strategies="all-texters")
    assignment = texter_in(campaign)
    for _ in range(3):
        assert request_batch(assignment.id).assigned == 10
        send_all(assignment)
    reply_once(assignment)

    assert request_batch(assignment.id).assigned == 10


# vetted-takeconversations


@pytest.fixture
def conversations(make_campaign):
    def make(**fields):
        campaign = make_campaign(contacts=0, strategies=f"finished-replies,{TAKE}", **fields)
        add_contacts(campaign, make_cells(6, start=53000), status=MessageStatus.NEEDS_RESPONSE)
        return campaign

    return make


def test_take_conversations_needs_vetted(conversations, texter_in):
    campaign = conversations()
    texter = texter_in(campaign)

    assert offer(texter.id, batch_type=TAKE).reason == Reason.NOT_VETTED
    assert request_batch(texter.id, batch_type=TAKE).assigned == 0


def test_take_conversations_without_dynamic_assignment(conversations, texter_in):
    campaign = conversations(batch_size=None)
    vetted = texter_in(campaign, Role.VETTED_TEXTER)
    campaign.use_dynamic_assignment = False
    campaign.save()

    assert request_batch(vetted.id, batch_type=TAKE, requested=4).assigned == 4
    assert request_batch(vetted.id, batch_type=TAKE).assigned == 0
    assert offer(vetted.id, batch_type=TAKE).reason == Reason.BATCH_UNFINISHED


@pytest.mark.parametrize("change", [{"is_archived": True}, {"max_contacts": 0}])
def test_take_conversations_refuses(conversations, texter_in, change):
    campaign = conversations()
    vetted = texter_in(campaign, Role.VETTED_TEXTER)
    if "max_contacts" in change:
        vetted.max_contacts = 0
        vetted.save()
    else:
        campaign.is_archived = True
        campaign.save()

    assert request_batch(vetted.id, batch_type=TAKE).assigned == 0


def test_take_conversations_says_none_waiting(conversations, texter_in):
    campaign = conversations()
    vetted = texter_in(campaign, Role.VETTED_TEXTER)
    add_contacts(campaign, make_cells(5, start=54000))
    request_batch(vetted.id, batch_type=TAKE)
    for contact in Contact.objects.filter(assignment=vetted):
        close_contact(contact.id, vetted.texter)

    assert offer(vetted.id, batch_type=TAKE).reason == Reason.NO_CONVERSATIONS
    assert offer(vetted.id).count == 5


def test_take_conversations_after_due_date(conversations, texter_in):
    campaign = conversations(due_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    vetted = texter_in(campaign, Role.VETTED_TEXTER)

    assert request_batch(vetted.id, batch_type=TAKE).assigned == 6


def test_take_conversations_has_current_is_unanswered(conversations, texter_in):
    campaign = conversations()
    vetted = texter_in(campaign, Role.VETTED_TEXTER)
    assert request_batch(vetted.id, batch_type=TAKE, requested=3).assigned == 3

    # Holding 3 unanswered conversations blocks a request for 3 more.
    assert request_batch(vetted.id, batch_type=TAKE, requested=3).assigned == 0
    for contact in Contact.objects.filter(assignment=vetted):
        send_message(contact.id, vetted.texter, text="Thanks for your reply")
    assert request_batch(vetted.id, batch_type=TAKE, requested=3).assigned == 3


def test_take_conversations_respects_max_contacts(conversations, texter_in, admin):
    campaign = conversations()
    vetted = texter_in(campaign, Role.VETTED_TEXTER)
    set_max_contacts(vetted.id, admin, 2)

    assert request_batch(vetted.id, batch_type=TAKE).assigned == 2
