"""The fake message service's side of the conversation: contacts' replies and the outbox.

Demos and the load simulator play the contacts through these endpoints;
only admins of the contact's organization may use them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from dynassign.api import schemas
from dynassign.campaigns.models import Campaign, Contact
from dynassign.exceptions import NotFound, PermissionDenied
from dynassign.messaging.models import Direction, Message
from dynassign.messaging.sending import receive_message
from dynassign.organizations.access import require_role
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role

router = Router(tags=["fake message service"])

_ERRORS = {403: schemas.ErrorOut, 404: schemas.ErrorOut, 422: schemas.ErrorOut}


@router.post("/fake/replies", response={200: schemas.FakeReplyOut, **_ERRORS})
def reply(request: HttpRequest, payload: schemas.FakeReplyIn) -> dict[str, Any]:
    """Store a reply from the contact, as the message service would; STOP and the like opt the cell out."""
    organization_id = Contact.objects.filter(id=payload.contact_id).values_list("campaign__organization_id", flat=True).first()
    if organization_id is None:
        raise NotFound(f"Contact {payload.contact_id} not found.")
    require_role(request.auth, organization_id, Role.ADMIN)
    message = receive_message(payload.contact_id, payload.text)
    contact = Contact.objects.get(id=payload.contact_id)
    return {"message": message, "contact_status": contact.message_status, "is_opted_out": contact.is_opted_out}


def _administered_organizations(user: Any) -> list[int]:
    admin_roles = [Role.OWNER, Role.ADMIN]
    return list(Membership.objects.filter(user=user, role__in=admin_roles).values_list("organization_id", flat=True))


@router.get("/fake/outbox", response={200: schemas.OutboxPage, **_ERRORS})
def outbox(request: HttpRequest, filters: Query[schemas.OutboxFilter]) -> dict[str, Any]:
    """List outbound messages oldest first; poll with since_id set to the last next_since_id."""
    messages = Message.objects.filter(direction=Direction.OUTBOUND, id__gt=filters.since_id)
    if filters.campaign_id is not None:
        organization_id = Campaign.objects.filter(id=filters.campaign_id).values_list("organization_id", flat=True).first()
        if organization_id is None:
            raise NotFound(f"Campaign {filters.campaign_id} not found.")
        require_role(request.auth, organization_id, Role.ADMIN)
        messages = messages.filter(contact__campaign_id=filters.campaign_id)
    else:
        organizations = _administered_organizations(request.auth)
        if not organizations:
            raise PermissionDenied("The outbox is for organization admins; you administer no organization.")
        messages = messages.filter(contact__campaign__organization_id__in=organizations)

    rows = list(
        messages.order_by("id").values(
            "id", "contact_id", "contact__campaign_id", "contact__cell", "text", "assignment_id", "created_at"
        )[: filters.limit]
    )
    items = [
        {
            "id": row["id"],
            "contact_id": row["contact_id"],
            "campaign_id": row["contact__campaign_id"],
            "cell": row["contact__cell"],
            "text": row["text"],
            "assignment_id": row["assignment_id"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]
    return {"items": items, "next_since_id": items[-1]["id"] if items else filters.since_id}
