"""Tests of `dynassign simulate` against a live server, and of its own checks."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from dynassign.assignment.models import Assignment
from dynassign.campaigns.models import Contact, MessageStatus
from dynassign.management.commands.simulate import Ledger, check_final_listing, check_limits, percentiles
from tests.fixtures import add_contacts, make_cells

ADMIN_PASSWORD = "test-password-1"
CONTACTS = 300
OPTED_OUT = 10
TEXTERS = 5
MAX_CONTACTS = 80


def simulate(*args: str) -> str:
    output = io.StringIO()
    call_command("simulate", *args, stdout=output)
    # Shown by pytest -rP, so a run's numbers can be read.
    print(output.getvalue())
    return output.getvalue()


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not found in:\n{text}"
    return int(match.group(1))


@pytest.fixture
def campaign(transactional_db, make_campaign):
    campaign = make_campaign(contacts=CONTACTS, batch_size=20, settings={"MAX_CONTACTS_PER_TEXTER": MAX_CONTACTS})
    add_contacts(campaign, make_cells(OPTED_OUT, start=900000, area="646"), is_opted_out=True)
    return campaign


def test_simulation_texts_whole_campaign(live_server, campaign, admin):
    output = simulate(
        "--url", live_server.url, "--campaign", str(campaign.id),
        "--admin-user", admin.username, "--admin-password", ADMIN_PASSWORD,
        "--texters", str(TEXTERS), "--reply-rate", "0.2", "--release-rate", "0.2", "--seed", "7",
        "--max-seconds", "300", "--concurrency", "5",
    )

    assert "Outcome: campaign done" in output
    assert "Invariants hold" in output
    assert _number(r"Contacts: (\d+) texted", output) == CONTACTS
    assert Contact.objects.filter(campaign=campaign, message_status=MessageStatus.NEEDS_MESSAGE, is_opted_out=False).count() == 0
    assert Contact.objects.filter(campaign=campaign, is_opted_out=True, assignment__isnull=False).count() == 0
    assert Assignment.objects.filter(campaign=campaign).count() == TEXTERS
    for assignment in Assignment.objects.filter(campaign=campaign):
        assert assignment.contacts.count() + assignment.handed_off_count <= MAX_CONTACTS
    assert _number(r"(\d+) replies", output) > 0


def test_simulation_by_join_link(live_server, campaign, admin):
    output = simulate(
        "--url", live_server.url, "--join-link", f"{live_server.url}/api/join/{campaign.join_token}",
        "--admin-user", admin.username, "--admin-password", ADMIN_PASSWORD,
        "--texters", "2", "--max-seconds", "300",
    )

    assert f"on campaign {campaign.id}" in output
    assert "Invariants hold" in output


@pytest.mark.parametrize("url", ["http://example.invalid:8000", "http://192.0.2.10:8000", "ftp://127.0.0.1/"])
def test_simulation_rejects_remote_url(url):
    with pytest.raises(CommandError, match="loopback|http://"):
        simulate("--url", url, "--campaign", "1", "--admin-user", "admin", "--admin-password", "x")


def test_simulation_rejects_remote_join_link():
    with pytest.raises(CommandError, match="--join-link .* not this machine"):
        simulate("--join-link", "http://example.invalid/api/join/abc", "--admin-user", "admin", "--admin-password", "x")


@pytest.mark.parametrize(
    ("option", "value"), [("--reply-rate", "1.5"), ("--release-rate", "-0.1"), ("--texters", "0"), ("--max-seconds", "0")]
)
def test_simulation_rejects_bad_option(option, value):
    with pytest.raises(CommandError, match=re.escape(option)):
        simulate("--campaign", "1", "--admin-user", "admin", "--admin-password", "x", option, value)


def test_simulation_reports_unreachable_server():
    # Port 9 (discard) on loopback: nothing of ours listens there.
    with pytest.raises(CommandError, match="Could not reach"):
        simulate("--url", "http://127.0.0.1:9", "--campaign", "1", "--admin-user", "admin", "--admin-password", "x")


def test_ledger_flags_shared_contact():
    ledger = Ledger()
    ledger.receive(0, {"id": 1, "is_opted_out": False})
    ledger.receive(1, {"id": 1, "is_opted_out": False})

    assert ledger.violations == ["contact 1 was handed to texter 1 while texter 0 held it"]


def test_ledger_allows_released_contact():
    ledger = Ledger()
    ledger.receive(0, {"id": 1, "is_opted_out": False})
    ledger.release(0, [1])
    ledger.receive(1, {"id": 1, "is_opted_out": False})

    assert ledger.violations == []
    assert ledger.held_by(1) == {1}


def test_ledger_flags_opted_out_contact():
    ledger = Ledger()
    ledger.receive(0, {"id": 5, "is_opted_out": True})

    assert ledger.violations == ["opted-out contact 5 was handed to texter 0"]


def test_final_listing_flags_wrong_holder():
    ledger = Ledger()
    ledger.receive(0, {"id": 1, "is_opted_out": False})
    listing = [
        {"id": 1, "assignment_id": 11, "is_opted_out": False, "message_status": "messaged"},
        {"id": 2, "assignment_id": 99, "is_opted_out": False, "message_status": "messaged"},
        {"id": 3, "assignment_id": 10, "is_opted_out": True, "message_status": "needsMessage"},
    ]

    violations = check_final_listing(ledger, listing, {0: 10, 1: 11}, {10, 11})

    assert len(violations) == 3
    assert "assignment 99, which is not in the campaign" in violations[0]
    assert "opted-out contact 3" in violations[1]
    assert "should be held by texter 0 (assignment 10)" in violations[2]


def test_limits_flag_excess():
    texters = [
        {"assignment_id": 1, "max_contacts": 5, "counts": {"counted_against_limit": 6}},
        {"assignment_id": 2, "max_contacts": None, "counts": {"counted_against_limit": 600}},
        {"assignment_id": 3, "max_contacts": 5, "counts": {"counted_against_limit": 5}},
    ]

    assert check_limits(texters) == ["assignment 1 counts 6 contacts against max_contacts 5"]


def test_percentiles_nearest_rank():
    values = [index / 1000 for index in range(1, 101)]

    assert percentiles(values) == {50: 50.0, 95: 95.0, 99: 99.0}
