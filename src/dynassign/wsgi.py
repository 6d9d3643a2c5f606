"""WSGI entry point: ``gunicorn dynassign.wsgi``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynassign.settings")
application = get_wsgi_application()

from dynassign.apps import raise_on_invalid_environment  # noqa: E402 (needs the apps loaded above)

raise_on_invalid_environment()
