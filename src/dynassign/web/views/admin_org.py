"""Organization pages for admins: campaigns, settings, members and roles."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dynassign.assignment.counts import campaign_counts
from dynassign.exceptions import DynassignError, InvalidValue
from dynassign.organizations import config
from dynassign.organizations.access import require_role
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role
from dynassign.organizations.services import add_member, create_organization, set_role, update_settings
from dynassign.web.forms import (
    ASSIGNMENT_SETTINGS,
    ORGANIZATION_SETTINGS,
    TEXTER_UI_SETTINGS,
    TEXTING_HOURS_SETTINGS,
    SettingsForm,
)
from dynassign.web.views.common import field_of_error, member_view

log = logging.getLogger(__name__)

ORGANIZATION_GROUPS = {
    "Strategies and limits": ["DYNAMICASSIGNMENT_BATCHES", *ASSIGNMENT_SETTINGS],
    "Texter interface": list(TEXTER_UI_SETTINGS),
    "Texting hours": list(TEXTING_HOURS_SETTINGS),
    "Contact uploads": ["PHONE_COUNTRY"],
}


def blocks_new_texters(max_contacts: object) -> bool:
    """Return whether MAX_CONTACTS_PER_TEXTER is 0, which gives every new texter nothing."""
    return max_contacts == 0


def _organization(request: HttpRequest, organization_id: int, role: str) -> tuple[Organization, str]:
    caller_role = require_role(request.user, organization_id, role)
    return Organization.objects.get(id=organization_id), caller_role


@member_view
def organization(request: HttpRequest, organization_id: int) -> HttpResponse:
    """List the organization's campaigns with their totals."""
    org, caller_role = _organization(request, organization_id, Role.SUPERVOLUNTEER)
    campaigns = org.campaigns.order_by("is_archived", "-created_at")
    rows = [{"campaign": campaign, "counts": campaign_counts(campaign)} for campaign in campaigns]
    context = {"organization": org, "rows": rows, "is_admin": caller_role in (Role.OWNER, Role.ADMIN)}
    return render(request, "web/organization.html", context)


@member_view
def organization_settings(request: HttpRequest, organization_id: int) -> HttpResponse:
    """Edit the organization's defaults; empty fields fall back to the environment or built-in value."""
    org, _ = _organization(request, organization_id, Role.ADMIN)
    inherited = {name: config.environment_value(name) for name in ORGANIZATION_SETTINGS}
    form = SettingsForm(
        request.POST or None, settings=ORGANIZATION_SETTINGS, inherited=inherited,
        initial=SettingsForm.initial_from(org.settings),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        overrides = form.overrides()
        if not form.errors:
            try:
                update_settings(org.id, request.user, overrides)
            except DynassignError as error:
                form.add_error(field_of_error(error, list(ORGANIZATION_SETTINGS)), error.message)
            else:
                messages.success(request, "Organization settings saved.")
                return redirect("organization-settings", organization_id=org.id)
    if form.errors:
        status = 422
    org.refresh_from_db()
    context = {
        "organization": org,
        "form": form,
        "groups": form.groups(ORGANIZATION_GROUPS),
        "blocks_new_texters": blocks_new_texters(config.resolve("MAX_CONTACTS_PER_TEXTER", organization=org)),
    }
    return render(request, "web/organization_settings.html", context, status=status)


@member_view
def members(request: HttpRequest, organization_id: int) -> HttpResponse:
    """List members with their roles; admins change roles, vet texters in one click and add members."""
    org, caller_role = _organization(request, organization_id, Role.SUPERVOLUNTEER)
    memberships = Membership.objects.select_related("user").filter(organization=org).order_by("user__username")
    context = {
        "organization": org,
        "memberships": memberships,
        "roles": Role.choices,
        "is_admin": caller_role in (Role.OWNER, Role.ADMIN),
    }
    return render(request, "web/members.html", context)


@require_POST
@member_view
def change_role(request: HttpRequest, organization_id: int, user_id: int) -> HttpResponse:
    membership = set_role(organization_id, request.user, user_id, request.POST.get("role", ""))
    messages.success(request, f"{membership.user.username} is now {membership.get_role_display()}.")
    return redirect("members", organization_id=organization_id)


@require_POST
@member_view
def invite_member(request: HttpRequest, organization_id: int) -> HttpResponse:
    """Add an existing account to the organization by its username."""
    username = request.POST.get("username", "").strip()
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise InvalidValue(f"No account has the username {username!r}; ask them to sign up first, then add them.")
    membership = add_member(organization_id, request.user, user, request.POST.get("role") or Role.TEXTER)
    messages.success(request, f"{user.username} is a member as {membership.get_role_display()}.")
    return redirect("members", organization_id=organization_id)


@require_POST
@member_view
def organization_new(request: HttpRequest) -> HttpResponse:
    """Create an organization owned by the caller."""
    org = create_organization(request.user, request.POST.get("name", ""))
    messages.success(request, f"Organization {org.name} created; you are its owner.")
    return redirect("organization", organization_id=org.id)
