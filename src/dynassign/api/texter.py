"""Texter endpoints: join by link, request and release batches, text contacts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from dynassign.api import schemas
from dynassign.api.lookups import assignment_for, contact_for
from dynassign.assignment import batches
from dynassign.assignment.counts import assignment_counts
from dynassign.assignment.joining import join_by_link
from dynassign.assignment.models import Assignment
from dynassign.assignment.releasing import release
from dynassign.campaigns.services import set_max_contacts
from dynassign.exceptions import PermissionDenied
from dynassign.messaging.models import Message
from dynassign.messaging.sending import close_contact, opt_out, render_script, send_message
from dynassign.organizations import config
from dynassign.organizations.access import role_of
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role, has_role

router = Router(tags=["texter"])

FIRST_REQUEST_LABEL = "Start texting"


def texter_ui(assignment: Assignment, texter_role: str | None) -> dict[str, Any]:
    """Resolve the texter UI settings for this texter; vetted-only controls are off for others."""
    settings = config.resolve_all(campaign=assignment.campaign)
    is_vetted = has_role(texter_role, Role.VETTED_TEXTER)
    release_contacts = bool(settings["RELEASE_CONTACTS"])
    release_conversations = (
        release_contacts
        and bool(settings["RELEASE_CONVERSATIONS"])
        and (is_vetted or not settings["RELEASE_CONVERSATIONS_VETTED_ONLY"])
    )
    take_conversations = bool(settings["TAKE_CONVERSATIONS"]) and is_vetted
    return {
        "DYNAMIC_ASSIGNMENT_CONTROLS": settings["DYNAMIC_ASSIGNMENT_CONTROLS"],
        "REQUEST_LABEL": FIRST_REQUEST_LABEL if assignment.batch_count == 0 else settings["REQUEST_LABEL"],
        "REQUEST_MESSAGE": settings["REQUEST_MESSAGE"],
        "NOTHING_TO_DO_MESSAGE": settings["NOTHING_TO_DO_MESSAGE"],
        "RELEASE_CONTACTS": release_contacts,
        "RELEASE_CONVERSATIONS": release_conversations,
        "TAKE_CONVERSATIONS": take_conversations,
        "TAKE_CONVERSATIONS_BATCH_SIZE": settings["TAKE_CONVERSATIONS_BATCH_SIZE"] if take_conversations else None,
        "TAKE_CONVERSATIONS_BATCH_TYPE": settings["TAKE_CONVERSATIONS_BATCH_TYPE"] if take_conversations else None,
    }


def assignment_out(assignment: Assignment, texter_role: str | None) -> dict[str, Any]:
    """Shape an assignment whose access was already checked, with its counts, offer and UI settings."""
    campaign = assignment.campaign
    return {
        "id": assignment.id,
        "campaign_id": campaign.id,
        "campaign_title": campaign.title,
        "campaign_is_archived": campaign.is_archived,
        "max_contacts": assignment.max_contacts,
        "batch_count": assignment.batch_count,
        "counts": assignment_counts(assignment),
        "offer": batches.offer(assignment.id).as_dict(),
        "ui": texter_ui(assignment, texter_role),
    }


def _texter_role(assignment: Assignment) -> str | None:
    return role_of(assignment.texter, assignment.campaign.organization_id)


@router.post(
    "/join/{token}",
    response={200: schemas.AssignmentOut, 201: schemas.AssignmentOut, 403: schemas.ErrorOut,
              404: schemas.ErrorOut, 409: schemas.ErrorOut},
)
def join(request: HttpRequest, token: str) -> Status[dict[str, Any]]:
    """Join the campaign behind a join link; following it again returns the same assignment."""
    result = join_by_link(request.auth, token)
    assignment = assignment_for(request.auth, result.assignment.id)
    return Status(201 if result.created else 200, assignment_out(assignment, _texter_role(assignment)))


@router.get("/assignments", response=list[schemas.AssignmentOut])
def my_assignments(request: HttpRequest) -> list[dict[str, Any]]:
    """List the caller's assignments, newest first."""
    user = request.auth
    roles = dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))
    assignments = (
        Assignment.objects.filter(texter=user).select_related("campaign__organization", "texter").order_by("-created_at", "-id")
    )
    return [assignment_out(assignment, roles.get(assignment.campaign.organization_id)) for assignment in assignments]


@router.get("/assignments/{assignment_id}", response={200: schemas.AssignmentOut, 404: schemas.ErrorOut})
def assignment_detail(request: HttpRequest, assignment_id: int) -> dict[str, Any]:
    assignment = assignment_for(request.auth, assignment_id)
    return assignment_out(assignment, _texter_role(assignment))


# An admin endpoint, but it sits here because Django matches the first URL
# pattern for a path, so every method of /assignments/{id} must share a router.
@router.patch(
    "/assignments/{assignment_id}",
    response={200: schemas.MaxContactsOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut, 422: schemas.ErrorOut},
    tags=["campaigns"],
)
def change_max_contacts(request: HttpRequest, assignment_id: int, payload: schemas.MaxContactsIn) -> dict[str, Any]:
    """Set a texter's max_contacts; lowering it below what they hold removes nothing."""
    assignment = set_max_contacts(assignment_id, request.auth, payload.max_contacts)
    return {"assignment_id": assignment.id, "max_contacts": assignment.max_contacts}


