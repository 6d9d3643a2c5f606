"""Checking the rows of a contact file, without the database, and grouping them into chunks."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from dynassign.campaigns import phones
from dynassign.campaigns.importing.reader import Columns
from dynassign.campaigns.importing.report import RejectedRow, RejectReason
from dynassign.campaigns.models import Contact

# One encoder for every row: json.dumps with options builds a new one per call.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


def _max_length(field_name: str) -> int:
    max_length = Contact._meta.get_field(field_name).max_length
    assert max_length is not None
    return max_length


class CheckedRow(NamedTuple):
    """A row that passed every check that needs no database; a named tuple because one is built per row."""

    line: int
    first_name: str
    last_name: str
    cell: str
    zip: str
    external_id: str
    custom_fields_json: str
    timezone: str


@dataclass
class Chunk:
    """The checked and the rejected rows of consecutive lines, with each cell at most once in ``rows``."""

    rows: list[CheckedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class RowChecker:
    """Check the rows of a contact file against its header and the phone region."""

    def __init__(self, columns: Columns, region: str) -> None:
        self.columns = columns
        self.region = region
        self.cell_column = columns.names[columns.cell]
        self.length_limits = [
            (columns.names[columns.first_name], _max_length("first_name")),
            (columns.names[columns.last_name], _max_length("last_name")),
            (_column_name(columns, columns.zip, "zip"), _max_length("zip")),
            (_column_name(columns, columns.external_id, "external_id"), _max_length("external_id")),
        ]

    def chunks(self, records: Iterable[tuple[int, list[str] | csv.Error]], chunk_rows: int) -> Iterator[Chunk]:
        """Yield the records ``chunk_rows`` lines at a time, checked, with repeated cells rejected."""
        chunk = Chunk()
        # Cell -> line of its first occurrence in this chunk.
        first_lines: dict[str, int] = {}
        for line, fields in records:
            result = self.check(line, fields)
            if isinstance(result, RejectedRow):
                chunk.rejected.append(result)
            elif result.cell in first_lines:
                chunk.rejected.append(self._repeated_cell(result, first_lines[result.cell]))
            else:
                first_lines[result.cell] = line
                chunk.rows.append(result)

            if len(chunk.rows) + len(chunk.rejected) >= chunk_rows:
                yield chunk
                chunk = Chunk()
                first_lines = {}
        if chunk.rows or chunk.rejected:
            yield chunk

    def check(self, line: int, fields: list[str] | csv.Error) -> CheckedRow | RejectedRow:
        """Return the row ready to store, or why it cannot be stored."""
        columns = self.columns
        if isinstance(fields, csv.Error):
            return reject(line, "", RejectReason.MALFORMED_ROW, f"The row cannot be read as CSV: {fields}.")
        if "\x00" in "".join(fields):
            # PostgreSQL text columns cannot store NUL characters.
            return reject(
                line, "", RejectReason.MALFORMED_ROW,
                "The row contains a NUL character (byte 0x00); remove it and upload the row again.",
            )
        if len(fields) != len(columns.names):
            return reject(
                line, "", RejectReason.WRONG_COLUMN_COUNT,
                f"The row has {len(fields)} fields but the header has {len(columns.names)}; "
                "put values that contain commas in double quotes.",
            )

        first_name = fields[columns.first_name].strip()
        if not first_name:
            return reject(line, columns.names[columns.first_name], RejectReason.MISSING_FIRST_NAME,
                          "The first name is empty; fill it in or delete the row.")
        last_name = fields[columns.last_name].strip()
        if not last_name:
            return reject(line, columns.names[columns.last_name], RejectReason.MISSING_LAST_NAME,
                          "The last name is empty; fill it in or delete the row.")
        try:
            cell = phones.normalize_cell(fields[columns.cell], self.region)
        except phones.InvalidCell as error:
            return reject(line, self.cell_column, RejectReason.INVALID_CELL, error.message)

        zip_code = _optional(fields, columns.zip)
        external_id = _optional(fields, columns.external_id)
        too_long = self._first_too_long(line, (first_name, last_name, zip_code, external_id))
        if too_long is not None:
            return too_long

        timezone = (phones.timezone_for_zip(zip_code) if zip_code else "") or phones.timezone_for_cell(cell)
        custom_fields = {name: fields[index].strip() for index, name in columns.custom}
        return CheckedRow(
            line=line,
            first_name=first_name,
            last_name=last_name,
            cell=cell,
            zip=zip_code,
            external_id=external_id,
            custom_fields_json=_encode_json(custom_fields),
            timezone=timezone,
        )

    def _first_too_long(self, line: int, values: tuple[str, str, str, str]) -> RejectedRow | None:
        """Return a rejection for the first of first name, last name, zip, external id that does not fit."""
        for value, (column, limit) in zip(values, self.length_limits):
            if len(value) > limit:
                return reject(
                    line, column, RejectReason.VALUE_TOO_LONG,
                    f"The {column} value has {len(value)} characters; at most {limit} fit.",
                )
        return None

    def _repeated_cell(self, row: CheckedRow, first_line: int) -> RejectedRow:
        return reject(
            row.line, self.cell_column, RejectReason.DUPLICATE_CELL,
            f"Cell {row.cell} is the same as on line {first_line}; a cell may appear once per campaign.",
        )

    def stored_cell(self, row: CheckedRow) -> RejectedRow:
        """Return the rejection of a row whose cell the campaign already has."""
        return reject(
            row.line, self.cell_column, RejectReason.DUPLICATE_CELL,
            f"The campaign already has a contact with cell {row.cell}, "
            "from an earlier line of this file or an earlier upload.",
        )


def _column_name(columns: Columns, index: int | None, default: str) -> str:
    return default if index is None else columns.names[index]


def _optional(fields: list[str], index: int | None) -> str:
    return fields[index].strip() if index is not None else ""


def reject(line: int, column: str, reason: RejectReason, message: str) -> RejectedRow:
    return RejectedRow(line=line, column=column, code=reason.value, message=message)
