"""Releasing a texter's contacts back to the campaign."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dynassign.assignment.counts import assignment_counts
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.db import locked
from dynassign.exceptions import NotFound, PermissionDenied
from dynassign.organizations import config
from dynassign.organizations.access import role_of
from dynassign.organizations.roles import Role, has_role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseResult:
    released: int
    counts: dict[str, int]


def _check_release_allowed(assignment: Assignment, caller, conversations: bool) -> None:
    campaign = assignment.campaign
    caller_role = role_of(caller, campaign.organization_id)
    if has_role(caller_role, Role.SUPERVOLUNTEER):
        return
    if caller.id != assignment.texter_id:
        raise NotFound(f"Assignment {assignment.id} not found among yours.")
    if not config.resolve("RELEASE_CONTACTS", campaign=campaign):
        raise PermissionDenied("Releasing contacts is turned off for this campaign; ask an admin.")
    if not conversations:
        return
    if not config.resolve("RELEASE_CONVERSATIONS", campaign=campaign):
        raise PermissionDenied("Releasing conversations is turned off for this campaign; ask an admin.")
    if config.resolve("RELEASE_CONVERSATIONS_VETTED_ONLY", campaign=campaign) and not has_role(
        caller_role, Role.VETTED_TEXTER
    ):
        raise PermissionDenied("Only vetted texters may release conversations in this campaign.")


def release(assignment_id: int, caller, *, conversations: bool = False) -> ReleaseResult:
    """Unassign the texter's unsent contacts, and with ``conversations`` every contact they hold.

    Released unsent contacts stop counting against max_contacts; released
    conversations keep counting, because the texter sent to them.
    """
    now = timezone.now()
    with transaction.atomic():
        try:
            assignment = locked(Assignment.objects.select_related("campaign")).get(id=assignment_id)
        except Assignment.DoesNotExist:
            raise NotFound(f"Assignment {assignment_id} not found.") from None
        _check_release_allowed(assignment, caller, conversations)

        held = Contact.objects.filter(assignment_id=assignment.id)
        released = held.filter(message_status=MessageStatus.NEEDS_MESSAGE).update(assignment=None, updated_at=now)
        if conversations:
            handed_off = held.update(assignment=None, updated_at=now)
            if handed_off:
                Assignment.objects.filter(id=assignment.id).update(handed_off_count=F("handed_off_count") + handed_off)
            released += handed_off
        if released:
            AssignmentEvent.objects.create(
                campaign_id=assignment.campaign_id,
                kind=EventKind.RELEASED,
                actor=caller,
                from_assignment=assignment,
                contact_count=released,
            )
        assignment.refresh_from_db()
        counts = assignment_counts(assignment)
    log.info("released assignment=%s conversations=%s contacts=%s", assignment.id, conversations, released)
    return ReleaseResult(released, counts)
