"""Opt-outs belong to the organization and follow the cell."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import request_batch
from dynassign.assignment.counts import campaign_counts
from dynassign.campaigns.models import Contact
from dynassign.exceptions import NotFound
from dynassign.messaging.models import Message, OptOut
from dynassign.messaging.sending import opt_out, receive_message
from dynassign.organizations.models import Organization
from dynassign.organizations.roles import Role
from tests.fixtures import make_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_cell(organization, make_campaign):
    """Return a cell found in two campaigns of the organization and one of another organization."""
    cell = make_cells(1, start=70000)[0]
    others = make_cells(4, start=70100)
    first = make_campaign(cells=[cell, *others[:2]])
    second = make_campaign(cells=[cell, *others[2:]])
    elsewhere = Organization.objects.create(name="Elsewhere")
    foreign = make_campaign(cells=[cell], organization_=elsewhere)
    return cell, first, second, foreign


def test_opt_out_marks_cell_in_every_campaign(shared_cell, admin):
    cell, first, second, foreign = shared_cell
    contact = Contact.objects.get(campaign=first, cell=cell)

    marked = opt_out(contact.id, admin, reason="asked on the phone")

    assert marked == 2
    assert Contact.objects.get(campaign=second, cell=cell).is_opted_out
    assert not Contact.objects.get(campaign=foreign, cell=cell).is_opted_out
    assert Contact.objects.filter(is_opted_out=True).count() == 2
    stored = OptOut.objects.get(organization=first.organization)
    assert (stored.cell, stored.reason) == (cell, "asked on the phone")


def test_opt_out_twice_keeps_one_record(shared_cell, admin):
    cell, first, second, _ = shared_cell

    opt_out(Contact.objects.get(campaign=first, cell=cell).id, admin)
    opt_out(Contact.objects.get(campaign=second, cell=cell).id, admin)

    assert OptOut.objects.filter(cell=cell).count() == 1


@pytest.mark.parametrize("reply", ["STOP", "stop", "  Stop  ", "UNSUBSCRIBE", "quit"])
def test_stop_reply_opts_out(shared_cell, reply):
    cell, first, second, _ = shared_cell
    contact = Contact.objects.get(campaign=first, cell=cell)

    receive_message(contact.id, reply)

    assert Contact.objects.get(campaign=second, cell=cell).is_opted_out
    assert Message.objects.filter(contact=contact, text=reply).exists()


@pytest.mark.parametrize("reply", ["stop texting me please", "Don't stop", "STOPPED"])
def test_other_replies_do_not_opt_out(shared_cell, reply):
    cell, first, _, _ = shared_cell
    contact = Contact.objects.get(campaign=first, cell=cell)

    receive_message(contact.id, reply)

    assert not Contact.objects.filter(cell=cell, is_opted_out=True).exists()


def test_opt_out_moves_pool_at_once(shared_cell, admin):
    cell, first, second, _ = shared_cell
    before = campaign_counts(second)

    opt_out(Contact.objects.get(campaign=first, cell=cell).id, admin)

    after = campaign_counts(second)
    assert after["pool"] == before["pool"] - 1
    assert after["opted_out"] == before["opted_out"] + 1
    assert after["unsent"] == before["unsent"] - 1


def test_opted_out_contact_never_handed_out(shared_cell, admin, organization, make_user, join):
    cell, first, second, _ = shared_cell
    opt_out(Contact.objects.get(campaign=second, cell=cell).id, admin)
    assignment = join(make_user(organization), first)

    assert request_batch(assignment.id).assigned == 2
    assert not Contact.objects.filter(assignment=assignment, cell=cell).exists()


def test_only_assignee_or_admin_opts_out(shared_cell, organization, make_user):
    cell, first, _, _ = shared_cell
    contact = Contact.objects.get(campaign=first, cell=cell)

    with pytest.raises(NotFound):
        opt_out(contact.id, make_user(organization, Role.TEXTER))
    assert not Contact.objects.filter(cell=cell, is_opted_out=True).exists()
