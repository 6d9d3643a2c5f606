"""``dynassign load_demo``: a demo organization, accounts and a started campaign with 10,000 contacts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from dynassign.campaigns.importing import import_contacts
from dynassign.campaigns.models import Campaign
from dynassign.exceptions import DynassignError
from dynassign.organizations.models import Membership, Organization
from dynassign.organizations.roles import Role

logger = logging.getLogger(__name__)

ORGANIZATION_NAME = "Demo Organization"
CAMPAIGN_TITLE = "Demo text-a-thon"
CAMPAIGN_SCRIPT = (
    "Hi {firstName}, this is {texterFirstName} with Demo Organization. Can we count on your vote?"
)
DEFAULT_CONTACTS = Path("demo/contacts-10k.csv")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ADMIN_PASSWORD = "demo-admin-password"
TEXTER_PASSWORD = "demo-texter-password"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    password: str
    role: str


ACCOUNTS = (
    DemoAccount("admin", "Alex", "Admin", ADMIN_PASSWORD, Role.OWNER),
    DemoAccount("texter1", "Taylor", "Texter", TEXTER_PASSWORD, Role.TEXTER),
    DemoAccount("texter2", "Jordan", "Texter", TEXTER_PASSWORD, Role.TEXTER),
    DemoAccount("texter3", "Morgan", "Texter", TEXTER_PASSWORD, Role.TEXTER),
    DemoAccount("vetted1", "Val", "Vetted", TEXTER_PASSWORD, Role.VETTED_TEXTER),
)


class Command(BaseCommand):
    help = (
        "Load demo data for trying dynassign on this machine: the organization 'Demo Organization', "
        "the accounts admin, texter1-3 and vetted1 with fixed passwords, and the started campaign "
        "'Demo text-a-thon' with dynamic assignment and the contacts of a CSV file. Running it again "
        "changes nothing and prints the accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--contacts", type=Path, default=DEFAULT_CONTACTS,
            help=f"CSV file of the demo contacts, relative to the current directory (default: {DEFAULT_CONTACTS}).",
        )
        parser.add_argument(
            "--base-url", default=DEFAULT_BASE_URL,
            help=f"Base URL of the server, used in the printed links (default: {DEFAULT_BASE_URL}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = _existing_demo_campaign()
        if campaign is not None:
            self.stdout.write("Demo data is already loaded; nothing changed.")
        else:
            campaign = self._load(options["contacts"])
        self._print_summary(campaign, options["base_url"].rstrip("/"))

    def _load(self, contacts_path: Path) -> Campaign:
        if not contacts_path.is_file():
            raise CommandError(
                f"Demo contacts file {str(contacts_path)!r} not found; run the command from the repository "
                "root or pass --contacts PATH."
            )
        logger.info("Loading demo data from %s", contacts_path)

        # One transaction: a failed load leaves nothing behind, so the next
        # run starts over instead of finding a half-filled campaign.
        with transaction.atomic():
            organization = Organization.objects.create(name=ORGANIZATION_NAME)
            for account in ACCOUNTS:
                user = _demo_user(account)
                Membership.objects.update_or_create(
                    user=user, organization=organization, defaults={"role": account.role}
                )
            campaign = Campaign.objects.create(
                organization=organization,
                title=CAMPAIGN_TITLE,
                description="A demo campaign: join it by its link and request a batch of contacts.",
                script=CAMPAIGN_SCRIPT,
                is_started=True,
                use_dynamic_assignment=True,
                batch_size=200,
            )
            try:
                report = import_contacts(campaign, contacts_path)
            except DynassignError as error:
                raise CommandError(f"Demo contacts in {str(contacts_path)!r}: {error.message}") from None

        self.stdout.write(f"Demo data loaded: {report.imported} contacts imported, {report.rejected} rejected.")
        for row in report.iter_rejected_rows():
            self.stdout.write(f"  line {row.line}: {row.code}: {row.message}")
        logger.info("Demo data loaded: campaign %s, %d contacts", campaign.pk, report.imported)
        return campaign

    def _print_summary(self, campaign: Campaign, base_url: str) -> None:
        users = {user.username: user for user in get_user_model().objects.filter(
            username__in=[account.username for account in ACCOUNTS]
        )}
        self.stdout.write(f"\nOrganization: {campaign.organization.name}")
        self.stdout.write("Accounts (username, password, role):")
        for account in ACCOUNTS:
            user = users.get(account.username)
            password = account.password
            if user is None:
                password = "(account deleted)"
            elif not user.check_password(account.password):
                password = "(password changed since the demo was loaded)"
            self.stdout.write(f"  {account.username:<8} {password:<22} {account.role}")

        self.stdout.write(f"\nCampaign {campaign.title!r}: {campaign.contacts.count()} contacts, batch size {campaign.batch_size}")
        self.stdout.write(f"Join link: {base_url}/join/{campaign.join_token}")
        self.stdout.write(f"API docs:  {base_url}/api/docs")


def _existing_demo_campaign() -> Campaign | None:
    return (
        Campaign.objects.select_related("organization")
        .filter(organization__name=ORGANIZATION_NAME, title=CAMPAIGN_TITLE)
        .order_by("pk")
        .first()
    )


def _demo_user(account: DemoAccount) -> Any:
    """Return the demo user ``account``, creating it with the demo password; an existing user keeps theirs."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=account.username).first()
    if user is not None:
        return user
    return user_model.objects.create_user(
        username=account.username,
        password=account.password,
        first_name=account.first_name,
        last_name=account.last_name,
        email=f"{account.username}@example.org",
    )
