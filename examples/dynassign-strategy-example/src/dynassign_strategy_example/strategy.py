"""A small first batch for each texter, then the campaign's batch size.

New texters get a few contacts to learn the script on; after that the
strategy behaves like finished-replies.
"""

from __future__ import annotations

from dynassign.assignment.strategies.base import (
    BatchContext,
    Reason,
    available_or_refuse,
    baseline_refusal,
    replies_pending,
)

name = "small-batches-first"

# Contacts in a texter's first batch of the campaign.
FIRST_BATCH_SIZE = 3


def display_name() -> str:
    return f"First batch of {FIRST_BATCH_SIZE}, then full batches once replies are answered"


def request_new_batch_count(context: BatchContext) -> int:
    refused = baseline_refusal(context)
    if refused is not None:
        return refused
    if replies_pending(context):
        return context.refuse(Reason.REPLIES_PENDING)
    available = available_or_refuse(context)
    # batch_count counts every batch ever received, releases included.
    if context.assignment.batch_count == 0:
        return min(available, FIRST_BATCH_SIZE)
    return available
