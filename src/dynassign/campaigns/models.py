from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from dynassign.organizations.models import Organization


def new_join_token() -> str:
    return secrets.token_urlsafe(24)


class MessageStatus(models.TextChoices):
    NEEDS_MESSAGE = "needsMessage"
    MESSAGED = "messaged"
    NEEDS_RESPONSE = "needsResponse"
    CONVO = "convo"
    CLOSED = "closed"


class Campaign(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    script = models.TextField(blank=True, help_text="The initial message; {firstName}-style fields come from the contact.")
    is_started = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    use_dynamic_assignment = models.BooleanField(default=False)
    batch_size = models.PositiveIntegerField(null=True, blank=True)
    join_token = models.CharField(max_length=64, unique=True, default=new_join_token)
    response_window = models.PositiveIntegerField(default=48, help_text="Hours a reply may wait before it is stale.")
    due_at = models.DateTimeField(null=True, blank=True)
    # Overrides of organization settings; see dynassign.organizations.config.
    settings = models.JSONField(default=dict, blank=True)
    # Distinct time zones of the campaign's contacts, kept by the upload so a
    # request never scans the contacts to find them.
    contact_timezones = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class Contact(models.Model):
    # The foreign keys get no index of their own: the unique (campaign, cell)
    # constraint and contact_by_assignment lead with them, and every extra
    # index costs each claim and each imported row a write.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    cell = models.CharField(max_length=20, help_text="E.164")
    zip = models.CharField(max_length=10, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA zone; empty when unknown")
    message_status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.NEEDS_MESSAGE
    )
    is_opted_out = models.BooleanField(default=False)
    assignment = models.ForeignKey(
        "assignment.Assignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        db_index=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "cell"], name="contact_one_cell_per_campaign"),
        ]
        indexes = [
            # The requestable pool: a batch request reads about batch_size
            # entries of this index, however large the campaign is.
            models.Index(
                fields=["campaign", "timezone", "id"],
                name="contact_pool",
                condition=Q(assignment__isnull=True, message_status="needsMessage", is_opted_out=False),
            ),
            # Conversations nobody holds, for take-conversations requests.
            models.Index(
                fields=["campaign", "id"],
                name="contact_unheld_conversations",
                condition=Q(assignment__isnull=True, is_opted_out=False)
                & ~Q(message_status__in=["needsMessage", "messaged"]),
            ),
            models.Index(fields=["assignment", "message_status"], name="contact_by_assignment"),
            models.Index(fields=["cell"], name="contact_by_cell"),
        ]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
