"""Pool scans that start where the last one found its first row stay exact."""

from __future__ import annotations

import pytest

from dynassign.assignment.batches import offer, request_batch
from dynassign.assignment.releasing import release
from dynassign.assignment.strategies import base
from dynassign.campaigns.models import Contact
from tests.assignment.support import held, pool_size

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def forget_pool_starts():
    base._pool_starts.clear()
    yield
    base._pool_starts.clear()


def test_short_scan_from_start_falls_back(make_campaign, make_user, organization, join):
    campaign = make_campaign(contacts=25, batch_size=10, strategies="all-texters", settings={"BULK_SEND": True})
    first, second, third, fourth = (join(make_user(organization), campaign) for _ in range(4))
    request_batch(first.id)
    request_batch(second.id)

    # Contacts released behind the remembered start go back to the pool;
    # only five rows lie after that start now.
    release(first.id, first.texter)

    assert pool_size(campaign) == 15
    assert offer(third.id).count == 10
    assert request_batch(third.id).assigned == 10
    assert offer(fourth.id).count == 5
    assert request_batch(fourth.id).assigned == 5
    assert pool_size(campaign) == 0


def test_released_contacts_are_handed_out_again(make_campaign, make_user, organization, join):
    campaign = make_campaign(contacts=30, batch_size=10, strategies="all-texters", settings={"BULK_SEND": True})
    first, second = (join(make_user(organization), campaign) for _ in range(2))
    released_ids = set(_claimed_ids(first))
    release(first.id, first.texter)

    for _ in range(3):
        request_batch(second.id)

    assert held(second) == 30
    assert released_ids <= set(Contact.objects.filter(assignment=second).values_list("id", flat=True))


def _claimed_ids(assignment) -> list[int]:
    request_batch(assignment.id)
    return list(Contact.objects.filter(assignment=assignment).values_list("id", flat=True))
