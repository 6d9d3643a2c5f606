"""Helpers shared by the page views: error pages, loading what the caller may see."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from django.contrib.auth.decorators import login_required
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dynassign.assignment.models import Assignment
from dynassign.exceptions import DatabaseBusy, DynassignError, NotFound
from dynassign.organizations.access import role_of
from dynassign.organizations.models import Membership
from dynassign.organizations.roles import Role, has_role

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def error_page(request: HttpRequest, error: DynassignError, *, title: str = "That did not work") -> HttpResponse:
    """Render the error's message on a page with the error's HTTP status."""
    log.info("page refused path=%s user=%s status=%s code=%s", request.path, request.user.pk, error.status, error.code)
    return render(
        request, "web/error.html", {"title": title, "message": error.message, "code": error.code}, status=error.status
    )


def member_view(view: View) -> View:
    """Require a signed-in user and turn service refusals into error pages with their status."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DynassignError as error:
            return error_page(request, error)
        except OperationalError:
            log.exception("database error path=%s user=%s", request.path, request.user.pk)
            return error_page(request, DatabaseBusy("The database is busy; wait a few seconds and try again."))

    return wrapped


def own_assignment(request: HttpRequest, assignment_id: int) -> Assignment:
    """Return the caller's own assignment, or raise NotFound for anyone else's."""
    assignment = (
        Assignment.objects.select_related("campaign__organization", "texter")
        .filter(id=assignment_id, texter=request.user)
        .first()
    )
    if assignment is None:
        raise NotFound(f"Campaign assignment {assignment_id} is not one of yours; open your to-do list instead.")
    return assignment


def admin_organizations(user) -> list[Membership]:
    """Return the memberships in which ``user`` may see campaigns and their statistics."""
    if not user.is_authenticated:
        return []
    memberships = Membership.objects.select_related("organization").filter(user=user).order_by("organization__name")
    return [membership for membership in memberships if has_role(membership.role, Role.SUPERVOLUNTEER)]


def is_at_least(user, organization_id: int, role: str) -> bool:
    return has_role(role_of(user, organization_id), role)


def field_of_error(error: DynassignError, fields: list[str]) -> str | None:
    """Return which form field a service error is about, from the name its message starts with."""
    for name in sorted(fields, key=len, reverse=True):
        if error.message.startswith(name):
            return name
    return None


def count_of(number: int, noun: str) -> str:
    """Return "1 contact" or "3 contacts"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
