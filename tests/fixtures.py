"""Shared factories for the test suite: organizations, texters, campaigns and contacts."""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from django.contrib.auth import get_user_model

from dynassign.assignment.joining import join_by_link
from dynassign.campaigns.models import Campaign, Contact, MessageStatus
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role

_sequence = itertools.count(1)


def make_cells(count: int, *, start: int = 0, area: str = "212") -> list[str]:
    """Return ``count`` distinct valid US cells in E.164, 555-01xx style numbers excluded."""
    return [f"+1{area}{2000000 + start + index:07d}" for index in range(count)]


@pytest.fixture
def organization(db) -> Organization:
    return Organization.objects.create(name=f"Organization {next(_sequence)}")


@pytest.fixture
def make_user(db) -> Callable[..., Any]:
    def make(organization: Organization | None = None, role: str = Role.TEXTER, username: str | None = None):
        name = username or f"user{next(_sequence)}"
        user = get_user_model().objects.create_user(username=name, password="test-password-1", first_name=name)
        if organization is not None:
            Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make


@pytest.fixture
def admin(organization, make_user):
    return make_user(organization, Role.OWNER, username=f"admin{next(_sequence)}")


@pytest.fixture
def make_campaign(db, organization) -> Callable[..., Campaign]:
    """Create a started dynamic-assignment campaign with ``contacts`` needsMessage contacts."""

    def make(
        *,
        contacts: int = 0,
        batch_size: int | None = 10,
        strategies: str | None = None,
        settings: dict[str, Any] | None = None,
        organization_: Organization | None = None,
        timezone: str = "America/New_York",
        cells: list[str] | None = None,
        **fields: Any,
    ) -> Campaign:
        owner = organization_ or organization
        campaign_settings = dict(settings or {})
        if strategies:
            campaign_settings["DYNAMICASSIGNMENT_BATCHES"] = strategies
        values = {
            "is_started": True, "use_dynamic_assignment": True, "batch_size": batch_size, "script": "Hi {firstName}!",
            **fields,
        }
        campaign = Campaign.objects.create(
            organization=owner, title=f"Campaign {next(_sequence)}",
            settings=campaign_settings, contact_timezones=[timezone], **values,
        )
        add_contacts(campaign, cells or make_cells(contacts, start=next(_sequence) * 10000), timezone=timezone)
        return campaign

    return make


def add_contacts(
    campaign: Campaign, cells: list[str], *, timezone: str = "America/New_York", status: str = MessageStatus.NEEDS_MESSAGE,
    **fields: Any,
) -> list[Contact]:
    contacts = [
        Contact(
            campaign=campaign, first_name=f"First{index}", last_name=f"Last{index}", cell=cell,
            timezone=timezone, message_status=status, **fields,
        )
        for index, cell in enumerate(cells)
    ]
    Contact.objects.bulk_create(contacts, batch_size=2000)
    if timezone and timezone not in campaign.contact_timezones:
        campaign.contact_timezones = [*campaign.contact_timezones, timezone]
        campaign.save(update_fields=["contact_timezones"])
    return contacts


@pytest.fixture
def join(db) -> Callable[..., Any]:
    """Join a user to a campaign through its link and return the assignment."""

    def do_join(user, campaign: Campaign):
        return join_by_link(user, campaign.join_token).assignment

    return do_join
