"""Sending and receiving messages, with the message status transitions."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.campaigns.texting_hours import TextingHours
from dynassign.db import locked
from dynassign.exceptions import Conflict, InvalidValue, NotFound, PermissionDenied
from dynassign.messaging.handlers import enabled_handlers
from dynassign.messaging.models import Direction, Message, OptOut
from dynassign.messaging.services import current_service
from dynassign.organizations.access import role_of
from dynassign.organizations.roles import Role, has_role

log = logging.getLogger(__name__)

OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class SendResult:
    message: Message | None
    sent: bool
    status: str


def render_script(script: str, contact: Contact, texter=None) -> str:
    """Fill {firstName}-style fields from the contact, its custom fields and the texter."""
    values = {
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "cell": contact.cell,
        "zip": contact.zip,
        "external_id": contact.external_id,
        **{str(key): str(value) for key, value in (contact.custom_fields or {}).items()},
    }
    if texter is not None:
        values["texterFirstName"] = texter.first_name or texter.username
        values["texterLastName"] = texter.last_name
    return _FIELD.sub(lambda match: values.get(match.group(1), match.group(0)), script)


def _load_contact(contact_id: int) -> Contact:
    """Lock and return a contact, locking its assignment's row first.

    Batch requests and releases lock an assignment before its contacts. A
    send takes the same order, so a send whose handler updates the
    assignment (outbound unassign) cannot wait in a cycle with a release of
    that assignment, which PostgreSQL would end as a deadlock.
    """
    # NOTE: a contact reassigned between this read and its lock gets its new
    # assignment updated without that assignment locked first, so a deadlock
    # stays possible in that window of one statement.
    assignment_id = Contact.objects.filter(id=contact_id).values_list("assignment_id", flat=True).first()
    if assignment_id is not None:
        list(locked(Assignment.objects.filter(id=assignment_id).only("id")))
    query = locked(Contact.objects.select_related("campaign__organization", "assignment"))
    try:
        return query.get(id=contact_id)
    except Contact.DoesNotExist:
        raise NotFound(f"Contact {contact_id} not found.") from None


def _check_sender(contact: Contact, caller) -> None:
    """Check that ``caller`` is the contact's current assignee or an admin of its organization, and not suspended."""
    role = role_of(caller, contact.campaign.organization_id)
    if role == Role.SUSPENDED:
        raise PermissionDenied(f"Your account is suspended in {contact.campaign.organization.name}; contact an admin.")
    if contact.assignment is not None and contact.assignment.texter_id == caller.id:
        return
    if has_role(role, Role.ADMIN):
        return
    raise NotFound(f"Contact {contact.id} is not assigned to you; it may have been reassigned.")


def send_message(contact_id: int, caller, *, text: str | None = None, initial: bool = False) -> SendResult:
    """Send a message to a contact and move its status on.

    The initial message goes out once: sending it again for a contact that
    has it is a no-op that returns ``sent=False``. Without ``text``, the
    initial message is the campaign's script filled from the contact.
    """
    now = timezone.now()
    with transaction.atomic():
        contact = _load_contact(contact_id)
        campaign = contact.campaign
        _check_sender(contact, caller)
        previous = contact.message_status
        is_initial = previous == MessageStatus.NEEDS_MESSAGE
        if (initial or text is None) and not is_initial:
            return SendResult(None, sent=False, status=previous)
        if contact.is_opted_out:
            raise Conflict(f"Contact {contact.id} has opted out; nothing can be sent to {contact.cell}.", code="opted_out")
        hours = TextingHours(campaign)
        if not hours.allows(contact.timezone, now):
            raise Conflict(
                f"It is outside texting hours ({hours.start}:00-{hours.end}:00) for contact {contact.id} "
                f"in {contact.timezone or hours.default_zone}; send again within those hours.",
                code="outside_texting_hours",
            )
        if is_initial and campaign.due_at is not None and now >= campaign.due_at:
            raise Conflict(f"Campaign {campaign.id} is past its due date; no initial messages can be sent.", code="past_due")
        body = text if text is not None else render_script(campaign.script, contact, caller)
        if not body.strip():
            raise InvalidValue("The message text is empty; write a message or give the campaign a script.")

        new_status = _status_after_send(previous)
        message = Message.objects.create(
            contact=contact, direction=Direction.OUTBOUND, text=body, assignment_id=contact.assignment_id
        )
        Contact.objects.filter(id=contact.id).update(message_status=new_status, updated_at=now)
        contact.message_status = new_status
        message.previous_status = previous
        for handler in enabled_handlers():
            handler(message, campaign=campaign)
    current_service().send(to=contact.cell, text=body, message_id=message.id)
    return SendResult(message, sent=True, status=new_status)


def _status_after_send(previous: str) -> str:
    if previous == MessageStatus.NEEDS_MESSAGE:
        return MessageStatus.MESSAGED
    if previous == MessageStatus.MESSAGED:
        return MessageStatus.MESSAGED
    return MessageStatus.CONVO


def receive_message(contact_id: int, text: str) -> Message:
    """Store a contact's reply; the contact then waits for an answer (needsResponse).

    A reply to a closed contact reopens it. A reply that is an opt-out
    keyword such as STOP opts the cell out across the organization.
    """
    with transaction.atomic():
        contact = _load_contact(contact_id)
        message = Message.objects.create(
            contact=contact, direction=Direction.INBOUND, text=text, assignment_id=contact.assignment_id
        )
        Contact.objects.filter(id=contact.id).update(message_status=MessageStatus.NEEDS_RESPONSE, updated_at=timezone.now())
        message.previous_status = contact.message_status
        for handler in enabled_handlers():
            handler(message, campaign=contact.campaign)
    if text.strip().upper() in OPT_OUT_KEYWORDS:
        opt_out(contact_id, caller=None, reason=f"replied {text.strip()!r}")
    return message


def opt_out(contact_id: int, caller, *, reason: str = "") -> int:
    """Opt the contact's cell out in every campaign of its organization; return contacts marked.

    ``caller`` None means the contact asked, through an inbound message.
    """
    with transaction.atomic():
        contact = _load_contact(contact_id)
        if caller is not None:
            _check_sender(contact, caller)
        organization_id = contact.campaign.organization_id
        OptOut.objects.get_or_create(organization_id=organization_id, cell=contact.cell, defaults={"reason": reason})
        marked = Contact.objects.filter(campaign__organization_id=organization_id, cell=contact.cell).update(
            is_opted_out=True, updated_at=timezone.now()
        )
    log.info("opted out cell of contact=%s organization=%s contacts=%s", contact.id, organization_id, marked)
    return marked


def close_contact(contact_id: int, caller) -> str:
    """Mark a contact closed: skipped, or the conversation is finished."""
    with transaction.atomic():
        contact = _load_contact(contact_id)
        _check_sender(contact, caller)
        Contact.objects.filter(id=contact.id).update(message_status=MessageStatus.CLOSED, updated_at=timezone.now())
    return MessageStatus.CLOSED