@router.get("/assignments/{assignment_id}/offer", response={200: schemas.OfferOut, 404: schemas.ErrorOut})
def assignment_offer(request: HttpRequest, assignment_id: int, batch_type: str | None = None) -> dict[str, Any]:
    """Return what a request would assign now, and the reason when it is 0."""
    return batches.offer(assignment_id, caller=request.auth, batch_type=batch_type or None).as_dict()


def _batch_out(assignment_id: int, result: batches.BatchResult) -> dict[str, Any]:
    assignment = Assignment.objects.select_related("campaign__organization").get(id=assignment_id)
    return {
        "found": result.found,
        "assigned": result.assigned,
        "offer": result.offer.as_dict(),
        "counts": assignment_counts(assignment),
    }


@router.post("/assignments/{assignment_id}/batches", response={200: schemas.BatchOut, 404: schemas.ErrorOut})
def request_batch(request: HttpRequest, assignment_id: int, payload: schemas.BatchIn) -> dict[str, Any]:
    """Request a batch of contacts; the response contains the new offer and counts."""
    result = batches.request_batch(
        assignment_id, caller=request.auth, requested=payload.count, batch_type=payload.batch_type or None
    )
    return _batch_out(assignment_id, result)


@router.post(
    "/assignments/{assignment_id}/take-conversations",
    response={200: schemas.BatchOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut},
)
def take_conversations(request: HttpRequest, assignment_id: int) -> dict[str, Any]:
    """Request unassigned conversations with the campaign's take-conversations batch type and size."""
    campaign = assignment_for(request.auth, assignment_id).campaign
    if not config.resolve("TAKE_CONVERSATIONS", campaign=campaign):
        raise PermissionDenied(
            f"Taking conversations is turned off for campaign {campaign.id}; "
            "an admin can turn on TAKE_CONVERSATIONS."
        )
    result = batches.request_batch(
        assignment_id,
        caller=request.auth,
        requested=config.resolve("TAKE_CONVERSATIONS_BATCH_SIZE", campaign=campaign),
        batch_type=config.resolve("TAKE_CONVERSATIONS_BATCH_TYPE", campaign=campaign),
    )
    return _batch_out(assignment_id, result)


@router.get("/assignments/{assignment_id}/contacts", response={200: schemas.ContactPage, 404: schemas.ErrorOut})
def assignment_contacts(request: HttpRequest, assignment_id: int, filters: Query[schemas.ContactFilter]) -> dict[str, Any]:
    """List the contacts the assignment holds, oldest id first."""
    assignment = assignment_for(request.auth, assignment_id)
    contacts = assignment.contacts.order_by("id")
    if filters.status is not None:
        contacts = contacts.filter(message_status=filters.status)
    page = list(contacts[filters.offset : filters.offset + filters.limit + 1])
    has_more = len(page) > filters.limit
    return {"items": page[: filters.limit], "next_offset": filters.offset + filters.limit if has_more else None}


@router.post(
    "/assignments/{assignment_id}/release",
    response={200: schemas.ReleaseOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut},
)
def release_contacts(request: HttpRequest, assignment_id: int, payload: schemas.ReleaseIn) -> dict[str, Any]:
    """Release the unsent contacts, and with ``conversations`` every contact held."""
    result = release(assignment_id, request.auth, conversations=payload.conversations)
    return {"released": result.released, "counts": result.counts}


@router.get("/contacts/{contact_id}", response={200: schemas.ContactDetailOut, 404: schemas.ErrorOut})
def contact_detail(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    """Return a contact with its messages and the campaign's script filled from it."""
    contact = contact_for(request.auth, contact_id)
    texter = contact.assignment.texter if contact.assignment is not None else request.auth
    return {
        **{field: getattr(contact, field) for field in schemas.ContactOut.model_fields},
        "campaign_id": contact.campaign_id,
        "assignment_id": contact.assignment_id,
        "external_id": contact.external_id,
        "custom_fields": contact.custom_fields or {},
        "script": render_script(contact.campaign.script, contact, texter),
        "messages": list(Message.objects.filter(contact_id=contact.id).order_by("created_at", "id")),
    }


@router.post(
    "/contacts/{contact_id}/messages",
    response={200: schemas.SendOut, 404: schemas.ErrorOut, 409: schemas.ErrorOut, 422: schemas.ErrorOut},
)
def send(request: HttpRequest, contact_id: int, payload: schemas.SendIn) -> dict[str, Any]:
    """Send a message; the initial message goes out once however often this is sent."""
    result = send_message(contact_id, request.auth, text=payload.text, initial=payload.initial)
    return {"sent": result.sent, "status": result.status, "message": result.message}


@router.post("/contacts/{contact_id}/opt-out", response={200: schemas.OptOutOut, 404: schemas.ErrorOut})
def opt_out_contact(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    """Opt the contact's cell out in every campaign of the organization."""
    marked = opt_out(contact_id, request.auth, reason=f"opted out by user {request.auth.id}")
    return {"opted_out_contacts": marked}


@router.post("/contacts/{contact_id}/close", response={200: schemas.CloseOut, 404: schemas.ErrorOut})
def close(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    return {"status": close_contact(contact_id, request.auth)}
