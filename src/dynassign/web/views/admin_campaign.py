"""Campaign pages for admins: the editor, the join link, start and archive, uploads, texters."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dynassign.assignment.counts import assignment_counts, campaign_counts
from dynassign.assignment.models import Assignment
from dynassign.assignment.reassigning import reassign
from dynassign.campaigns import services
from dynassign.campaigns.importing import import_contacts
from dynassign.campaigns.models import Campaign, MessageStatus
from dynassign.exceptions import DynassignError, InvalidValue
from dynassign.organizations import config
from dynassign.organizations.access import require_role
from dynassign.organizations.models import Organization
from dynassign.organizations.roles import Role
from dynassign.web.forms import (
    ASSIGNMENT_SETTINGS,
    CAMPAIGN_SETTINGS,
    TEXTER_UI_SETTINGS,
    TEXTING_HOURS_SETTINGS,
    CampaignForm,
    SettingsForm,
)
from dynassign.web.views.admin_org import blocks_new_texters
from dynassign.web.views.common import count_of, field_of_error, is_at_least, member_view

log = logging.getLogger(__name__)

CAMPAIGN_GROUPS = {
    "Texting hours": list(TEXTING_HOURS_SETTINGS),
    "Limits and bulk send": list(ASSIGNMENT_SETTINGS),
    "Texter interface": list(TEXTER_UI_SETTINGS),
}
# Rejected rows of the latest upload stay in the session for the CSV
# download; past this size only the first rows are kept.
REPORT_SESSION_LIMIT = 2_000_000
REPORT_ROWS_SHOWN = 200


def _editor_forms(request: HttpRequest, organization: Organization, campaign: Campaign | None):
    inherited = {name: config.resolve(name, organization=organization) for name in CAMPAIGN_SETTINGS}
    inherited_strategy = config.resolve("DYNAMICASSIGNMENT_BATCHES", organization=organization).split(",")[0]
    data = request.POST if request.method == "POST" else None
    campaign_form = CampaignForm(
        data, inherited_strategy=inherited_strategy, initial=CampaignForm.initial_from(campaign) if campaign else None,
    )
    settings_form = SettingsForm(
        data, settings=CAMPAIGN_SETTINGS, inherited=inherited,
        initial=SettingsForm.initial_from(campaign.settings) if campaign else None,
    )
    return campaign_form, settings_form


def _save_campaign(request: HttpRequest, organization: Organization, campaign: Campaign | None,
                   campaign_form: CampaignForm, settings_form: SettingsForm) -> Campaign | None:
    """Save the editor's values through the campaign services; return None when a field is invalid."""
    if not (campaign_form.is_valid() and settings_form.is_valid()):
        return None
    values = campaign_form.values()
    overrides = settings_form.overrides()
    overrides["DYNAMICASSIGNMENT_BATCHES"] = campaign_form.strategies()
    if campaign_form.errors or settings_form.errors:
        return None
    try:
        if campaign is None:
            overrides = {name: value for name, value in overrides.items() if value is not None}
            return services.create_campaign(organization.id, request.user, settings=overrides, **values)
        return services.update_campaign(campaign.id, request.user, settings=overrides, **values)
    except DynassignError as error:
        field = field_of_error(error, list(campaign_form.fields))
        if field is not None:
            campaign_form.add_error(field, error.message)
        else:
            settings_form.add_error(field_of_error(error, list(settings_form.fields)), error.message)
        return None


def _editor(request: HttpRequest, organization: Organization, campaign: Campaign | None) -> HttpResponse:
    campaign_form, settings_form = _editor_forms(request, organization, campaign)
    if request.method == "POST":
        saved = _save_campaign(request, organization, campaign, campaign_form, settings_form)
        if saved is not None:
            messages.success(request, f"Campaign {saved.title} saved.")
            return redirect("campaign", campaign_id=saved.id)
    max_contacts = config.resolve("MAX_CONTACTS_PER_TEXTER", campaign=campaign, organization=organization)
    context = {
        "organization": organization,
        "campaign": campaign,
        "form": campaign_form,
        "settings_form": settings_form,
        "groups": settings_form.groups(CAMPAIGN_GROUPS),
        "blocks_new_texters": blocks_new_texters(max_contacts),
    }
    status = 422 if campaign_form.errors or settings_form.errors else 200
    return render(request, "web/campaign_editor.html", context, status=status)


@member_view
def campaign_new(request: HttpRequest, organization_id: int) -> HttpResponse:
    require_role(request.user, organization_id, Role.ADMIN)
    return _editor(request, Organization.objects.get(id=organization_id), None)


@member_view
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = services.get_campaign(campaign_id, request.user, Role.ADMIN)
    return _editor(request, campaign.organization, campaign)


@member_view
def campaign_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Show the join link, start and archive, the contact upload and the campaign's totals."""
    campaign = services.get_campaign(campaign_id, request.user)
    context = {
        "campaign": campaign,
        "organization": campaign.organization,
        "counts": campaign_counts(campaign),
        "join_url": request.build_absolute_uri(reverse("join", args=[campaign.join_token])),
        "is_admin": is_at_least(request.user, campaign.organization_id, Role.ADMIN),
        "strategies": config.resolve("DYNAMICASSIGNMENT_BATCHES", campaign=campaign),
    }
    return render(request, "web/campaign.html", context)


