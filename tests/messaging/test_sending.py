"""Sending and receiving messages: status changes, who may send, and when."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import request_batch
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.exceptions import Conflict, InvalidValue, NotFound, PermissionDenied
from dynassign.messaging.models import Direction, Message
from dynassign.messaging.sending import close_contact, opt_out, receive_message, render_script, send_message
from dynassign.organizations.roles import Role
from dynassign.organizations.services import set_role
from tests.assignment.support import CHICAGO, LOS_ANGELES, NEW_YORK, errors_in, run_at_once
from tests.fixtures import add_contacts, make_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_contact(organization, make_user, make_campaign, join):
    """Return a contact held by a texter, and the texter."""

    def make(*, timezone: str = NEW_YORK, script: str | None = None, **campaign_fields):
        campaign = make_campaign(contacts=0, batch_size=1, **campaign_fields)
        if script is not None:
            campaign.script = script
            campaign.save()
        add_contacts(campaign, make_cells(1, start=60000 + Contact.objects.count()), timezone=timezone)
        texter = make_user(organization)
        assignment = join(texter, campaign)
        request_batch(assignment.id)
        return Contact.objects.get(assignment=assignment), texter

    return make


def status_of(contact: Contact) -> str:
    contact.refresh_from_db()
    return contact.message_status


def test_status_follows_conversation(held_contact):
    contact, texter = held_contact()
    assert status_of(contact) == MessageStatus.NEEDS_MESSAGE

    assert send_message(contact.id, texter, initial=True).status == MessageStatus.MESSAGED
    assert status_of(contact) == MessageStatus.MESSAGED
    receive_message(contact.id, "Who is this?")
    assert status_of(contact) == MessageStatus.NEEDS_RESPONSE
    send_message(contact.id, texter, text="A volunteer with the campaign.")
    assert status_of(contact) == MessageStatus.CONVO
    receive_message(contact.id, "Ok, thanks")
    assert status_of(contact) == MessageStatus.NEEDS_RESPONSE
    assert close_contact(contact.id, texter) == MessageStatus.CLOSED
    assert status_of(contact) == MessageStatus.CLOSED
    receive_message(contact.id, "One more question")
    assert status_of(contact) == MessageStatus.NEEDS_RESPONSE

    directions = list(Message.objects.filter(contact=contact).values_list("direction", flat=True))
    assert directions == ["outbound", "inbound", "outbound", "inbound", "inbound"]


def test_initial_message_sent_once(held_contact):
    contact, texter = held_contact()

    first = send_message(contact.id, texter, initial=True)
    second = send_message(contact.id, texter, initial=True)
    third = send_message(contact.id, texter)

    assert first.sent
    assert not second.sent
    assert not third.sent
    assert second.status == MessageStatus.MESSAGED
    assert Message.objects.filter(contact=contact).count() == 1


@pytest.mark.django_db(transaction=True)
def test_initial_message_double_submit_at_once(held_contact):
    contact, texter = held_contact()

    results = run_at_once([lambda: send_message(contact.id, texter, initial=True) for _ in range(5)])

    assert errors_in(results) == []
    assert sum(result.sent for result in results) == 1
    assert Message.objects.filter(contact=contact).count() == 1
    assert status_of(contact) == MessageStatus.MESSAGED


def test_initial_message_renders_script(held_contact):
    contact, texter = held_contact(script="Hi {firstName}, {texterFirstName} here. {unknownField}")

    result = send_message(contact.id, texter, initial=True)

    assert result.message.text == f"Hi {contact.first_name}, {texter.first_name} here. {{unknownField}}"
    assert result.message.direction == Direction.OUTBOUND
    assert result.message.assignment_id == contact.assignment_id


def test_render_script_custom_fields(held_contact):
    contact, _ = held_contact()
    contact.custom_fields = {"event": "Saturday"}

    assert render_script("See you {event}", contact) == "See you Saturday"


def test_empty_message_rejected(held_contact):
    contact, texter = held_contact(script="   ")

    with pytest.raises(InvalidValue, match="empty"):
        send_message(contact.id, texter, initial=True)
    assert status_of(contact) == MessageStatus.NEEDS_MESSAGE
    assert not Message.objects.filter(contact=contact).exists()


def test_opted_out_contact_cannot_be_sent(held_contact):
    contact, texter = held_contact()
    opt_out(contact.id, texter)

    with pytest.raises(Conflict, match="opted out") as raised:
        send_message(contact.id, texter, initial=True)
    assert raised.value.code == "opted_out"
    assert not Message.objects.filter(contact=contact).exists()


def test_only_assignee_or_admin_sends(held_contact, organization, make_user, admin):
    contact, texter = held_contact()
    for role in (Role.TEXTER, Role.VETTED_TEXTER, Role.SUPERVOLUNTEER):
        with pytest.raises(NotFound, match="not assigned to you"):
            send_message(contact.id, make_user(organization, role), initial=True)
    with pytest.raises(NotFound):
        send_message(contact.id, make_user(), initial=True)
    assert not Message.objects.filter(contact=contact).exists()

    assert send_message(contact.id, make_user(organization, Role.ADMIN), initial=True).sent
    assert send_message(contact.id, admin, text="Following up").sent


def test_admin_of_other_organization_cannot_send(held_contact, make_user):
    from dynassign.organizations.models import Organization

    contact, _ = held_contact()
    elsewhere = Organization.objects.create(name="Elsewhere")

    with pytest.raises(NotFound):
        send_message(contact.id, make_user(elsewhere, Role.OWNER), initial=True)


def test_suspended_assignee_cannot_send(held_contact, organization, admin):
    contact, texter = held_contact()
    set_role(organization.id, admin, texter.id, Role.SUSPENDED)

    with pytest.raises(PermissionDenied, match="suspended"):
        send_message(contact.id, texter, initial=True)
    assert not Message.objects.filter(contact=contact).exists()


def test_unknown_contact_not_found(make_user):
    with pytest.raises(NotFound, match="Contact 987654"):
        send_message(987654, make_user(), initial=True)


# Texting hours, in the contact's zone.


HOURS = {"TEXTING_HOURS_ENFORCED": True, "TEXTING_HOURS_START": 9, "TEXTING_HOURS_END": 21}


def test_hours_not_enforced_sends_any_time(held_contact, clock):
    contact, texter = held_contact()
    clock.set("03:00", NEW_YORK)

    assert send_message(contact.id, texter, initial=True).sent


@pytest.mark.parametrize(
    ("zone", "local_new_york", "allowed"),
    [
        (NEW_YORK, "08:59", False),
        (NEW_YORK, "09:00", True),
        (NEW_YORK, "20:59", True),
        (NEW_YORK, "21:00", False),
        (LOS_ANGELES, "11:00", False),
        (LOS_ANGELES, "12:00", True),
        (LOS_ANGELES, "23:30", True),
        (CHICAGO, "09:30", False),
        (CHICAGO, "21:30", True),
    ],
)
def test_hours_in_contact_zone(held_contact, clock, zone, local_new_york, allowed):
    contact, texter = held_contact(timezone=zone, settings=HOURS)
    clock.set(local_new_york, NEW_YORK)

    if allowed:
        assert send_message(contact.id, texter, initial=True).sent
    else:
        with pytest.raises(Conflict, match=zone) as raised:
            send_message(contact.id, texter, initial=True)
        assert raised.value.code == "outside_texting_hours"
        assert status_of(contact) == MessageStatus.NEEDS_MESSAGE


def test_unknown_zone_uses_campaign_zone(held_contact, clock):
    contact, texter = held_contact(timezone="", settings={**HOURS, "TIMEZONE": LOS_ANGELES})

    clock.set("11:00", NEW_YORK)
    with pytest.raises(Conflict, match=LOS_ANGELES):
        send_message(contact.id, texter, initial=True)
    clock.set("12:00", NEW_YORK)
    assert send_message(contact.id, texter, initial=True).sent


def test_replies_also_wait_for_hours(held_contact, clock):
    contact, texter = held_contact(settings=HOURS)
    clock.set("10:00", NEW_YORK)
    send_message(contact.id, texter, initial=True)
    receive_message(contact.id, "Hello?")

    clock.set("22:00", NEW_YORK)
    with pytest.raises(Conflict):
        send_message(contact.id, texter, text="Hi again")
    assert status_of(contact) == MessageStatus.NEEDS_RESPONSE


# The due date stops initial messages; replies go on.


def test_due_date_stops_initial_messages(held_contact, clock):
    due = clock.set("12:00", NEW_YORK)
    clock.set("11:00", NEW_YORK)
    contact, texter = held_contact(due_at=due)
    replied, replying_texter = held_contact(due_at=due)
    send_message(replied.id, replying_texter, initial=True)

    clock.set("12:00", NEW_YORK)
    with pytest.raises(Conflict, match="due date") as raised:
        send_message(contact.id, texter, initial=True)
    assert raised.value.code == "past_due"

    receive_message(replied.id, "Still there?")
    assert send_message(replied.id, replying_texter, text="Yes!").status == MessageStatus.CONVO
