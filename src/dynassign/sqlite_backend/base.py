"""SQLite database wrapper that queues writers on a file lock before BEGIN.

Every outermost ``transaction.atomic()`` block takes the writer lock (see
``writer_lock``) before its BEGIN and releases it after COMMIT or ROLLBACK,
whether they succeed or fail, and when the connection closes. Statements run
in autocommit mode, outside atomic blocks, do not take it and still wait in
SQLite's busy handler when the database is locked.
"""

from __future__ import annotations

import urllib.parse

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from dynassign.sqlite_backend.writer_lock import WriterLock, WriterLockTimeout

# The busy timeout sqlite3.connect() uses when OPTIONS has no "timeout".
DEFAULT_TIMEOUT = 5.0


def database_file(name: str) -> str:
    """Return the file path of an SQLite database NAME, which may be a ``file:`` URI."""
    if name.startswith("file:"):
        return urllib.parse.unquote(urllib.parse.urlsplit(name).path)
    return name


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper with one writer lock per connection to a database file."""

    _writer_lock: WriterLock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        writer_lock = self._get_writer_lock()
        if writer_lock is None:
            super()._start_transaction_under_autocommit()
            return

        # The same limit SQLite applies to BEGIN IMMEDIATE, which then still
        # waits in its busy handler for writers that take no writer lock. So
        # a transaction can wait up to twice the timeout before it fails.
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT))
        try:
            writer_lock.acquire(timeout)
        except WriterLockTimeout as error:
            raise OperationalError(f"database is locked: {error}") from error

        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            writer_lock.release()
            raise

    def _commit(self) -> None:
        # Released even when COMMIT fails and leaves the transaction open, so
        # a caller that never rolls back cannot keep other writers waiting.
        # The next writer then waits in BEGIN IMMEDIATE until the rollback.
        try:
            super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            if self._writer_lock is not None:
                self._writer_lock.close()
                self._writer_lock = None

    def _get_writer_lock(self) -> WriterLock | None:
        """Return this connection's writer lock, created on first use; None for an in-memory database."""
        if self._writer_lock is None and not self.is_in_memory_db():
            self._writer_lock = WriterLock(database_file(str(self.settings_dict["NAME"])))
        return self._writer_lock

    def _release_writer_lock(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()
