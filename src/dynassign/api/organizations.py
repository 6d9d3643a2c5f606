"""Organization administration: organizations, settings, strategies, members, campaigns.

Role checks happen in the services; read endpoints without a service check
with ``require_role`` before reading.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Body, Router, Status

from dynassign.api import schemas
from dynassign.api.campaigns import campaign_out
from dynassign.assignment.strategies.registry import all_strategies
from dynassign.campaigns.models import Campaign
from dynassign.campaigns.services import create_campaign
from dynassign.exceptions import NotFound
from dynassign.organizations import config
from dynassign.organizations.access import require_role
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role
from dynassign.organizations.services import add_member, create_organization, set_role, update_settings

router = Router(tags=["organizations"])

_FORBIDDEN_OR_MISSING = {403: schemas.ErrorOut, 404: schemas.ErrorOut}


def _settings_out(organization: Organization) -> list[dict[str, Any]]:
    """List every setting an organization can set, with its value in effect and its own override."""
    return [
        {
            "name": setting.name,
            "value": config.resolve(setting.name, organization=organization),
            "override": organization.settings.get(setting.name),
            "default": setting.default,
            "help": setting.help,
        }
        for setting in config.SETTINGS.values()
        if not setting.environment_only
    ]


def _member_out(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        "user_id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": membership.role,
    }


@router.get("/organizations", response=list[schemas.OrganizationOut])
def my_organizations(request: HttpRequest) -> list[dict[str, Any]]:
    memberships = Membership.objects.filter(user=request.auth).select_related("organization").order_by("organization_id")
    return [{"id": m.organization_id, "name": m.organization.name, "role": m.role} for m in memberships]


@router.post("/organizations", response={201: schemas.OrganizationOut, 422: schemas.ErrorOut})
def new_organization(request: HttpRequest, payload: schemas.OrganizationIn) -> Status[dict[str, Any]]:
    """Create an organization; the caller becomes its owner."""
    organization = create_organization(request.auth, payload.name)
    return Status(201, {"id": organization.id, "name": organization.name, "role": Role.OWNER})


@router.get("/organizations/{organization_id}/settings", response={200: list[schemas.SettingOut], **_FORBIDDEN_OR_MISSING})
def organization_settings(request: HttpRequest, organization_id: int) -> list[dict[str, Any]]:
    require_role(request.auth, organization_id, Role.ADMIN)
    return _settings_out(Organization.objects.get(id=organization_id))


@router.patch(
    "/organizations/{organization_id}/settings",
    response={200: list[schemas.SettingOut], 422: schemas.ErrorOut, **_FORBIDDEN_OR_MISSING},
)
def change_organization_settings(
    request: HttpRequest,
    organization_id: int,
    payload: dict[str, Any] = Body(..., examples=[{"DYNAMICASSIGNMENT_BATCHES": "vetted-texters", "MAX_CONTACTS_PER_TEXTER": None}]),
) -> list[dict[str, Any]]:
    """Set organization defaults by setting name; null removes an override."""
    update_settings(organization_id, request.auth, payload)
    return _settings_out(Organization.objects.get(id=organization_id))


@router.get("/organizations/{organization_id}/strategies", response={200: list[schemas.StrategyOut], **_FORBIDDEN_OR_MISSING})
def strategies(request: HttpRequest, organization_id: int) -> list[dict[str, Any]]:
    """List the strategies DYNAMICASSIGNMENT_BATCHES can name: built-ins and installed ones."""
    require_role(request.auth, organization_id, Role.SUPERVOLUNTEER)
    return [{"name": name, "display_name": strategy.display_name()} for name, strategy in all_strategies().items()]


@router.get("/organizations/{organization_id}/members", response={200: list[schemas.MemberOut], **_FORBIDDEN_OR_MISSING})
def members(request: HttpRequest, organization_id: int) -> list[dict[str, Any]]:
    require_role(request.auth, organization_id, Role.SUPERVOLUNTEER)
    memberships = Membership.objects.filter(organization_id=organization_id).select_related("user").order_by("user_id")
    return [_member_out(membership) for membership in memberships]


@router.post(
    "/organizations/{organization_id}/members",
    response={200: schemas.MemberOut, 422: schemas.ErrorOut, **_FORBIDDEN_OR_MISSING},
)
def new_member(request: HttpRequest, organization_id: int, payload: schemas.MemberIn) -> dict[str, Any]:
    """Add a signed-up user by username, or change the role of one already a member."""
    # Checked before the user lookup, so outsiders cannot probe usernames.
    require_role(request.auth, organization_id, Role.ADMIN)
    user = get_user_model().objects.filter(username=payload.username.strip()).first()
    if user is None:
        raise NotFound(f"No user named {payload.username!r}; they need to sign up first.")
    membership = add_member(organization_id, request.auth, user, payload.role)
    return _member_out(membership)


@router.patch(
    "/organizations/{organization_id}/members/{user_id}",
    response={200: schemas.MemberOut, 422: schemas.ErrorOut, **_FORBIDDEN_OR_MISSING},
)
def change_member_role(request: HttpRequest, organization_id: int, user_id: int, payload: schemas.RoleIn) -> dict[str, Any]:
    membership = set_role(organization_id, request.auth, user_id, payload.role)
    return _member_out(Membership.objects.select_related("user").get(id=membership.id))


@router.get(
    "/organizations/{organization_id}/campaigns",
    response={200: list[schemas.CampaignSummaryOut], **_FORBIDDEN_OR_MISSING},
)
def campaigns(request: HttpRequest, organization_id: int) -> list[Campaign]:
    require_role(request.auth, organization_id, Role.SUPERVOLUNTEER)
    return list(Campaign.objects.filter(organization_id=organization_id).order_by("-created_at", "-id"))


@router.post(
    "/organizations/{organization_id}/campaigns",
    response={201: schemas.CampaignOut, 422: schemas.ErrorOut, **_FORBIDDEN_OR_MISSING},
)
def new_campaign(request: HttpRequest, organization_id: int, payload: schemas.CampaignIn) -> Status[dict[str, Any]]:
    campaign = create_campaign(organization_id, request.auth, **payload.model_dump())
    return Status(201, campaign_out(Campaign.objects.select_related("organization").get(id=campaign.id)))
