"""Organization administration: settings, members and roles."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from dynassign.exceptions import InvalidValue, NotFound, PermissionDenied
from dynassign.organizations import config
from dynassign.organizations.access import require_role
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role

log = logging.getLogger(__name__)


def create_organization(owner, name: str) -> Organization:
    name = name.strip()
    if not name:
        raise InvalidValue("An organization needs a name.")
    with transaction.atomic():
        organization = Organization.objects.create(name=name)
        Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    log.info("organization created id=%s by user=%s", organization.id, owner.id)
    return organization


def update_settings(organization_id: int, caller, values: dict[str, Any]) -> dict[str, Any]:
    """Validate and store organization setting overrides; ``None`` removes one. Return them all."""
    require_role(caller, organization_id, Role.ADMIN)
    cleaned = config.validate_overrides(values)
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(id=organization_id)
        _merge(organization.settings, cleaned)
        organization.save(update_fields=["settings"])
    log.info("organization settings changed id=%s by user=%s keys=%s", organization_id, caller.id, sorted(cleaned))
    return organization.settings


def _merge(stored: dict[str, Any], cleaned: dict[str, Any]) -> None:
    for name, value in cleaned.items():
        if value is None:
            stored.pop(name, None)
        else:
            stored[name] = value


def set_role(organization_id: int, caller, user_id: int, role: str) -> Membership:
    """Change a member's role; only owners may grant or change the owner role."""
    if role not in Role.values:
        raise InvalidValue(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    caller_role = require_role(caller, organization_id, Role.ADMIN)
    membership = Membership.objects.filter(organization_id=organization_id, user_id=user_id).first()
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of organization {organization_id}.")
    touches_owner = role == Role.OWNER or membership.role == Role.OWNER
    if touches_owner and caller_role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant the owner role or change an owner's role.")
    membership.role = role
    membership.save(update_fields=["role"])
    log.info("role changed organization=%s user=%s role=%s by user=%s", organization_id, user_id, role, caller.id)
    return membership


def add_member(organization_id: int, caller, user, role: str = Role.TEXTER) -> Membership:
    require_role(caller, organization_id, Role.ADMIN)
    membership, created = Membership.objects.get_or_create(
        organization_id=organization_id, user=user, defaults={"role": Role.TEXTER}
    )
    if role != membership.role:
        membership = set_role(organization_id, caller, user.id, role)
    return membership
