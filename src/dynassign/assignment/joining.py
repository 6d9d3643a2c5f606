"""Joining a campaign through its dynamic assignment link."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Campaign
from dynassign.db import locked
from dynassign.exceptions import CampaignFull, InvalidJoinLink, PermissionDenied
from dynassign.organizations import config
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role

log = logging.getLogger(__name__)

INVALID_LINK = "This campaign link is invalid or no longer active; ask the campaign's organizer for a current link."


@dataclass(frozen=True)
class JoinResult:
    assignment: Assignment
    created: bool


def _open_campaign(token: str, *, lock: bool) -> Campaign:
    query = Campaign.objects.select_related("organization").filter(
        join_token=token, is_started=True, is_archived=False, use_dynamic_assignment=True
    )
    # Locking the campaign row makes joins of one campaign run one at a time
    # on PostgreSQL, so the texter count below is exact when it decides.
    campaign = (locked(query) if lock else query).first()
    if campaign is None:
        raise InvalidJoinLink(INVALID_LINK)
    return campaign


def _refuse_when_full(campaign: Campaign) -> None:
    limit = config.resolve("MAX_TEXTERS_PER_CAMPAIGN", campaign=campaign)
    if limit is not None and Assignment.objects.filter(campaign=campaign).count() >= limit:
        raise CampaignFull(
            f"This campaign is full: it has reached its limit of {limit} texters. "
            "Ask the organizer about another campaign."
        )


def _ensure_membership(user, campaign: Campaign) -> None:
    membership = Membership.objects.filter(user=user, organization=campaign.organization).first()
    if membership is None:
        if config.resolve("CAMPAIGN_INVITES_CURRENT_USERS_ONLY", campaign=campaign):
            raise PermissionDenied(
                f"{campaign.organization.name} admits only its current members through campaign links; "
                "ask an admin to add you."
            )
        Membership.objects.create(user=user, organization=campaign.organization, role=Role.TEXTER)
        return
    if membership.role == Role.SUSPENDED:
        raise PermissionDenied(f"Your account is suspended in {campaign.organization.name}; contact an admin.")


def join_by_link(user, token: str) -> JoinResult:
    """Give ``user`` an assignment in the campaign whose join token is ``token``.

    Idempotent: following the link again returns the existing assignment,
    even when the campaign has since filled up.
    """
    if not token or len(token) > 64:
        raise InvalidJoinLink(INVALID_LINK)
    try:
        return _join(user, token)
    except IntegrityError:
        # Another join of this user committed first: its assignment (unique
        # per campaign and texter) or its membership (unique per user and
        # organization, raced by links of two campaigns). Joining again finds
        # the committed row instead of creating a second one.
        log.info("join retried after a concurrent join user=%s", user.id)
        return _join(user, token)


def _refuse_newcomer_to_full_campaign(user, token: str) -> None:
    """Refuse a newcomer to a full campaign without taking the campaign's lock.

    Assignments are never removed while a campaign runs, so once the count
    reaches the limit it stays there: a storm of joins past the limit is
    refused here, read-only, and only joins that may succeed queue on the
    lock. The locked transaction still decides every admission.
    """
    campaign = _open_campaign(token, lock=False)
    if Assignment.objects.filter(campaign=campaign, texter=user).exists():
        return
    _refuse_when_full(campaign)


def _join(user, token: str) -> JoinResult:
    _refuse_newcomer_to_full_campaign(user, token)
    with transaction.atomic():
        campaign = _open_campaign(token, lock=True)
        _ensure_membership(user, campaign)
        existing = Assignment.objects.filter(campaign=campaign, texter=user).first()
        if existing is not None:
            return JoinResult(existing, created=False)

        _refuse_when_full(campaign)
        assignment = Assignment.objects.create(
            campaign=campaign,
            texter=user,
            max_contacts=config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign),
        )
    log.info("texter joined user=%s campaign=%s assignment=%s", user.id, campaign.id, assignment.id)
    return JoinResult(assignment, created=True)
