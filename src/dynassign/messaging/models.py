from __future__ import annotations

from django.db import models

from dynassign.campaigns.models import Contact
from dynassign.organizations.models import Organization


class Direction(models.TextChoices):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Message(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    text = models.TextField()
    assignment = models.ForeignKey(
        "assignment.Assignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "created_at"], name="message_by_contact")]
        ordering = ["created_at", "id"]


class OptOut(models.Model):
    """An opted-out cell; it applies to every campaign of the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="opt_outs")
    cell = models.CharField(max_length=20)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "cell"], name="optout_one_per_cell")]
