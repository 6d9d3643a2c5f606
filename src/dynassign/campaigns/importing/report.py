"""The outcome of a contact upload: counts and every rejected row."""

from __future__ import annotations

import csv
import enum
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

REPORT_COLUMNS = ("line", "column", "code", "message")

# Rejected rows stay in memory up to this size, then move to a temporary file,
# so a file of a million bad rows does not fill the memory.
_IN_MEMORY_BYTES = 1024 * 1024


class RejectReason(enum.StrEnum):
    """Reason code of a rejected row, as shown to admins."""

    WRONG_COLUMN_COUNT = "wrong_column_count"
    MISSING_FIRST_NAME = "missing_first_name"
    MISSING_LAST_NAME = "missing_last_name"
    # An empty cell is an invalid cell too, with a message stating that it is empty.
    INVALID_CELL = "invalid_cell"
    DUPLICATE_CELL = "duplicate_cell"
    VALUE_TOO_LONG = "value_too_long"
    MALFORMED_ROW = "malformed_row"


@dataclass(frozen=True)
class RejectedRow:
    """One row that was not imported; ``line`` counts the header as line 1."""

    line: int
    column: str
    code: str
    message: str


class _RejectedRowLog:
    """Rejected rows in the order they were added, spooled to a temporary file when large."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES, mode="w+", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self.count = 0

    def extend(self, rows: Iterable[RejectedRow]) -> None:
        for row in rows:
            self._writer.writerow((row.line, row.column, row.code, row.message))
            self.count += 1

    def __iter__(self) -> Iterator[RejectedRow]:
        self._file.flush()
        self._file.seek(0)
        for line, column, code, message in csv.reader(self._file):
            yield RejectedRow(int(line), column, code, message)
        self._file.seek(0, io.SEEK_END)


@dataclass
class ImportReport:
    """Counts of an upload and its rejected rows, in line order."""

    campaign_id: int
    imported: int = 0
    opted_out: int = 0
    timezones_added: list[str] = field(default_factory=list)
    _rejected_log: _RejectedRowLog = field(default_factory=_RejectedRowLog, repr=False)

    @property
    def rejected(self) -> int:
        return self._rejected_log.count

    @property
    def rejected_rows(self) -> list[RejectedRow]:
        """Return every rejected row; use ``iter_rejected_rows`` for very large uploads."""
        return list(self._rejected_log)

    def iter_rejected_rows(self) -> Iterator[RejectedRow]:
        return iter(self._rejected_log)

    def add_rejected(self, rows: Iterable[RejectedRow]) -> None:
        self._rejected_log.extend(rows)

    def write_csv(self, out: TextIO) -> None:
        """Write the rejected rows as CSV with the columns line, column, code, message."""
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(REPORT_COLUMNS)
        for row in self._rejected_log:
            writer.writerow((row.line, row.column, row.code, row.message))

    def to_csv(self) -> str:
        out = io.StringIO()
        self.write_csv(out)
        return out.getvalue()
