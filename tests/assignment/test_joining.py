"""Joining a campaign through its link: who is let in, and with which limit."""

from __future__ import annotations

import pytest

from dynassign.assignment.joining import join_by_link
from dynassign.assignment.models import Assignment
from dynassign.campaigns.services import archive_campaign, rotate_join_token
from dynassign.exceptions import CampaignFull, InvalidJoinLink, PermissionDenied
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("token", ["", "not-a-real-token", "x" * 65])
def test_invalid_token_refused(make_campaign, make_user, token):
    make_campaign(contacts=1)
    user = make_user()

    with pytest.raises(InvalidJoinLink, match="ask the campaign's organizer"):
        join_by_link(user, token)

    assert not Membership.objects.filter(user=user).exists()
    assert not Assignment.objects.filter(texter=user).exists()


def test_archived_campaign_refuses_members_too(organization, make_campaign, make_user, admin):
    campaign = make_campaign(contacts=1)
    member = make_user(organization)
    archive_campaign(campaign.id, admin)

    with pytest.raises(InvalidJoinLink):
        join_by_link(member, campaign.join_token)


def test_rotated_token_stops_old_link(make_campaign, make_user, admin):
    campaign = make_campaign(contacts=1)
    old_token = campaign.join_token
    rotated = rotate_join_token(campaign.id, admin)

    with pytest.raises(InvalidJoinLink):
        join_by_link(make_user(), old_token)
    assert join_by_link(make_user(), rotated.join_token).created


def test_newcomer_becomes_texter(organization, make_campaign, make_user):
    campaign = make_campaign(contacts=1)
    user = make_user()

    result = join_by_link(user, campaign.join_token)

    assert result.created
    assert Membership.objects.get(user=user, organization=organization).role == Role.TEXTER


def test_member_keeps_role(organization, make_campaign, make_user):
    campaign = make_campaign(contacts=1)
    vetted = make_user(organization, Role.VETTED_TEXTER)

    join_by_link(vetted, campaign.join_token)

    assert Membership.objects.get(user=vetted).role == Role.VETTED_TEXTER


def test_current_members_only_refuses_newcomer(organization, make_campaign, make_user):
    campaign = make_campaign(contacts=1, settings={"CAMPAIGN_INVITES_CURRENT_USERS_ONLY": True})
    newcomer = make_user()
    member = make_user(organization)

    with pytest.raises(PermissionDenied, match="current members"):
        join_by_link(newcomer, campaign.join_token)
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not Assignment.objects.filter(texter=newcomer).exists()

    assert join_by_link(member, campaign.join_token).created


def test_current_members_only_from_organization(organization, make_campaign, make_user):
    organization.settings = {"CAMPAIGN_INVITES_CURRENT_USERS_ONLY": True}
    organization.save()
    campaign = make_campaign(contacts=1)

    with pytest.raises(PermissionDenied):
        join_by_link(make_user(), campaign.join_token)


def test_suspended_member_refused(organization, make_campaign, make_user):
    campaign = make_campaign(contacts=1)
    suspended = make_user(organization, Role.SUSPENDED)

    with pytest.raises(PermissionDenied, match="suspended"):
        join_by_link(suspended, campaign.join_token)
    assert not Assignment.objects.filter(texter=suspended).exists()


def test_join_is_idempotent(make_campaign, make_user):
    campaign = make_campaign(contacts=1)
    user = make_user()

    first = join_by_link(user, campaign.join_token)
    second = join_by_link(user, campaign.join_token)

    assert first.created
    assert not second.created
    assert second.assignment.id == first.assignment.id
    assert Assignment.objects.filter(campaign=campaign).count() == 1


def test_full_campaign_lets_existing_texter_back(make_campaign, make_user):
    campaign = make_campaign(contacts=1, settings={"MAX_TEXTERS_PER_CAMPAIGN": 1})
    texter = make_user()
    join_by_link(texter, campaign.join_token)

    with pytest.raises(CampaignFull, match="limit of 1 texters"):
        join_by_link(make_user(), campaign.join_token)
    assert not join_by_link(texter, campaign.join_token).created


def test_max_texters_from_organization(organization, make_campaign, make_user):
    organization.settings = {"MAX_TEXTERS_PER_CAMPAIGN": 2}
    organization.save()
    campaign = make_campaign(contacts=1)
    join_by_link(make_user(), campaign.join_token)
    join_by_link(make_user(), campaign.join_token)

    with pytest.raises(CampaignFull):
        join_by_link(make_user(), campaign.join_token)


@pytest.mark.parametrize("level", ["campaign", "organization", "environment"])
def test_max_contacts_from_setting(organization, make_campaign, make_user, monkeypatch, level):
    campaign_settings = {}
    if level == "campaign":
        campaign_settings = {"MAX_CONTACTS_PER_TEXTER": 75}
    elif level == "organization":
        organization.settings = {"MAX_CONTACTS_PER_TEXTER": 75}
        organization.save()
    else:
        monkeypatch.setenv("MAX_CONTACTS_PER_TEXTER", "75")
    campaign = make_campaign(contacts=1, settings=campaign_settings)

    assignment = join_by_link(make_user(), campaign.join_token).assignment

    assert assignment.max_contacts == 75
    assert Assignment.objects.get(id=assignment.id).max_contacts == 75


def test_max_contacts_unset_means_no_limit(make_campaign, make_user):
    campaign = make_campaign(contacts=1)

    assert join_by_link(make_user(), campaign.join_token).assignment.max_contacts is None
