"""The contract between dynassign and a strategy.

A strategy is any object (a module works) with:

- ``name``: the name used in ``DYNAMICASSIGNMENT_BATCHES``;
- ``display_name() -> str``: a title for admins choosing strategies;
- ``request_new_batch_count(context: BatchContext) -> int``: how many
  contacts this texter may get now, 0 when not eligible. The strategy is
  responsible for every restriction, the obvious ones included;
- optionally ``select_contacts(batch_query, has_current_query, context)``
  returning ``(batch_query, has_current_query)`` where either item may be
  ``None`` to keep the default.

The queries are Django QuerySets of ``Contact``; a strategy composes them
with ``.filter()`` and ``.exclude()``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from django.db.models import QuerySet

from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.campaigns.texting_hours import TextingHours
from dynassign.organizations import config
from dynassign.organizations.roles import Role, has_role


class Reason(str, enum.Enum):
    """Why an offer is zero, in words a texter can act on."""

    REPLIES_PENDING = "Answer your replies first, then you can request more."
    BATCH_UNFINISHED = "Finish sending your current batch first."
    NOT_VETTED = "Only vetted texters can request more; an admin can vet you."
    LIMIT_REACHED = "You have reached your limit of contacts in this campaign."
    OUTSIDE_HOURS = "It is outside texting hours for the remaining contacts."
    NOTHING_LEFT = "All contacts have been handed out."
    CAMPAIGN_CLOSED = "This campaign is not handing out contacts."
    UNKNOWN_BATCH_TYPE = "That batch type is not enabled for this campaign."
    NO_CONTROLS = "Requesting texts is turned off for this campaign."

    @property
    def code(self) -> str:
        return self.name.lower()


@dataclass
class BatchContext:
    """What a strategy sees when asked about one texter's next batch."""

    organization: Any
    campaign: Campaign
    assignment: Any
    texter: Any
    role: str | None
    has_any: bool
    # The most contacts the request could use: counting past it is wasted work.
    limit: int
    now: dt.datetime
    reason: Reason | None = None
    _hours: TextingHours | None = field(default=None, repr=False)

    @property
    def contacts(self) -> QuerySet[Contact]:
        return Contact.objects.all()

    @property
    def is_vetted(self) -> bool:
        return has_role(self.role, Role.VETTED_TEXTER)

    @property
    def texting_hours(self) -> TextingHours:
        if self._hours is None:
            self._hours = TextingHours(self.campaign)
        return self._hours

    def setting(self, name: str) -> Any:
        return config.resolve(name, campaign=self.campaign, organization=self.organization)

    def refuse(self, reason: Reason) -> int:
        """Record why the texter gets nothing and return 0."""
        self.reason = reason
        return 0

    def pool(self) -> QuerySet[Contact]:
        """Return the default batch query: unassigned, never texted, not opted out.

        Ordered as the partial index ``contact_pool`` is, so PostgreSQL reads
        that index and stops after the rows it needs. Without the order, its
        statistics (which count contacts claimed since the last ANALYZE as
        still unassigned) can lead it to a scan that passes every claimed
        contact of the campaign.
        """
        return Contact.objects.filter(
            campaign_id=self.campaign.id,
            assignment__isnull=True,
            message_status=MessageStatus.NEEDS_MESSAGE,
            is_opted_out=False,
        ).order_by("timezone", "id")

    def held(self) -> QuerySet[Contact]:
        return Contact.objects.filter(assignment_id=self.assignment.id)

    def count(self, query: QuerySet[Contact]) -> int:
        """Count ``query`` up to ``limit``, or just check for one row when ``has_any`` is set."""
        if self.has_any:
            # A sliced count keeps the query's order, which exists() drops.
            return query[:1].count()
        return query[: self.limit].count()

    def campaign_is_closed(self) -> bool:
        """Return whether no initial messages may be handed out: archived or past the due date."""
        if self.campaign.is_archived:
            return True
        return self.campaign.due_at is not None and self.now >= self.campaign.due_at


@runtime_checkable
class Strategy(Protocol):
    name: str

    def display_name(self) -> str: ...

    def request_new_batch_count(self, context: BatchContext) -> int: ...


def baseline_refusal(context: BatchContext) -> int | None:
    """Apply the restrictions every dynamic-assignment strategy starts with.

    Return 0 (with the reason recorded) when the texter cannot get a batch
    whatever the strategy adds, otherwise ``None``.
    """
    campaign = context.campaign
    if not campaign.use_dynamic_assignment or context.campaign_is_closed() or not campaign.batch_size:
        return context.refuse(Reason.CAMPAIGN_CLOSED)
    if context.assignment.max_contacts == 0:
        return context.refuse(Reason.LIMIT_REACHED)
    return None


def replies_pending(context: BatchContext) -> bool:
    """Return whether the texter holds a reply to answer, within texting hours when enforced."""
    waiting = context.held().filter(message_status=MessageStatus.NEEDS_RESPONSE)
    zones = context.texting_hours.zones_open(context.now)
    if zones is not None:
        waiting = waiting.filter(timezone__in=zones)
    return waiting.exists()


def available_or_refuse(context: BatchContext, query: QuerySet[Contact]) -> int:
    available = context.count(query)
    if available == 0:
        return context.refuse(Reason.NOTHING_LEFT)
    return available
