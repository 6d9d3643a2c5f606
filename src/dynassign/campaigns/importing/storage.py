"""Writing checked contact rows to the database in bulk.

Building a Django model instance per row costs more than parsing and
checking the row, so an upload writes plain tuples: with COPY on PostgreSQL
and one prepared INSERT run per row (``executemany``) elsewhere. Columns the
upload does not fill get their model default, prepared once per chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from dynassign.campaigns.models import Contact

# The values an upload gives each contact, in the order of its row tuples.
ROW_FIELDS = (
    "campaign",
    "first_name",
    "last_name",
    "cell",
    "zip",
    "external_id",
    "custom_fields",
    "timezone",
    "is_opted_out",
)


class ContactWriter:
    """Insert contact rows given as tuples in ROW_FIELDS order; custom_fields as JSON text."""

    def __init__(self) -> None:
        fields = [field for field in Contact._meta.concrete_fields if not field.primary_key]
        by_name = {field.name: field for field in fields}
        self._row_columns = [by_name[name].column for name in ROW_FIELDS]
        self._other_fields = [field for field in fields if field.name not in ROW_FIELDS]
        self._columns = self._row_columns + [field.column for field in self._other_fields]
        self._table = Contact._meta.db_table

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` in the current transaction; a duplicate cell raises IntegrityError."""
        if not rows:
            return
        constants = tuple(self._constant(field) for field in self._other_fields)
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if connection.vendor == "postgresql":
                self._copy(cursor, rows, constants)
            else:
                self._execute_many(cursor, rows, constants)

    def _constant(self, field: Any) -> Any:
        # auto_now fields (updated_at) take the time of the chunk, as a save would.
        is_automatic_time = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = timezone.now() if is_automatic_time else field.get_default()
        return field.get_db_prep_save(value, connection)

    def _copy(self, cursor: Any, rows: Sequence[tuple[Any, ...]], constants: tuple[Any, ...]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self._columns)
        with cursor.copy(f"COPY {quote(self._table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + constants)

    def _execute_many(self, cursor: Any, rows: Sequence[tuple[Any, ...]], constants: tuple[Any, ...]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in self._columns)
        placeholders = ", ".join(["%s"] * len(self._columns))
        cursor.executemany(
            f"INSERT INTO {quote(self._table)} ({columns}) VALUES ({placeholders})",
            [row + constants for row in rows],
        )


def cells_among(queryset: QuerySet[Any], cells: Sequence[str]) -> set[str]:
    """Return the values of ``cells`` that appear in the cell column of ``queryset``.

    PostgreSQL gets ``cell = ANY(array)`` with one parameter, because a
    5,000-item IN list costs the client more than the query costs the server.
    """
    if connection.vendor != "postgresql":
        return set(queryset.filter(cell__in=cells).values_list("cell", flat=True))
    return set(queryset.extra(where=["cell = ANY(%s)"], params=[list(cells)]).values_list("cell", flat=True))
