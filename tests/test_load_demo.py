"""The demo loader: accounts, memberships, a started campaign with 10,000 contacts; a second run changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from dynassign.campaigns.models import Campaign, Contact
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role

DEMO_CONTACTS = Path(__file__).resolve().parent.parent / "demo" / "contacts-10k.csv"


def load_demo(**options) -> str:
    out = io.StringIO()
    call_command("load_demo", contacts=DEMO_CONTACTS, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def loaded(db) -> str:
    return load_demo()


def test_demo_creates_organization_and_accounts(loaded):
    organization = Organization.objects.get(name="Demo Organization")
    roles = dict(
        Membership.objects.filter(organization=organization).values_list("user__username", "role")
    )

    assert roles == {
        "admin": Role.OWNER,
        "texter1": Role.TEXTER,
        "texter2": Role.TEXTER,
        "texter3": Role.TEXTER,
        "vetted1": Role.VETTED_TEXTER,
    }
    users = get_user_model().objects
    assert users.get(username="admin").check_password("demo-admin-password")
    assert users.get(username="texter2").check_password("demo-texter-password")
    assert users.get(username="vetted1").check_password("demo-texter-password")


def test_demo_campaign_holds_contacts(loaded):
    campaign = Campaign.objects.get(title="Demo text-a-thon")

    assert campaign.organization.name == "Demo Organization"
    assert campaign.is_started
    assert not campaign.is_archived
    assert campaign.use_dynamic_assignment
    assert campaign.batch_size == 200
    assert "{firstName}" in campaign.script
    assert "{texterFirstName}" in campaign.script
    assert Contact.objects.filter(campaign=campaign).count() == 10000
    assert Contact.objects.filter(campaign=campaign, message_status="needsMessage").count() == 10000
    assert campaign.contact_timezones
    assert "America/New_York" in campaign.contact_timezones


def test_demo_prints_accounts_and_links(loaded):
    campaign = Campaign.objects.get(title="Demo text-a-thon")

    assert "10000 contacts imported, 0 rejected" in loaded
    assert f"http://127.0.0.1:8000/join/{campaign.join_token}" in loaded
    assert "http://127.0.0.1:8000/api/docs" in loaded
    for username in ("admin", "texter1", "texter2", "texter3", "vetted1"):
        assert username in loaded
    assert "demo-admin-password" in loaded
    assert "demo-texter-password" in loaded


def test_demo_second_run_changes_nothing(loaded):
    campaign = Campaign.objects.get(title="Demo text-a-thon")
    user_count = get_user_model().objects.count()

    again = load_demo(base_url="http://localhost:9000/")

    assert "already loaded" in again
    assert f"http://localhost:9000/join/{campaign.join_token}" in again
    assert "demo-admin-password" in again
    assert Organization.objects.filter(name="Demo Organization").count() == 1
    assert Campaign.objects.filter(title="Demo text-a-thon").count() == 1
    assert Contact.objects.count() == 10000
    assert get_user_model().objects.count() == user_count


def test_demo_keeps_existing_user_password(db):
    get_user_model().objects.create_user(username="admin", password="my-own-password-1")

    out = load_demo()

    assert get_user_model().objects.get(username="admin").check_password("my-own-password-1")
    assert "password changed" in out
    assert Membership.objects.get(user__username="admin").role == Role.OWNER


def test_demo_missing_contacts_file_loads_nothing(db, tmp_path):
    with pytest.raises(CommandError, match="not found"):
        call_command("load_demo", contacts=tmp_path / "missing.csv", stdout=io.StringIO())

    assert not Organization.objects.filter(name="Demo Organization").exists()


def test_demo_bad_contacts_file_loads_nothing(db, tmp_path):
    bad = tmp_path / "contacts.csv"
    bad.write_text("name,phone\nAnn,5035550172\n")

    with pytest.raises(CommandError, match="'cell'"):
        call_command("load_demo", contacts=bad, stdout=io.StringIO())

    assert not Organization.objects.filter(name="Demo Organization").exists()
    assert not get_user_model().objects.filter(username="texter1").exists()
