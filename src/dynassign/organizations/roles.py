"""Membership roles, highest first; "has role R" means R or higher."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    SUPERVOLUNTEER = "SUPERVOLUNTEER"
    VETTED_TEXTER = "VETTED_TEXTER"
    TEXTER = "TEXTER"
    SUSPENDED = "SUSPENDED"


_RANK = {
    Role.OWNER: 5,
    Role.ADMIN: 4,
    Role.SUPERVOLUNTEER: 3,
    Role.VETTED_TEXTER: 2,
    Role.TEXTER: 1,
    Role.SUSPENDED: 0,
}


def has_role(actual: str | None, required: str) -> bool:
    """Return whether ``actual`` is ``required`` or higher; a suspended member has no role."""
    if actual is None or actual == Role.SUSPENDED:
        return False
    return _RANK[Role(actual)] >= _RANK[Role(required)]
