"""Every texter in the campaign, any number of batches."""

from __future__ import annotations

from dynassign.assignment.strategies.base import BatchContext, available_or_refuse, baseline_refusal

name = "all-texters"


def display_name() -> str:
    return "All texters, any number of batches"


def request_new_batch_count(context: BatchContext) -> int:
    refused = baseline_refusal(context)
    if refused is not None:
        return refused
    return available_or_refuse(context)
