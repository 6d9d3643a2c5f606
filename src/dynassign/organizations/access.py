"""Who may do what in an organization."""

from __future__ import annotations

from dynassign.exceptions import NotFound, PermissionDenied
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role, has_role


def role_of(user, organization: Organization | int) -> str | None:
    """Return the user's role in the organization, or None when not a member."""
    if user is None or not user.is_authenticated:
        return None
    organization_id = organization if isinstance(organization, int) else organization.id
    return Membership.objects.filter(user=user, organization_id=organization_id).values_list("role", flat=True).first()


def require_role(user, organization: Organization | int, role: str) -> str:
    """Return the user's role, raising PermissionDenied unless it is ``role`` or higher.

    A user who is not a member at all gets NotFound, so organizations stay
    invisible to outsiders.
    """
    actual = role_of(user, organization)
    if actual is None:
        raise NotFound("Organization not found, or you are not a member of it.")
    if not has_role(actual, role):
        raise PermissionDenied(f"This needs the {Role(role).label} role or higher; yours is {actual}.")
    return actual
