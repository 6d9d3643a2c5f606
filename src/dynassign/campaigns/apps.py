from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "dynassign.campaigns"
    label = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"
