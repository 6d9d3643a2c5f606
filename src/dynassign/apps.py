from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

CHECK_TAG = "dynassign"


class DynassignConfig(AppConfig):
    """The project package itself, so its management commands are found."""

    name = "dynassign"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_environment_settings, CHECK_TAG)


def check_environment_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report an environment variable that names an unknown strategy or has an invalid value.

    Django runs this before runserver, migrate and most other commands;
    ``raise_on_invalid_environment`` runs it before a WSGI server serves.
    """
    from dynassign.exceptions import DynassignError
    from dynassign.organizations import config

    try:
        config.check_environment()
    except DynassignError as error:
        return [
            checks.Error(
                error.message,
                hint="Fix or unset the environment variable; `dynassign strategies list` shows the strategies that can be loaded.",
                id="dynassign.E001",
            )
        ]
    return []


def raise_on_invalid_environment() -> None:
    """Raise ImproperlyConfigured when the environment check fails, so a WSGI server refuses to start."""
    errors = check_environment_settings()
    if errors:
        raise ImproperlyConfigured("; ".join(f"{error.msg} {error.hint}" for error in errors))
