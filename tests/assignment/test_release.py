"""Releasing a texter's contacts: who may, what moves, and what still counts."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.counts import campaign_counts
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.campaigns.services import set_max_contacts
from dynassign.exceptions import NotFound, PermissionDenied
from dynassign.messaging.sending import receive_message
from dynassign.organizations.roles import Role
from tests.assignment.support import held, pool_size, send_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def holding(organization, make_user, make_campaign, join):
    """Return a campaign and a texter holding 10 contacts, 4 sent and 1 of those replied."""

    def make(role: str = Role.TEXTER, **settings):
        campaign = make_campaign(contacts=40, batch_size=10, settings=settings)
        assignment = join(make_user(organization, role), campaign)
        request_batch(assignment.id)
        send_all(assignment, limit=4)
        receive_message(Contact.objects.filter(assignment=assignment, message_status="messaged").first().id, "Hi")
        return campaign, assignment

    return make


def test_release_unsent_only(holding):
    campaign, assignment = holding()
    pool_before = pool_size(campaign)

    result = release(assignment.id, assignment.texter)

    assert result.released == 6
    assert held(assignment) == 4
    assert pool_size(campaign) == pool_before + 6
    assert result.counts == {**result.counts, "held": 4, "to_send": 0, "replies": 1, "messaged": 3}
    assert not Contact.objects.filter(assignment=assignment, message_status=MessageStatus.NEEDS_MESSAGE).exists()
    event = AssignmentEvent.objects.get(kind=EventKind.RELEASED)
    assert (event.contact_count, event.from_assignment_id, event.actor_id) == (6, assignment.id, assignment.texter_id)


def test_release_twice_moves_nothing(holding):
    campaign, assignment = holding(RELEASE_CONVERSATIONS=True)
    release(assignment.id, assignment.texter)
    release(assignment.id, assignment.texter, conversations=True)
    counts_before = campaign_counts(campaign)

    assert release(assignment.id, assignment.texter).released == 0
    assert release(assignment.id, assignment.texter, conversations=True).released == 0
    assert campaign_counts(campaign) == counts_before
    assert AssignmentEvent.objects.filter(kind=EventKind.RELEASED).count() == 2


def test_release_contacts_setting_off(holding, admin):
    campaign, assignment = holding(RELEASE_CONTACTS=False)

    with pytest.raises(PermissionDenied, match="turned off"):
        release(assignment.id, assignment.texter)
    assert held(assignment) == 10
    assert release(assignment.id, admin).released == 6


def test_release_conversations_setting_off(holding):
    campaign, assignment = holding()

    with pytest.raises(PermissionDenied, match="conversations"):
        release(assignment.id, assignment.texter, conversations=True)
    assert held(assignment) == 10


def test_release_conversations_vetted_only(holding):
    _, texter = holding(RELEASE_CONVERSATIONS=True, RELEASE_CONVERSATIONS_VETTED_ONLY=True)
    _, vetted = holding(Role.VETTED_TEXTER, RELEASE_CONVERSATIONS=True, RELEASE_CONVERSATIONS_VETTED_ONLY=True)

    with pytest.raises(PermissionDenied, match="vetted"):
        release(texter.id, texter.texter, conversations=True)
    assert held(texter) == 10
    assert release(vetted.id, vetted.texter, conversations=True).released == 10


def test_only_texter_or_admin_releases(holding, organization, make_user):
    campaign, assignment = holding()

    with pytest.raises(NotFound):
        release(assignment.id, make_user(organization))
    with pytest.raises(NotFound):
        release(assignment.id, make_user(organization, Role.VETTED_TEXTER))
    assert release(assignment.id, make_user(organization, Role.SUPERVOLUNTEER)).released == 6


def test_released_conversations_still_count(holding, admin):
    campaign, assignment = holding(RELEASE_CONVERSATIONS=True)
    set_max_contacts(assignment.id, admin, 14)

    release(assignment.id, assignment.texter, conversations=True)

    assert held(assignment) == 0
    assert Assignment.objects.get(id=assignment.id).handed_off_count == 4
    # 4 texted contacts still count: room for 10 of the 14.
    assert request_batch(assignment.id).assigned == 10
    send_all(assignment)
    assert request_batch(assignment.id).assigned == 0
    assert offer(assignment.id).reason.name == "LIMIT_REACHED"


def test_released_unsent_stop_counting(holding, admin):
    campaign, assignment = holding(DYNAMICASSIGNMENT_BATCHES="all-texters")
    set_max_contacts(assignment.id, admin, 10)
    assert request_batch(assignment.id).assigned == 0

    release(assignment.id, assignment.texter)

    assert request_batch(assignment.id).assigned == 6


def test_release_conversations_frees_them_for_taking(holding, organization, make_user, join):
    campaign, assignment = holding(
        RELEASE_CONVERSATIONS=True, DYNAMICASSIGNMENT_BATCHES="finished-replies,vetted-takeconversations"
    )

    release(assignment.id, assignment.texter, conversations=True)

    vetted = join(make_user(organization, Role.VETTED_TEXTER), campaign)
    assert request_batch(vetted.id, batch_type="vetted-takeconversations").assigned == 1
    counts = campaign_counts(campaign)
    assert counts["assigned"] == 1
    assert counts["pool"] == 36
