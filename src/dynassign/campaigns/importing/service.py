"""Importing a CSV contact list into a campaign, streamed in committed chunks."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, transaction

from dynassign.campaigns import phones
from dynassign.campaigns.importing.reader import (
    CELL,
    Columns,
    ContactSource,
    InvalidContactFile,
    numbered_records,
    open_text,
)
from dynassign.campaigns.importing.report import ImportReport, RejectedRow, RejectReason
from dynassign.campaigns.importing.storage import ContactWriter, cells_among
from dynassign.campaigns.models import Campaign, Contact
from dynassign.db import locked
from dynassign.messaging.models import OptOut
from dynassign.organizations import config

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5000
# One encoder for every row: json.dumps with options builds a new one per call.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode
_CHUNK_ATTEMPTS = 3


def _max_length(field_name: str) -> int:
    max_length = Contact._meta.get_field(field_name).max_length
    assert max_length is not None
    return max_length


_LIMITS = {name: _max_length(name) for name in ("first_name", "last_name", "zip", "external_id")}


class _Row(NamedTuple):
    """A row that passed every check that needs no database; a named tuple because it is built per row."""

    line: int
    first_name: str
    last_name: str
    cell: str
    zip: str
    external_id: str
    custom_fields: dict[str, str]
    timezone: str


def import_contacts(
    campaign: Campaign,
    source: ContactSource,
    *,
    country: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import the contacts of a CSV file into ``campaign`` and report every row left out.

    The columns ``firstName``, ``lastName`` and ``cell`` are required; ``zip``
    and ``external_id`` are optional, and any other column is kept in the
    contact's custom fields. Values are stored without surrounding spaces.
    Cells must be valid numbers of ``country`` (by default the PHONE_COUNTRY
    setting) and are stored in E.164.

    The file is read as a stream and stored in chunks of ``chunk_rows`` rows,
    each in its own transaction, so memory stays flat. A crash keeps the
    chunks already stored, and importing the same file again skips them as
    duplicates. Raises InvalidContactFile when the file is not UTF-8 or its
    header lacks a required column.
    """
    region = _phone_region(campaign, country)
    started = time.monotonic()
    logger.info("Contact import started: campaign %s, phone region %s", campaign.pk, region)

    report = ImportReport(campaign_id=campaign.pk)
    with open_text(source) as text:
        records = numbered_records(text)
        columns = _read_header(records)
        importer = _ChunkImporter(campaign, columns, region, report, chunk_rows)
        for line, fields in records:
            importer.add(line, fields)
        importer.flush()

    logger.info(
        "Contact import finished: campaign %s, %d imported, %d rejected, %d opted out, %.1f s",
        campaign.pk,
        report.imported,
        report.rejected,
        report.opted_out,
        time.monotonic() - started,
    )
    return report


def _phone_region(campaign: Campaign, country: str | None) -> str:
    if country is not None:
        return config.validate("PHONE_COUNTRY", country)
    return config.resolve("PHONE_COUNTRY", campaign=campaign)


def _read_header(records: Iterable[tuple[int, list[str] | csv.Error]]) -> Columns:
    for _line, fields in records:
        if isinstance(fields, csv.Error):
            raise InvalidContactFile(f"The header cannot be read as CSV: {fields}.", code="malformed_header")
        fields[0] = fields[0].lstrip("\ufeff")
        return Columns.from_header(fields)
    raise InvalidContactFile(
        "The file is empty; its first line must name the columns firstName, lastName and cell.",
        code="empty_file",
    )


@dataclass(frozen=True)
class _StoredChunk:
    imported: int
    opted_out: int
    duplicates: list[RejectedRow]
    # The campaign's zones after this chunk, or None when it added none.
    timezones: list[str] | None


