from __future__ import annotations

from django.conf import settings
from django.db import models

from dynassign.campaigns.models import Campaign


class Assignment(models.Model):
    """One texter's place in one campaign; the contacts they hold point at it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    texter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    # None: no limit. 0: blocked from getting any more contacts.
    max_contacts = models.PositiveIntegerField(null=True, blank=True)
    # Contacts this assignment texted that have since left it (handed off by
    # outbound unassign, released conversations, reassigned); they still
    # count against max_contacts.
    handed_off_count = models.PositiveIntegerField(default=0)
    # Batches ever received, so "first batch only" survives a release.
    batch_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "texter"], name="assignment_one_per_texter_and_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.texter} in {self.campaign}"


class EventKind(models.TextChoices):
    BATCH = "batch", "batch assigned"
    RELEASED = "released", "released"
    UNASSIGNED = "unassigned", "unassigned by a message handler"
    TAKEN = "taken", "conversations taken"
    REASSIGNED = "reassigned", "reassigned by an admin"


class AssignmentEvent(models.Model):
    """One change of contacts' assignment: who, when, how many, and which strategy."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignment_events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact_count = models.PositiveIntegerField()
    strategy = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "-created_at"], name="event_by_campaign_time")]
        ordering = ["-created_at", "-id"]
