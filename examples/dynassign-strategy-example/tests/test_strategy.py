"""Tests of small-batches-first: its own rule, then the dynassign contract kit."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from dynassign.assignment.batches import request_batch
from dynassign.assignment.joining import join_by_link
from dynassign.assignment.strategies import registry
from dynassign.assignment.strategies.testkit import StrategyContract
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.organizations.models import Organization

import dynassign_strategy_example.strategy as small_batches_first


class TestContract(StrategyContract):
    strategy = small_batches_first


def _campaign(contacts: int) -> Campaign:
    organization = Organization.objects.create(name="Example organization")
    campaign = Campaign.objects.create(
        organization=organization, title="Example campaign", is_started=True, use_dynamic_assignment=True,
        batch_size=10, settings={"DYNAMICASSIGNMENT_BATCHES": "small-batches-first"},
    )
    Contact.objects.bulk_create(
        Contact(campaign=campaign, first_name="First", last_name="Last", cell=f"+1212{4000000 + index:07d}")
        for index in range(contacts)
    )
    return campaign


def test_entry_point_loads_strategy():
    assert registry.get("small-batches-first") is small_batches_first


def test_first_batch_small_then_full(db):
    campaign = _campaign(30)
    texter = get_user_model().objects.create_user(username="texter", password=None)
    assignment = join_by_link(texter, campaign.join_token).assignment

    first = request_batch(assignment.id)
    Contact.objects.filter(assignment=assignment).update(message_status=MessageStatus.MESSAGED)
    second = request_batch(assignment.id)

    assert first.assigned == small_batches_first.FIRST_BATCH_SIZE
    assert second.assigned == 10


def test_first_batch_limited_by_pool(db):
    campaign = _campaign(2)
    texter = get_user_model().objects.create_user(username="texter", password=None)
    assignment = join_by_link(texter, campaign.join_token).assignment

    assert request_batch(assignment.id).assigned == 2
