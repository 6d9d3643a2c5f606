"""``dynassign import_contacts``: counts, rejected lines, the report file and clear errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dynassign.campaigns.models import Campaign, Contact
from dynassign.organizations.models import Organization

MESSY = Path(__file__).resolve().parent.parent / "data" / "contacts-messy.csv"


@pytest.fixture
def campaign(db) -> Campaign:
    organization = Organization.objects.create(name="Command Test Organization")
    return Campaign.objects.create(organization=organization, title="Command test")


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_contacts", *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


def test_command_prints_counts_and_rejected_lines(campaign):
    output = run(campaign.pk, MESSY)

    assert f"Campaign {campaign.pk} (Command test): 306 imported, 11 rejected" in output
    assert "line 166 cell: invalid_cell:" in output
    assert "line 214: wrong_column_count:" in output
    assert "line 307 firstName: missing_first_name:" in output
    assert Contact.objects.filter(campaign=campaign).count() == 306


def test_command_writes_report_csv(campaign, tmp_path):
    report_path = tmp_path / "rejected.csv"

    output = run(campaign.pk, MESSY, "--report", report_path)

    assert str(report_path) in output
    with open(report_path, encoding="utf-8", newline="") as report:
        rows = list(csv.reader(report))
    assert rows[0] == ["line", "column", "code", "message"]
    assert [(row[0], row[2]) for row in rows[1:]][:3] == [
        ("166", "invalid_cell"),
        ("203", "missing_last_name"),
        ("210", "invalid_cell"),
    ]
    assert len(rows) == 12


def test_command_country_option(campaign, tmp_path):
    path = tmp_path / "uk.csv"
    path.write_text("firstName,lastName,cell\nAnn,Lee,020 7946 0958\nBob,Ray,(212) 555-0100\n", encoding="utf-8")

    output = run(campaign.pk, path, "--country", "GB")

    assert "1 imported, 1 rejected" in output
    assert Contact.objects.get(campaign=campaign).cell == "+442079460958"


def test_command_unknown_campaign(db):
    with pytest.raises(CommandError, match="Campaign 999999 not found"):
        run(999999, MESSY)


def test_command_missing_file(campaign, tmp_path):
    with pytest.raises(CommandError, match="nope.csv' not found"):
        run(campaign.pk, tmp_path / "nope.csv")


def test_command_wrong_encoding(campaign, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("firstName,lastName,cell\nJosé,Núñez,(212) 555-0100\n".encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8.*line 2"):
        run(campaign.pk, path)

    assert Contact.objects.filter(campaign=campaign).count() == 0


def test_command_missing_column(campaign, tmp_path):
    path = tmp_path / "nocell.csv"
    path.write_text("firstName,lastName,phone\nAnn,Lee,(212) 555-0100\n", encoding="utf-8")

    with pytest.raises(CommandError, match="no 'cell' column"):
        run(campaign.pk, path)
