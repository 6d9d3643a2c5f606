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
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from django.db import connections
from django.db.models import QuerySet

from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.campaigns.texting_hours import TextingHours
from dynassign.organizations import config
from dynassign.organizations.roles import Role, has_role


class Reason(str, enum.Enum):
    """The reason an offer is zero, in words a texter can act on."""

    REPLIES_PENDING = "Answer your replies first, then you can request more."
    BATCH_UNFINISHED = "Finish sending your current batch first."
    NOT_VETTED = "Only vetted texters can request more; an admin can vet you."
    LIMIT_REACHED = "You have reached your limit of contacts in this campaign."
    OUTSIDE_HOURS = "It is outside texting hours for the remaining contacts."
    NOTHING_LEFT = "All contacts have been handed out."
    NO_CONVERSATIONS = "No conversations are waiting to be taken."
    CAMPAIGN_CLOSED = "This campaign is not handing out contacts."
    UNKNOWN_BATCH_TYPE = "That batch type is not enabled for this campaign."
    NO_CONTROLS = "Requesting texts is turned off for this campaign."

    @property
    def code(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Probes:
    """Numbers the default rules read from the contacts, read ahead in one statement."""

    replies_waiting: bool
    # Unsent contacts held, counted up to at least the batch size.
    unsent: int
    # Every contact held; None when the assignment has no max_contacts.
    held: int | None
    # The default pool, counted up to at least the limit asked for, and the
    # (timezone, id) of its first row.
    pool: int
    pool_start: tuple[str, int] | None = None


@dataclass
class BatchContext:
    """The input a strategy gets when asked about one texter's next batch."""

    organization: Any
    campaign: Campaign
    assignment: Any
    texter: Any
    role: str | None
    has_any: bool
    # The maximum number of contacts the request could use, so counting stops there.
    limit: int
    now: dt.datetime
    reason: Reason | None = None
    # Set when the numbers of the default rules were read ahead; the
    # helpers below use them instead of querying.
    probes: Probes | None = None
    # Whether the strategy read ``probes.pool``, as a pool count would have.
    pool_read: bool = False
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
        return len(leading_rows(query, 1 if self.has_any else self.limit))

    def pool_count(self) -> int:
        """Count the default pool as ``count`` does."""
        if self.probes is not None:
            self.pool_read = True
            # Probes may count further, for the offer that follows a claim.
            return min(self.probes.pool, 1 if self.has_any else self.limit)
        return self.count(self.pool())

    def campaign_is_closed(self) -> bool:
        """Return whether no initial messages may be handed out: archived or past the due date."""
        if self.campaign.is_archived:
            return True
        return self.campaign.due_at is not None and self.now >= self.campaign.due_at


# The start of each pool query, per process: its filters -> ((timezone, id)
# of the first row it last returned, when it returned it).
_pool_starts: dict[str, tuple[tuple[str | None, int], float]] = {}
POOL_START_MAX_AGE = 30.0
_POOL_STARTS_KEPT = 1000
_POOL_ORDER = ("timezone", "id")


def remembered_pool_start(key: str) -> tuple[str, int]:
    """Return the (timezone, id) a pool scan under ``key`` should start at: the very start when unknown or stale."""
    known = _pool_starts.get(key)
    if known is None or time.monotonic() - known[1] >= POOL_START_MAX_AGE:
        return "", 0
    zone, first_id = known[0]
    return zone or "", first_id


def remember_pool_start(key: str, zone: str | None, first_id: int) -> None:
    if len(_pool_starts) >= _POOL_STARTS_KEPT:
        _pool_starts.clear()
    _pool_starts[key] = ((zone, first_id), time.monotonic())


def leading_rows(query: QuerySet[Contact], limit: int, *, lock: bool = False) -> list[tuple[int, str | None]]:
    """Return (id, timezone) of the first ``limit`` rows of ``query``, locked with SKIP LOCKED when ``lock``.

    A claim sets ``assignment_id``, which leaves dead entries at the front
    of the pool index. Until VACUUM, every later scan from the start walks
    past all of them. On PostgreSQL, a pool query ordered
    as that index (``BatchContext.pool``) therefore starts where the same
    query last found its first row, and falls back to a scan from the start
    when that yields fewer than ``limit`` rows. The answer's size is exact
    either way: a short bounded scan is never trusted. What may differ is
    which contacts come first: a contact returned to the pool behind the
    start is handed out once the rows after it run short, or once the start
    is older than ``POOL_START_MAX_AGE`` seconds and is found again.
    """
    from dynassign.db import locked

    def fetch(part: QuerySet[Contact], size: int) -> list[tuple[int, str | None]]:
        part = locked(part, skip_locked=True) if lock else part
        return list(part.values_list("id", "timezone")[:size])

    if connections[query.db].vendor != "postgresql" or tuple(query.query.order_by) != _POOL_ORDER:
        return fetch(query, limit)
    # The filters identify the query; rendering its SQL would cost as much as running it.
    key = str(query.query.where)
    known = _pool_starts.get(key)
    rows: list[tuple[int, str | None]] = []
    if known is not None and time.monotonic() - known[1] < POOL_START_MAX_AGE:
        rows = _rows_from(query, known[0], limit, fetch)
    if len(rows) < limit:
        rows = fetch(query, limit)
    if rows:
        remember_pool_start(key, rows[0][1], rows[0][0])
    return rows


def _rows_from(query: QuerySet[Contact], start: tuple[str | None, int], limit: int, fetch: Any
               ) -> list[tuple[int, str | None]]:
    """Return the first ``limit`` rows of ``query`` at or after ``start`` in (timezone, id) order.

    PostgreSQL sorts a NULL time zone last, so the rows after a start with
    a time zone are those after it with one, then all without one.
    """
    table = Contact._meta.db_table
    zone, first_id = start
    if zone is None:
        return fetch(query.filter(timezone__isnull=True, id__gte=first_id), limit)
    # A row comparison is a range on the index; two ORed conditions are not.
    after = query.extra(where=[f'("{table}"."timezone", "{table}"."id") >= (%s, %s)'], params=[zone, first_id])
    rows = fetch(after, limit)
    if len(rows) < limit:
        rows += fetch(query.filter(timezone__isnull=True), limit - len(rows))
    return rows


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
    """Return whether a reply assigned to the texter awaits an answer, within texting hours when enforced."""
    if context.probes is not None:
        return context.probes.replies_waiting
    waiting = context.held().filter(message_status=MessageStatus.NEEDS_RESPONSE)
    zones = context.texting_hours.zones_open(context.now)
    if zones is not None:
        waiting = waiting.filter(timezone__in=zones)
    return waiting.exists()


def available_or_refuse(context: BatchContext, query: QuerySet[Contact] | None = None) -> int:
    """Count ``query`` (the default pool when None), refusing with NOTHING_LEFT when it is empty."""
    available = context.pool_count() if query is None else context.count(query)
    if available == 0:
        return context.refuse(Reason.NOTHING_LEFT)
    return available
