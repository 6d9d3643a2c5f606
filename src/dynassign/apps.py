from __future__ import annotations

from django.apps import AppConfig


class DynassignConfig(AppConfig):
    """The project package itself, so its management commands are found."""

    name = "dynassign"
    default_auto_field = "django.db.models.BigAutoField"
