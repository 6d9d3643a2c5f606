from __future__ import annotations

from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "dynassign.assignment"
    label = "assignment"
    default_auto_field = "django.db.models.BigAutoField"