CAMPAIGN_ACTIONS = {
    "start": (services.start_campaign, "Campaign started: texters can join by link."),
    "archive": (services.archive_campaign, "Campaign archived: its link and requests stop working."),
    "rotate": (services.rotate_join_token, "New join link made; the old link no longer works."),
}


@require_POST
@member_view
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    """Start, archive, unarchive the campaign or rotate its join link."""
    if action == "unarchive":
        services.archive_campaign(campaign_id, request.user, archived=False)
        messages.success(request, "Campaign unarchived.")
        return redirect("campaign", campaign_id=campaign_id)
    if action not in CAMPAIGN_ACTIONS:
        raise InvalidValue(f"Unknown campaign action {action!r}; use start, archive, unarchive or rotate.")
    service, done = CAMPAIGN_ACTIONS[action]
    service(campaign_id, request.user)
    messages.success(request, done)
    return redirect("campaign", campaign_id=campaign_id)


def _report_context(campaign: Campaign, report: Any) -> dict[str, Any]:
    rows = []
    for row in report.iter_rejected_rows():
        if len(rows) >= REPORT_ROWS_SHOWN:
            break
        rows.append(row)
    return {"campaign": campaign, "report": report, "rows": rows, "rows_shown": REPORT_ROWS_SHOWN}


@require_POST
@member_view
def upload_contacts(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Import an uploaded CSV file and show the report; scripts get the report alone."""
    campaign = services.get_campaign(campaign_id, request.user, Role.ADMIN)
    upload = request.FILES.get("contacts")
    fragment = request.headers.get("X-Requested-With") == "fetch"
    try:
        if upload is None:
            raise InvalidValue("No file was uploaded; choose a CSV file with firstName, lastName and cell columns.")
        report = import_contacts(campaign, upload)
    except DynassignError as error:
        log.info("contact upload rejected campaign=%s code=%s", campaign.id, error.code)
        context = {"campaign": campaign, "error": error.message}
        return render(request, "web/_upload_report.html", context, status=error.status)
    csv_text = report.to_csv()
    request.session[f"upload-report-{campaign.id}"] = csv_text[:REPORT_SESSION_LIMIT]
    context = _report_context(campaign, report)
    template = "web/_upload_report.html" if fragment else "web/upload_report_page.html"
    return render(request, template, context)


@member_view
def upload_report_csv(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Download the rejected rows of the caller's latest upload to this campaign as CSV."""
    campaign = services.get_campaign(campaign_id, request.user, Role.ADMIN)
    csv_text = request.session.get(f"upload-report-{campaign.id}")
    if csv_text is None:
        raise InvalidValue("There is no upload report for this campaign in your session; upload the file again.")
    response = HttpResponse(csv_text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.id}-rejected-rows.csv"'
    return response


@member_view
def texters(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """List the campaign's texters with their counts and limits, and the reassign form."""
    campaign = services.get_campaign(campaign_id, request.user)
    assignments = Assignment.objects.select_related("texter", "campaign").filter(campaign=campaign).order_by("texter__username")
    rows = [{"assignment": assignment, "counts": assignment_counts(assignment)} for assignment in assignments]
    context = {
        "campaign": campaign,
        "organization": campaign.organization,
        "rows": rows,
        "statuses": MessageStatus.values,
    }
    return render(request, "web/texters.html", context)


def _optional_int(raw: str, name: str) -> int | None:
    raw = raw.strip()
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidValue(f"{name} must be a whole number or empty, not {raw!r}.") from None


@require_POST
@member_view
def set_max_contacts(request: HttpRequest, campaign_id: int, assignment_id: int) -> HttpResponse:
    campaign = services.get_campaign(campaign_id, request.user)
    value = _optional_int(request.POST.get("max_contacts", ""), "max_contacts")
    assignment = services.set_max_contacts(assignment_id, request.user, value)
    limit = "no limit" if value is None else value
    messages.success(request, f"Max contacts of {assignment.texter.username} set to {limit}.")
    return redirect("texters", campaign_id=campaign.id)


@require_POST
@member_view
def reassign_contacts(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Move contacts by status and count from a texter (or any) to another texter or back to the pool."""
    campaign = services.get_campaign(campaign_id, request.user)
    from_texter = _optional_int(request.POST.get("from_texter", ""), "from texter")
    to_texter = _optional_int(request.POST.get("to_texter", ""), "to texter")
    count = _optional_int(request.POST.get("count", ""), "count")
    result = reassign(
        campaign.id,
        request.user,
        statuses=request.POST.getlist("statuses") or None,
        from_texter_ids=[from_texter] if from_texter else None,
        to_texter_ids=[to_texter] if to_texter else None,
        count=count,
    )
    target = "the unassigned pool" if not to_texter else "the chosen texter"
    messages.success(request, f"Moved {count_of(result.moved, 'contact')} to {target}.")
    return redirect("texters", campaign_id=campaign.id)
