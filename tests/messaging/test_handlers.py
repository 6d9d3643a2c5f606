"""Message handlers, and outbound unassign in particular."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import request_batch
from dynassign.assignment.counts import campaign_counts
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.assignment.reassigning import reassign
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.exceptions import ConfigurationError, NotFound
from dynassign.messaging import handlers
from dynassign.messaging.sending import receive_message, send_message
from dynassign.organizations import config
from tests.assignment.support import held

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(organization, make_user, make_campaign, join):
    """Return an assignment holding a batch of 5 in a campaign with the given settings."""

    def make(**settings):
        campaign = make_campaign(contacts=10, batch_size=5, settings=settings)
        assignment = join(make_user(organization), campaign)
        request_batch(assignment.id)
        return assignment

    return make


def test_outbound_unassign_on(batch):
    assignment = batch(OUTBOUND_UNASSIGN=True)
    contact = Contact.objects.filter(assignment=assignment).first()
    before = campaign_counts(assignment.campaign)

    send_message(contact.id, assignment.texter, initial=True)

    contact.refresh_from_db()
    assert contact.assignment_id is None
    assert contact.message_status == MessageStatus.MESSAGED
    assert held(assignment) == 4
    assert Assignment.objects.get(id=assignment.id).handed_off_count == 1
    after = campaign_counts(assignment.campaign)
    assert after["assigned"] == before["assigned"] - 1
    assert after["unassigned"] == before["unassigned"] + 1
    assert after["pool"] == before["pool"]
    event = AssignmentEvent.objects.get(kind=EventKind.UNASSIGNED)
    assert (event.from_assignment_id, event.contact_count, event.strategy) == (assignment.id, 1, "outbound-unassign")


def test_outbound_unassign_off_keeps_contact(batch):
    assignment = batch()
    contact = Contact.objects.filter(assignment=assignment).first()

    send_message(contact.id, assignment.texter, initial=True)

    contact.refresh_from_db()
    assert contact.assignment_id == assignment.id
    assert not AssignmentEvent.objects.filter(kind=EventKind.UNASSIGNED).exists()


def test_outbound_unassign_only_first_message(batch, admin):
    assignment = batch(OUTBOUND_UNASSIGN=True)
    contact = Contact.objects.filter(assignment=assignment).first()
    send_message(contact.id, assignment.texter, initial=True)
    receive_message(contact.id, "Hello")
    # An admin hands the reply back to the texter who sent the first message.
    reassign(assignment.campaign_id, admin, statuses=[MessageStatus.NEEDS_RESPONSE], to_texter_ids=[assignment.texter_id])

    send_message(contact.id, assignment.texter, text="Thanks for replying")

    contact.refresh_from_db()
    assert contact.assignment_id == assignment.id
    assert contact.message_status == MessageStatus.CONVO
    assert AssignmentEvent.objects.filter(kind=EventKind.UNASSIGNED).count() == 1


def test_inbound_never_unassigns(batch):
    assignment = batch(OUTBOUND_UNASSIGN=True)
    contact = Contact.objects.filter(assignment=assignment).first()

    receive_message(contact.id, "Early reply")

    contact.refresh_from_db()
    assert contact.assignment_id == assignment.id
    assert contact.message_status == MessageStatus.NEEDS_RESPONSE


def test_former_owner_cannot_send_after_hand_off(batch):
    assignment = batch(OUTBOUND_UNASSIGN=True)
    contact = Contact.objects.filter(assignment=assignment).first()
    send_message(contact.id, assignment.texter, initial=True)
    receive_message(contact.id, "Hi")

    with pytest.raises(NotFound):
        send_message(contact.id, assignment.texter, text="Still me")


def test_handlers_from_environment(monkeypatch):
    monkeypatch.setenv("MESSAGE_HANDLERS", "outbound-unassign")
    assert handlers.enabled_handlers() == [handlers.outbound_unassign]


def test_unknown_handler_fails_check(monkeypatch):
    monkeypatch.setenv("MESSAGE_HANDLERS", "outbound-unassign,auto-reply")

    with pytest.raises(ConfigurationError, match="'auto-reply'"):
        config.check_environment()