class _ChunkImporter:
    """Check rows one by one and store them a chunk at a time."""

    def __init__(self, campaign: Campaign, columns: Columns, region: str, report: ImportReport, chunk_rows: int):
        self.campaign = campaign
        self.columns = columns
        self.region = region
        self.report = report
        self.chunk_rows = chunk_rows
        self.known_zones = set(campaign.contact_timezones or [])
        self.writer = ContactWriter()
        self.length_limits = [
            (columns.names[columns.first_name], _LIMITS["first_name"]),
            (columns.names[columns.last_name], _LIMITS["last_name"]),
            (_column_name(columns, columns.zip, "zip"), _LIMITS["zip"]),
            (_column_name(columns, columns.external_id, "external_id"), _LIMITS["external_id"]),
        ]
        self.rows: list[_Row] = []
        self.rejected: list[RejectedRow] = []
        self.lines_in_chunk = 0
        # Cell -> line of its first occurrence in the chunk being built.
        self.chunk_cells: dict[str, int] = {}

    def add(self, line: int, fields: list[str] | csv.Error) -> None:
        result = self._check(line, fields)
        if isinstance(result, RejectedRow):
            self.rejected.append(result)
        else:
            first_line = self.chunk_cells.setdefault(result.cell, line)
            if first_line == line:
                self.rows.append(result)
            else:
                self.rejected.append(
                    _reject(
                        line, CELL, RejectReason.DUPLICATE_CELL,
                        f"Cell {result.cell} is the same as on line {first_line}; "
                        "a cell may appear once per campaign.",
                    )
                )

        self.lines_in_chunk += 1
        if self.lines_in_chunk >= self.chunk_rows:
            self.flush()

    def _check(self, line: int, fields: list[str] | csv.Error) -> _Row | RejectedRow:
        columns = self.columns
        if isinstance(fields, csv.Error):
            return _reject(line, "", RejectReason.MALFORMED_ROW, f"The row cannot be read as CSV: {fields}.")
        if len(fields) != len(columns.names):
            return _reject(
                line, "", RejectReason.WRONG_COLUMN_COUNT,
                f"The row has {len(fields)} fields but the header has {len(columns.names)}; "
                "put values that contain commas in double quotes.",
            )

        first_name = fields[columns.first_name].strip()
        if not first_name:
            return _reject(line, columns.names[columns.first_name], RejectReason.MISSING_FIRST_NAME,
                           "The first name is empty.")
        last_name = fields[columns.last_name].strip()
        if not last_name:
            return _reject(line, columns.names[columns.last_name], RejectReason.MISSING_LAST_NAME,
                           "The last name is empty.")
        try:
            cell = phones.normalize_cell(fields[columns.cell], self.region)
        except phones.InvalidCell as error:
            return _reject(line, columns.names[columns.cell], RejectReason.INVALID_CELL, error.message)

        zip_code = _optional(fields, columns.zip)
        external_id = _optional(fields, columns.external_id)
        too_long = self._first_too_long(line, (first_name, last_name, zip_code, external_id))
        if too_long is not None:
            return too_long

        timezone = (phones.timezone_for_zip(zip_code) if zip_code else "") or phones.timezone_for_cell(cell)
        return _Row(
            line=line,
            first_name=first_name,
            last_name=last_name,
            cell=cell,
            zip=zip_code,
            external_id=external_id,
            custom_fields={name: fields[index].strip() for index, name in columns.custom},
            timezone=timezone,
        )

    def _first_too_long(self, line: int, values: tuple[str, str, str, str]) -> RejectedRow | None:
        """Return a rejection for the first of first name, last name, zip, external id that does not fit."""
        for value, (column, limit) in zip(values, self.length_limits):
            if len(value) > limit:
                return _reject(
                    line, column, RejectReason.VALUE_TOO_LONG,
                    f"The {column} value has {len(value)} characters; at most {limit} fit.",
                )
        return None

    def flush(self) -> None:
        """Store the rows of the chunk, skipping cells the campaign already has, and report the rest."""
        if self.rows:
            duplicates = self._store_chunk()
            self.rejected.extend(duplicates)
            self.rejected.sort(key=lambda row: row.line)
        self.report.add_rejected(self.rejected)

        self.rows = []
        self.rejected = []
        self.chunk_cells = {}
        self.lines_in_chunk = 0

    def _store_chunk(self) -> list[RejectedRow]:
        for attempt in range(1, _CHUNK_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    stored = self._store_chunk_once()
                break
            except IntegrityError:
                # Another upload to this campaign stored one of these cells
                # between the duplicate check and the insert; check again.
                logger.warning(
                    "Contact import: campaign %s, lines %d-%d collided with a concurrent upload (attempt %d)",
                    self.campaign.pk, self.rows[0].line, self.rows[-1].line, attempt,
                )
                if attempt == _CHUNK_ATTEMPTS:
                    raise

        # Counted only after the chunk's transaction, so a retried chunk counts once.
        self.report.imported += stored.imported
        self.report.opted_out += stored.opted_out
        if stored.timezones is not None:
            self.report.timezones_added.extend(sorted(set(stored.timezones) - self.known_zones))
            self.known_zones = set(stored.timezones)
            self.campaign.contact_timezones = stored.timezones
        logger.debug(
            "Contact import: campaign %s, lines %d-%d stored, %d new contacts",
            self.campaign.pk, self.rows[0].line, self.rows[-1].line, stored.imported,
        )
        return stored.duplicates

    def _store_chunk_once(self) -> _StoredChunk:
        cells = [row.cell for row in self.rows]
        existing = cells_among(Contact.objects.filter(campaign=self.campaign), cells)
        opted_out = cells_among(OptOut.objects.filter(organization_id=self.campaign.organization_id), cells)

        new_rows = [row for row in self.rows if row.cell not in existing]
        self.writer.insert([self._contact_values(row, row.cell in opted_out) for row in new_rows])
        duplicates = [
            _reject(
                row.line, CELL, RejectReason.DUPLICATE_CELL,
                f"The campaign already has a contact with cell {row.cell}, "
                "from an earlier line of this file or an earlier upload.",
            )
            for row in self.rows
            if row.cell in existing
        ]
        return _StoredChunk(
            imported=len(new_rows),
            opted_out=sum(1 for row in new_rows if row.cell in opted_out),
            duplicates=duplicates,
            timezones=self._record_timezones({row.timezone for row in new_rows}),
        )

    def _contact_values(self, row: _Row, is_opted_out: bool) -> tuple[object, ...]:
        """Return the values of a new contact in the order of storage.ROW_FIELDS."""
        return (
            self.campaign.pk,
            row.first_name,
            row.last_name,
            row.cell,
            row.zip,
            row.external_id,
            _encode_json(row.custom_fields),
            row.timezone,
            is_opted_out,
        )

    def _record_timezones(self, zones: set[str]) -> list[str] | None:
        """Add new zones to Campaign.contact_timezones and return the stored list; None when nothing is new.

        Batch requests read this list instead of scanning the contacts.
        """
        new_zones = {zone for zone in zones if zone} - self.known_zones
        if not new_zones:
            return None
        # The campaign row lock keeps a concurrent upload's zones from being
        # lost in this read-modify-write.
        stored = locked(Campaign.objects.filter(pk=self.campaign.pk)).values_list("contact_timezones", flat=True).get()
        merged = sorted(set(stored or []) | new_zones)
        Campaign.objects.filter(pk=self.campaign.pk).update(contact_timezones=merged)
        return merged


def _column_name(columns: Columns, index: int | None, default: str) -> str:
    return default if index is None else columns.names[index]


def _optional(fields: list[str], index: int | None) -> str:
    return fields[index].strip() if index is not None else ""


def _reject(line: int, column: str, reason: RejectReason, message: str) -> RejectedRow:
    return RejectedRow(line=line, column=column, code=reason.value, message=message)
