"""Any texter in the campaign, once they have no reply waiting to be answered."""

from __future__ import annotations

from dynassign.assignment.strategies.base import (
    BatchContext,
    Reason,
    available_or_refuse,
    baseline_refusal,
    replies_pending,
)

name = "finished-replies"


def display_name() -> str:
    return "Texters who have answered their replies"


def request_new_batch_count(context: BatchContext) -> int:
    refused = baseline_refusal(context)
    if refused is not None:
        return refused
    if replies_pending(context):
        return context.refuse(Reason.REPLIES_PENDING)
    return available_or_refuse(context)
