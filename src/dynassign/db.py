"""Database helpers shared by the services."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet


def supports_row_locks() -> bool:
    """Return whether the database has SELECT ... FOR UPDATE (PostgreSQL).

    On SQLite every transaction starts with BEGIN IMMEDIATE instead (see the
    settings), which serialises writers, so no row lock is needed.
    """
    return connection.features.has_select_for_update


def locked(query: QuerySet, *, skip_locked: bool = False) -> QuerySet:
    """Return ``query`` with FOR UPDATE where the database has it; call inside a transaction.

    Only the rows of the queried model are locked (``FOR UPDATE OF``), never
    those of tables joined by ``select_related``. PostgreSQL rejects locking
    the nullable side of an outer join, and a lock on a shared campaign or
    organization row would make unrelated requests wait on each other.

    The lock is ``FOR NO KEY UPDATE``: no service changes a primary key, and
    unlike ``FOR UPDATE`` it lets other transactions insert rows that refer
    to the locked one (a message to a contact of an assignment being
    released), which otherwise wait for it in a lock cycle PostgreSQL ends as
    a deadlock.
    """
    if supports_row_locks():
        return query.select_for_update(skip_locked=skip_locked, of=("self",), no_key=True)
    return query
