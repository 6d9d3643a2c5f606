"""As finished-replies, handing out only contacts whose local time is within texting hours."""

from __future__ import annotations

from django.db.models import QuerySet

from dynassign.assignment.strategies.base import BatchContext, Reason, baseline_refusal, replies_pending
from dynassign.campaigns.models import Contact

name = "finished-replies-tz"


def display_name() -> str:
    return "Texters who have answered their replies, contacts within texting hours"


def _within_hours(context: BatchContext, query: QuerySet[Contact]) -> QuerySet[Contact] | None:
    zones = context.texting_hours.zones_open(context.now)
    if zones is None:
        return query
    if not zones:
        return None
    return query.filter(timezone__in=zones)


def request_new_batch_count(context: BatchContext) -> int:
    refused = baseline_refusal(context)
    if refused is not None:
        return refused
    if replies_pending(context):
        return context.refuse(Reason.REPLIES_PENDING)
    pool = _within_hours(context, context.pool())
    if pool is None:
        return context.refuse(Reason.OUTSIDE_HOURS)
    available = context.count(pool)
    if available > 0:
        return available
    if context.pool()[:1].count():
        return context.refuse(Reason.OUTSIDE_HOURS)
    return context.refuse(Reason.NOTHING_LEFT)


def select_contacts(batch_query, has_current_query, context: BatchContext):
    within = _within_hours(context, batch_query)
    return (batch_query.none() if within is None else within), None
