"""Contact upload: rows to contacts, rejected rows with their reasons, time zones, opt-outs."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynassign.campaigns import phones
from dynassign.campaigns.importing import InvalidContactFile, RejectReason, import_contacts
from dynassign.campaigns.models import Campaign, Contact
from dynassign.messaging.models import OptOut
from dynassign.organizations.models import Organization

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = "firstName,lastName,cell,zip,external_id"


@pytest.fixture
def campaign(organization) -> Campaign:
    return Campaign.objects.create(organization=organization, title="Upload test")


def csv_file(*lines: str, header: str = HEADER) -> io.BytesIO:
    return io.BytesIO(("\r\n".join([header, *lines]) + "\r\n").encode("utf-8"))


def rejected_codes(report) -> dict[int, str]:
    return {row.line: row.code for row in report.rejected_rows}


def test_messy_file_imports_as_its_manifest_says(campaign):
    manifest = json.loads((DATA / "contacts-messy.manifest.json").read_text())

    report = import_contacts(campaign, DATA / manifest["file"])

    assert report.imported == manifest["expected_imported"]
    assert report.rejected == manifest["expected_rejected"]
    expected = {int(line): code for line, code in manifest["rejected_lines"].items()}
    assert rejected_codes(report) == expected
    for row in report.rejected_rows:
        assert row.message, f"line {row.line} has no message"
    assert Contact.objects.filter(campaign=campaign).count() == manifest["expected_imported"]


def test_messy_file_stores_trimmed_names_and_e164(campaign):
    import_contacts(campaign, DATA / "contacts-messy.csv")

    for first_name, last_name, cell in Contact.objects.filter(campaign=campaign).values_list(
        "first_name", "last_name", "cell"
    ):
        assert first_name
        assert first_name == first_name.strip()
        assert last_name
        assert last_name == last_name.strip()
        assert phonenumbers.is_valid_number(phonenumbers.parse(cell))
        assert cell == phonenumbers.format_number(phonenumbers.parse(cell), phonenumbers.PhoneNumberFormat.E164)


def test_messy_file_again_imports_nothing(campaign):
    import_contacts(campaign, DATA / "contacts-messy.csv")

    again = import_contacts(campaign, DATA / "contacts-messy.csv")

    assert again.imported == 0
    assert Contact.objects.filter(campaign=campaign).count() == 306
    codes = rejected_codes(again)
    assert sum(1 for code in codes.values() if code == RejectReason.DUPLICATE_CELL) == 306 + 2


@pytest.mark.parametrize(
    ("row", "column", "code"),
    [
        ("Ann,Lee,(503) 555-0172,97201,X1,extra", "", RejectReason.WRONG_COLUMN_COUNT),
        ("Ann,Lee,(503) 555-0172", "", RejectReason.WRONG_COLUMN_COUNT),
        (" ,Lee,(503) 555-0172,97201,X1", "firstName", RejectReason.MISSING_FIRST_NAME),
        ("Ann,,(503) 555-0172,97201,X1", "lastName", RejectReason.MISSING_LAST_NAME),
        ("Ann,Lee,,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann,Lee,   ,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann,Lee,not a number,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann,Lee,555-0172,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann,Lee,(000) 555-0172,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann,Lee,+44 20 7946 0958,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann,Lee,+1 416 555 0199,97201,X1", "cell", RejectReason.INVALID_CELL),
        ("Ann," + "L" * 101 + ",(503) 555-0172,97201,X1", "lastName", RejectReason.VALUE_TOO_LONG),
        ("Ann,Lee,(503) 555-0172,97201-12345-6789,X1", "zip", RejectReason.VALUE_TOO_LONG),
        ("Ann,Lee\x00,(503) 555-0172,97201,X1", "", RejectReason.MALFORMED_ROW),
    ],
)
def test_bad_row_is_rejected_with_reason(campaign, row, column, code):
    report = import_contacts(campaign, csv_file("Bob,Ray,(212) 555-0100,10001,X0", row))

    assert report.imported == 1
    assert report.rejected == 1
    [rejected] = report.rejected_rows
    assert rejected.line == 3
    assert rejected.column == column
    assert rejected.code == code
    assert rejected.message
    assert Contact.objects.filter(campaign=campaign).count() == 1


def test_foreign_number_message_names_country(campaign):
    report = import_contacts(campaign, csv_file("Ann,Lee,+44 20 7946 0958,,"))

    [rejected] = report.rejected_rows
    assert "GB" in rejected.message
    assert "US" in rejected.message


def test_duplicate_in_file_names_first_line(campaign):
    report = import_contacts(
        campaign,
        csv_file("Ann,Lee,(503) 555-0172,,", "Bob,Ray,(212) 555-0100,,", "Cy,Day,+1 503.555.0172,,"),
    )

    assert report.imported == 2
    [rejected] = report.rejected_rows
    assert (rejected.line, rejected.column, rejected.code) == (4, "cell", RejectReason.DUPLICATE_CELL)
    assert "line 2" in rejected.message
    assert Contact.objects.get(campaign=campaign, cell="+15035550172").first_name == "Ann"


def test_duplicate_across_chunks_is_rejected(campaign):
    rows = [f"Person{i},Last,(212) 555-01{i:02d},," for i in range(10)]
    rows.append("Again,Last,212-555-0103,,")

    report = import_contacts(campaign, csv_file(*rows), chunk_rows=3)

    assert report.imported == 10
    assert rejected_codes(report) == {12: RejectReason.DUPLICATE_CELL}


def test_duplicate_of_existing_contact_is_rejected(campaign):
    Contact.objects.create(campaign=campaign, first_name="Old", last_name="Timer", cell="+15035550172")

    report = import_contacts(campaign, csv_file("Ann,Lee,1 (503) 555-0172,,", "Bob,Ray,(212) 555-0100,,"))

    assert report.imported == 1
    [rejected] = report.rejected_rows
    assert (rejected.line, rejected.code) == (2, RejectReason.DUPLICATE_CELL)
    assert "already has a contact" in rejected.message
    assert Contact.objects.get(campaign=campaign, cell="+15035550172").first_name == "Old"


def test_same_cell_in_another_campaign_imports(campaign, organization):
    other = Campaign.objects.create(organization=organization, title="Other")
    Contact.objects.create(campaign=other, first_name="Old", last_name="Timer", cell="+15035550172")

    report = import_contacts(campaign, csv_file("Ann,Lee,(503) 555-0172,,"))

    assert report.imported == 1
    assert report.rejected == 0


def test_opted_out_cell_is_imported_marked(campaign, organization):
    OptOut.objects.create(organization=organization, cell="+15035550172")
    OptOut.objects.create(organization=Organization.objects.create(name="Elsewhere"), cell="+12125550100")

    report = import_contacts(campaign, csv_file("Ann,Lee,503.555.0172,,", "Bob,Ray,(212) 555-0100,,"))

    assert report.imported == 2
    assert report.opted_out == 1
    assert Contact.objects.get(campaign=campaign, cell="+15035550172").is_opted_out is True
    assert Contact.objects.get(campaign=campaign, cell="+12125550100").is_opted_out is False


def test_other_columns_are_custom_fields(campaign):
    report = import_contacts(
        campaign,
        csv_file(' Ann ,Lee,(503) 555-0172,97201,V-17,OR-12," Pine St, 4 "', header=HEADER + ",precinct,address"),
    )

    assert report.imported == 1
    contact = Contact.objects.get(campaign=campaign)
    assert contact.first_name == "Ann"
    assert contact.external_id == "V-17"
    assert contact.zip == "97201"
    assert contact.custom_fields == {"precinct": "OR-12", "address": "Pine St, 4"}


def test_imported_contact_has_model_defaults(campaign):
    import_contacts(campaign, csv_file("Ann,Lee,(503) 555-0172,,"))

    contact = Contact.objects.get(campaign=campaign)
    assert contact.message_status == "needsMessage"
    assert contact.assignment_id is None
    assert contact.is_opted_out is False
    assert contact.updated_at is not None
    assert contact.custom_fields == {}
    assert (contact.zip, contact.external_id) == ("", "")


def test_columns_in_any_order_and_case(campaign):
    report = import_contacts(
        campaign, csv_file("(503) 555-0172,Lee,Ann", "503.555.0172,Ray,Bob", header="Cell,LASTNAME,firstname")
    )

    assert report.imported == 1
    [duplicate] = report.rejected_rows
    assert (duplicate.line, duplicate.column) == (3, "Cell")
    contact = Contact.objects.get(campaign=campaign)
    assert (contact.first_name, contact.last_name, contact.cell) == ("Ann", "Lee", "+15035550172")
    assert contact.custom_fields == {}


@pytest.mark.parametrize(
    ("cell", "zip_code", "timezone"),
    [
        ("(503) 555-0172", "10001", "America/New_York"),  # the zip wins over the area code
        ("(212) 555-0100", "97201", "America/Los_Angeles"),
        ("(503) 555-0172", "", "America/Los_Angeles"),  # no zip: the area code
        ("(503) 555-0172", "00000", "America/Los_Angeles"),  # unknown zip: the area code
        ("(312) 555-0100", "not-a-zip", "America/Chicago"),
        ("(212) 555-0100", "8302", "America/New_York"),  # 08302 with its leading zero lost
        ("(800) 555-0100", "", ""),  # toll-free: no single zone
    ],
)
def test_timezone_from_zip_or_area_code(campaign, cell, zip_code, timezone):
    import_contacts(campaign, csv_file(f"Ann,Lee,{cell},{zip_code},"))

    assert Contact.objects.get(campaign=campaign).timezone == timezone


def test_new_timezones_are_added_to_campaign(campaign):
    campaign.contact_timezones = ["America/Chicago"]
    campaign.save()

    report = import_contacts(
        campaign,
        csv_file("Ann,Lee,(503) 555-0172,,", "Bob,Ray,(212) 555-0100,,", "Cy,Day,(312) 555-0100,,", "Di,Eck,(800) 555-0100,,"),
    )

    expected = ["America/Chicago", "America/Los_Angeles", "America/New_York"]
    assert report.timezones_added == ["America/Los_Angeles", "America/New_York"]
    assert campaign.contact_timezones == expected
    campaign.refresh_from_db()
    assert campaign.contact_timezones == expected


def test_phone_country_setting_decides_accepted_numbers(campaign):
    campaign.settings = {"PHONE_COUNTRY": "GB"}
    campaign.save()

    report = import_contacts(campaign, csv_file("Ann,Lee,020 7946 0958,,", "Bob,Ray,(212) 555-0100,,"))

    assert report.imported == 1
    assert rejected_codes(report) == {3: RejectReason.INVALID_CELL}
    contact = Contact.objects.get(campaign=campaign)
    assert contact.cell == "+442079460958"
    assert contact.timezone == "Europe/London"


def test_country_argument_overrides_setting(campaign):
    report = import_contacts(campaign, csv_file("Ann,Lee,020 7946 0958,,"), country="gb")

    assert report.imported == 1


def test_bom_crlf_and_blank_lines_are_accepted(campaign):
    content = "\ufeff" + HEADER + "\r\nAnn,Lee,(503) 555-0172,,\r\n\r\n,,,,\r\nBob,Ray,(212) 555-0100,,\r\n\r\n\r\n"

    report = import_contacts(campaign, io.BytesIO(content.encode("utf-8")))

    assert report.imported == 2
    assert report.rejected == 0


def test_line_numbers_follow_quoted_newlines(campaign):
    content = HEADER + ',note\nAnn,Lee,(503) 555-0172,,,"two\nlines"\nBob,,(212) 555-0100,,,x\n'

    report = import_contacts(campaign, io.BytesIO(content.encode("utf-8")))

    assert rejected_codes(report) == {4: RejectReason.MISSING_LAST_NAME}
    assert Contact.objects.get(campaign=campaign).custom_fields == {"note": "two\nlines"}


def test_text_stream_is_accepted(campaign):
    report = import_contacts(campaign, io.StringIO(HEADER + "\nAnn,Lee,(503) 555-0172,,\n"))

    assert report.imported == 1


def test_wrong_encoding_imports_nothing(campaign):
    content = (HEADER + "\r\nAnn,Lee,(503) 555-0172,,\r\nJosé,Núñez,(212) 555-0100,,\r\n").encode("latin-1")

    with pytest.raises(InvalidContactFile) as raised:
        import_contacts(campaign, io.BytesIO(content), chunk_rows=1)

    assert raised.value.code == "wrong_encoding"
    assert "line 3" in raised.value.message
    assert "UTF-8" in raised.value.message
    assert Contact.objects.filter(campaign=campaign).count() == 0


def test_wrong_encoding_found_on_unseekable_stream(campaign):
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    content = (HEADER + "\r\nJosé,Núñez,(212) 555-0100,,\r\n").encode("latin-1")

    with pytest.raises(InvalidContactFile) as raised:
        import_contacts(campaign, Unseekable(content))

    assert raised.value.code == "wrong_encoding"


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("firstName,lastName,zip", "'cell'"),
        ("first,last,cell", "'firstName' and 'lastName'"),
        ("firstName,cell,precinct", "'lastName'"),
    ],
)
def test_missing_header_names_column(campaign, header, named):
    with pytest.raises(InvalidContactFile) as raised:
        import_contacts(campaign, csv_file("Ann,Lee,(503) 555-0172", header=header))

    assert raised.value.code == "missing_column"
    assert f"no {named} column" in raised.value.message
    assert Contact.objects.filter(campaign=campaign).count() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\r\n\r\n", "empty_file"),
        (b"firstName,lastName,cell,cell\r\n", "duplicate_column"),
        (b"firstName,lastName,cell,\r\n", "unnamed_column"),
    ],
)
def test_unusable_file_is_rejected(campaign, content, code):
    with pytest.raises(InvalidContactFile) as raised:
        import_contacts(campaign, io.BytesIO(content))

    assert raised.value.code == code


def test_missing_file_is_reported(campaign, tmp_path):
    with pytest.raises(InvalidContactFile) as raised:
        import_contacts(campaign, tmp_path / "nope.csv")

    assert "nope.csv" in raised.value.message


def test_invalid_country_is_rejected(campaign):
    with pytest.raises(Exception) as raised:
        import_contacts(campaign, csv_file("Ann,Lee,(503) 555-0172,,"), country="XX")

    assert "PHONE_COUNTRY" in str(raised.value)


def test_caller_file_stays_open(campaign):
    upload = csv_file("Ann,Lee,(503) 555-0172,,")

    import_contacts(campaign, upload)

    assert not upload.closed


def test_report_renders_as_csv(campaign):
    report = import_contacts(campaign, csv_file("Ann,,(503) 555-0172,,", "Bob,Ray,oops,,", "Cy,Day,(212) 555-0100,,"))

    rows = list(csv.reader(io.StringIO(report.to_csv())))

    assert rows[0] == ["line", "column", "code", "message"]
    assert [row[:3] for row in rows[1:]] == [
        ["2", "lastName", "missing_last_name"],
        ["3", "cell", "invalid_cell"],
    ]


def test_many_rejections_are_kept_in_order(campaign):
    rows = [f"Person{i},Last,bad-{i},," for i in range(20000)]

    report = import_contacts(campaign, csv_file(*rows))

    assert report.rejected == 20000
    lines = [row.line for row in report.iter_rejected_rows()]
    assert lines == list(range(2, 20002))


class _FailingUpload(io.RawIOBase):
    """An upload whose connection drops after ``limit`` bytes."""

    def __init__(self, content: bytes, limit: int) -> None:
        self._data = io.BytesIO(content)
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._data.tell() >= self._limit:
            raise ConnectionResetError("upload interrupted")
        chunk = self._data.read(min(len(buffer), self._limit - self._data.tell()))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.django_db(transaction=True)
def test_interrupted_import_keeps_stored_chunks():
    organization = Organization.objects.create(name="Interrupted")
    campaign = Campaign.objects.create(organization=organization, title="Interrupted")
    rows = [f"Person{i},Last,(212) 555-{i:04d},," for i in range(100, 400)]
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8")

    with pytest.raises(ConnectionResetError):
        import_contacts(campaign, io.BufferedReader(_FailingUpload(content, len(content) // 2), 64), chunk_rows=50)

    stored = Contact.objects.filter(campaign=campaign).count()
    assert stored > 0
    assert stored % 50 == 0

    rerun = import_contacts(campaign, io.BytesIO(content), chunk_rows=50)

    assert rerun.imported == 300 - stored
    assert rerun.rejected == stored
    assert Contact.objects.filter(campaign=campaign).count() == 300


AREA_CODES = ["212", "312", "415", "503", "617", "713", "808", "907"]


@st.composite
def cell_spellings(draw) -> tuple[str, list[str]]:
    """Draw a US number and several ways people write it."""
    area = draw(st.sampled_from(AREA_CODES))
    exchange = draw(st.integers(200, 999)).__str__()
    line = f"{draw(st.integers(0, 9999)):04d}"
    spellings = [
        f"({area}) {exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{area}-{exchange}-{line}",
        f"{area}{exchange}{line}",
        f"1-{area}-{exchange}-{line}",
        f"1 ({area}) {exchange} {line}",
        f"+1{area}{exchange}{line}",
        f"+1 {area} {exchange} {line}",
        f"+1 ({area}) {exchange}-{line}",
        f"  {area} {exchange} {line}  ",
    ]
    chosen = draw(st.lists(st.sampled_from(spellings), min_size=2, max_size=6))
    return f"+1{area}{exchange}{line}", chosen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=cell_spellings())
def test_cell_spellings_dedupe_to_one_contact(organization, drawn):
    e164, spellings = drawn
    if not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
        return
    # A fresh campaign per example: the database is not reset between examples.
    campaign = Campaign.objects.create(organization=organization, title="Spellings")
    rows = [f'Person{i},Last,"{spelling}",,' for i, spelling in enumerate(spellings)]

    report = import_contacts(campaign, csv_file(*rows))

    assert report.imported == 1
    assert report.rejected == len(spellings) - 1
    assert {row.code for row in report.rejected_rows} <= {RejectReason.DUPLICATE_CELL}
    assert list(Contact.objects.filter(campaign=campaign).values_list("cell", flat=True)) == [e164]


NANP_REGIONS = ["US", "CA", "PR"]


@st.composite
def nanp_spellings(draw) -> str:
    """Draw a ten-digit number with one of the prefixes and separators people write."""
    digits = draw(st.text(alphabet="0123456789", min_size=10, max_size=10))
    prefix = draw(st.sampled_from(["", "1", "+1", "+", "1-", "+1 ", "0"]))
    separator = draw(st.sampled_from(["", "-", ".", " ", "/"]))
    if draw(st.booleans()):
        return f"{prefix}({digits[:3]}) {digits[3:6]}{separator}{digits[6:]}"
    return prefix + separator.join([digits[:3], digits[3:6], digits[6:]])


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(st.text(alphabet="0123456789+-(). /x", max_size=18), nanp_spellings()),
    region=st.sampled_from([*NANP_REGIONS, "GB"]),
)
def test_normalize_cell_matches_phonenumbers(text, region):
    try:
        expected = phonenumbers.parse(text, region)
        valid = phonenumbers.is_valid_number_for_region(expected, region)
    except phonenumbers.NumberParseException:
        valid = False

    if valid:
        e164 = phonenumbers.format_number(expected, phonenumbers.PhoneNumberFormat.E164)
        assert phones.normalize_cell(text, region) == e164
    else:
        with pytest.raises(phones.InvalidCell):
            phones.normalize_cell(text, region)


def test_read_ahead_stops_thread_when_closed():
    from dynassign.campaigns.importing.service import _read_ahead

    def endless():
        number = 0
        while True:
            number += 1
            yield number

    items = _read_ahead(endless())
    assert next(items) == 1
    assert next(items) == 2

    items.close()

    names = [thread.name for thread in threading.enumerate()]
    assert "contact-import-reader" not in names


def test_read_ahead_raises_after_earlier_items():
    from dynassign.campaigns.importing.service import _read_ahead

    def failing():
        yield "first"
        raise ValueError("broken source")

    items = _read_ahead(failing())

    assert next(items) == "first"
    with pytest.raises(ValueError, match="broken source"):
        next(items)
