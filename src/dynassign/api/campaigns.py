"""Campaign administration: edit, upload contacts, start and archive, texters, reassign, stats, history."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import File, Query, Router, UploadedFile

from dynassign.api import schemas
from dynassign.assignment.counts import assignment_counts, campaign_counts
from dynassign.assignment.models import AssignmentEvent
from dynassign.assignment.reassigning import reassign
from dynassign.campaigns import services
from dynassign.campaigns.importing import import_contacts
from dynassign.campaigns.models import Campaign, Contact
from dynassign.organizations import config
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role

router = Router(tags=["campaigns"])

_ERRORS = {403: schemas.ErrorOut, 404: schemas.ErrorOut, 409: schemas.ErrorOut, 422: schemas.ErrorOut}

# An upload's response lists at most this many rejected rows, so a file of a
# million bad rows still gets a response of a few megabytes.
MAX_REPORTED_ROWS = 10_000


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    """Shape a campaign with its own overrides, every setting in effect, and the join link."""
    return {
        **{field: getattr(campaign, field) for field in schemas.CampaignSummaryOut.model_fields},
        "organization_id": campaign.organization_id,
        "description": campaign.description,
        "script": campaign.script,
        "response_window": campaign.response_window,
        "due_at": campaign.due_at,
        "settings": campaign.settings,
        "resolved_settings": config.resolve_all(campaign=campaign),
        "join_token": campaign.join_token,
        "join_path": f"/api/join/{campaign.join_token}",
    }


def _next_offset(offset: int, limit: int, fetched: int) -> int | None:
    """Return the next page's offset when a page fetched with one extra row came back full."""
    return offset + limit if fetched > limit else None


