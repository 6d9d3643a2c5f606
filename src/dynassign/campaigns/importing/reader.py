"""Reading an uploaded contact file: encoding, header and numbered CSV records."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Union

from dynassign.exceptions import InvalidValue

ContactSource = Union[str, os.PathLike, IO[bytes], IO[str]]

FIRST_NAME = "firstName"
LAST_NAME = "lastName"
CELL = "cell"
ZIP = "zip"
EXTERNAL_ID = "external_id"
REQUIRED_COLUMNS = (FIRST_NAME, LAST_NAME, CELL)
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, ZIP, EXTERNAL_ID)

_BLOCK_BYTES = 1024 * 1024
_SAVE_AS_UTF8 = 'Save it as "CSV UTF-8" (in Excel: File > Save As > CSV UTF-8) and upload it again.'


class InvalidContactFile(InvalidValue):
    """A contact file that cannot be imported at all, such as one without a cell column."""


@dataclass(frozen=True)
class Columns:
    """Positions of the known columns in the header, and the names of the other columns."""

    names: tuple[str, ...]
    first_name: int
    last_name: int
    cell: int
    zip: int | None
    external_id: int | None
    custom: tuple[tuple[int, str], ...]

    @classmethod
    def from_header(cls, header: list[str]) -> Columns:
        names = tuple(name.strip() for name in header)
        positions = _known_column_positions(names)
        missing = [name for name in REQUIRED_COLUMNS if name not in positions]
        if missing:
            raise InvalidContactFile(
                f"The header has no {_join_names(missing)} column. The first line must name the columns "
                f"firstName, lastName and cell (zip, external_id and others are optional); "
                f"it names {_join_names(names) or 'nothing'}.",
                code="missing_column",
            )
        known_positions = set(positions.values())
        custom = tuple((index, name) for index, name in enumerate(names) if index not in known_positions)
        return cls(
            names=names,
            first_name=positions[FIRST_NAME],
            last_name=positions[LAST_NAME],
            cell=positions[CELL],
            zip=positions.get(ZIP),
            external_id=positions.get(EXTERNAL_ID),
            custom=custom,
        )


def _known_column_positions(names: tuple[str, ...]) -> dict[str, int]:
    """Map each known column to its index, matching names case-insensitively; reject unusable headers."""
    canonical = {name.lower(): name for name in KNOWN_COLUMNS}
    seen: dict[str, int] = {}
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            raise InvalidContactFile(
                f"Column {index + 1} of the header has no name; name it or delete the column.",
                code="unnamed_column",
            )
        key = name.lower()
        if key in seen:
            raise InvalidContactFile(
                f"The header names the column {name!r} twice (columns {seen[key] + 1} and {index + 1}); "
                "rename or delete one of them.",
                code="duplicate_column",
            )
        seen[key] = index
        if key in canonical:
            positions[canonical[key]] = index
    return positions


def _join_names(names: list[str] | tuple[str, ...]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


@contextlib.contextmanager
def open_text(source: ContactSource) -> Iterator[IO[str]]:
    """Open ``source`` (a path, a binary or a text file) as text for the csv module.

    A binary source must be UTF-8, with or without a byte-order mark. When it
    can seek, the whole file is checked before the first row is read, so a
    file in another encoding imports nothing.
    """
    if isinstance(source, (str, os.PathLike)):
        try:
            binary: Any = open(source, "rb")
        except FileNotFoundError:
            raise InvalidContactFile(f"Contact file {os.fspath(source)!r} not found.", code="not_found") from None
        with binary:
            yield _decoded(binary)
        return

    if isinstance(source.read(0), str):
        yield source  # type: ignore[misc]
        return

    wrapper = _decoded(source)
    try:
        yield wrapper
    finally:
        # Leave the caller's file open: closing the wrapper would close it.
        wrapper.detach()


def _decoded(binary: Any) -> io.TextIOWrapper:
    if binary.seekable():
        start = binary.tell()
        check_utf8(binary)
        binary.seek(start)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def check_utf8(binary: IO[bytes]) -> None:
    """Read ``binary`` to its end and raise InvalidContactFile at the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines_before = 0
    while True:
        block = binary.read(_BLOCK_BYTES)
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            # error.object is this block plus at most 3 bytes of an unfinished
            # character from the previous block, which hold no newline.
            line = newlines_before + error.object[: error.start].count(b"\n") + 1
            raise not_utf8(line, error.object[error.start : error.start + 1]) from None
        if not block:
            return
        newlines_before += block.count(b"\n")


def not_utf8(line: int, byte: bytes) -> InvalidContactFile:
    described = f"byte 0x{byte.hex().upper()}" if byte else "the last character"
    return InvalidContactFile(
        f"The file is not UTF-8: {described} on line {line} cannot be decoded. {_SAVE_AS_UTF8}",
        code="wrong_encoding",
    )


def numbered_records(text: IO[str]) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """Yield (line where the record starts, fields) for each CSV record that is not blank.

    A record whose fields are all empty (a blank line, or ``,,,`` from a
    spreadsheet) is skipped. A record the csv module cannot parse is yielded
    with its error in place of the fields.
    """
    reader = csv.reader(text, strict=False)
    next_line = 1
    while True:
        try:
            fields: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            fields = error
        except UnicodeDecodeError as error:
            # Only for sources that cannot seek: the rest were checked up front.
            raise not_utf8(reader.line_num + 1, error.object[error.start : error.start + 1]) from None
        line, next_line = next_line, reader.line_num + 1
        if isinstance(fields, list) and not any(value.strip() for value in fields):
            continue
        yield line, fields
