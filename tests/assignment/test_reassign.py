"""Admin reassignment: to one texter, split across several, back to the pool."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import request_batch
from dynassign.assignment.counts import campaign_counts
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.assignment.reassigning import reassign
from dynassign.assignment.releasing import release
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.exceptions import InvalidValue, NotFound, PermissionDenied
from dynassign.messaging.sending import receive_message, send_message
from dynassign.organizations.roles import Role
from tests.assignment.support import errors_in, held, make_users, pool_size, run_at_once, send_all, unsent_of
from tests.fixtures import add_contacts, make_cells


@pytest.fixture
def texter_with_batch(organization, make_user, make_campaign, join):
    """A campaign of 40 contacts and a texter holding 20 of them, 5 sent."""
    campaign = make_campaign(contacts=40, batch_size=20)
    texter = make_user(organization)
    assignment = join(texter, campaign)
    request_batch(assignment.id)
    send_all(assignment, limit=5)
    return campaign, texter, assignment


@pytest.mark.django_db
def test_reassign_to_one_texter(texter_with_batch, organization, make_user, admin):
    campaign, texter, assignment = texter_with_batch
    other = make_user(organization)
    unsent = unsent_of(assignment)

    result = reassign(
        campaign.id, admin, statuses=[MessageStatus.NEEDS_MESSAGE], from_texter_ids=[texter.id], to_texter_ids=[other.id], count=10
    )

    assert result.moved == 10
    assert result.per_texter == {other.id: 10}
    target = Assignment.objects.get(campaign=campaign, texter=other)
    assert held(target) == 10
    assert held(assignment) == 10
    assert set(Contact.objects.filter(assignment=target).values_list("id", flat=True)) == {c.id for c in unsent[:10]}
    event = AssignmentEvent.objects.get(campaign=campaign, kind=EventKind.REASSIGNED)
    assert event.contact_count == 10
    assert event.to_assignment_id == target.id
    assert event.actor_id == admin.id


@pytest.mark.django_db
def test_reassign_splits_evenly(texter_with_batch, organization, admin):
    campaign, texter, assignment = texter_with_batch
    targets = make_users(3, organization)

    result = reassign(campaign.id, admin, from_texter_ids=[texter.id], to_texter_ids=[user.id for user in targets])

    assert result.moved == 20
    assert sorted(result.per_texter.values()) == [6, 7, 7]
    for user in targets:
        assert held(Assignment.objects.get(campaign=campaign, texter=user)) == result.per_texter[user.id]
    assert held(assignment) == 0


@pytest.mark.django_db
def test_reassign_back_to_pool(texter_with_batch, admin):
    campaign, texter, assignment = texter_with_batch
    pool_before = pool_size(campaign)

    result = reassign(campaign.id, admin, from_texter_ids=[texter.id])

    assert result.moved == 20
    assert result.per_texter == {None: 20}
    assert held(assignment) == 0
    assert pool_size(campaign) == pool_before + 15
    counts = campaign_counts(campaign)
    assert counts["assigned"] == 0
    assert counts["unassigned"] == 40
    assigned = Assignment.objects.get(id=assignment.id)
    # The 5 contacts the texter sent to keep counting against their limit.
    assert assigned.handed_off_count == 5


@pytest.mark.django_db
def test_former_owner_cannot_send_after_move(texter_with_batch, organization, make_user, admin):
    campaign, texter, assignment = texter_with_batch
    contact = unsent_of(assignment)[0]
    other = make_user(organization)

    reassign(campaign.id, admin, from_texter_ids=[texter.id], to_texter_ids=[other.id])

    with pytest.raises(NotFound):
        send_message(contact.id, texter, initial=True)
    assert send_message(contact.id, other, initial=True).sent


@pytest.mark.django_db
def test_moved_conversation_gets_fresh_time(texter_with_batch, organization, make_user, admin, clock):
    campaign, texter, assignment = texter_with_batch
    replied = Contact.objects.filter(assignment=assignment, message_status=MessageStatus.MESSAGED).first()
    clock.set("10:00")
    receive_message(replied.id, "Yes")
    later = clock.set("15:00")
    other = make_user(organization)

    reassign(campaign.id, admin, statuses=[MessageStatus.NEEDS_RESPONSE], to_texter_ids=[other.id])

    replied.refresh_from_db()
    assert replied.assignment.texter_id == other.id
    assert replied.updated_at == later


@pytest.mark.django_db
def test_opted_out_contacts_go_to_pool_only(organization, make_user, make_campaign, join, admin):
    campaign = make_campaign(contacts=0, batch_size=10)
    holder = join(make_user(organization), campaign)
    add_contacts(campaign, make_cells(4, start=30000), assignment=holder)
    add_contacts(campaign, make_cells(2, start=30100), assignment=holder, is_opted_out=True)
    other = make_user(organization)

    moved = reassign(campaign.id, admin, from_texter_ids=[holder.texter_id], to_texter_ids=[other.id])
    assert moved.moved == 4
    assert held(holder) == 2

    back = reassign(campaign.id, admin, from_texter_ids=[holder.texter_id])
    assert back.moved == 2
    assert held(holder) == 0


@pytest.mark.django_db
def test_reassign_rejects_bad_input(texter_with_batch, organization, make_user, admin):
    campaign, texter, assignment = texter_with_batch
    suspended = make_user(organization, Role.SUSPENDED)
    outsider = make_user()

    with pytest.raises(InvalidValue, match="'sent'"):
        reassign(campaign.id, admin, statuses=["sent"])
    with pytest.raises(InvalidValue, match="0"):
        reassign(campaign.id, admin, count=0)
    with pytest.raises(InvalidValue, match=str(suspended.id)):
        reassign(campaign.id, admin, to_texter_ids=[suspended.id])
    with pytest.raises(InvalidValue, match=str(outsider.id)):
        reassign(campaign.id, admin, to_texter_ids=[outsider.id])
    with pytest.raises(NotFound):
        reassign(campaign.id + 1000, admin)
    assert held(assignment) == 20


@pytest.mark.django_db
def test_reassign_needs_supervolunteer(texter_with_batch, organization, make_user):
    campaign, texter, assignment = texter_with_batch

    with pytest.raises(PermissionDenied):
        reassign(campaign.id, texter, from_texter_ids=[texter.id])
    with pytest.raises(PermissionDenied):
        reassign(campaign.id, make_user(organization, Role.VETTED_TEXTER))
    with pytest.raises(NotFound):
        reassign(campaign.id, make_user())
    assert reassign(campaign.id, make_user(organization, Role.SUPERVOLUNTEER), count=1).moved == 1


@pytest.mark.django_db(transaction=True)
def test_reassign_while_texters_send_and_release(organization, make_campaign, admin):
    """Moves, sends and releases of the same assignments at once finish without errors."""
    texters = 8
    campaign = make_campaign(contacts=texters * 10, batch_size=10, settings={"OUTBOUND_UNASSIGN": True})
    users = make_users(texters, organization)
    from dynassign.assignment.joining import join_by_link

    assignments = [join_by_link(user, campaign.join_token).assignment for user in users]
    for assignment in assignments:
        request_batch(assignment.id)
    receivers = make_users(2, organization)

    def send_some(assignment: Assignment) -> None:
        for contact in unsent_of(assignment)[:4]:
            try:
                send_message(contact.id, assignment.texter, initial=True)
            except NotFound:
                pass

    calls = []
    for assignment in assignments:
        calls += [
            lambda a=assignment: send_some(a),
            lambda a=assignment: release(a.id, a.texter),
            lambda a=assignment: reassign(campaign.id, admin, from_texter_ids=[a.texter_id], count=3),
            lambda: reassign(campaign.id, admin, statuses=[MessageStatus.MESSAGED], count=2),
            lambda a=assignment: reassign(
                campaign.id, admin, from_texter_ids=[a.texter_id], to_texter_ids=[user.id for user in receivers]
            ),
        ]
    results = run_at_once(calls)

    assert errors_in(results) == []
    total = Contact.objects.filter(campaign=campaign).count()
    assert total == texters * 10
    assert not Contact.objects.filter(campaign=campaign, is_opted_out=True).exists()
