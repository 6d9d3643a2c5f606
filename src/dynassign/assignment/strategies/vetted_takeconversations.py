"""Vetted texters take conversations nobody holds: replies dropped or handed off.

Meant as a second strategy beside a default one, with the take-conversations
control; it works with or without dynamic assignment and a batch size.
"""

from __future__ import annotations

from dynassign.assignment.strategies.base import BatchContext, Reason
from dynassign.campaigns.models import Contact, MessageStatus

name = "vetted-takeconversations"

NOT_CONVERSATIONS = [MessageStatus.NEEDS_MESSAGE, MessageStatus.MESSAGED]


def display_name() -> str:
    return "Vetted texters take unheld conversations"


def _conversations(context: BatchContext):
    return Contact.objects.filter(
        campaign_id=context.campaign.id, assignment__isnull=True, is_opted_out=False
    ).exclude(message_status__in=NOT_CONVERSATIONS)


def request_new_batch_count(context: BatchContext) -> int:
    if context.campaign.is_archived:
        return context.refuse(Reason.CAMPAIGN_CLOSED)
    if context.assignment.max_contacts == 0:
        return context.refuse(Reason.LIMIT_REACHED)
    if not context.is_vetted:
        return context.refuse(Reason.NOT_VETTED)
    available = context.count(_conversations(context))
    if available == 0:
        return context.refuse(Reason.NO_CONVERSATIONS)
    return available


def select_contacts(batch_query, has_current_query, context: BatchContext):
    has_current = context.held().filter(
        message_status__in=[MessageStatus.NEEDS_MESSAGE, MessageStatus.NEEDS_RESPONSE]
    )
    return _conversations(context), has_current
