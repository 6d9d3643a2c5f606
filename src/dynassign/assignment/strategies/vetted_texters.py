"""Anyone for their first batch in the campaign; after that only vetted texters."""

from __future__ import annotations

from dynassign.assignment.strategies.base import BatchContext, Reason, available_or_refuse, baseline_refusal

name = "vetted-texters"


def display_name() -> str:
    return "First batch for everyone, more for vetted texters"


def request_new_batch_count(context: BatchContext) -> int:
    refused = baseline_refusal(context)
    if refused is not None:
        return refused
    # batch_count survives releases, so releasing a first batch does not
    # earn a second one.
    if context.assignment.batch_count > 0 and not context.is_vetted:
        return context.refuse(Reason.NOT_VETTED)
    return available_or_refuse(context)
