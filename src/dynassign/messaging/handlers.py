"""Message handlers: hooks that run around saving each message, in the configured order.

A handler is a callable ``handler(message, *, campaign)`` run inside the
transaction that saves the message, after the row is written. The
``MESSAGE_HANDLERS`` environment variable lists the enabled handlers.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from django.db.models import F

from dynassign.campaigns.models import MessageStatus

log = logging.getLogger(__name__)


def outbound_unassign(message: Any, *, campaign: Any) -> None:
    """Unassign a contact when its first message goes out, if the campaign enables it.

    The contact leaves the texter's assignment as part of the same save, so
    a vetted texter can take the conversation when the contact replies. The
    texter's max_contacts still counts it.
    """
    from dynassign.assignment.models import Assignment, AssignmentEvent, EventKind
    from dynassign.messaging.models import Direction
    from dynassign.organizations import config

    if message.direction != Direction.OUTBOUND or not config.resolve("OUTBOUND_UNASSIGN", campaign=campaign):
        return
    contact = message.contact
    if message.previous_status != MessageStatus.NEEDS_MESSAGE or contact.assignment_id is None:
        return
    assignment_id = contact.assignment_id
    type(contact).objects.filter(id=contact.id).update(assignment=None)
    contact.assignment_id = None
    Assignment.objects.filter(id=assignment_id).update(handed_off_count=F("handed_off_count") + 1)
    AssignmentEvent.objects.create(
        campaign_id=campaign.id,
        kind=EventKind.UNASSIGNED,
        from_assignment_id=assignment_id,
        contact_count=1,
        strategy="outbound-unassign",
    )


HANDLERS: dict[str, Callable[..., None]] = {
    "outbound-unassign": outbound_unassign,
}


def enabled_handlers() -> list[Callable[..., None]]:
    from dynassign.organizations import config

    names = [name for name in str(config.environment_value("MESSAGE_HANDLERS")).split(",") if name]
    return [HANDLERS[name] for name in names]