@router.get("/campaigns/{campaign_id}", response={200: schemas.CampaignOut, **_ERRORS})
def campaign_detail(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return campaign_out(services.get_campaign(campaign_id, request.auth))


@router.patch("/campaigns/{campaign_id}", response={200: schemas.CampaignOut, **_ERRORS})
def change_campaign(request: HttpRequest, campaign_id: int, payload: schemas.CampaignPatch) -> dict[str, Any]:
    """Change the fields present in the body; a setting set to null inherits again."""
    campaign = services.update_campaign(campaign_id, request.auth, **payload.model_dump(exclude_unset=True))
    return campaign_out(campaign)


@router.post("/campaigns/{campaign_id}/contacts", response={200: schemas.ImportReportOut, **_ERRORS})
def upload_contacts(request: HttpRequest, campaign_id: int, file: File[UploadedFile]) -> dict[str, Any]:
    """Import a CSV of contacts (columns firstName, lastName, cell; zip, external_id and others optional).

    Good rows are stored and every rejected row is reported with its line,
    column and reason.
    """
    campaign = services.get_campaign(campaign_id, request.auth, Role.ADMIN)
    report = import_contacts(campaign, file.file)
    rows = []
    for row in report.iter_rejected_rows():
        if len(rows) == MAX_REPORTED_ROWS:
            break
        rows.append({"line": row.line, "column": row.column or None, "code": row.code, "message": row.message})
    return {"imported": report.imported, "rejected": report.rejected, "rows": rows}


@router.post("/campaigns/{campaign_id}/start", response={200: schemas.CampaignOut, **_ERRORS})
def start(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return campaign_out(services.start_campaign(campaign_id, request.auth))


@router.post("/campaigns/{campaign_id}/archive", response={200: schemas.CampaignOut, **_ERRORS})
def archive(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return campaign_out(services.archive_campaign(campaign_id, request.auth, archived=True))


@router.post("/campaigns/{campaign_id}/unarchive", response={200: schemas.CampaignOut, **_ERRORS})
def unarchive(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return campaign_out(services.archive_campaign(campaign_id, request.auth, archived=False))


@router.post("/campaigns/{campaign_id}/rotate-link", response={200: schemas.CampaignOut, **_ERRORS})
def rotate_link(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    """Replace the join link; the old link stops working at once."""
    return campaign_out(services.rotate_join_token(campaign_id, request.auth))


@router.get("/campaigns/{campaign_id}/texters", response={200: schemas.TexterPage, **_ERRORS})
def texters(request: HttpRequest, campaign_id: int, page: Query[schemas.PageFilter]) -> dict[str, Any]:
    """List the campaign's texters with their counts and max_contacts, in joining order."""
    campaign = services.get_campaign(campaign_id, request.auth)
    assignments = list(
        campaign.assignments.select_related("campaign__organization", "texter").order_by("id")[
            page.offset : page.offset + page.limit + 1
        ]
    )
    roles = dict(
        Membership.objects.filter(
            organization_id=campaign.organization_id, user_id__in=[a.texter_id for a in assignments]
        ).values_list("user_id", "role")
    )
    items = [
        {
            "assignment_id": assignment.id,
            "texter": assignment.texter,
            "role": roles.get(assignment.texter_id),
            "max_contacts": assignment.max_contacts,
            "counts": assignment_counts(assignment),
        }
        for assignment in assignments[: page.limit]
    ]
    return {"items": items, "next_offset": _next_offset(page.offset, page.limit, len(assignments))}


@router.post("/campaigns/{campaign_id}/reassign", response={200: schemas.ReassignOut, **_ERRORS})
def reassign_contacts(request: HttpRequest, campaign_id: int, payload: schemas.ReassignIn) -> dict[str, Any]:
    """Move contacts matching the filter to the given texters, split evenly, or back to the pool."""
    result = reassign(
        campaign_id,
        request.auth,
        statuses=payload.statuses,
        from_texter_ids=payload.from_texter_ids,
        to_texter_ids=payload.to_texter_ids,
        count=payload.count,
    )
    targets = [{"texter_id": texter_id, "count": count} for texter_id, count in result.per_texter.items()]
    return {"moved": result.moved, "targets": targets}


@router.get("/campaigns/{campaign_id}/stats", response={200: schemas.StatsOut, **_ERRORS})
def stats(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    """Return the campaign's counts, read together so they agree with each other."""
    return campaign_counts(services.get_campaign(campaign_id, request.auth))


@router.get("/campaigns/{campaign_id}/history", response={200: schemas.EventPage, **_ERRORS})
def history(request: HttpRequest, campaign_id: int, filters: Query[schemas.HistoryFilter]) -> dict[str, Any]:
    """List assignment events, newest first: batches, releases, hand-offs, takes and reassignments."""
    campaign = services.get_campaign(campaign_id, request.auth)
    events = AssignmentEvent.objects.filter(campaign_id=campaign.id).select_related("from_assignment", "to_assignment")
    if filters.kind is not None:
        events = events.filter(kind=filters.kind)
    if filters.texter_id is not None:
        events = events.filter(
            Q(from_assignment__texter_id=filters.texter_id) | Q(to_assignment__texter_id=filters.texter_id)
        )
    page = list(events.order_by("-created_at", "-id")[filters.offset : filters.offset + filters.limit + 1])
    items = [
        {
            "id": event.id,
            "kind": event.kind,
            "actor_id": event.actor_id,
            "from_assignment_id": event.from_assignment_id,
            "from_texter_id": event.from_assignment.texter_id if event.from_assignment else None,
            "to_assignment_id": event.to_assignment_id,
            "to_texter_id": event.to_assignment.texter_id if event.to_assignment else None,
            "contact_count": event.contact_count,
            "strategy": event.strategy,
            "created_at": event.created_at,
        }
        for event in page[: filters.limit]
    ]
    return {"items": items, "next_offset": _next_offset(filters.offset, filters.limit, len(page))}


@router.get("/campaigns/{campaign_id}/contacts", response={200: schemas.CampaignContactPage, **_ERRORS})
def campaign_contacts(
    request: HttpRequest, campaign_id: int, filters: Query[schemas.CampaignContactFilter]
) -> dict[str, Any]:
    """List the campaign's contacts by id, for checks: page with after_id until next_after_id is null.

    Pages follow the contact id, not an offset, so a listing without filters
    taken while texters work still returns every contact exactly once. The
    filters apply to each page as it is read.
    """
    campaign = services.get_campaign(campaign_id, request.auth)
    contacts = Contact.objects.filter(campaign_id=campaign.id, id__gt=filters.after_id)
    if filters.assigned is not None:
        contacts = contacts.filter(assignment__isnull=not filters.assigned)
    if filters.status is not None:
        contacts = contacts.filter(message_status=filters.status)
    page = list(
        contacts.order_by("id").values(
            "id", "cell", "message_status", "assignment_id", "is_opted_out", "updated_at"
        )[: filters.limit + 1]
    )
    items = page[: filters.limit]
    has_more = len(page) > filters.limit
    return {"items": items, "next_after_id": items[-1]["id"] if has_more else None}
