"""Admin reassignment: moving contacts between texters or back to the pool."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.db import locked
from dynassign.exceptions import InvalidValue, NotFound
from dynassign.organizations.access import require_role
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReassignResult:
    moved: int
    # Contacts each target texter received, by user id; None stands for the pool.
    per_texter: dict[int | None, int]


def _targets(campaign: Campaign, texter_ids: list[int]) -> list[Assignment]:
    """Return an assignment per target texter, creating it for members who have none."""
    members = set(
        Membership.objects.filter(organization_id=campaign.organization_id, user_id__in=texter_ids)
        .exclude(role=Role.SUSPENDED)
        .values_list("user_id", flat=True)
    )
    missing = [texter_id for texter_id in texter_ids if texter_id not in members]
    if missing:
        raise InvalidValue(f"Texters {missing} are not active members of this organization; add them first.")
    assignments = []
    for texter_id in texter_ids:
        assignment, _ = Assignment.objects.get_or_create(campaign=campaign, texter_id=texter_id)
        assignments.append(assignment)
    return assignments


def _split(ids: list[int], parts: int) -> list[list[int]]:
    """Split ``ids`` into ``parts`` runs whose sizes differ by at most one."""
    size, extra = divmod(len(ids), parts)
    runs, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        runs.append(ids[start:end])
        start = end
    return runs


def reassign(
    campaign_id: int,
    caller,
    *,
    statuses: list[str] | None = None,
    from_texter_ids: list[int] | None = None,
    to_texter_ids: list[int] | None = None,
    count: int | None = None,
) -> ReassignResult:
    """Move contacts matching the filter to the given texters, split evenly, or to the pool.

    Opted-out contacts go to the pool only. The move takes effect at once:
    the former owner can no longer open or send to a moved contact. Admins
    may give a texter more than max_contacts this way.
    """
    for status in statuses or []:
        if status not in MessageStatus.values:
            raise InvalidValue(f"Unknown message status {status!r}; use one of {', '.join(MessageStatus.values)}.")
    if count is not None and count < 1:
        raise InvalidValue(f"count must be a positive number of contacts, not {count}.")
    campaign = Campaign.objects.filter(id=campaign_id).first()
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found.")
    require_role(caller, campaign.organization_id, Role.SUPERVOLUNTEER)
    now = timezone.now()

    with transaction.atomic():
        targets = _targets(campaign, to_texter_ids) if to_texter_ids else []
        query = Contact.objects.filter(campaign_id=campaign.id)
        if statuses:
            query = query.filter(message_status__in=statuses)
        if from_texter_ids:
            query = query.filter(assignment__texter_id__in=from_texter_ids)
        else:
            query = query.filter(assignment__isnull=False) if not targets else query
        if targets:
            query = query.filter(is_opted_out=False).exclude(assignment_id__in=[target.id for target in targets])
        rows = _lock_rows(query, targets, count)

        # Contacts a texter sent to keep counting against their max_contacts
        # after they leave.
        texted_by_source = Counter(
            source for _, source, status in rows if source is not None and status != MessageStatus.NEEDS_MESSAGE
        )
        for source_id, texted in texted_by_source.items():
            Assignment.objects.filter(id=source_id).update(handed_off_count=F("handed_off_count") + texted)

        per_texter: dict[int | None, int] = {}
        ids = [row[0] for row in rows]
        if targets:
            for target, run in zip(targets, _split(ids, len(targets))):
                Contact.objects.filter(id__in=run).update(assignment=target, updated_at=now)
                per_texter[target.texter_id] = len(run)
                _record(campaign, caller, target, len(run))
        else:
            Contact.objects.filter(id__in=ids).update(assignment=None, updated_at=now)
            per_texter[None] = len(ids)
            _record(campaign, caller, None, len(ids))
    log.info("reassigned campaign=%s contacts=%s targets=%s by user=%s", campaign.id, len(ids), per_texter, caller.id)
    return ReassignResult(len(ids), per_texter)


def _lock_rows(query, targets: list[Assignment], count: int | None) -> list[tuple[int, int | None, str]]:
    """Lock and return (id, assignment id, status) of up to ``count`` contacts of ``query``.

    The assignments involved are locked before their contacts, the order
    batch requests, releases and sends use: locking contacts first deadlocked
    with a release of the same assignment on PostgreSQL. The contacts are
    then locked and filtered again, so one that changed meanwhile is moved
    only if it still matches.
    """
    candidates = list(query.order_by("id").values_list("id", "assignment_id")[:count])
    involved = {assignment_id for _, assignment_id in candidates if assignment_id is not None}
    involved.update(target.id for target in targets)
    list(locked(Assignment.objects.filter(id__in=involved).order_by("id").only("id")))
    ids = [contact_id for contact_id, _ in candidates]
    return list(locked(query.filter(id__in=ids).order_by("id").values_list("id", "assignment_id", "message_status")))


def _record(campaign: Campaign, caller, target: Assignment | None, moved: int) -> None:
    if moved:
        AssignmentEvent.objects.create(
            campaign=campaign, kind=EventKind.REASSIGNED, actor=caller, to_assignment=target, contact_count=moved
        )
