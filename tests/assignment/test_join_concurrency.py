"""Joining a campaign from many threads at once, each on its own database connection."""

from __future__ import annotations

import pytest

from dynassign.assignment.joining import JoinResult, join_by_link
from dynassign.assignment.models import Assignment
from dynassign.exceptions import CampaignFull
from dynassign.organizations.models import Membership
from tests.assignment.support import errors_in, make_users, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_hundred_joins_admit_exactly_limit(make_campaign):
    campaign = make_campaign(contacts=10, settings={"MAX_TEXTERS_PER_CAMPAIGN": 10})
    users = make_users(100)

    results = run_at_once([lambda user=user: join_by_link(user, campaign.join_token) for user in users], threads=100)

    joined = [result for result in results if isinstance(result, JoinResult)]
    refused = errors_in(results)
    assert len(joined) == 10
    assert all(result.created for result in joined)
    assert len(refused) == 90
    assert {type(error) for error in refused} == {CampaignFull}
    assert Assignment.objects.filter(campaign=campaign).count() == 10
    admitted = {result.assignment.texter_id for result in joined}
    assert set(Assignment.objects.filter(campaign=campaign).values_list("texter_id", flat=True)) == admitted
    # A refused join leaves no membership behind: the transaction rolled back.
    assert set(Membership.objects.filter(organization=campaign.organization).values_list("user_id", flat=True)) == admitted


def test_repeated_simultaneous_joins_create_one_assignment(make_campaign):
    campaign = make_campaign(contacts=10, settings={"MAX_TEXTERS_PER_CAMPAIGN": 2})
    (user,) = make_users(1)

    results = run_at_once([lambda: join_by_link(user, campaign.join_token) for _ in range(20)])

    assert errors_in(results) == []
    assert sum(result.created for result in results) == 1
    assert len({result.assignment.id for result in results}) == 1
    assert Assignment.objects.filter(campaign=campaign).count() == 1
    assert Membership.objects.filter(user=user).count() == 1


def test_simultaneous_joins_of_two_campaigns_by_newcomer(organization, make_campaign):
    """A newcomer following two links of one organization at once joins both, with one membership."""
    campaigns = [make_campaign(contacts=5) for _ in range(2)]
    users = make_users(10)

    calls = [lambda user=user, c=c: join_by_link(user, c.join_token) for user in users for c in campaigns]
    results = run_at_once(calls)

    assert errors_in(results) == []
    for campaign in campaigns:
        assert Assignment.objects.filter(campaign=campaign).count() == 10
    assert Membership.objects.filter(organization=organization).count() == 10


def test_member_let_back_into_full_campaign_at_once(organization, make_campaign):
    campaign = make_campaign(contacts=10, settings={"MAX_TEXTERS_PER_CAMPAIGN": 3})
    members = make_users(3, organization)
    for member in members:
        join_by_link(member, campaign.join_token)
    newcomers = make_users(5)

    calls = [lambda user=user: join_by_link(user, campaign.join_token) for user in members + newcomers]
    results = run_at_once(calls)

    assert all(isinstance(result, JoinResult) and not result.created for result in results[:3])
    assert all(isinstance(result, CampaignFull) for result in results[3:])
    assert Assignment.objects.filter(campaign=campaign).count() == 3
