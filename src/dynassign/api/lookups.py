"""Loaders for read endpoints, applying the access rule of the services.

A texter may read their own assignments and the contacts assigned to them.
An admin of the organization may read any of them. Anyone else gets
NotFound, so ids of other texters' work reveal nothing.
"""

from __future__ import annotations

from typing import Any

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Contact
from dynassign.exceptions import NotFound
from dynassign.organizations.access import role_of
from dynassign.organizations.roles import Role, has_role


def _may_act_for_others(user: Any, organization_id: int) -> bool:
    return has_role(role_of(user, organization_id), Role.ADMIN)


def assignment_for(user: Any, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related("campaign__organization", "texter").filter(id=assignment_id).first()
    )
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    if assignment.texter_id != user.id and not _may_act_for_others(user, assignment.campaign.organization_id):
        raise NotFound(f"Assignment {assignment_id} not found among yours.")
    return assignment


def contact_for(user: Any, contact_id: int) -> Contact:
    contact = Contact.objects.select_related("campaign__organization", "assignment").filter(id=contact_id).first()
    if contact is None:
        raise NotFound(f"Contact {contact_id} not found.")
    held_by_user = contact.assignment is not None and contact.assignment.texter_id == user.id
    if not held_by_user and not _may_act_for_others(user, contact.campaign.organization_id):
        raise NotFound(f"Contact {contact_id} is not assigned to you; it may have been reassigned.")
    return contact
