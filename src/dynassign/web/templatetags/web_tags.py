"""Template tags of the pages."""

from __future__ import annotations

from django import template

from dynassign.web.views.common import admin_organizations

register = template.Library()


@register.simple_tag(takes_context=True)
def managed_memberships(context: template.Context) -> list:
    """Return the memberships whose organization the signed-in user may manage, for the menu."""
    return admin_organizations(context["request"].user)
