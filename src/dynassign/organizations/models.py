from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from dynassign.organizations.roles import Role


class Organization(models.Model):
    name = models.CharField(max_length=200)
    # Only the settings an admin set; everything else resolves further down
    # the chain (see dynassign.organizations.config).
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TEXTER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_one_per_user_and_organization"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}: {self.role}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A per-user API token; only its SHA-256 digest is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="default")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def issue(cls, user, name: str = "default") -> tuple[ApiToken, str]:
        """Create a token for ``user`` and return it with the raw value, shown once."""
        raw = "da_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, digest=_hash_token(raw))
        return token, raw

    @classmethod
    def find(cls, raw: str) -> ApiToken | None:
        return cls.objects.select_related("user").filter(digest=_hash_token(raw)).first()
