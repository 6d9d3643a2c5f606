"""The offer behind the "request texts" button, and the batch request itself."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from dynassign.assignment import fastpath
from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
from dynassign.assignment.strategies import registry
from dynassign.assignment.strategies.base import BatchContext, Probes, Reason, leading_rows
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.db import locked
from dynassign.exceptions import InvalidValue, NotFound, PermissionDenied
from dynassign.organizations import config
from dynassign.organizations.access import role_of
from dynassign.organizations.roles import Role, has_role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Offer:
    """What a request would hand the texter now, and why it is zero when it is."""

    count: int
    strategy: str
    reason: Reason | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "strategy": self.strategy,
            "reason": self.reason.code if self.reason else None,
            "reason_message": self.reason.value if self.reason else None,
        }


@dataclass(frozen=True)
class BatchResult:
    found: bool
    assigned: int
    offer: Offer


@dataclass
class _Plan:
    count: int
    strategy: str
    reason: Reason | None
    batch_query: QuerySet[Contact] | None = None
    role: str | None = None
    # True when the claim goes through the prepared statements of fastpath,
    # with the probes the plan read.
    fast: bool = False
    probes: Probes | None = None


def _load(assignment_id: int, *, lock: bool) -> tuple[Assignment, str | None]:
    """Return the assignment with campaign, organization and texter attached, and the texter's role."""
    if lock and fastpath.on_postgresql():
        found = fastpath.load(assignment_id)
        if found is None:
            raise NotFound(f"Assignment {assignment_id} not found.")
        return found
    query = Assignment.objects.select_related("campaign__organization", "texter")
    if lock:
        # locked() takes only the assignment row, never the joined campaign
        # and organization rows that every texter of the campaign shares.
        query = locked(query)
    try:
        assignment = query.get(id=assignment_id)
    except Assignment.DoesNotExist:
        raise NotFound(f"Assignment {assignment_id} not found.") from None
    return assignment, role_of(assignment.texter, assignment.campaign.organization_id)


def _check_caller(assignment: Assignment, caller, texter_role: str | None) -> None:
    if caller is None:
        return
    if caller.id == assignment.texter_id:
        role = texter_role
        if role == Role.SUSPENDED:
            raise PermissionDenied(
                f"Your account is suspended in {assignment.campaign.organization.name}; contact an admin."
            )
        return
    if not has_role(role_of(caller, assignment.campaign.organization_id), Role.ADMIN):
        raise NotFound(f"Assignment {assignment.id} not found among yours.")


def _default_has_current(assignment: Assignment) -> QuerySet[Contact]:
    return Contact.objects.filter(
        assignment_id=assignment.id, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False
    )


def counted_against_limit(assignment: Assignment) -> int:
    """Return what counts against max_contacts: held now plus texted contacts that left."""
    return Contact.objects.filter(assignment_id=assignment.id).count() + assignment.handed_off_count


def _wanted(campaign, requested: int | None) -> int:
    """Return how many contacts a request for ``requested`` (None: a full batch) may get at most."""
    wanted = requested or campaign.batch_size or 1
    if campaign.batch_size:
        wanted = min(wanted, campaign.batch_size)
    return wanted


def _plan(
    assignment: Assignment,
    *,
    requested: int | None,
    batch_type: str | None,
    has_any: bool,
    now: dt.datetime,
    role: str | None,
    probes: Probes | None = None,
) -> _Plan:
    """Run the request's steps up to the claim, deciding how many contacts and which."""
    campaign = assignment.campaign
    enabled = registry.enabled_names(campaign)
    name = batch_type or enabled[0]
    if name not in enabled:
        return _Plan(0, name, Reason.UNKNOWN_BATCH_TYPE)
    if assignment.max_contacts == 0:
        return _Plan(0, name, Reason.LIMIT_REACHED)
    strategy = registry.get(name)

    wanted = _wanted(campaign, requested)
    context = BatchContext(
        organization=campaign.organization,
        campaign=campaign,
        assignment=assignment,
        texter=assignment.texter,
        role=role,
        has_any=has_any,
        limit=wanted,
        now=now,
    )
    fast = fastpath.applies(strategy)
    if fast:
        # Counted far enough for this plan and for the offer planned after a claim.
        further = max(wanted, _wanted(campaign, None))
        context.probes = probes or fastpath.probe(
            assignment, now=now, limit=further, pool_limit=1 if has_any else further
        )
    available = strategy.request_new_batch_count(context)
    if context.probes is not None and context.pool_read:
        fastpath.pool_was_read(assignment, context.probes)
    count = max(0, min(wanted, available))
    if count == 0:
        return _Plan(0, name, context.reason or Reason.NOTHING_LEFT, role=role, probes=context.probes)

    if assignment.max_contacts is not None:
        held = context.probes.held if context.probes is not None else None
        room = assignment.max_contacts - (
            counted_against_limit(assignment) if held is None else held + assignment.handed_off_count
        )
        count = max(0, min(count, room))
        if count == 0:
            return _Plan(0, name, Reason.LIMIT_REACHED, role=role, probes=context.probes)

    bulk_send = config.resolve("BULK_SEND", campaign=campaign)
    if fast:
        assert context.probes is not None
        if not bulk_send and context.probes.unsent >= count:
            return _Plan(0, name, Reason.BATCH_UNFINISHED, role=role, probes=context.probes)
        return _Plan(count, name, None, role=role, fast=True, probes=context.probes)

    batch_query = context.pool()
    has_current = _default_has_current(assignment)
    select_contacts = getattr(strategy, "select_contacts", None)
    if select_contacts is not None:
        new_batch_query, new_has_current = select_contacts(batch_query, has_current, context) or (None, None)
        if new_batch_query is not None:
            batch_query = new_batch_query
        if new_has_current is not None:
            has_current = new_has_current

    if not bulk_send and has_current.order_by()[:count].count() >= count:
        return _Plan(0, name, Reason.BATCH_UNFINISHED, role=role)
    return _Plan(count, name, None, batch_query, role=role)


