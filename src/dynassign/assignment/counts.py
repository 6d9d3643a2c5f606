"""Counts shown to texters and admins, read in one query each."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.campaigns.texting_hours import TextingHours


def assignment_counts(assignment: Assignment) -> dict[str, int]:
    """Return the texter's contacts by what they need: to send, replies waiting, held in all."""
    held = Contact.objects.filter(assignment_id=assignment.id)
    by_status = held.aggregate(
        held=Count("id"),
        to_send=Count("id", filter=Q(message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False)),
        replies=Count("id", filter=Q(message_status=MessageStatus.NEEDS_RESPONSE, is_opted_out=False)),
        messaged=Count("id", filter=Q(message_status=MessageStatus.MESSAGED)),
        convo=Count("id", filter=Q(message_status=MessageStatus.CONVO)),
        closed=Count("id", filter=Q(message_status=MessageStatus.CLOSED)),
        opted_out=Count("id", filter=Q(is_opted_out=True)),
    )
    by_status["past_hours"] = _past_hours(assignment, held)
    by_status["counted_against_limit"] = by_status["held"] + assignment.handed_off_count
    return by_status


def _past_hours(assignment: Assignment, held) -> int:
    """Count unsent contacts that cannot be texted now because of texting hours."""
    hours = TextingHours(assignment.campaign)
    if not hours.enforced:
        return 0
    now = timezone.now()
    unsent = (
        held.filter(message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False)
        .values("timezone")
        .annotate(n=Count("id"))
    )
    return sum(row["n"] for row in unsent if not hours.allows(row["timezone"], now))


def campaign_counts(campaign: Campaign) -> dict[str, int]:
    """Return the campaign's totals: by status, assigned, unassigned and the requestable pool."""
    contacts = Contact.objects.filter(campaign_id=campaign.id)
    totals = contacts.aggregate(
        total=Count("id"),
        assigned=Count("id", filter=Q(assignment__isnull=False)),
        unassigned=Count("id", filter=Q(assignment__isnull=True)),
        pool=Count(
            "id",
            filter=Q(assignment__isnull=True, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False),
        ),
        opted_out=Count("id", filter=Q(is_opted_out=True)),
        unsent=Count("id", filter=Q(message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False)),
        **{
            status: Count("id", filter=Q(message_status=status))
            for status in MessageStatus.values
        },
    )
    totals["texters"] = Assignment.objects.filter(campaign_id=campaign.id).count()
    # Opted-out contacts can never get their initial text, so they do not
    # hold the campaign open.
    totals["initial_texts_complete"] = totals["unsent"] == 0
    return totals
