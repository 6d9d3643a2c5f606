"""Importing a CSV contact list into a campaign, streamed in committed chunks."""

from __future__ import annotations

import contextlib
import csv
import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.db import IntegrityError, transaction

from dynassign.campaigns.importing.checks import Chunk, CheckedRow, RowChecker
from dynassign.campaigns.importing.reader import (
    Columns,
    ContactSource,
    InvalidContactFile,
    numbered_records,
    open_text,
)
from dynassign.campaigns.importing.report import ImportReport, RejectedRow
from dynassign.campaigns.importing.storage import ContactWriter, cells_among
from dynassign.campaigns.models import Campaign, Contact
from dynassign.db import locked
from dynassign.messaging.models import OptOut
from dynassign.organizations import config

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5000
_CHUNK_ATTEMPTS = 3

Item = TypeVar("Item")


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

    The file is read as a stream and stored in chunks of ``chunk_rows`` lines,
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
        checker = RowChecker(_read_header(records), region)
        store = _ChunkStore(campaign, checker, report)
        # Rows are checked in a second thread while this one waits for the
        # database, so checking and storing overlap. closing() stops that
        # thread before the file closes, also when storing fails.
        with contextlib.closing(_read_ahead(checker.chunks(records, chunk_rows))) as chunks:
            for chunk in chunks:
                store.store(chunk)

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


_FINISHED = object()


def _read_ahead(items: Iterator[Item]) -> Iterator[Item]:
    """Yield ``items`` while a background thread already produces the next one.

    An exception raised by ``items`` is raised here, after the items produced
    before it. When the caller stops early, the thread stops at its next item.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def hand_over(item: object) -> bool:
        while not stopped.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
        except BaseException as error:  # handed to the caller, which raises it
            hand_over(error)
            return
        hand_over(_FINISHED)

    thread = threading.Thread(target=produce, name="contact-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _FINISHED:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stopped.set()
        thread.join()


@dataclass(frozen=True)
class _StoredChunk:
    imported: int
    opted_out: int
    duplicates: list[RejectedRow]
    # The campaign's zones after this chunk, or None when it added none.
    timezones: list[str] | None


class _ChunkStore:
    """Store checked chunks in a campaign, each in its own transaction, and report on them."""

    def __init__(self, campaign: Campaign, checker: RowChecker, report: ImportReport) -> None:
        self.campaign = campaign
        self.checker = checker
        self.report = report
        self.known_zones = set(campaign.contact_timezones or [])
        self.writer = ContactWriter()

    def store(self, chunk: Chunk) -> None:
        """Store the rows of ``chunk`` whose cells the campaign lacks and report the other rows in line order."""
        rejected = chunk.rejected
        if chunk.rows:
            rejected = sorted(rejected + self._store_rows(chunk.rows), key=lambda row: row.line)
        self.report.add_rejected(rejected)

    def _store_rows(self, rows: list[CheckedRow]) -> list[RejectedRow]:
        for attempt in range(1, _CHUNK_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    stored = self._store_rows_once(rows)
                break
            except IntegrityError:
                # Another upload to this campaign stored one of these cells
                # between the duplicate check and the insert, so check again.
                logger.warning(
                    "Contact import: campaign %s, lines %d-%d collided with a concurrent upload (attempt %d)",
                    self.campaign.pk, rows[0].line, rows[-1].line, attempt,
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
            self.campaign.pk, rows[0].line, rows[-1].line, stored.imported,
        )
        return stored.duplicates

    def _store_rows_once(self, rows: list[CheckedRow]) -> _StoredChunk:
        cells = [row.cell for row in rows]
        existing = cells_among(Contact, "campaign", self.campaign.id, cells)
        opted_out = cells_among(OptOut, "organization", self.campaign.organization_id, cells)

        new_rows = [row for row in rows if row.cell not in existing]
        self.writer.insert([self._contact_values(row, row.cell in opted_out) for row in new_rows])
        return _StoredChunk(
            imported=len(new_rows),
            opted_out=sum(1 for row in new_rows if row.cell in opted_out),
            duplicates=[self.checker.stored_cell(row) for row in rows if row.cell in existing],
            timezones=self._record_timezones({row.timezone for row in new_rows}),
        )

    def _contact_values(self, row: CheckedRow, is_opted_out: bool) -> tuple[object, ...]:
        """Return the values of a new contact in the order of storage.ROW_FIELDS."""
        return (
            self.campaign.pk,
            row.first_name,
            row.last_name,
            row.cell,
            row.zip,
            row.external_id,
            row.custom_fields_json,
            row.timezone,
            is_opted_out,
        )

    def _record_timezones(self, zones: set[str]) -> list[str] | None:
        """Add new zones to Campaign.contact_timezones and return the stored list, or None when nothing is new.

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
