"""Campaign administration: create, edit, start, archive, the join link, texter limits."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Campaign, new_join_token
from dynassign.exceptions import Conflict, InvalidValue, NotFound
from dynassign.organizations import config
from dynassign.organizations.access import require_role
from dynassign.organizations.roles import Role

log = logging.getLogger(__name__)

# Fields an admin edits directly; settings overrides go through ``settings``.
EDITABLE_FIELDS = {
    "title", "description", "script", "use_dynamic_assignment", "batch_size", "response_window", "due_at",
}


def get_campaign(campaign_id: int, caller, role: str = Role.SUPERVOLUNTEER) -> Campaign:
    campaign = Campaign.objects.select_related("organization").filter(id=campaign_id).first()
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} not found.")
    require_role(caller, campaign.organization_id, role)
    return campaign


def _clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - EDITABLE_FIELDS - {"settings"}
    if unknown:
        raise InvalidValue(f"Unknown campaign fields {sorted(unknown)}; editable: {sorted(EDITABLE_FIELDS)}.")
    cleaned = {key: value for key, value in values.items() if key != "settings"}
    if "title" in cleaned and not str(cleaned["title"] or "").strip():
        raise InvalidValue("title must not be empty.")
    batch_size = cleaned.get("batch_size")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise InvalidValue(f"batch_size must be a positive whole number or empty, not {batch_size!r}.")
    window = cleaned.get("response_window")
    if window is not None and (not isinstance(window, int) or window < 0):
        raise InvalidValue(f"response_window must be a whole number of hours, not {window!r}.")
    return cleaned


def create_campaign(organization_id: int, caller, **values: Any) -> Campaign:
    require_role(caller, organization_id, Role.ADMIN)
    settings = config.validate_overrides(values.pop("settings", None) or {})
    cleaned = _clean_fields(values)
    if "title" not in cleaned:
        raise InvalidValue("A campaign needs a title.")
    campaign = Campaign.objects.create(
        organization_id=organization_id, settings={k: v for k, v in settings.items() if v is not None}, **cleaned
    )
    log.info("campaign created id=%s organization=%s by user=%s", campaign.id, organization_id, caller.id)
    return campaign


def update_campaign(campaign_id: int, caller, **values: Any) -> Campaign:
    """Edit fields and setting overrides; ``None`` for a setting removes the override."""
    campaign = get_campaign(campaign_id, caller, Role.ADMIN)
    overrides = config.validate_overrides(values.pop("settings", None) or {})
    cleaned = _clean_fields(values)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(id=campaign.id)
        for key, value in cleaned.items():
            setattr(campaign, key, value)
        for name, value in overrides.items():
            if value is None:
                campaign.settings.pop(name, None)
            else:
                campaign.settings[name] = value
        campaign.save()
    log.info("campaign edited id=%s by user=%s fields=%s", campaign.id, caller.id, sorted(cleaned) + sorted(overrides))
    return campaign


def start_campaign(campaign_id: int, caller) -> Campaign:
    campaign = get_campaign(campaign_id, caller, Role.ADMIN)
    if campaign.is_archived:
        raise Conflict(f"Campaign {campaign_id} is archived; unarchive it before starting it.")
    Campaign.objects.filter(id=campaign.id).update(is_started=True)
    campaign.is_started = True
    return campaign


def archive_campaign(campaign_id: int, caller, archived: bool = True) -> Campaign:
    campaign = get_campaign(campaign_id, caller, Role.ADMIN)
    Campaign.objects.filter(id=campaign.id).update(is_archived=archived)
    campaign.is_archived = archived
    return campaign


def rotate_join_token(campaign_id: int, caller) -> Campaign:
    """Replace the join link; the old one stops working at once."""
    campaign = get_campaign(campaign_id, caller, Role.ADMIN)
    campaign.join_token = new_join_token()
    campaign.save(update_fields=["join_token"])
    log.info("join link rotated campaign=%s by user=%s", campaign.id, caller.id)
    return campaign


def set_max_contacts(assignment_id: int, caller, max_contacts: int | None) -> Assignment:
    """Set a texter's limit; lowering it below what they hold removes nothing."""
    if max_contacts is not None and (isinstance(max_contacts, bool) or not isinstance(max_contacts, int) or max_contacts < 0):
        raise InvalidValue(f"max_contacts must be 0 or more, or empty for no limit; not {max_contacts!r}.")
    assignment = Assignment.objects.select_related("campaign").filter(id=assignment_id).first()
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    require_role(caller, assignment.campaign.organization_id, Role.SUPERVOLUNTEER)
    Assignment.objects.filter(id=assignment.id).update(max_contacts=max_contacts)
    assignment.max_contacts = max_contacts
    log.info("max_contacts set assignment=%s value=%s by user=%s", assignment.id, max_contacts, caller.id)
    return assignment