def offer(assignment_id: int, *, caller=None, batch_type: str | None = None, has_any: bool = False) -> Offer:
    """Return what a request would hand the texter now, assigning nothing."""
    now = timezone.now()
    probes = None
    if fastpath.on_postgresql():
        found = fastpath.load_for_offer(assignment_id, has_any=has_any, now=now)
        if found is None:
            raise NotFound(f"Assignment {assignment_id} not found.")
        assignment, role, probes = found
    else:
        assignment, role = _load(assignment_id, lock=False)
    _check_caller(assignment, caller, role)
    plan = _plan(assignment, requested=None, batch_type=batch_type, has_any=has_any, now=now, role=role, probes=probes)
    return Offer(plan.count, plan.strategy, plan.reason)


def _claim(batch_query: QuerySet[Contact], assignment: Assignment, count: int, now: dt.datetime) -> int:
    """Assign up to ``count`` contacts of ``batch_query`` and return how many.

    SELECT id ... LIMIT count FOR UPDATE SKIP LOCKED, then UPDATE those ids,
    in the caller's transaction. On PostgreSQL concurrent claims skip each
    other's rows instead of waiting. A row changed by a claim that committed
    first is re-checked against the query before it is locked, so no contact
    gets two owners. On SQLite the surrounding BEGIN IMMEDIATE transaction
    serialises claims instead.

    The ids are read before the UPDATE on purpose. Inside one
    UPDATE ... WHERE id IN (SELECT ... LIMIT count FOR UPDATE SKIP LOCKED),
    PostgreSQL 15 may run the subquery as the inner side of a nested-loop
    semi join, once per outer row. Each run skips the rows the statement
    already updated, so the UPDATE assigned more than ``count`` contacts.
    """
    # The batch query keeps its own order: the default pool is ordered as its
    # partial index is, which keeps the scan on that index. The offer counted
    # with the same function, so it sees the same rows.
    ids = [row[0] for row in leading_rows(batch_query, count, lock=True)]
    return Contact.objects.filter(id__in=ids).update(assignment_id=assignment.id, updated_at=now)


def _claim_and_record(assignment: Assignment, plan: _Plan, caller, now: dt.datetime) -> tuple[int, Probes | None]:
    """Claim the planned batch, count it on the assignment and record it in the history.

    Return how many contacts were assigned and, on the prepared-statement
    path, the probes of the offer planned next.
    """
    take_type = config.resolve("TAKE_CONVERSATIONS_BATCH_TYPE", campaign=assignment.campaign)
    kind = EventKind.TAKEN if plan.strategy == take_type else EventKind.BATCH
    actor = caller if caller is not None else assignment.texter
    after: Probes | None = None
    if plan.fast:
        assert plan.probes is not None
        assigned, after = fastpath.claim(
            assignment, plan.count, now=now, kind=kind, actor_id=actor.id, strategy=plan.strategy,
            before=plan.probes, next_limit=_wanted(assignment.campaign, None),
        )
    else:
        assert plan.batch_query is not None
        assigned = _claim(plan.batch_query, assignment, plan.count, now)
        if assigned:
            Assignment.objects.filter(id=assignment.id).update(batch_count=F("batch_count") + 1)
            AssignmentEvent.objects.create(
                campaign_id=assignment.campaign_id, kind=kind, actor=actor, to_assignment=assignment,
                contact_count=assigned, strategy=plan.strategy,
            )
    if assigned:
        assignment.batch_count += 1
    return assigned, after


def request_batch(
    assignment_id: int, *, caller=None, requested: int | None = None, batch_type: str | None = None
) -> BatchResult:
    """Assign the texter a batch of contacts, following the campaign's strategy."""
    if requested is not None and requested < 1:
        raise InvalidValue(f"count must be a positive number of contacts, not {requested}.")
    now = timezone.now()

    # The transaction starts by locking the texter's assignment row, so two
    # requests of one texter (a double click) run one after the other: the
    # second sees the first's batch when it checks max_contacts and "finish
    # your batch first".
    with transaction.atomic():
        assignment, role = _load(assignment_id, lock=True)
        _check_caller(assignment, caller, role)
        plan = _plan(assignment, requested=requested, batch_type=batch_type, has_any=False, now=now, role=role)
        assigned = 0
        # Nothing changed in this transaction unless a claim ran, so the
        # plan's probes hold for the next offer too.
        next_probes = plan.probes
        if plan.count > 0:
            assigned, next_probes = _claim_and_record(assignment, plan, caller, now)

        # The new offer is planned in the same transaction, with the row
        # still locked, so it sees this batch and no other request of this
        # texter can slip in between; it reuses the loaded assignment and role.
        after = _plan(assignment, requested=None, batch_type=batch_type, has_any=False, now=timezone.now(),
                      role=role, probes=next_probes)
    log.info(
        "batch request assignment=%s campaign=%s strategy=%s requested=%s assigned=%s reason=%s",
        assignment.id, assignment.campaign_id, plan.strategy, requested, assigned,
        plan.reason.code if plan.reason else None,
    )
    next_offer = Offer(after.count, after.strategy, after.reason)
    return BatchResult(found=assigned > 0, assigned=assigned, offer=next_offer)
